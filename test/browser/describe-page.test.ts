/**
 * Describe on the real page in Chromium: with the tiny WD14 tagger installed, an input image is uploaded, "Describe"
 * is pressed with Art/Anime chosen, and the prompt fills with the tagger's tags while the panel says which describer
 * wrote them; Photograph, not installed, shows the server's refusal instead and leaves the prompt alone. Describe
 * then generate writes the prompt when the job runs, and the status line says it is describing meanwhile. Skipped
 * without Chromium locally, as the other page tests are.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { readImageMetadata } from '../../src/engine/index.ts';
import { parseGenerationMetadata } from '../../src/engine/output/generation-metadata.ts';
import { encodePng } from '../../src/engine/output/png.ts';
import { ANY_OWNER } from '../../src/app/jobs/job-types.ts';
import { importModel } from '../../src/app/models/import-model.ts';
import { writeTinyTagger } from '../fixtures/wd14-taggers.ts';
import { SCREENSHOTS, skipWithoutChromium, startBrowserStudio, type BrowserStudio } from './browser-studio.ts';
import path from 'node:path';

describe('Describe on the page in Chromium', { skip: skipWithoutChromium, timeout: 180_000 }, () => {
  let app: BrowserStudio | undefined;
  let page: Page;

  before(async () => {
    app = await startBrowserStudio({
      name: 'describe-browser',
      timeoutMs: 30_000,
      prepare: async (studio, dir) => {
        const files = writeTinyTagger(dir);
        await importModel(studio.store, files.model, { kind: 'clip_vision' });
        await importModel(studio.store, files.tags, { kind: 'clip_vision' });
      },
    });
    page = app.page;
    await page.goto(app.server.url);
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).waitFor();
  });

  after(async () => {
    await app?.close();
  });

  test('fills the prompt with the Art/Anime tags of the input image and names the describer', async () => {
    const rgb = new Uint8Array(96 * 96 * 3);
    for (let i = 0; i < rgb.length; i += 3) rgb[i] = 255;
    await page.getByLabel('Upload an input image').setInputFiles({ name: 'red.png', mimeType: 'image/png', buffer: Buffer.from(encodePng(rgb, 96, 96)) });
    const prompt = page.getByRole('textbox', { name: 'Prompt', exact: true });
    await prompt.fill('');
    await page.getByLabel('Describer').selectOption('anime');
    await page.getByRole('button', { name: 'Describe', exact: true }).click();
    const status = page.locator('.describe-status');
    await page.waitForFunction(() => /^(?!Describing)./.test(document.querySelector('.describe-status')?.textContent ?? ''));
    assert.equal(await status.textContent(), 'Prompt written by Art/Anime (WD14 tags).');
    assert.equal(await prompt.inputValue(), 'hatsune miku \\(vocaloid\\), 1girl, red theme, simple background');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'describe-anime.png') });

    await page.getByLabel('Describer').selectOption('photo');
    await page.getByRole('button', { name: 'Describe', exact: true }).click();
    await page.waitForFunction(() => /Photograph describer/.test(document.querySelector('.describe-status')?.textContent ?? ''));
    assert.equal(await prompt.inputValue(), 'hatsune miku \\(vocaloid\\), 1girl, red theme, simple background');
    assert.deepEqual(app!.pageErrors, []);
  });

  test('Describe then generate: an empty prompt is written by the describer when the job runs', async () => {
    await page.getByLabel('Describer').selectOption('anime');
    await page.getByRole('checkbox', { name: /Describe then generate/ }).check();
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('');
    await page.locator('details.debug-panel summary').click();
    await page.getByLabel('Steps', { exact: true }).fill('2');
    // A job ahead in line holds this one until the page follows its events, so the page sees every one of them.
    const ahead = await app!.studio.queue.submit('local', { prompt: 'a job ahead', negative: '', styles: [], performance: 'Speed', width: 256, height: 256, imageCount: 1, seed: '1', steps: 150, format: 'png' });
    await page.locator('.run-status').evaluate((status) => {
      const seen: string[] = [];
      Object.assign(window, { runStatusSeen: seen });
      new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
    });
    const sent = page.waitForRequest((r) => r.url().endsWith('/api/v1/generate') && r.method() === 'POST');
    const following = page.waitForResponse((r) => /\/api\/v1\/jobs\/[^/]+\/events$/.test(new URL(r.url()).pathname));
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const body = (await sent).postDataJSON() as { prompt: string; describeFirst?: string };
    assert.deepEqual([body.prompt, body.describeFirst], ['', 'anime']);
    await following;
    await app!.studio.queue.cancel(ahead.id, ANY_OWNER);
    await page.getByRole('status').filter({ hasText: 'Done: 1 image.' }).waitFor({ timeout: 300_000 });
    const seen = await page.evaluate(() => (window as unknown as { runStatusSeen: string[] }).runStatusSeen);
    assert.ok(seen.includes('Describing the input image (Art/Anime)'), `the status line said: ${seen.join(' | ')}`);
    const src = await page.getByRole('region', { name: 'Latest image' }).getByRole('img').getAttribute('src');
    const bytes = new Uint8Array(await (await page.request.get(new URL(src!, app!.server.url).toString())).body());
    const text = await readImageMetadata(bytes);
    assert.equal(parseGenerationMetadata(text.parameters!, text.fooocus_scheme).prompt, 'hatsune miku \\(vocaloid\\), 1girl, red theme, simple background');
    assert.deepEqual(app!.pageErrors, []);
  });
});
