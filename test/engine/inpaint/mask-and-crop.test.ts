import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { distanceToMask, erodeOrDilateMask, invertMask, maskFromImage, softenMask } from '../../../src/engine/inpaint/grey-mask.ts';
import { computeCropBox, computeWorkingSize, resizeMask, resizeRgb } from '../../../src/engine/inpaint/inpaint-crop.ts';
import { computeHeadFeature } from '../../../src/engine/inpaint/inpaint-models.ts';
import { toLatentMask } from '../../../src/engine/inpaint/latent-blend.ts';
import { fillMaskedArea, padForOutpaint } from '../../../src/engine/inpaint/masked-fill.ts';
import { makePicture, rectangleMask } from './inpaint-harness.ts';

const rows = (m: { width: number; data: Uint8Array }): string[] => {
  const out: string[] = [];
  for (let y = 0; y < m.data.length / m.width; y++) out.push([...m.data.subarray(y * m.width, (y + 1) * m.width)].map((v) => (v > 127 ? '#' : '.')).join(''));
  return out;
};

describe('masks', () => {
  it('reads a mask from a picture: mean of R, G, B over 127 is white', () => {
    const mask = maskFromImage({ width: 3, height: 1, rgb: Uint8Array.of(255, 255, 255, 128, 128, 127, 200, 100, 80) });
    assert.deepEqual([...mask.data], [255, 255, 0]); // means 255, 127.67 and 126.67
  });

  it('erodes and dilates by whole pixels with a 3x3 square, counting the border as white when eroding', () => {
    const square = rectangleMask(7, 7, { left: 2, right: 5, top: 2, bottom: 5 });
    assert.deepEqual(rows(erodeOrDilateMask(square, 1)), ['.......', '.......', '.......', '...#...', '.......', '.......', '.......']);
    assert.deepEqual(rows(erodeOrDilateMask(square, -1)), ['.......', '.#####.', '.#####.', '.#####.', '.#####.', '.#####.', '.......']);
    assert.deepEqual(rows(erodeOrDilateMask(square, -2)), Array(7).fill('#######'));
    const full = rectangleMask(4, 3, { left: 0, right: 4, top: 0, bottom: 3 });
    assert.deepEqual(rows(erodeOrDilateMask(full, 1)), Array(3).fill('####'));
    assert.deepEqual(rows(invertMask(square)).slice(2, 3), ['##...##']);
  });

  it('measures Chebyshev distance and feathers the soft mask by 8 per pixel down to 0 at 32', () => {
    const dot = rectangleMask(80, 1, { left: 0, right: 1, top: 0, bottom: 1 });
    assert.deepEqual([...distanceToMask(dot, 100).subarray(0, 4)], [0, 1, 2, 3]);
    const soft = softenMask(dot);
    assert.deepEqual([soft.data[0], soft.data[1], soft.data[2], soft.data[31], soft.data[32], soft.data[60]], [255, 248, 240, 8, 0, 0]);
    const diagonal = rectangleMask(5, 5, { left: 0, right: 1, top: 0, bottom: 1 });
    assert.equal(distanceToMask(diagonal, 100)[4 * 5 + 4], 4);
  });

  it('marks a latent position when any pixel of its 8x8 block is masked', () => {
    const m = rectangleMask(16, 16, { left: 7, right: 8, top: 9, bottom: 10 });
    assert.deepEqual([...toLatentMask(m)], [0, 0, 1, 0]);
  });
});

describe("Fooocus's crop", () => {
  it('makes a square x1.15 around the mask (k = 0), and the whole image at k = 1', () => {
    const mask = rectangleMask(124, 100, { left: 50, right: 70, top: 40, bottom: 58 });
    // Bounds rows 40..57, columns 50..69: centre (48, 59), half-side trunc(max(8, 9) * 1.15) = 10.
    assert.deepEqual(computeCropBox(mask, 0), { top: 38, bottom: 59, left: 49, right: 70 });
    assert.deepEqual(computeCropBox(mask, 1), { top: 0, bottom: 100, left: 0, right: 124 });
  });

  it('grows the shorter side one pixel each end until it covers k of each axis', () => {
    const dot = rectangleMask(20, 10, { left: 10, right: 11, top: 5, bottom: 6 });
    assert.deepEqual(computeCropBox(dot, 0.5), { top: 1, bottom: 10, left: 5, right: 16 });
  });

  it('clamps to the image and still reaches k when the mask touches an edge', () => {
    const corner = rectangleMask(200, 120, { left: 0, right: 10, top: 0, bottom: 10 });
    const box = computeCropBox(corner, 0.618);
    assert.equal(box.top, 0);
    assert.equal(box.left, 0);
    assert.ok(box.bottom >= 120 * 0.618 && box.right >= 200 * 0.618, JSON.stringify(box));
  });

  it('generates a crop at the area of the native size, sides multiples of 64', () => {
    assert.deepEqual(computeWorkingSize(300, 300, 1024), { width: 1024, height: 1024 });
    // 200x100 (ceil 192) -> 1088x512 (ceil 768) -> 1472x704 (ceil 1024).
    assert.deepEqual(computeWorkingSize(200, 100, 1024), { width: 1472, height: 704 });
    const tall = computeWorkingSize(90, 400, 512);
    assert.equal(tall.width % 64, 0);
    assert.equal(tall.height % 64, 0);
    assert.equal(Math.ceil(Math.sqrt(tall.width * tall.height) / 64) * 64, 512);
  });
});

describe('pixels', () => {
  it('Lanczos keeps a flat picture flat and a same-size resize exact', () => {
    const flat = { width: 30, height: 20, rgb: new Uint8Array(30 * 20 * 3).fill(77) };
    assert.ok(resizeRgb(flat, 64, 50).rgb.every((v) => v === 77));
    assert.ok(resizeRgb(flat, 7, 5).rgb.every((v) => v === 77));
    const picture = makePicture(40, 30);
    assert.deepEqual(resizeRgb(picture, 40, 30).rgb, picture.rgb);
    const halves = resizeMask({ width: 4, height: 1, data: Uint8Array.of(0, 0, 255, 255) }, 2, 1);
    assert.ok(halves.data[0]! < 40 && halves.data[1]! > 215, `${halves.data}`);
  });

  it('fills the masked area from its surroundings and leaves every other pixel as it was', () => {
    const picture = makePicture(64, 48);
    for (let i = 0; i < picture.rgb.length; i += 3) picture.rgb.set([10, 200, 90], i);
    const hole = rectangleMask(64, 48, { left: 20, right: 40, top: 10, bottom: 30 });
    for (let y = 10; y < 30; y++) for (let x = 20; x < 40; x++) picture.rgb.set([255, 0, 0], (y * 64 + x) * 3);
    const filled = fillMaskedArea(picture, hole);
    for (let p = 0; p < 64 * 48; p++) assert.deepEqual([...filled.rgb.subarray(p * 3, p * 3 + 3)], [10, 200, 90]);
  });

  it('pads outpaint sides with edge pixels and marks exactly the new area', () => {
    const picture = { width: 2, height: 2, rgb: Uint8Array.of(1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4) };
    const { image, mask } = padForOutpaint(picture, null, { left: 1, right: 0, top: 0, bottom: 2 });
    assert.deepEqual([...image.rgb.filter((_, i) => i % 3 === 0)], [1, 1, 2, 3, 3, 4, 3, 3, 4, 3, 3, 4]);
    assert.deepEqual(rows(mask), ['#..', '#..', '###', '###']);
  });
});

describe('inpaint head', () => {
  it('pads by edge replication: a constant input gives the same output at the border as inside', () => {
    const weight = Float32Array.from({ length: 2 * 5 * 9 }, (_, i) => ((i * 7) % 11) / 10 - 0.5);
    const head = { file: 'head.safetensors', weight, outChannels: 2 };
    const mask = { dims: [1, 1, 3, 4], data: new Float32Array(12).fill(1) };
    const latent = { dims: [1, 4, 3, 4], data: Float32Array.from({ length: 48 }, (_, i) => [0.5, -1, 2, 0.25][Math.floor(i / 12)]!) };
    const out = computeHeadFeature(head, mask, latent);
    const inputs = [1, 0.5, -1, 2, 0.25];
    for (let o = 0; o < 2; o++) {
      let expected = 0;
      for (let c = 0; c < 5; c++) for (let k = 0; k < 9; k++) expected += inputs[c]! * weight[(o * 5 + c) * 9 + k]!;
      for (let p = 0; p < 12; p++) assert.ok(Math.abs(out.data[o * 12 + p]! - expected) < 1e-5, `channel ${o} pixel ${p}`);
    }
  });
});
