import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import { InvalidImageError } from '../../../src/engine/output/image-errors.ts';
import { decodePng, encodePng } from '../../../src/engine/output/png.ts';
import { encodePngChunk, iteratePngChunks, PNG_SIGNATURE } from '../../../src/engine/output/png-chunks.ts';
import { readPngTextChunks } from '../../../src/engine/output/png-text.ts';

function gradient(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37 + ((i / 3) | 0) * 11) & 0xff;
  return rgb;
}

/** A PNG assembled chunk by chunk, so tests can break exactly one promise of the format. */
function buildPng(chunks: [string, Uint8Array][]): Uint8Array {
  return Buffer.concat([PNG_SIGNATURE, ...chunks.map(([type, data]) => encodePngChunk(type, data))]);
}

function ihdr(width: number, height: number, bitDepth = 8, colorType = 2, interlace = 0): Uint8Array {
  const data = new Uint8Array(13);
  const view = new DataView(data.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  data.set([bitDepth, colorType, 0, 0, interlace], 8);
  return data;
}

/** Unfiltered (filter type 0) scanlines for a raw pixel buffer. */
function idat(pixels: Uint8Array, rowBytes: number): Uint8Array {
  const rows = pixels.length / rowBytes;
  const raw = new Uint8Array(rows * (rowBytes + 1));
  for (let y = 0; y < rows; y++) raw.set(pixels.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  return deflateSync(raw);
}

function assertInvalid(bytes: Uint8Array, problem: string): void {
  assert.throws(
    () => decodePng(bytes),
    (error: unknown) => error instanceof InvalidImageError && error.problem === problem,
    `expected InvalidImageError(${problem})`,
  );
}

describe('encodePng / decodePng', () => {
  it('round-trips pixels exactly through a valid file', () => {
    for (const [width, height] of [[1, 1], [7, 5], [64, 33]] as const) {
      const rgb = gradient(width, height);
      const png = encodePng(rgb, width, height);
      assert.deepEqual([...png.subarray(0, 8)], [...PNG_SIGNATURE]);
      const chunks = [...iteratePngChunks(png)]; // re-checks every CRC
      assert.deepEqual(chunks.map((c) => c.type), ['IHDR', 'IDAT', 'IEND']);
      const header = new DataView(chunks[0]!.data.buffer, chunks[0]!.data.byteOffset, 13);
      assert.equal(header.getUint32(0), width);
      assert.equal(header.getUint32(4), height);
      assert.deepEqual([...chunks[0]!.data.subarray(8)], [8, 2, 0, 0, 0]);
      const decoded = decodePng(png);
      assert.equal(decoded.width, width);
      assert.equal(decoded.height, height);
      assert.deepEqual(decoded.rgb, rgb);
    }
  });

  it('writes CRCs a plain CRC-32 agrees with', () => {
    const png = encodePng(gradient(3, 3), 3, 3, { a: 'b' });
    let at = 8;
    while (at < png.length) {
      const view = new DataView(png.buffer, png.byteOffset);
      const length = view.getUint32(at);
      assert.equal(view.getUint32(at + 8 + length), crc32(png.subarray(at + 4, at + 8 + length)));
      at += 12 + length;
    }
    assert.equal(at, png.length);
  });

  it('decodes grayscale, gray+alpha, RGBA and palette PNGs, compositing alpha over white', () => {
    const gray = buildPng([['IHDR', ihdr(2, 1, 8, 0)], ['IDAT', idat(Uint8Array.of(0, 200), 2)], ['IEND', new Uint8Array()]]);
    assert.deepEqual([...decodePng(gray).rgb], [0, 0, 0, 200, 200, 200]);
    const grayAlpha = buildPng([['IHDR', ihdr(1, 1, 8, 4)], ['IDAT', idat(Uint8Array.of(0, 0), 2)], ['IEND', new Uint8Array()]]);
    assert.deepEqual([...decodePng(grayAlpha).rgb], [255, 255, 255]);
    const rgba = buildPng([['IHDR', ihdr(1, 1, 8, 6)], ['IDAT', idat(Uint8Array.of(255, 0, 0, 128), 4)], ['IEND', new Uint8Array()]]);
    assert.deepEqual([...decodePng(rgba).rgb], [255, 127, 127]);
    const palette = buildPng([
      ['IHDR', ihdr(3, 1, 8, 3)],
      ['PLTE', Uint8Array.of(10, 20, 30, 40, 50, 60)],
      ['tRNS', Uint8Array.of(255, 0)],
      ['IDAT', idat(Uint8Array.of(0, 1, 0), 3)],
      ['IEND', new Uint8Array()],
    ]);
    assert.deepEqual([...decodePng(palette).rgb], [10, 20, 30, 255, 255, 255, 10, 20, 30]);
  });
});

describe('PNG text chunks', () => {
  it('round-trips Latin-1 as tEXt and UTF-8 (emoji, CJK) as iTXt', () => {
    const text = {
      parameters: 'a cat, "quoted"\nNegative prompt: dog\nSteps: 30, Seed: 9223372036854775807',
      fooocus_scheme: 'a1111',
      comment: 'café à la crème',
      unicode: '猫と犬 🐱🎨 한국어',
    };
    const png = encodePng(gradient(2, 2), 2, 2, text);
    const types = [...iteratePngChunks(png)].map((c) => c.type);
    assert.deepEqual(types, ['IHDR', 'tEXt', 'tEXt', 'tEXt', 'iTXt', 'IDAT', 'IEND']);
    assert.deepEqual({ ...readPngTextChunks(png) }, text);
  });

  it('reads zTXt and compressed iTXt', () => {
    const ztxt = Buffer.concat([Buffer.from('k1\0\0'), deflateSync(Buffer.from('zipped latin-1', 'latin1'))]);
    const itxt = Buffer.concat([Buffer.from('k2\0\x01\0en\0\0'), deflateSync(Buffer.from('圧縮 ✓'))]);
    const png = buildPng([['IHDR', ihdr(1, 1)], ['zTXt', ztxt], ['iTXt', itxt], ['IDAT', idat(new Uint8Array(3), 3)], ['IEND', new Uint8Array()]]);
    assert.deepEqual({ ...readPngTextChunks(png) }, { k1: 'zipped latin-1', k2: '圧縮 ✓' });
  });

  it('keeps a __proto__ keyword as data without touching Object.prototype', () => {
    const png = encodePng(gradient(1, 1), 1, 1, JSON.parse('{"__proto__": "polluted?", "isAdmin": "no"}') as Record<string, string>);
    const texts = readPngTextChunks(png);
    assert.equal(Object.hasOwn(texts, '__proto__'), true);
    assert.equal(texts['__proto__'], 'polluted?');
    assert.equal(({} as Record<string, unknown>)['isAdmin'], undefined);
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
  });

  it('refuses invalid keywords and NUL in text when writing', () => {
    assert.throws(() => encodePng(gradient(1, 1), 1, 1, { '': 'x' }), RangeError);
    assert.throws(() => encodePng(gradient(1, 1), 1, 1, { ' lead': 'x' }), RangeError);
    assert.throws(() => encodePng(gradient(1, 1), 1, 1, { ['k'.repeat(80)]: 'x' }), RangeError);
    assert.throws(() => encodePng(gradient(1, 1), 1, 1, { k: 'a\0b' }), RangeError);
  });
});

describe('corrupt PNG corpus', () => {
  const good = encodePng(gradient(8, 8), 8, 8, { parameters: 'x' });

  it('rejects a missing signature', () => {
    assertInvalid(Buffer.from('GIF89a.........'), 'signature');
    assertInvalid(new Uint8Array(0), 'signature');
  });

  it('rejects every truncation of a valid file', () => {
    for (let length = 8; length < good.length; length++) {
      const cut = good.subarray(0, length);
      assert.throws(() => decodePng(cut), InvalidImageError, `truncated to ${length} bytes`);
      assert.throws(() => readPngTextChunks(cut), InvalidImageError, `truncated to ${length} bytes`);
    }
  });

  it('rejects a flipped bit anywhere in a chunk via its CRC', () => {
    for (const at of [12, 20, 40, good.length - 20, good.length - 5]) {
      const bad = Uint8Array.from(good);
      bad[at]! ^= 0x10;
      assert.throws(() => decodePng(bad), InvalidImageError, `bit flipped at byte ${at}`);
    }
    const bad = Uint8Array.from(good);
    bad[29]! ^= 1; // inside IHDR's CRC field
    assertInvalid(bad, 'crc');
  });

  it('rejects a huge chunk length without allocating it', () => {
    const bad = Uint8Array.from(good);
    new DataView(bad.buffer).setUint32(8, 0xfffffff0);
    assertInvalid(bad, 'chunk-length');
    new DataView(bad.buffer).setUint32(8, 0x7fffffff);
    assertInvalid(bad, 'chunk-length');
  });

  it('rejects a missing or misplaced IHDR and a missing IDAT', () => {
    assertInvalid(buildPng([['IDAT', idat(new Uint8Array(3), 3)], ['IEND', new Uint8Array()]]), 'ihdr');
    assertInvalid(buildPng([['IHDR', ihdr(1, 1)], ['IEND', new Uint8Array()]]), 'truncated');
    assertInvalid(buildPng([['IHDR', ihdr(0, 1)], ['IEND', new Uint8Array()]]), 'ihdr');
    assertInvalid(buildPng([['IHDR', ihdr(1, 1)], ['IHDR', ihdr(1, 1)], ['IEND', new Uint8Array()]]), 'ihdr');
  });

  it('names unsupported variants', () => {
    const sixteen = buildPng([['IHDR', ihdr(1, 1, 16, 2)], ['IDAT', idat(new Uint8Array(6), 6)], ['IEND', new Uint8Array()]]);
    assert.throws(() => decodePng(sixteen), /bit depth 16 is not supported/);
    const interlaced = buildPng([['IHDR', ihdr(1, 1, 8, 2, 1)], ['IDAT', idat(new Uint8Array(3), 3)], ['IEND', new Uint8Array()]]);
    assert.throws(() => decodePng(interlaced), /interlaced/);
    const noPalette = buildPng([['IHDR', ihdr(1, 1, 8, 3)], ['IDAT', idat(new Uint8Array(1), 1)], ['IEND', new Uint8Array()]]);
    assertInvalid(noPalette, 'palette');
  });

  it('bounds a zip bomb by width x height', () => {
    const bomb = deflateSync(new Uint8Array(64 * 1024 * 1024)); // ~64 KB that inflate to 64 MiB
    const started = Date.now();
    assertInvalid(buildPng([['IHDR', ihdr(16, 16)], ['IDAT', bomb], ['IEND', new Uint8Array()]]), 'pixel-data');
    assert.ok(Date.now() - started < 5000, 'stops inflating at the expected size');
  });

  it('refuses declared sizes over the pixel limit before inflating', () => {
    const huge = buildPng([['IHDR', ihdr(100_000, 100_000)], ['IDAT', idat(new Uint8Array(3), 3)], ['IEND', new Uint8Array()]]);
    assertInvalid(huge, 'too-large');
    const tooShort = buildPng([['IHDR', ihdr(4000, 4000)], ['IDAT', idat(new Uint8Array(3), 3)], ['IEND', new Uint8Array()]]);
    assertInvalid(tooShort, 'truncated');
  });

  it('rejects pixel data that is short, corrupt or uses an unknown filter', () => {
    assertInvalid(buildPng([['IHDR', ihdr(4, 4)], ['IDAT', idat(new Uint8Array(12), 12)], ['IEND', new Uint8Array()]]), 'truncated');
    assertInvalid(buildPng([['IHDR', ihdr(1, 1)], ['IDAT', Uint8Array.of(1, 2, 3, 4)], ['IEND', new Uint8Array()]]), 'pixel-data');
    const badFilter = buildPng([['IHDR', ihdr(1, 1)], ['IDAT', deflateSync(Uint8Array.of(9, 1, 2, 3))], ['IEND', new Uint8Array()]]);
    assertInvalid(badFilter, 'pixel-data');
  });

  it('rejects a compressed text chunk that inflates past the file size', () => {
    const bomb = Buffer.concat([Buffer.from('k\0\0'), deflateSync(new Uint8Array(10 * 1024 * 1024))]);
    const png = buildPng([['IHDR', ihdr(1, 1)], ['zTXt', bomb], ['IDAT', idat(new Uint8Array(3), 3)], ['IEND', new Uint8Array()]]);
    assert.throws(() => readPngTextChunks(png), (e: unknown) => e instanceof InvalidImageError && e.problem === 'text-too-large');
  });
});
