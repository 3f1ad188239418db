/**
 * The Image Prompt panel in a real browser (Playwright, Debian's Chromium) against the real server and studio on
 * 127.0.0.1: Advanced shows each slot's type, stop-at and weight (hidden before, as in Fooocus); choosing a type
 * sets its defaults; two slots get images through the real upload route, and the generate request the page sends
 * carries both, in slot order, with the mixing switch. A PyraCanny slot shows the map the server's preview route
 * computes; a FaceSwap slot shows none.
 *
 * Set-up (page, studio, server, Chromium): browser-studio.ts.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { encodePng } from '../../src/engine/output/png.ts';
import type { RunningServer } from '../../src/server/serve.ts';
import { SCREENSHOTS, skipWithoutChromium, startBrowserStudio, type BrowserStudio } from './browser-studio.ts';


function pngOf(shade: number): Buffer {
  const rgb = new Uint8Array(64 * 64 * 3).map((_, i) => (i * shade) % 256);
  return Buffer.from(encodePng(rgb, 64, 64));
}

describe('the Image Prompt panel in Chromium', { skip: skipWithoutChromium, timeout: 300_000 }, () => {
  let app: BrowserStudio | undefined;
  let server: RunningServer | undefined;
  let page: Page;
  let pageErrors: string[] = [];
  let sentBodies: Record<string, unknown>[] = [];

  before(async () => {
    app = await startBrowserStudio({ name: 'ip-browser' });
    ({ server, page, pageErrors, sentBodies } = app);
  });

  after(async () => {
    await app?.close();
  });

  test('fills two slots with uploaded images, FaceSwap in one, and submits both in slot order', async () => {
    try {
      await page.goto(`${server!.url}/`);
      await page.getByRole('heading', { name: 'Fooocus-TS' }).waitFor();
      const panel = page.locator('details.image-prompts');
      await panel.locator('summary').click();
      const slot = (i: number) => page.locator(`[data-ip-slot="${i}"]`);
      assert.equal(await slot(0).getByLabel('Image 1 type').isVisible(), false, 'type, stop and weight wait for Advanced');
      await panel.getByLabel('Advanced').check();
      assert.equal(await slot(0).getByLabel('Image 1 type').isVisible(), true);
      const types = await slot(0).getByLabel('Image 1 type').locator('option').evaluateAll((nodes) => nodes.map((n) => (n as HTMLOptionElement).value));
      assert.deepEqual(types, ['ImagePrompt', 'PyraCanny', 'CPDS', 'FaceSwap']);

      await slot(0).locator('input[type=file]').setInputFiles({ name: 'face.png', mimeType: 'image/png', buffer: pngOf(3) });
      await slot(2).locator('input[type=file]').setInputFiles({ name: 'edges.png', mimeType: 'image/png', buffer: pngOf(7) });
      await slot(0).getByText('face.png').waitFor();
      await slot(2).getByText('edges.png').waitFor();
      await slot(0).getByLabel('Image 1 type').selectOption('FaceSwap');
      assert.equal(await slot(0).getByLabel('Stop at').inputValue(), '0.9', "FaceSwap's stop-at");
      assert.equal(await slot(0).getByLabel('Weight').inputValue(), '0.75', "FaceSwap's weight");
      await slot(2).getByLabel('Image 3 type').selectOption('PyraCanny');
      await slot(2).getByLabel('Weight').fill('1.25');
      await panel.getByLabel('Mixing Image Prompt and Vary/Upscale').check();
      const map = slot(2).getByRole('img', { name: 'PyraCanny map of image 3' });
      await map.waitFor();
      assert.ok(await map.evaluate((img) => (img as HTMLImageElement).naturalWidth === 64), 'the map has the image size');
      assert.equal(await slot(0).locator('img.ip-map:not([hidden])').count(), 0, 'FaceSwap has no map');
      await page.screenshot({ path: path.join(SCREENSHOTS, 'image-prompt-01-two-slots.png'), fullPage: true });

      await page.getByRole('textbox', { name: /prompt/i }).first().fill('a portrait');
      await page.getByRole('button', { name: 'Generate' }).click();
      for (let i = 0; i < 100 && sentBodies.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(sentBodies.length, 1, 'one generate request was sent');
      const prompts = sentBodies[0]!.imagePrompts as { imageId: string; type: string; stopAt: number; weight: number }[];
      assert.equal(prompts.length, 2);
      assert.deepEqual(prompts.map((p) => [p.type, p.stopAt, p.weight]), [['FaceSwap', 0.9, 0.75], ['PyraCanny', 0.5, 1.25]]);
      assert.ok(prompts.every((p) => /^up-/.test(p.imageId)) && prompts[0]!.imageId !== prompts[1]!.imageId, `two uploads: ${JSON.stringify(prompts)}`);
      assert.equal(sentBodies[0]!.mixImagePromptAndVary, true);
      assert.deepEqual(pageErrors, []);
    } catch (error) {
      if (app !== undefined) await page.screenshot({ path: path.join(SCREENSHOTS, 'failed-image-prompt.png'), fullPage: true }).catch(() => undefined);
      throw error;
    }
  });
});
