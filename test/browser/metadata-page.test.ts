/**
 * Image metadata on the real page in Chromium: a JPEG carrying A1111 parameters (UTF-16 text in a little-endian
 * EXIF block, as Civitai's files have it) and a ComfyUI PNG are dropped on the page; the form takes their settings,
 * the message names what was restored and what not, and the Metadata tab shows every field and the graph's
 * samplers. Nothing is uploaded: the page reads the files with the engine's reader. Skipped without Chromium
 * locally, as the studio page test is.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { RunningServer } from '../../src/server/serve.ts';
import { buildJpeg, buildPng, buildTiff, latin1, utf16 } from '../engine/output/metadata-fixtures.ts';
import { skipWithoutChromium, startBrowserStudio, type BrowserStudio } from './browser-studio.ts';


const A1111 = 'a red fox in the snow, <b>bold</b>\nNegative prompt: blurry\nSteps: 23, Sampler: DPM++ 2M Karras, CFG scale: 5.5, Seed: 424242, Size: 832x1216, Model: sd_xl_base_1.0, Hires upscale: 2';
const GRAPH = {
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'juggernautXL.safetensors' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: 1152, height: 896, batch_size: 1 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a lighthouse, stormy sea', clip: ['4', 1] } },
  '7': { class_type: 'CLIPTextEncode', inputs: { text: 'text, watermark', clip: ['4', 1] } },
  '3': { class_type: 'KSampler', inputs: { seed: 99, steps: 17, cfg: 3.5, sampler_name: 'euler_ancestral', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['5', 0] } },
  '11': { class_type: 'KSampler', inputs: { seed: 7, steps: 9, cfg: 2, sampler_name: 'dpmpp_2m', scheduler: 'karras', denoise: 0.4, model: ['4', 0], positive: ['6', 0], negative: ['7', 0], latent_image: ['3', 0] } },
};

describe('image metadata on the page in Chromium', { skip: skipWithoutChromium, timeout: 180_000 }, () => {
  let app: BrowserStudio | undefined;
  let server: RunningServer | undefined;
  let page: Page;
  let pageErrors: string[] = [];
  const uploads: string[] = [];

  before(async () => {
    app = await startBrowserStudio({ name: 'metadata-browser', timeoutMs: 30_000 });
    ({ server, page, pageErrors } = app);
    page.on('request', (request) => {
      if (request.method() === 'POST') uploads.push(request.url());
    });
    await page.goto(server.url);
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).waitFor();
  });

  after(async () => {
    await app?.close();
  });

  /** Drops a file on the page the way a file manager does: a drop event whose DataTransfer holds the file. */
  async function drop(bytes: Uint8Array, name: string, type: string): Promise<void> {
    const transfer = await page.evaluateHandle(({ data, fileName, mime }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], fileName, { type: mime }));
      return dt;
    }, { data: [...bytes], fileName: name, mime: type });
    await page.dispatchEvent('body', 'dragover', { dataTransfer: transfer });
    await page.dispatchEvent('body', 'drop', { dataTransfer: transfer });
  }

  const value = (field: string) => page.locator(`[data-field="${field}"]`).first().inputValue();
  const alert = () => page.getByRole('alert');

  test('a dropped A1111 JPEG fills the form and says what was restored and what not', async () => {
    const jpeg = buildJpeg({ exif: buildTiff({ userComment: { code: 'UNICODE', body: utf16(A1111, 'be') } }, 'II') });
    await drop(jpeg, 'civitai-fox.jpg', 'image/jpeg');
    await alert().filter({ hasText: 'Settings from civitai-fox.jpg: restored' }).waitFor();
    const message = await alert().textContent();
    assert.match(message!, /restored prompt, negative prompt, size, steps, CFG, sampler, scheduler, seed/);
    assert.match(message!, /not restored: Hires upscale 2 \(has no equivalent here\), model sd_xl_base_1\.0 \(not available here\)/);
    assert.equal(await page.getByRole('textbox', { name: 'Prompt', exact: true }).inputValue(), 'a red fox in the snow, <b>bold</b>');
    assert.equal(await value('negative'), 'blurry');
    assert.equal(await value('seed'), '424242');
    assert.equal(await value('steps'), '23');
    assert.equal(await value('sampler'), 'dpmpp_2m');
    assert.equal(await value('scheduler'), 'karras');
    assert.equal(await value('cfg'), '5.5');
    assert.equal(await value('aspectRatio'), '832*1216');
  });

  test('a dropped ComfyUI PNG fills the form from its first sampler; the Metadata tab lists both and applies the second', async () => {
    const png = buildPng([{ type: 'tEXt', keyword: 'prompt', bytes: latin1(JSON.stringify(GRAPH)) }, { type: 'tEXt', keyword: 'workflow', bytes: latin1('{"nodes": []}') }]);
    await drop(png, 'comfy.png', 'image/png');
    await alert().filter({ hasText: 'Settings from comfy.png (KSampler #3): restored' }).waitFor();
    assert.equal(await page.getByRole('textbox', { name: 'Prompt', exact: true }).inputValue(), 'a lighthouse, stormy sea');
    assert.equal(await value('negative'), 'text, watermark');
    assert.equal(await value('seed'), '99');
    assert.equal(await value('steps'), '17');
    assert.equal(await value('sampler'), 'euler_ancestral');
    assert.equal(await value('aspectRatio'), '1152*896');

    await page.getByRole('button', { name: 'Metadata' }).click();
    const view = page.getByRole('region', { name: 'Image metadata' });
    await view.getByText('Written by ComfyUI (comfyui metadata, from prompt, PNG).').waitFor();
    await view.getByLabel('Generation').selectOption({ label: 'KSampler #11' });
    await view.getByText('All fields (2)').click();
    await view.getByRole('button', { name: 'Apply to the form' }).click();
    await alert().filter({ hasText: 'Settings from comfy.png (KSampler #11): restored' }).waitFor();
    assert.equal(await value('seed'), '7');
    assert.equal(await value('scheduler'), 'karras');
    assert.equal(await value('sampler'), 'dpmpp_2m');
    assert.deepEqual(uploads, [], 'the page read the files itself: nothing was posted');
    assert.deepEqual(pageErrors, []);
  });
});
