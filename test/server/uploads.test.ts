/**
 * Image uploads at the HTTP boundary: raw PNG/JPEG/WebP bodies, the byte cap, and the size a job can use read from
 * the header before any decoder runs; DELETE of an upload. (Decoding and storage: test/app/uploads.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { createFixture, HOST, ORIGIN, type Fixture } from './server-fixture.ts';
import { readImageHeader } from '../../src/server/image-header.ts';

const MAX_PIXELS = 1024 * 1024;
const MAX_BYTES = 200 * 1024;

function solid(width: number, height: number) {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 10, b: 10 } } });
}

/** A PNG whose header claims a huge image: a few dozen bytes that would decode to gigabytes. */
function pngClaiming(width: number, height: number): Buffer {
  const header = Buffer.from('89504e470d0a1a0a0000000d494844520000000000000000080200000000000000', 'hex');
  header.writeUInt32BE(width, 16);
  header.writeUInt32BE(height, 20);
  return header;
}

function webpClaiming(width: number, height: number): Buffer {
  const bytes = Buffer.alloc(40);
  bytes.write('RIFF', 0, 'latin1');
  bytes.writeUInt32LE(32, 4);
  bytes.write('WEBPVP8X', 8, 'latin1');
  bytes.writeUInt32LE(10, 16);
  bytes.writeUIntLE(width - 1, 24, 3);
  bytes.writeUIntLE(height - 1, 27, 3);
  return bytes;
}

describe('uploads', () => {
  let f: Fixture;
  before(async () => {
    f = await createFixture({ quotas: { maxPixels: MAX_PIXELS, maxUploadBytes: MAX_BYTES } });
  });
  after(() => f.close());

  const upload = (type: string, payload: Buffer | string) =>
    f.app.inject({ method: 'POST', url: '/api/v1/uploads', headers: { host: HOST, origin: ORIGIN, 'content-type': type }, payload });

  for (const [type, make] of [
    ['image/png', () => solid(96, 72).png().toBuffer()],
    ['image/jpeg', () => solid(96, 72).jpeg().toBuffer()],
    ['image/webp', () => solid(96, 72).webp().toBuffer()],
    ['image/webp', () => solid(96, 72).webp({ lossless: true }).toBuffer()],
  ] as const) {
    it(`stores a ${type} upload and returns its id and size`, async () => {
      const bytes = await make();
      const response = await upload(type, bytes);
      assert.equal(response.statusCode, 201, response.body);
      assert.deepEqual({ width: response.json().width, height: response.json().height }, { width: 96, height: 72 });
      const stored = f.studio.uploads.at(-1);
      assert.equal(stored?.owner, 'local');
      assert.ok(stored?.image.bytes.equals(bytes));
      assert.equal(stored?.image.contentType, type);
    });
  }

  it('reads sizes from real progressive JPEG and alpha WebP headers', async () => {
    assert.deepEqual(readImageHeader(await solid(300, 17).jpeg({ progressive: true }).toBuffer()), { contentType: 'image/jpeg', width: 300, height: 17 });
    const alpha = await sharp({ create: { width: 5, height: 9, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0.5 } } }).webp().toBuffer();
    assert.deepEqual(readImageHeader(alpha), { contentType: 'image/webp', width: 5, height: 9 });
  });

  for (const [name, type, bytes] of [
    ['a PNG header claiming 100000 x 100000', 'image/png', pngClaiming(100_000, 100_000)],
    ['a PNG header claiming 2^32-1 x 2^32-1', 'image/png', pngClaiming(0xffffffff, 0xffffffff)],
    ['a WebP header claiming 16384 x 16384', 'image/webp', webpClaiming(16384, 16384)],
  ] as const) {
    it(`refuses ${name} with 413 before decoding`, async () => {
      const before = f.studio.uploads.length;
      const response = await upload(type, bytes);
      assert.equal(response.statusCode, 413);
      assert.equal(response.json().field, 'body');
      assert.equal(response.json().rule, 'maxPixels');
      assert.equal(response.json().limit, MAX_PIXELS);
      assert.equal(f.studio.uploads.length, before);
    });
  }

  it('refuses a real, highly compressible 2000 x 2000 PNG (a small file) by its pixel count', async () => {
    const bytes = await solid(2000, 2000).png().toBuffer();
    assert.ok(bytes.length < MAX_BYTES, 'small enough to pass the byte cap');
    const response = await upload('image/png', bytes);
    assert.equal(response.statusCode, 413);
    assert.equal(response.json().rule, 'maxPixels');
  });

  it('refuses a body over the byte cap with 413 naming the limit', async () => {
    const response = await upload('image/png', Buffer.concat([pngClaiming(10, 10), Buffer.alloc(MAX_BYTES)]));
    assert.equal(response.statusCode, 413);
    assert.deepEqual(response.json(), { error: 'payload_too_large', field: 'body', rule: 'maxUploadBytes', limit: MAX_BYTES, message: `the body exceeds ${MAX_BYTES} bytes` });
  });

  for (const [name, width, height, status, rule] of [
    ['a 4096 x 4096 image, larger than a job may be', 4096, 4096, 413, 'maxPixels'],
    ['an 8192 x 64 image (within the pixel budget, a side past the generation limit)', 8192, 64, 413, 'maxSide'],
    ['a 32 x 64 image (a side under the minimum)', 32, 64, 400, 'minSide'],
  ] as const) {
    it(`refuses ${name} from its header, naming the rule`, async () => {
      const before = f.studio.uploads.length;
      const response = await upload('image/png', pngClaiming(width, height));
      assert.equal(response.statusCode, status, response.body);
      assert.equal(response.json().field, 'body');
      assert.equal(response.json().rule, rule);
      assert.match(response.json().message, new RegExp(`${width}x${height}`));
      assert.equal(f.studio.uploads.length, before);
    });
  }

  it('takes an image off the 8-pixel grid (a job crops it): 1000 x 750', async () => {
    const response = await upload('image/png', await solid(1000, 750).png().toBuffer());
    assert.equal(response.statusCode, 201, response.body);
  });

  it('deletes an upload by id: 204, then 404; another owner gets 404 and nothing is deleted', async () => {
    const created = await upload('image/png', await solid(64, 64).png().toBuffer());
    const { imageId } = created.json() as { imageId: string };
    f.studio.uploads.push({ id: 'someone-elses', owner: 'alice', image: { bytes: Buffer.alloc(0), contentType: 'image/png', width: 64, height: 64 } });
    const del = (id: string) => f.app.inject({ method: 'DELETE', url: `/api/v1/uploads/${id}`, headers: { host: HOST, origin: ORIGIN } });
    const other = await del('someone-elses');
    assert.equal(other.statusCode, 404);
    assert.ok(f.studio.uploads.some((u) => u.id === 'someone-elses'));
    assert.equal((await del(imageId)).statusCode, 204);
    assert.ok(!f.studio.uploads.some((u) => u.id === imageId));
    assert.equal((await del(imageId)).statusCode, 404);
    assert.equal((await del('..%2F..%2Fetc')).statusCode, 400);
  });

  it('documents DELETE /api/v1/uploads/{imageId} in the OpenAPI description', async () => {
    const spec = (await f.app.inject({ url: '/api/openapi.json', headers: { host: HOST } })).json();
    const route = spec.paths['/api/v1/uploads/{imageId}'];
    assert.ok(route?.delete, JSON.stringify(Object.keys(spec.paths)));
    assert.ok(route.delete.responses['204']);
  });

  it('refuses bytes that are not the declared type, or not an image', async () => {
    const jpeg = await solid(8, 8).jpeg().toBuffer();
    const mismatch = await upload('image/png', jpeg);
    assert.equal(mismatch.statusCode, 400);
    assert.equal(mismatch.json().field, 'content-type');
    for (const garbage of [Buffer.from('<svg onload=alert(1)>'), Buffer.from('GIF89a'), pngClaiming(0, 5), Buffer.alloc(0)]) {
      const response = await upload('image/png', garbage);
      assert.equal(response.statusCode, 400, garbage.toString('hex'));
    }
  });

  for (const type of ['image/svg+xml', 'image/gif', 'application/json', 'multipart/form-data; boundary=x', 'text/plain', 'application/octet-stream']) {
    it(`refuses an upload sent as ${type} with 415`, async () => {
      const response = await upload(type, await solid(8, 8).png().toBuffer());
      assert.equal(response.statusCode, 415);
      assert.equal(response.json().field, 'content-type');
    });
  }

  it('refuses a cross-origin upload', async () => {
    const response = await f.app.inject({
      method: 'POST',
      url: '/api/v1/uploads',
      headers: { host: HOST, origin: 'http://evil.example', 'content-type': 'image/png' },
      payload: await solid(8, 8).png().toBuffer(),
    });
    assert.equal(response.statusCode, 403);
  });
});
