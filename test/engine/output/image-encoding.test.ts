import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeImage, detectImageFormat, encodeImage, readImageMetadata } from '../../../src/engine/output/image-encoding.ts';
import { encodeExifTextFields, readExifTextFields } from '../../../src/engine/output/exif-user-comment.ts';
import { InvalidImageError } from '../../../src/engine/output/image-errors.ts';

const width = 16;
const height = 8;
const rgb = new Uint8Array(width * height * 3).map((_, i) => (i * 5) & 0xff);
const metadata = {
  parameters: 'a cat, "quoted", 猫 🐱\nNegative prompt: dog\nSteps: 30, Sampler: DPM++ 2M SDE Karras, Seed: 9223372036854775807',
  fooocus_scheme: 'a1111',
};

describe('encodeImage', () => {
  for (const format of ['png', 'jpeg', 'webp'] as const) {
    it(`stores and reads back metadata in ${format}`, async () => {
      const bytes = await encodeImage(rgb, width, height, { format, metadata });
      assert.equal(detectImageFormat(bytes), format);
      assert.deepEqual({ ...(await readImageMetadata(bytes)) }, metadata);
      const decoded = await decodeImage(bytes);
      assert.equal(decoded.width, width);
      assert.equal(decoded.height, height);
      assert.equal(decoded.rgb.length, rgb.length);
      if (format === 'png') assert.deepEqual(decoded.rgb, rgb);
    });
  }

  it('writes JPEG/WebP without metadata when none is given', async () => {
    const bytes = await encodeImage(rgb, width, height, { format: 'webp' });
    assert.deepEqual({ ...(await readImageMetadata(bytes)) }, {});
  });

  it('refuses metadata keys that have no EXIF field, and bad quality', async () => {
    await assert.rejects(encodeImage(rgb, width, height, { format: 'jpeg', metadata: { prompt: 'x' } }), /no EXIF field/);
    await assert.rejects(encodeImage(rgb, width, height, { format: 'jpeg', quality: 0 }), RangeError);
  });

  it('rejects unknown and corrupt files with InvalidImageError', async () => {
    await assert.rejects(readImageMetadata(Buffer.from('hello world')), InvalidImageError);
    const jpeg = await encodeImage(rgb, width, height, { format: 'jpeg' });
    await assert.rejects(decodeImage(jpeg.subarray(0, 40)), InvalidImageError);
  });
});

describe('EXIF text fields', () => {
  it('round-trip UserComment as UNICODE, MakerNote and Software', () => {
    const fields = { userComment: 'é 世界 🎨, "q"\nline', makerNote: 'fooocus', software: 'Fooocus-TS v0.1.0' };
    assert.deepEqual(readExifTextFields(encodeExifTextFields(fields)), fields);
    const tiff = encodeExifTextFields({ userComment: 'x' });
    assert.equal(Buffer.from(tiff.subarray(0, 2)).toString('latin1'), 'MM');
  });

  it('rejects offsets outside the block', () => {
    const tiff = encodeExifTextFields({ userComment: 'hello' });
    const bad = Uint8Array.from(tiff);
    new DataView(bad.buffer).setUint32(4, 0xffff);
    assert.throws(() => readExifTextFields(bad), InvalidImageError);
    assert.throws(() => readExifTextFields(tiff.subarray(0, 20)), InvalidImageError);
  });
});
