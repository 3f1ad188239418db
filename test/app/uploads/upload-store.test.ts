/**
 * The upload store with the real restricted decoder: what is stored is the decoded pixels as a fresh PNG, a size a
 * job can use; undecodable bytes are refused with nothing written; per-owner caps; expiry that spares uploads a
 * queued or running job names; deletion; and job-time reads that refuse planted links, hard links and a swapped
 * owner directory.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { link, mkdir, mkdtemp, readdir, readFile, realpath, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage } from '../../../src/engine/output/image-encoding.ts';
import { decodePng, encodePng } from '../../../src/engine/output/png.ts';
import { readPngTextChunks } from '../../../src/engine/output/png-text.ts';
import { UploadDecoder } from '../../../src/app/uploads/upload-decoder.ts';
import { UploadInUseError, UploadQuotaError, UploadRefusedError, UploadUnavailableError } from '../../../src/app/uploads/upload-errors.ts';
import { ownerDirectory, UploadStore, type UploadStoreOptions } from '../../../src/app/uploads/upload-store.ts';

const MAX_PIXELS = 2048 * 2048;
const HOUR = 3600_000;

/** Signature and IHDR of a 64 x 64 RGB PNG: 33 bytes, no pixel data. */
const PNG_HEADER_ONLY = Buffer.from('89504e470d0a1a0a0000000d494844520000004000000040080200000025' + '0be689', 'hex');

function noise(width: number, height: number, seed: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 31 + seed * 17 + ((i * i) % 251)) & 0xff;
  return rgb;
}

describe('upload store', () => {
  let dir: string;
  let outputs: string;
  let clock: number;
  const inUse = new Set<string>();
  const decoder = new UploadDecoder();
  const stores: UploadStore[] = [];

  const open = (overrides: Partial<UploadStoreOptions> = {}) => {
    const store = new UploadStore({
      outputsDir: outputs,
      maxPerOwner: 50,
      maxBytesPerOwner: 64 * 1024 ** 2,
      expireAfterMs: 24 * HOUR,
      maxPixels: MAX_PIXELS,
      decoder,
      filesInUse: () => inUse,
      now: () => clock,
      ...overrides,
    });
    stores.push(store);
    return store;
  };
  const listOwner = async (owner: string) => (await readdir(path.join(outputs, 'uploads', ownerDirectory(owner))).catch(() => [] as string[])).sort();

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-uploads-'));
    await mkdir(path.join(dir, 'outputs'));
    outputs = await realpath(path.join(dir, 'outputs'));
    clock = Date.now();
  });
  after(async () => {
    for (const store of stores) store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores a JPEG as the decoded pixels in a PNG without metadata, written atomically', async () => {
    const store = open();
    const jpeg = await sharp(Buffer.from(noise(96, 64, 1)), { raw: { width: 96, height: 64, channels: 3 } })
      .jpeg()
      .withMetadata({ exif: { IFD0: { ImageDescription: 'client metadata', Artist: 'someone' } } })
      .toBuffer();
    const saved = await store.save('alice', jpeg);
    assert.deepEqual({ width: saved.width, height: saved.height }, { width: 96, height: 64 });
    assert.match(saved.file, /^uploads\/[0-9a-f]{24}\/up-[A-Za-z0-9_-]{16}\.png$/);
    const stored = await readFile(path.join(outputs, saved.file));
    assert.notDeepEqual(stored, jpeg);
    assert.deepEqual(Object.keys(readPngTextChunks(stored)), [], 'no metadata in the stored file');
    assert.ok(!stored.includes('client metadata'));
    assert.deepEqual(decodePng(stored).rgb, (await decodeImage(jpeg)).rgb, 'the stored pixels are the decoded upload');
    assert.deepEqual(await listOwner('alice'), [`${saved.id}.png`], 'no temporary file left');
    assert.equal(await store.find('alice', saved.id), saved.file);
    assert.equal(await store.find('bob', saved.id), null, 'another owner does not find it');
    assert.equal(await store.find(null, saved.id), saved.file, 'an admin does');
  });

  it('strips PNG text chunks from an uploaded PNG', async () => {
    const store = open();
    const png = encodePng(noise(64, 64, 2), 64, 64, { parameters: 'secret prompt', Comment: 'hello' });
    const saved = await store.save('alice', png);
    const stored = await readFile(path.join(outputs, saved.file));
    assert.deepEqual(Object.keys(readPngTextChunks(stored)), []);
    assert.deepEqual(decodePng(stored).rgb, decodePng(png).rgb);
  });

  for (const [name, bytes, rule] of [
    ['the 33-byte PNG with no pixel data', () => PNG_HEADER_ONLY, 'pixelData'],
    ['random bytes behind a valid PNG header', () => Buffer.concat([PNG_HEADER_ONLY, randomBytes(256 * 1024)]), 'pixelData'],
    ['random bytes behind a JPEG start marker', () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(64 * 1024)]), 'pixelData'],
    ['a 4096 x 4096 PNG (more pixels than a job may have)', () => sharp({ create: { width: 4096, height: 4096, channels: 3, background: '#808080' } }).png().toBuffer(), 'maxPixels'],
    ['a 1004 x 60 WebP (a side under the minimum), checked on the decoded size', () => sharp({ create: { width: 1004, height: 60, channels: 3, background: '#808080' } }).webp().toBuffer(), 'minSide'],
  ] as const) {
    it(`refuses ${name}, naming the rule, and writes nothing`, async () => {
      const store = open();
      const before = await listOwner('carol');
      await assert.rejects(store.save('carol', await bytes()), (error: unknown) => {
        assert.ok(error instanceof UploadRefusedError, String(error));
        assert.equal(error.rule, rule);
        assert.doesNotMatch(error.message, new RegExp(dir.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')));
        return true;
      });
      assert.deepEqual(await listOwner('carol'), before);
    });
  }

  it('caps the number of uploads per owner, and frees room when one is deleted', async () => {
    const store = open({ maxPerOwner: 2 });
    const png = encodePng(noise(64, 64, 3), 64, 64);
    const first = await store.save('dave', png);
    await store.save('dave', png);
    const before = await listOwner('dave');
    await assert.rejects(store.save('dave', png), (e: unknown) => e instanceof UploadQuotaError && e.quota === 'uploads.maxPerOwner' && e.limit === 2 && e.retryAfterSeconds === 24 * 3600);
    assert.deepEqual(await listOwner('dave'), before, 'nothing written');
    await store.save('erin', png); // other owners are unaffected
    assert.equal(await store.remove('dave', first.id), true);
    await store.save('dave', png);
  });

  it('caps the bytes of uploads per owner, also under concurrent uploads', async () => {
    const png = encodePng(noise(256, 256, 4), 256, 256);
    const store = open({ maxBytesPerOwner: png.length * 2 + 10 });
    const results = await Promise.allSettled([0, 1, 2, 3].map(() => store.save('frank', png)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2, JSON.stringify(results.map((r) => r.status)));
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof UploadQuotaError && r.reason.quota === 'uploads.maxBytesPerOwner');
    assert.equal((await listOwner('frank')).length, 2);
  });

  it('expires unused uploads, but not one a queued or running job names, nor one used recently', async () => {
    await mkdir(path.join(dir, 'outputs-expiry'));
    const store = open({ outputsDir: await realpath(path.join(dir, 'outputs-expiry')) });
    const png = encodePng(noise(64, 64, 5), 64, 64);
    const [unused, queued, recent] = [await store.save('gina', png), await store.save('gina', png), await store.save('gina', png)];
    clock += 23 * HOUR;
    await store.markUsed(recent.file);
    clock += 2 * HOUR;
    inUse.add(queued.file);
    // A temporary file from a save that crashed, and an upload in the format earlier versions kept.
    const ownerDir = path.join(dir, 'outputs-expiry', 'uploads', ownerDirectory('gina'));
    const listGina = async () => (await readdir(ownerDir)).sort();
    await writeFile(path.join(ownerDir, `.${unused.id}.png.crash1.tmp`), 'partial');
    await writeFile(path.join(ownerDir, 'up-AAAAAAAAAAAAAAAA.jpg'), 'old');
    const old = new Date(clock - 25 * HOUR);
    for (const name of [`.${unused.id}.png.crash1.tmp`, 'up-AAAAAAAAAAAAAAAA.jpg']) await utimes(path.join(ownerDir, name), old, old);
    try {
      assert.equal(await store.sweep(), 3);
      assert.deepEqual(await listGina(), [`${queued.id}.png`, `${recent.id}.png`].sort());
      assert.equal(await store.find('gina', unused.id), null);
      await assert.rejects(store.remove('gina', queued.id), UploadInUseError);
    } finally {
      inUse.delete(queued.file);
    }
    clock += 25 * HOUR;
    assert.equal(await store.sweep(), 2, 'once no job names it, it expires too');
  });

  it('reads a stored upload for a job, and refuses a planted symlink, a hard link and a swapped owner directory', async () => {
    const store = open();
    const png = encodePng(noise(64, 64, 6), 64, 64);
    const saved = await store.save('hank', png);
    assert.deepEqual((await store.readPixels(saved.file)).rgb, decodePng(png).rgb);

    const outside = path.join(dir, 'outside');
    await mkdir(outside);
    const secret = encodePng(noise(64, 64, 99), 64, 64);
    const ownerDir = path.join(outputs, 'uploads', ownerDirectory('hank'));
    const planted = 'up-PLANTEDPLANTED00.png';
    await writeFile(path.join(outside, planted), secret);
    await symlink(path.join(outside, planted), path.join(ownerDir, planted));
    assert.equal(await store.find('hank', planted.slice(0, -4)), null, 'a planted link is not an upload');
    await assert.rejects(store.readPixels(`uploads/${ownerDirectory('hank')}/${planted}`), UploadUnavailableError);

    const hard = 'up-HARDLINKHARDLI00.png';
    await writeFile(path.join(outside, hard), secret);
    await link(path.join(outside, hard), path.join(ownerDir, hard));
    assert.equal(await store.find('hank', hard.slice(0, -4)), null);
    await assert.rejects(store.readPixels(`uploads/${ownerDirectory('hank')}/${hard}`), UploadUnavailableError);

    // The owner directory is swapped for a link to a directory holding a file of the same name.
    await writeFile(path.join(outside, `${saved.id}.png`), secret);
    await rename(ownerDir, `${ownerDir}-moved`);
    await symlink(outside, ownerDir);
    await assert.rejects(store.readPixels(saved.file), (e: unknown) => e instanceof UploadUnavailableError && !e.message.includes(dir));
    await assert.rejects(store.readPixels('../outside/x.png'), UploadUnavailableError);
    await assert.rejects(store.readPixels(`uploads/${ownerDirectory('hank')}/../../../outside/${saved.id}.png`), UploadUnavailableError);
  });
});
