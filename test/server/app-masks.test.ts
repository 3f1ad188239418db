/**
 * Inpaint masks through the real studio over HTTP: a mask upload is stored as one grey channel (its alpha when it
 * has transparency, else its luminance), a mask of another size than the input image is refused at submit naming
 * `inpaint.mask`, and a job's report names its mask by upload id.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { decodePng } from '../../src/engine/output/png.ts';
import { STUDIO_HOST, useStudioServer, type StudioServer } from './studio-server.ts';

const headers = { host: STUDIO_HOST, origin: `http://${STUDIO_HOST}` };

/** A 80 x 64 RGBA image: transparent, with an opaque dark-red square at (16..31, 8..23). */
async function paintedLayer(): Promise<Buffer> {
  const rgba = Buffer.alloc(80 * 64 * 4);
  for (let y = 8; y < 24; y++) for (let x = 16; x < 32; x++) rgba.set([120, 0, 0, 255], (y * 80 + x) * 4);
  return sharp(rgba, { raw: { width: 80, height: 64, channels: 4 } }).png().toBuffer();
}

describe('inpaint masks through the real studio', () => {
  let server: StudioServer;
  useStudioServer((s) => (server = s), 'fooocus-app-masks-');

  const upload = async (bytes: Buffer, purpose?: 'mask'): Promise<{ imageId: string; width: number; height: number }> => {
    const url = purpose === undefined ? '/api/v1/uploads' : `/api/v1/uploads?purpose=${purpose}`;
    const response = await server.app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': 'image/png' }, payload: bytes });
    assert.equal(response.statusCode, 201, response.body);
    return response.json();
  };
  const storedGrey = async (imageId: string): Promise<{ width: number; height: number; grey: number[] }> => {
    const response = await server.app.inject({ url: `/api/v1/images/${imageId}`, headers });
    const image = decodePng(response.rawPayload);
    const grey: number[] = [];
    for (let i = 0; i < image.width * image.height; i++) {
      const [r, g, b] = image.rgb.subarray(i * 3, i * 3 + 3);
      assert.ok(r === g && g === b, 'a stored mask holds one grey value per pixel');
      grey.push(r!);
    }
    return { width: image.width, height: image.height, grey };
  };
  const submit = (body: unknown) => server.app.inject({ method: 'POST', url: '/api/v1/generate', headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(body) });

  it('stores a painted layer on transparency as its alpha', async () => {
    const mask = await upload(await paintedLayer(), 'mask');
    const { width, height, grey } = await storedGrey(mask.imageId);
    assert.deepEqual([width, height], [80, 64]);
    for (let y = 0; y < 64; y++) {
      for (let x = 0; x < 80; x++) assert.equal(grey[y * 80 + x], x >= 16 && x < 32 && y >= 8 && y < 24 ? 255 : 0, `pixel ${x},${y}`);
    }
  });

  it('stores an opaque mask as its luminance', async () => {
    const png = await sharp({ create: { width: 80, height: 64, channels: 3, background: { r: 200, g: 100, b: 50 } } }).png().toBuffer();
    const { grey } = await storedGrey((await upload(png, 'mask')).imageId);
    assert.equal(grey[0], Math.round((200 * 299 + 100 * 587 + 50 * 114) / 1000));
    assert.ok(grey.every((v) => v === grey[0]));
  });

  it('refuses a mask of another size than the input image at submit, naming inpaint.mask', async () => {
    const image = await upload(await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } }).png().toBuffer());
    const mask = await upload(await paintedLayer(), 'mask');
    const response = await submit({ prompt: 'a', inputImageId: image.imageId, inpaint: { mode: 'default', mask: mask.imageId } });
    assert.equal(response.statusCode, 400, response.body);
    assert.equal(response.json().field, 'inpaint.mask');
    assert.equal(response.json().rule, 'size');
    assert.match(response.json().message, /80x64.*64x64/);
  });

  it('refuses a mask id that is no upload of the owner, naming inpaint.mask', async () => {
    const image = await upload(await sharp({ create: { width: 80, height: 64, channels: 3, background: '#336699' } }).png().toBuffer());
    const response = await submit({ prompt: 'a', inputImageId: image.imageId, inpaint: { mode: 'default', mask: 'up-AAAAAAAAAAAAAAAA' } });
    assert.equal(response.statusCode, 400, response.body);
    assert.deepEqual([response.json().field, response.json().rule], ['inpaint.mask', 'uploaded']);
  });

  it('reports a queued inpaint job with its choices and its mask by upload id', async () => {
    const image = await upload(await sharp({ create: { width: 80, height: 64, channels: 3, background: '#336699' } }).png().toBuffer());
    const mask = await upload(await paintedLayer(), 'mask');
    const inpaint = { mode: 'detail', mask: mask.imageId, strength: 0.5, maskErode: 4, additionalPrompt: 'a red box' };
    const response = await submit({ prompt: 'a', inputImageId: image.imageId, inpaint });
    assert.equal(response.statusCode, 202, response.body);
    const { id } = response.json() as { id: string };
    const job = (await server.app.inject({ url: `/api/v1/jobs/${id}`, headers })).json();
    // As sent, with the mode's defaults the request left out filled in (Detail's respective field is 0).
    assert.deepEqual(job.request.inpaint, { ...inpaint, respectiveField: 0 });
    // A queued job's mask is in use: it cannot be deleted under it.
    const removed = await server.app.inject({ method: 'DELETE', url: `/api/v1/uploads/${mask.imageId}`, headers });
    if (['queued', 'running'].includes((await server.app.inject({ url: `/api/v1/jobs/${id}`, headers })).json().status)) assert.equal(removed.statusCode, 409, removed.body);
    await server.app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/cancel`, headers });
  });
});
