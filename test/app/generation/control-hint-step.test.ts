import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitToCover, prepareControlHints } from '../../../src/app/generation/control-hint-step.ts';
import { computeControlMap, grayToRgb } from '../../../src/engine/control/control-map.ts';
import { resampleLanczos } from '../../../src/engine/upscale/lanczos-resample.ts';
import type { RgbImage } from '../../../src/engine/rgb-image.ts';
import { controlTestImage } from '../../fixtures/control-maps/control-test-image.ts';

function numbered(width: number, height: number): RgbImage {
  return { width, height, rgb: Uint8Array.from({ length: width * height * 3 }, (_, i) => Math.floor(i / 3)) };
}

describe('fitToCover', () => {
  it('crops the middle of a wider image of the right height without resampling', () => {
    const fitted = fitToCover(numbered(4, 2), 2, 2); // pixels 0..3 / 4..7: keeps columns 1 and 2
    assert.deepEqual(Array.from(fitted.rgb).filter((_, i) => i % 3 === 0), [1, 2, 5, 6]);
  });

  it('crops the middle rows of a taller image', () => {
    const fitted = fitToCover(numbered(2, 4), 2, 2);
    assert.deepEqual(Array.from(fitted.rgb).filter((_, i) => i % 3 === 0), [2, 3, 4, 5]);
  });

  it('scales with Lanczos to cover, then crops', () => {
    const image = controlTestImage(40, 32, 5);
    const fitted = fitToCover(image, 64, 64); // 40x32 covers 64x64 at 80x64, cropped 8 columns each side
    const scaled = resampleLanczos(image, 80, 64);
    assert.deepEqual([fitted.width, fitted.height], [64, 64]);
    for (let y = 0; y < 64; y++) assert.deepEqual(fitted.rgb.subarray(y * 64 * 3, (y + 1) * 64 * 3), scaled.rgb.subarray((y * 80 + 8) * 3, (y * 80 + 72) * 3));
  });
});

describe('prepareControlHints', () => {
  it('turns PyraCanny and CPDS prompts into maps of the result size, and leaves the other types and inactive ones', async () => {
    const image = controlTestImage(72, 64, 5);
    const read: string[] = [];
    const hints = await prepareControlHints(
      [
        { file: 'a.png', type: 'ImagePrompt', stopAt: 0.5, weight: 0.6 },
        { file: 'b.png', type: 'PyraCanny', stopAt: 0.5, weight: 1 },
        { file: 'c.png', type: 'CPDS', stopAt: 0.5, weight: 0 },
        { file: 'd.png', type: 'CPDS', stopAt: 0.4, weight: 1.5 },
      ],
      { width: 64, height: 64 },
      async (file) => {
        read.push(file);
        return image;
      },
    );
    assert.deepEqual(read, ['b.png', 'd.png']);
    assert.deepEqual(hints.map((h) => [h.type, h.weight, h.stopAt]), [['PyraCanny', 1, 0.5], ['CPDS', 1.5, 0.4]]);
    const fitted = fitToCover(image, 64, 64);
    assert.deepEqual(hints[0]!.map, grayToRgb(computeControlMap('PyraCanny', fitted)));
    assert.deepEqual(hints[1]!.map, grayToRgb(computeControlMap('CPDS', fitted)));
  });
});
