/**
 * The decoding faults users hit with other tools' files: UTF-16 UserComment text in the other byte order than the
 * TIFF header (piexif, Civitai), A1111 keys spelled in another case (comfy-image-saver), UTF-8 bytes in a PNG tEXt
 * chunk (Stability Matrix), and a parameters line padded with commas.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readExifTextFields } from '../../../src/engine/output/exif-user-comment.ts';
import { parseGenerationMetadata } from '../../../src/engine/output/generation-metadata.ts';
import { readPngTextChunks } from '../../../src/engine/output/png-text.ts';
import { buildPng, buildTiff, utf16, utf8 } from './metadata-fixtures.ts';

const A1111_TEXT = 'a castle on a hill, テスト\nNegative prompt: blurry\nSteps: 25, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 77, Size: 832x1216, Model: sdxl_base';

describe('EXIF UserComment byte order', () => {
  for (const [tiffOrder, textOrder, bom] of [
    ['II', 'be', false],
    ['II', 'le', false],
    ['MM', 'be', false],
    ['MM', 'le', false],
    ['II', 'be', true],
    ['MM', 'le', true],
  ] as const) {
    it(`reads UTF-16${textOrder.toUpperCase()}${bom ? ' with a BOM' : ''} text in a ${tiffOrder} TIFF`, () => {
      const tiff = buildTiff({ userComment: { code: 'UNICODE', body: utf16(A1111_TEXT, textOrder, bom) } }, tiffOrder);
      assert.equal(readExifTextFields(tiff).userComment, A1111_TEXT);
    });
  }

  it('parses the little-endian-TIFF, big-endian-text comment Civitai JPEGs carry', () => {
    const tiff = buildTiff({ userComment: { code: 'UNICODE', body: utf16(A1111_TEXT, 'be') } }, 'II');
    const parsed = parseGenerationMetadata(readExifTextFields(tiff).userComment!);
    assert.equal(parsed.sampler, 'dpmpp_2m');
    assert.equal(parsed.scheduler, 'karras');
    assert.equal(parsed.prompt, 'a castle on a hill, テスト');
  });
});

describe('A1111 keys in another case', () => {
  it('reads "CFG Scale" (comfy-image-saver) as CFG scale instead of refusing the image', () => {
    const parsed = parseGenerationMetadata('a fox\nSteps: 20, Sampler: euler, CFG Scale: 5.5, Seed: 1, Size: 512x512, model hash: ABCDEF0123');
    assert.equal(parsed.cfg, 5.5);
    assert.equal(parsed.modelHash, 'abcdef0123');
    assert.equal(parsed.extra, undefined, 'no key is left over as unknown');
  });
});

describe('UTF-8 in a PNG tEXt chunk', () => {
  it('decodes valid UTF-8 bytes as UTF-8, and Latin-1 bytes as Latin-1', () => {
    const png = buildPng([
      { type: 'tEXt', keyword: 'parameters', bytes: utf8('#テスト, café') },
      { type: 'tEXt', keyword: 'Comment', bytes: Uint8Array.of(0x63, 0x61, 0x66, 0xe9) },
    ]);
    const texts = readPngTextChunks(png);
    assert.equal(texts.parameters, '#テスト, café');
    assert.equal(texts.Comment, 'café');
  });
});

describe('a parameters line padded with commas', () => {
  it('skips the empty items, as A1111 does, so the settings stay settings', () => {
    const line = `Steps: 20,${','.repeat(10_000)} Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 512x512`;
    const parsed = parseGenerationMetadata(`a quiet lake\n${line}`);
    assert.equal(parsed.prompt, 'a quiet lake');
    assert.equal(parsed.sampler, 'euler_ancestral');
    assert.equal(parsed.seed, '5');
  });

  it('refuses a million-comma line by its size, naming the limit, before parsing it', () => {
    const line = `Steps: 20,${','.repeat(1_000_000)} Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 512x512`;
    assert.throws(() => parseGenerationMetadata(`a quiet lake\n${line}`), /metadata: is \d+ bytes, over the 65536-byte limit/);
  });
});
