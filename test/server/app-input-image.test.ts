/**
 * Every Input Image mode over HTTP against the real studio on the tiny fixtures (the demo checkpoint, a tiny
 * RRDBNet x4 upscaler): upload an image (and a mask), submit vary, upscale (fast and with image to image), inpaint
 * and outpaint jobs, and read each job's report back: the request as sent (the mask by upload id), the result's
 * size, the mode recorded in the image's metadata, and for inpaint the pixels far from the mask unchanged.
 */
import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { importModel } from '../../src/app/models/import-model.ts';
import { parseGenerationMetadata } from '../../src/engine/output/generation-metadata.ts';
import { decodePng } from '../../src/engine/output/png.ts';
import { readPngTextChunks } from '../../src/engine/output/png-text.ts';
import type { RgbImage } from '../../src/engine/rgb-image.ts';
import { writeTinyRrdb } from '../fixtures/upscalers.ts';
import { STUDIO_HOST, useStudioServer, type StudioServer } from './studio-server.ts';

const headers = { host: STUDIO_HOST, origin: `http://${STUDIO_HOST}` };
const WIDTH = 128;
const HEIGHT = 96;
/** The mask: a 16 x 16 box at (8, 8). The paste-back feathers 32 px out of it; past 64 nothing may change. */
const BOX = { left: 8, top: 8, size: 16 };
const FAR = 64;

/** A smooth gradient (every pixel different), so a changed pixel cannot go unnoticed. */
function inputPixels(): RgbImage {
  const rgb = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) for (let x = 0; x < WIDTH; x++) rgb.set([x * 2, y * 2, (x + y) % 256], (y * WIDTH + x) * 3);
  return { width: WIDTH, height: HEIGHT, rgb };
}

describe('Input Image modes over HTTP (real studio, tiny models)', { timeout: 600_000 }, () => {
  let server: StudioServer;
  useStudioServer((s) => (server = s), 'fooocus-app-input-image-');
  let imageId: string;
  let maskId: string;
  const upscaler = 'tiny-rrdb-x4.safetensors';

  const upload = async (png: Buffer, purpose = 'image'): Promise<string> => {
    const response = await server.app.inject({ method: 'POST', url: `/api/v1/uploads?purpose=${purpose}`, headers: { ...headers, 'content-type': 'image/png' }, payload: png });
    assert.equal(response.statusCode, 201, response.body);
    return (response.json() as { imageId: string }).imageId;
  };
  const runJob = async (body: Record<string, unknown>): Promise<{ request: Record<string, unknown>; image: RgbImage; metadata: ReturnType<typeof parseGenerationMetadata> }> => {
    const submitted = await server.app.inject({ method: 'POST', url: '/api/v1/generate', headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify({ prompt: 'a harbour', imageCount: 1, ...body }) });
    assert.equal(submitted.statusCode, 202, submitted.body);
    const { id } = submitted.json() as { id: string };
    let job: { status: string; error: string | null; request: Record<string, unknown>; images: { imageId: string }[] } | undefined;
    // Once a second: the server allows 300 reads a minute.
    for (let i = 0; i < 300; i++) {
      job = (await server.app.inject({ url: `/api/v1/jobs/${id}`, headers })).json();
      if (!['queued', 'running'].includes(job!.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    assert.equal(job?.status, 'done', `job ${id}: ${job?.status} ${job?.error}`);
    const file = await server.app.inject({ url: `/api/v1/images/${job!.images[0]!.imageId}`, headers });
    const bytes = new Uint8Array(file.rawPayload);
    const text = readPngTextChunks(bytes);
    return { request: job!.request, image: decodePng(bytes), metadata: parseGenerationMetadata(text.parameters!, text.fooocus_scheme) };
  };

  before(async () => {
    const tiny = await writeTinyRrdb(server.dir, { dialect: 'basicsr' }, upscaler);
    await importModel(server.studio.store, tiny.file, { kind: 'upscalers' });
    const input = inputPixels();
    imageId = await upload(await sharp(input.rgb, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).png().toBuffer());
    const rgba = Buffer.alloc(WIDTH * HEIGHT * 4);
    for (let y = BOX.top; y < BOX.top + BOX.size; y++) for (let x = BOX.left; x < BOX.left + BOX.size; x++) rgba.set([255, 255, 255, 255], (y * WIDTH + x) * 4);
    maskId = await upload(await sharp(rgba, { raw: { width: WIDTH, height: HEIGHT, channels: 4 } }).png().toBuffer(), 'mask');
  });

  it('lists the upscaler among the models', async () => {
    const { models } = (await server.app.inject({ url: '/api/v1/models', headers })).json() as { models: { name: string; kind: string }[] };
    assert.ok(models.some((m) => m.name === upscaler && m.kind === 'upscaler'), JSON.stringify(models));
  });

  it('runs a vary (subtle) and records it', async () => {
    const job = await runJob({ inputImageId: imageId, varyUpscale: { mode: 'vary-subtle' }, steps: 2 });
    assert.deepEqual(job.request.varyUpscale, { mode: 'vary-subtle' });
    assert.equal(job.metadata.inputImage?.uovMethod, 'Vary (Subtle)');
  });

  // An image this small is then brought up to the model's native size range (as Fooocus does): at least the factor.
  it('runs a fast 2x upscale (the upscaler only) to at least twice the size', async () => {
    const job = await runJob({ inputImageId: imageId, varyUpscale: { mode: 'upscale-fast-2x', upscaler } });
    assert.ok(job.image.width >= WIDTH * 2 && job.image.height >= HEIGHT * 2, `${job.image.width}x${job.image.height}`);
    assert.equal(job.metadata.inputImage?.uovMethod, 'Upscale (Fast 2x)');
  });

  it('runs a custom-factor upscale through image to image', async () => {
    const job = await runJob({ inputImageId: imageId, varyUpscale: { mode: 'upscale-custom', factor: 1.5, upscaler }, steps: 2 });
    assert.deepEqual(job.request.varyUpscale, { mode: 'upscale-custom', factor: 1.5, upscaler });
    assert.ok(job.image.width >= WIDTH * 1.5 && job.image.height >= HEIGHT * 1.5, `${job.image.width}x${job.image.height}`);
    assert.deepEqual(job.metadata.inputImage, { uovMethod: 'Upscale (Custom)', upscaleFactor: 1.5, upscaler: 'tiny-rrdb-x4' });
  });

  it('runs an inpaint: the report names the mask by upload id, and pixels far from the mask are unchanged', async () => {
    const inpaint = { mode: 'default', mask: maskId, engine: 'latent-blend', additionalPrompt: 'a red buoy' };
    const job = await runJob({ inputImageId: imageId, inpaint, steps: 2 });
    // The report shows the request with the mode's defaults resolved at submit (Fooocus's: strength 1, field 0.618).
    assert.deepEqual(job.request.inpaint, { ...inpaint, strength: 1, respectiveField: 0.618 });
    assert.deepEqual([job.image.width, job.image.height], [WIDTH, HEIGHT]);
    const input = inputPixels();
    let changedInside = 0;
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0; x < WIDTH; x++) {
        const at = (y * WIDTH + x) * 3;
        const same = job.image.rgb[at] === input.rgb[at] && job.image.rgb[at + 1] === input.rgb[at + 1] && job.image.rgb[at + 2] === input.rgb[at + 2];
        if (x >= FAR || y >= FAR) assert.ok(same, `pixel ${x},${y} outside the mask changed`);
        else if (x >= BOX.left && x < BOX.left + BOX.size && y >= BOX.top && y < BOX.top + BOX.size && !same) changedInside++;
      }
    }
    assert.ok(changedInside > 0, 'the masked area was repainted');
    assert.equal(job.metadata.inputImage?.inpaintMethod, 'Inpaint or Outpaint (default)');
    assert.equal(job.metadata.inputImage?.inpaintEngine, 'latent-blend');
  });

  it('runs an outpaint to the left: the image grows by the padding and keeps the original region', async () => {
    const inpaint = { mode: 'default', engine: 'latent-blend', outpaint: { left: { px: 64 } } };
    const job = await runJob({ inputImageId: imageId, inpaint, steps: 2 });
    // Outpaint forces strength and respective field to 1, as Fooocus does.
    assert.deepEqual(job.request.inpaint, { ...inpaint, strength: 1, respectiveField: 1 });
    assert.deepEqual([job.image.width, job.image.height], [WIDTH + 64, HEIGHT]);
    const input = inputPixels();
    // Past the soft mask's reach from the new strip, the original pixels stay as they were.
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = FAR; x < WIDTH; x++) {
        const out = (y * (WIDTH + 64) + x + 64) * 3;
        const at = (y * WIDTH + x) * 3;
        assert.deepEqual([...job.image.rgb.subarray(out, out + 3)], [...input.rgb.subarray(at, at + 3)], `pixel ${x},${y}`);
      }
    }
    assert.deepEqual(job.metadata.inputImage?.outpaint, [{ side: 'Left', size: '64px' }]);
  });
});
