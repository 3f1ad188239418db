import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import type { RgbImage } from '../../../src/engine/rgb-image.ts';
import { loadUpscaler, type LoadedUpscaler } from '../../../src/engine/upscale/load-upscaler.ts';
import { tileStarts, upscaleImage } from '../../../src/engine/upscale/tiled-upscale.ts';
import { writeTinyRrdb } from '../../fixtures/upscalers.ts';

function testPicture(width: number, height: number): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) rgb[(y * width + x) * 3 + c] = 128 + 100 * Math.sin(x * 0.21 + y * 0.13 * (c + 1)) * Math.cos(y * 0.07 - c);
    }
  }
  return { width, height, rgb };
}

/** Output pixels that exactly one tile covers (the tile cores). */
function coreMask(image: RgbImage, tile: number, overlap: number, scale: number): Uint8Array {
  const count = (size: number) => {
    const cover = new Uint8Array(size);
    for (const start of tileStarts(size, tile, overlap)) for (let i = start; i < Math.min(size, start + tile); i++) cover[i]!++;
    return cover;
  };
  const rows = count(image.height);
  const cols = count(image.width);
  const mask = new Uint8Array(image.width * scale * image.height * scale);
  for (let y = 0; y < image.height * scale; y++) for (let x = 0; x < image.width * scale; x++) mask[y * image.width * scale + x] = rows[Math.floor(y / scale)] === 1 && cols[Math.floor(x / scale)] === 1 ? 1 : 0;
  return mask;
}

function compare(a: RgbImage, b: RgbImage, mask: Uint8Array | null): { max: number; mean: number; pixels: number } {
  let max = 0;
  let sum = 0;
  let n = 0;
  for (let p = 0; p < a.width * a.height; p++) {
    if (mask !== null && mask[p] !== 1) continue;
    n++;
    for (let c = 0; c < 3; c++) {
      const d = Math.abs(a.rgb[p * 3 + c]! - b.rgb[p * 3 + c]!);
      max = Math.max(max, d);
      sum += d;
    }
  }
  return { max, mean: sum / (3 * n), pixels: n };
}

describe('tiled upscaling', () => {
  let dir: string;
  let upscaler: LoadedUpscaler;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-tiled-upscale-'));
    const fx = await writeTinyRrdb(dir, { dialect: 'basicsr', blocks: 1, features: 8, growth: 4, upsamples: 2 });
    upscaler = await loadUpscaler(await readSafetensorsHeader(fx.file), { runtime: { threads: 2 } });
  });
  after(async () => {
    await upscaler.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('equals the untiled result inside the tile cores when the overlap covers the receptive field', async () => {
    // One RRDB block: 17 3x3 convs at input resolution, then four at 2x/4x: a receptive radius under 19 input
    // pixels, so a 20-pixel overlap leaves every core pixel's whole field inside its tile.
    const image = testPicture(100, 72);
    const whole = await upscaleImage(upscaler, image, { tile: 1000 });
    const tiles: number[] = [];
    const tiled = await upscaleImage(upscaler, image, { tile: 48, overlap: 20, onTile: (done, total) => tiles.push(total) });
    assert.equal(tiled.width, 400);
    assert.equal(tiled.height, 288);
    assert.equal(tiles.at(-1), 3 * 2, 'a 100x72 image in 48-pixel tiles overlapping by 20: 3 x 2 tiles');
    const core = compare(tiled, whole, coreMask(image, 48, 20, 4));
    assert.ok(core.pixels > 0.25 * 400 * 288, `cores cover ${core.pixels} pixels`);
    // Measured: identical (max 0). One level is allowed: ONNX Runtime may pick other kernels for another tile shape,
    // and a float a rounding apart can truncate to the next 8-bit level.
    assert.ok(core.max <= 1, `core max abs diff ${core.max}`);
    assert.ok(core.mean < 0.01, `core mean abs diff ${core.mean}`);
  });

  it('blends seams: with an overlap smaller than the receptive field the whole image stays close (seam error stated)', async () => {
    const image = testPicture(96, 80);
    const whole = await upscaleImage(upscaler, image, { tile: 1000 });
    const tiled = await upscaleImage(upscaler, image, { tile: 40, overlap: 8 });
    const all = compare(tiled, whole, null);
    // Measured: max 11 levels, mean 0.23 (of 255) over the whole image (tile 40, overlap 8 against a receptive
    // radius near 19, one-block RRDBNet x4); the differences sit in the feathered overlaps.
    assert.ok(all.max <= 24, `seam max abs diff ${all.max}`);
    assert.ok(all.mean < 0.5, `seam mean abs diff ${all.mean}`);
  });

  it('pads tiles of a pixel-unshuffled (Real-ESRGAN x2) model to its multiple and crops the result', async () => {
    const fx = await writeTinyRrdb(dir, { dialect: 'basicsr', blocks: 1, upsamples: 2, unshuffle: 2 }, 'x2.safetensors');
    const x2 = await loadUpscaler(await readSafetensorsHeader(fx.file), { runtime: { threads: 2 } });
    try {
      const out = await upscaleImage(x2, testPicture(37, 29), { tile: 17, overlap: 4 });
      assert.equal(out.width, 74);
      assert.equal(out.height, 58);
    } finally {
      await x2.release();
    }
  });

  it('stops before the next tile once cancelled', async () => {
    const controller = new AbortController();
    let tiles = 0;
    await assert.rejects(
      upscaleImage(upscaler, testPicture(64, 64), {
        tile: 24,
        overlap: 4,
        signal: controller.signal,
        onTile: () => {
          tiles++;
          controller.abort();
        },
      }),
      /cancelled/,
    );
    assert.equal(tiles, 1);
  });
});
