import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { RgbImage } from '../../../src/engine/rgb-image.ts';
import { resampleLanczos } from '../../../src/engine/upscale/lanczos-resample.ts';

function image(width: number, height: number, pixel: (x: number, y: number, c: number) => number): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) rgb[(y * width + x) * 3 + c] = pixel(x, y, c);
  return { width, height, rgb };
}

describe('Lanczos-3 resample', () => {
  it('keeps a flat image flat at any size, up or down', () => {
    const flat = image(37, 23, (_x, _y, c) => 40 + 50 * c);
    for (const [w, h] of [[74, 46], [55, 35], [12, 9], [37, 23]] as const) {
      const out = resampleLanczos(flat, w, h);
      assert.deepEqual([out.width, out.height], [w, h]);
      for (let p = 0; p < w * h; p++) assert.deepEqual([...out.rgb.subarray(p * 3, p * 3 + 3)], [40, 90, 140], `pixel ${p} at ${w}x${h}`);
    }
  });

  it('antialiases a downscale: a one-pixel checkerboard halved becomes mid grey', () => {
    const board = image(64, 64, (x, y) => ((x + y) % 2 === 0 ? 255 : 0));
    const out = resampleLanczos(board, 32, 32);
    for (let y = 4; y < 28; y++) for (let x = 4; x < 28; x++) assert.ok(Math.abs(out.rgb[(y * 32 + x) * 3]! - 128) <= 2, `(${x}, ${y}) = ${out.rgb[(y * 32 + x) * 3]}`);
  });

  it('an upscale keeps a ramp monotonic and its ends in place (3-lobe kernel, overshoot clamped)', () => {
    const ramp = image(16, 4, (x) => x * 16);
    const out = resampleLanczos(ramp, 64, 4);
    const row = Array.from({ length: 64 }, (_, x) => out.rgb[(64 + x) * 3]!);
    for (let x = 1; x < 64; x++) assert.ok(row[x]! >= row[x - 1]! - 1, `ramp dips at ${x}: ${row.slice(x - 2, x + 2)}`);
    assert.ok(row[0]! <= 4 && row[63]! >= 236, `${row[0]} .. ${row[63]}`);
  });

  it('refuses an empty or fractional size', () => {
    assert.throws(() => resampleLanczos(image(4, 4, () => 0), 0, 4), /cannot resize to 0x4/);
    assert.throws(() => resampleLanczos(image(4, 4, () => 0), 2.5, 4), /cannot resize/);
  });
});
