import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { computePyramidCanny } from '../../../src/engine/control/pyramid-canny.ts';
import { blurGaussian, computeCpds, gaussianKernelOf } from '../../../src/engine/control/cpds.ts';
import { decolorize } from '../../../src/engine/control/decolorization.ts';
import { controlTestImage } from '../../fixtures/control-maps/control-test-image.ts';

/** Maps OpenCV 4.14 and NumPy gave for controlTestImage(40, 32, 5) (see make-opencv-maps.py beside the JSON). */
const opencv = JSON.parse(readFileSync(new URL('../../fixtures/control-maps/opencv-4.14-40x32.json', import.meta.url), 'utf8')) as Record<string, string>;
const expected = (name: string): Uint8Array => new Uint8Array(Buffer.from(opencv[name]!, 'base64'));
const image = controlTestImage(40, 32, 5);

function differences(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  assert.equal(a.length, b.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

describe('computePyramidCanny', () => {
  it('equals the map OpenCV and NumPy give through the same steps, byte for byte', () => {
    const map = computePyramidCanny(image);
    assert.equal(map.width, 40);
    assert.equal(map.height, 32);
    assert.deepEqual(Array.from(map.data), Array.from(expected('pyra')));
  });

  it('is all zeros for a flat image and refuses an image too small for the coarsest scale', () => {
    const flat = { width: 20, height: 10, rgb: new Uint8Array(600).fill(90) };
    assert.equal(computePyramidCanny(flat).data.some((v) => v !== 0), false);
    assert.throws(() => computePyramidCanny({ width: 4, height: 4, rgb: new Uint8Array(48) }), /too small/);
  });
});

describe('blurGaussian', () => {
  it('uses the 7-tap fixed-point kernel of sigma 0.8 and equals cv2.GaussianBlur byte for byte', () => {
    const kernel = Array.from(gaussianKernelOf(0.8));
    assert.equal(kernel.length, 7);
    assert.equal(kernel.reduce((a, b) => a + b, 0), 256);
    assert.deepEqual(kernel, [...kernel].reverse());
    assert.deepEqual(Array.from(blurGaussian(image, 0.8)), Array.from(expected('blur')));
  });
});

describe('decolorize', () => {
  it('is within one grey level of cv2.decolor on every pixel', () => {
    const { gray } = decolorize(expected('blur'), 40, 32);
    assert.ok(differences(gray, expected('gray')).max <= 1);
  });

  it('gives a black grey, as cv2.decolor does, when the colour terms are collinear (a grey ramp, two colours)', () => {
    // cv2.decolor (4.14) returns all zeros for both: its normal equations are singular and its solve yields zeros
    const width = 16;
    const ramp = new Uint8Array(width * 2 * 3);
    for (let i = 0; i < width * 2; i++) ramp.fill(Math.trunc(((i % width) * 255) / (width - 1)), i * 3, i * 3 + 3);
    assert.equal(decolorize(ramp, width, 2).gray.some((v) => v !== 0), false);
    const halves = new Uint8Array(8 * 4 * 3);
    for (let i = 0; i < 32; i++) halves.set(i % 8 < 4 ? [200, 60, 30] : [20, 200, 160], i * 3);
    assert.equal(decolorize(halves, 8, 4).gray.some((v) => v !== 0), false);
  });

  it('refuses pixels that do not fill the size', () => {
    assert.throws(() => decolorize(new Uint8Array(10), 2, 2), /expected 2x2x3/);
  });
});

describe('computeCpds', () => {
  it('stays close to the map OpenCV and NumPy give (OpenCV rounds its 8-bit Lab through integer tables)', () => {
    const map = computeCpds(image);
    const { max, mean } = differences(map.data, expected('cpds'));
    assert.ok(mean < 3, `mean difference ${mean}`);
    assert.ok(max <= 24, `largest difference ${max}`);
  });

  it('is all zeros for a flat image', () => {
    const flat = { width: 12, height: 9, rgb: new Uint8Array(324).fill(200) };
    assert.equal(computeCpds(flat).data.some((v) => v !== 0), false);
  });
});
