/**
 * The Image Prompt panel in a real browser (Playwright, Debian's Chromium) against the real server and studio on
 * 127.0.0.1: Advanced shows each slot's type, stop-at and weight (hidden before, as in Fooocus); choosing a type
 * sets its defaults; two slots get images through the real upload route, and the generate request the page sends
 * carries both, in slot order, with the mixing switch. The page shows the panel only when the server's OpenAPI
 * document lists `imagePrompts`; until the server's schema has the field this test adds it to the document the
 * page reads (the request itself still goes to the real server). A PyraCanny slot shows the server's map when the
 * server offers the preview route, and no map when it does not.
 *
 * Chromium comes from Debian (`.ci/run` installs it); without it the test is skipped locally, and fails under CI.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createDefaultConfig } from '../../src/app/config/config-schema.ts';
import { createStudio, type Studio } from '../../src/app/studio/create-studio.ts';
import { encodePng } from '../../src/engine/output/png.ts';
import { createAppStudioPort } from '../../src/server/app-studio-port.ts';
import { startServer, type RunningServer } from '../../src/server/serve.ts';
import { buildUi } from '../../scripts/build-ui.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? null;
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SCREENSHOTS = path.join(ROOT, 'test-artifacts', 'screenshots');
const skip = CHROMIUM === null && process.env.CI === undefined ? 'Chromium is not installed: sudo apt-get install chromium (CI installs it, and fails instead of skipping)' : false;

function pngOf(shade: number): Buffer {
  const rgb = new Uint8Array(64 * 64 * 3).map((_, i) => (i * shade) % 256);
  return Buffer.from(encodePng(rgb, 64, 64));
}

/** What the server's schema would say about image prompts, for a document that does not say it yet. */
const IMAGE_PROMPT_SCHEMA = {
  imagePrompts: {
    type: 'array',
    maxItems: 4,
    items: {
      type: 'object',
      properties: {
        imageId: { type: 'string' },
        type: { type: 'string', enum: ['ImagePrompt', 'PyraCanny', 'CPDS', 'FaceSwap'] },
        stopAt: { type: 'number', minimum: 0, maximum: 1 },
        weight: { type: 'number', minimum: 0, maximum: 2 },
      },
    },
  },
  mixImagePromptAndVary: { type: 'boolean' },
  mixImagePromptAndInpaint: { type: 'boolean' },
};

describe('the Image Prompt panel in Chromium', { skip, timeout: 300_000 }, () => {
  let dir: string | undefined;
  let studio: Studio | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const sentBodies: Record<string, unknown>[] = [];
  let previewOffered = false;

  before(async () => {
    assert.ok(CHROMIUM !== null, 'Chromium is required under CI');
    await mkdir(SCREENSHOTS, { recursive: true });
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-ip-browser-'));
    const uiDir = path.join(dir, 'ui');
    await buildUi(uiDir);
    const config = createDefaultConfig();
    config.paths = { models: path.join(dir, 'models'), outputs: path.join(dir, 'outputs'), cache: path.join(dir, 'cache') };
    config.runtime.threads = 1;
    studio = await createStudio(config, { software: 'Fooocus-TS browser test' });
    server = await startServer(createAppStudioPort(studio), { host: '127.0.0.1', auth: null, outputsDir: studio.outputsDir, uiDir, logger: false }, { listenPort: 0, handleSignals: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(60_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.route('**/api/openapi.json', async (route) => {
      const response = await route.fetch();
      const doc = (await response.json()) as { paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } } }> };
      previewOffered = doc.paths['/api/v1/image-prompts/preview'] !== undefined;
      const properties = doc.paths['/api/v1/generate']!.post.requestBody.content['application/json']!.schema.properties;
      if (properties.imagePrompts === undefined) Object.assign(properties, IMAGE_PROMPT_SCHEMA);
      await route.fulfill({ response, json: doc });
    });
    await page.route('**/api/v1/generate', async (route) => {
      sentBodies.push(route.request().postDataJSON() as Record<string, unknown>);
      await route.continue();
    });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    if (server !== undefined) await server.stop();
    else await studio?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
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
      if (previewOffered) {
        const map = slot(2).getByRole('img', { name: 'PyraCanny map of image 3' });
        await map.waitFor();
        assert.ok(await map.evaluate((img) => (img as HTMLImageElement).naturalWidth === 64), 'the map has the image size');
      } else {
        assert.equal(await page.locator('img.ip-map:not([hidden])').count(), 0, 'no map without the preview route');
      }
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
      if (browser !== undefined) await page.screenshot({ path: path.join(SCREENSHOTS, 'failed-image-prompt.png'), fullPage: true }).catch(() => undefined);
      throw error;
    }
  });
});
