/**
 * The Enhance tab of the Input Image panel in a real browser (Playwright, Debian's Chromium) against the real
 * server, studio and demo model on 127.0.0.1, with the tiny foreground-mask model installed: drop an image with a
 * red subject, open "Enhance", fill one tab ("person", its own prompt), generate; the request sent carries the tab,
 * the result has the input's size, pixels far from the subject are unchanged bit for bit, and history Reuse brings
 * the tab back. Screenshots go to test-artifacts/screenshots/ (enhance-*.png), plus one of any failing test.
 *
 * Chromium comes from Debian (`.ci/run` installs it); without it the test is skipped locally, and fails under CI.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { importModel } from '../../src/app/models/import-model.ts';
import { decodePng, encodePng } from '../../src/engine/output/png.ts';
import type { RunningServer } from '../../src/server/serve.ts';
import { redSquarePicture, writeTinyForegroundModel } from '../fixtures/foreground-models.ts';
import { SCREENSHOTS, skipWithoutChromium, startBrowserStudio, type BrowserStudio } from './browser-studio.ts';

const WIDTH = 128;
const HEIGHT = 96;
const SUBJECT = { x0: 50, x1: 74, y0: 36, y1: 60 };
/** The subject grown by the paste-back's 32-pixel feather, and a margin for the model's soft edge. */
const REACH = 40;

describe('the Enhance tab in Chromium', { skip: skipWithoutChromium, timeout: 400_000 }, () => {
  let app: BrowserStudio | undefined;
  let server: RunningServer | undefined;
  let page: Page;
  let sentBodies: Record<string, unknown>[] = [];
  const picture = redSquarePicture(WIDTH, HEIGHT, SUBJECT);

  before(async () => {
    app = await startBrowserStudio({
      name: 'enhance-browser',
      prepare: async (created, folder) => {
        await importModel(created.store, await writeTinyForegroundModel(path.join(folder, 'detector')), { kind: 'detection' });
      },
    });
    ({ server, page, sentBodies } = app);
  });

  after(async () => {
    await app?.close();
  });

  const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

  test('runs one Enhance tab on a dropped image and keeps every pixel far from the found region', async () => {
    try {
      await page.goto(`${server!.url}/`);
      await page.getByRole('heading', { name: 'Fooocus-TS' }).waitFor();
      const png = Buffer.from(encodePng(picture.rgb, WIDTH, HEIGHT)).toString('base64');
      const transfer = await page.evaluateHandle((data) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], 'subject.png', { type: 'image/png' }));
        return dt;
      }, png);
      const panel = page.getByRole('group', { name: 'Input image' });
      await panel.dispatchEvent('dragover', { dataTransfer: transfer });
      await panel.dispatchEvent('drop', { dataTransfer: transfer });
      await page.getByRole('alert').filter({ hasText: 'Input image set: subject.png' }).waitFor();
      await page.getByRole('tab', { name: 'Enhance' }).click();
      const first = page.getByRole('group', { name: 'Enhance #1' });
      await first.getByLabel('Detection prompt').fill('person');
      await first.getByLabel('Enhance prompt', { exact: true }).fill('a red robot');
      await first.getByLabel('Enhance strength').fill('0.8');
      await page.locator('details.debug-panel summary').click();
      await page.getByLabel('Steps', { exact: true }).fill('2');
      await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('a toy');
      await panel.scrollIntoViewIfNeeded();
      await shot('enhance-01-tab');
      await page.getByRole('button', { name: 'Generate', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Done: 1 image.' }).waitFor({ timeout: 300_000 });

      const body = sentBodies.at(-1)!;
      assert.deepEqual(body.enhance, { tabs: [{ detectionPrompt: 'person', prompt: 'a red robot', strength: 0.8 }] });
      assert.equal(body.denoise, undefined, 'Enhance sends no image-to-image denoise');

      const latest = page.getByRole('region', { name: 'Latest image' }).getByRole('img');
      await latest.waitFor();
      const src = await latest.getAttribute('src');
      const result = decodePng(new Uint8Array(await (await page.request.get(new URL(src!, server!.url).toString())).body()));
      assert.deepEqual([result.width, result.height], [WIDTH, HEIGHT]);
      let far = 0;
      let changedInside = 0;
      for (let y = 0; y < HEIGHT; y++) {
        for (let x = 0; x < WIDTH; x++) {
          const p = (y * WIDTH + x) * 3;
          const dx = Math.max(SUBJECT.x0 - x, x - (SUBJECT.x1 - 1), 0);
          const dy = Math.max(SUBJECT.y0 - y, y - (SUBJECT.y1 - 1), 0);
          const same = result.rgb[p] === picture.rgb[p] && result.rgb[p + 1] === picture.rgb[p + 1] && result.rgb[p + 2] === picture.rgb[p + 2];
          if (Math.max(dx, dy) > REACH) {
            far++;
            assert.ok(same, `pixel (${x}, ${y}) far from the subject changed`);
          } else if (dx === 0 && dy === 0 && !same) changedInside++;
        }
      }
      assert.ok(far > 1000, `${far} pixels checked`);
      assert.ok(changedInside > 50, `the subject was repainted (${changedInside} pixels changed)`);
      await shot('enhance-02-result');

      // History Reuse restores the tab (the input image is chosen again).
      await first.getByLabel('Detection prompt').fill('');
      await page.getByRole('tab', { name: 'Image to image' }).click();
      await page.getByRole('button', { name: 'History' }).click();
      const entry = page.getByRole('region', { name: 'History' }).locator('li.history-entry').first();
      await entry.getByRole('button', { name: 'Reuse', exact: true }).click();
      assert.equal(await page.locator('[role="tab"][data-tab="enhance"]').getAttribute('aria-selected'), 'true');
      assert.equal(await page.locator('[data-field="enhance.tabs[0].detectionPrompt"]').inputValue(), 'person');
      assert.equal(await page.locator('[data-field="enhance.tabs[0].prompt"]').inputValue(), 'a red robot');
    } catch (error) {
      if (app !== undefined) await shot('failed-enhance').catch(() => undefined);
      throw error;
    }
  });
});
