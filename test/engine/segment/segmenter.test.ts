import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../../../src/engine/io/safetensors-reader.ts';
import type { RgbImage } from '../../../src/engine/rgb-image.ts';
import { computeSamFrame, logitsToImage, mapBoxToFrame, resizeBilinear, toSamEncoderInput } from '../../../src/engine/segment/sam-image-frame.ts';
import { fillSmallHoles } from '../../../src/engine/segment/mask-holes.ts';
import { chooseMask, InvalidBoxError, loadSegmenter, SegmentImageError, type Segmenter } from '../../../src/engine/segment/segmenter.ts';
import { TINY_SAM, writeSamModel } from '../../fixtures/sam-models.ts';
import { referenceSamDecoder, referenceSamEncoder } from '../../reference/sam.ts';
import { weightSourceFromMap, type RefTensor, type WeightSource } from '../../reference/tensor.ts';
import { maxAbsDiff, toRef } from '../graphs/graph-harness.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'segmenter-'));
let segmenter: Segmenter;
let weights: WeightSource;

before(async () => {
  const file = await writeSamModel(dir);
  segmenter = await loadSegmenter(file, { threads: 1 });
  const header = await readSafetensorsHeader(file);
  const map = new Map<string, RefTensor>();
  for (const name of header.tensors.keys()) map.set(name, { shape: header.tensors.get(name)!.shape, data: await readTensorAsFloat32(header, name) });
  weights = weightSourceFromMap(map);
});
after(async () => {
  await segmenter.release();
  rmSync(dir, { recursive: true, force: true });
});

/** A grey picture with a red rectangle drawn at x 12..29, y 8..21 (inclusive). */
function drawnShape(width: number, height: number): RgbImage {
  const rgb = new Uint8Array(width * height * 3).fill(128);
  for (let y = 8; y < 22; y++) for (let x = 12; x < 30; x++) rgb.set([220, 30, 40], (y * width + x) * 3);
  return { width, height, rgb };
}

describe('SAM input frame', () => {
  it('resizes the longest side to the input size, rounding each side to the nearest pixel', () => {
    assert.deepEqual(computeSamFrame(40, 24, 64), { width: 40, height: 24, resizedWidth: 64, resizedHeight: 38, size: 64 }); // 24 * 1.6 = 38.4
    assert.deepEqual(computeSamFrame(1500, 1000, 1024), { width: 1500, height: 1000, resizedWidth: 1024, resizedHeight: 683, size: 1024 }); // 682.67
    assert.deepEqual(computeSamFrame(32, 52, 64), { width: 32, height: 52, resizedWidth: 39, resizedHeight: 64, size: 64 }); // 39.38
  });

  it('maps boxes by the per-axis scale, without a padding offset', () => {
    const frame = computeSamFrame(40, 24, 64);
    assert.deepEqual(mapBoxToFrame([10, 6, 20, 12], frame), [16, (6 * 38) / 24, 32, 19]);
  });

  it('normalizes the resized image and leaves the padding exactly zero', () => {
    const image: RgbImage = { width: 40, height: 24, rgb: new Uint8Array(40 * 24 * 3).fill(200) };
    const input = toSamEncoderInput(image, computeSamFrame(40, 24, 64));
    assert.deepEqual(input.dims, [1, 3, 64, 64]);
    const means = [123.675, 116.28, 103.53];
    const stds = [58.395, 57.12, 57.375];
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 64; y++) {
        for (let x = 0; x < 64; x++) {
          const v = input.data[(c * 64 + y) * 64 + x]!;
          if (y < 38) assert.ok(Math.abs(v - (200 - means[c]!) / stds[c]!) < 1e-5, `c${c} (${x}, ${y}) = ${v}`);
          else assert.equal(v, 0, `padding c${c} (${x}, ${y})`);
        }
      }
    }
  });

  it('crops mask logits to the resized image: with no rescale the mask is the top-left of the frame, exactly', () => {
    const frame = computeSamFrame(64, 40, 64);
    const low = Float32Array.from({ length: 64 * 64 }, (_, i) => i);
    const out = logitsToImage(low, 64, frame);
    assert.equal(out.length, 64 * 40);
    for (let y = 0; y < 40; y++) for (let x = 0; x < 64; x++) assert.equal(out[y * 64 + x], y * 64 + x);
  });

  it('maps a frame region back to the image at half the scale', () => {
    const frame = computeSamFrame(32, 20, 64); // resized 64 x 40
    const low = Float32Array.from({ length: 64 * 64 }, (_, i) => ((i % 64) < 32 && Math.floor(i / 64) < 16 ? 1 : -1));
    const out = logitsToImage(low, 64, frame);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 32; x++) assert.equal(out[y * 32 + x]! > 0, x < 16 && y < 8, `(${x}, ${y})`);
  });

  it('crops while upsampling: the same values as the whole frame upsampled, then cropped, then resized', () => {
    const frame = computeSamFrame(30, 47, 64); // resized 41 x 64
    const low = Float32Array.from({ length: 16 * 16 }, (_, i) => Math.sin(i * 0.7) * 3);
    const full = resizeBilinear(low, 16, 16, 16, 64, 64);
    const crop = new Float32Array(frame.resizedWidth * frame.resizedHeight);
    for (let y = 0; y < frame.resizedHeight; y++) crop.set(full.subarray(y * 64, y * 64 + frame.resizedWidth), y * frame.resizedWidth);
    const expected = resizeBilinear(crop, frame.resizedWidth, frame.resizedWidth, frame.resizedHeight, 30, 47);
    assert.deepEqual(logitsToImage(low, 16, frame), expected);
  });

  it('resizes bilinearly with half-pixel centres (F.interpolate, align_corners=False)', () => {
    // 2 -> 4: source positions -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to the last pixel).
    assert.deepEqual([...resizeBilinear(Float32Array.from([0, 4]), 2, 2, 1, 4, 1)], [0, 1, 3, 4]);
  });
});

describe('Segmenter', () => {
  it('picks the single mask for a box, or the best multimask candidate', () => {
    assert.equal(chooseMask([0.1, 0.9, 0.95, 0.2], 4, false), 0);
    assert.equal(chooseMask([0.1, 0.9, 0.95, 0.2], 4, true), 2);
    assert.equal(chooseMask([0.99, 0.3, 0.2, 0.4], 4, true), 3);
  });

  it('gives a mask of the image size for a box around a drawn shape, agreeing with the reference pipeline', async () => {
    const image = drawnShape(48, 32);
    const box = [10, 6, 32, 24] as const;
    const [result] = await segmenter.segmentBoxes(image, [box]);
    assert.ok(result !== undefined);
    assert.equal(result.width, 48);
    assert.equal(result.height, 32);
    assert.equal(result.mask.length, 48 * 32);
    assert.ok(result.mask.every((v) => v === 0 || v === 1));
    assert.ok(Number.isFinite(result.iou));

    // The reference: its own encoder and decoder on the same frame, then the same crop / resize / threshold.
    const embedded = await segmenter.encodeImage(image);
    const frame = computeSamFrame(48, 32, 64);
    const pixels = toRef(toSamEncoderInput(image, frame));
    const expectedEmbedding = referenceSamEncoder(weights, TINY_SAM, pixels);
    assert.ok(maxAbsDiff(embedded.embedding, expectedEmbedding) <= 1e-4);
    const reference = referenceSamDecoder(weights, TINY_SAM, expectedEmbedding, mapBoxToFrame(box, frame));
    const logits = logitsToImage(reference.masks.data.subarray(0, 64 * 64), 64, frame);
    assert.ok(Math.abs(result.iou - reference.iou.data[0]!) <= 1e-4);
    let compared = 0;
    for (let i = 0; i < logits.length; i++) {
      if (Math.abs(logits[i]!) < 1e-3) continue; // too close to the threshold for float32 to decide
      assert.equal(result.mask[i], logits[i]! > 0 ? 1 : 0, `pixel ${i}`);
      compared++;
    }
    assert.ok(compared > logits.length * 0.99);
  });

  it('encodes the image once for several boxes', async (t) => {
    const encode = t.mock.method(segmenter, 'encodeImage');
    const decode = t.mock.method(segmenter, 'decodeFrameBoxes');
    const masks = await segmenter.segmentBoxes(drawnShape(48, 32), [[10, 6, 32, 24], [0, 0, 48, 32], [20, 10, 21, 11]]);
    assert.equal(masks.length, 3);
    assert.equal(encode.mock.callCount(), 1);
    assert.equal(decode.mock.callCount(), 3);
  });

  it('multimask output keeps the candidate with the best predicted IoU', async () => {
    const image = drawnShape(48, 32);
    const box = [10, 6, 32, 24] as const;
    const embedded = await segmenter.encodeImage(image);
    const raw = await segmenter.decodeFrameBoxes(embedded.embedding, [mapBoxToFrame(box, embedded.frame)]);
    const [multi] = await segmenter.segmentEmbedded(embedded, [box], { multimask: true });
    assert.equal(multi!.iou, Math.max(...raw.iou.data.subarray(1, 4)));
  });

  it('refuses an inverted or non-finite box, naming it, before running anything', async (t) => {
    const encode = t.mock.method(segmenter, 'encodeImage');
    const image = drawnShape(48, 32);
    await assert.rejects(segmenter.segmentBoxes(image, [[0, 0, 10, 10], [20, 5, 10, 20]]), (e: unknown) => e instanceof InvalidBoxError && e.field === 'boxes[1]' && /x1 > x2/.test(e.message));
    await assert.rejects(segmenter.segmentBoxes(image, [[0, Number.NaN, 10, 20]]), (e: unknown) => e instanceof InvalidBoxError && e.field === 'boxes[0]');
    assert.equal(encode.mock.callCount(), 0);
  });

  it('refuses an empty image or one whose bytes do not fill its size, naming the field', async () => {
    await assert.rejects(segmenter.encodeImage({ width: 0, height: 4, rgb: new Uint8Array(0) }), (e: unknown) => e instanceof SegmentImageError && e.field === 'image');
    await assert.rejects(segmenter.segmentBoxes({ width: 4, height: 4, rgb: new Uint8Array(47) }, [[0, 0, 2, 2]]), (e: unknown) => e instanceof SegmentImageError && /47 bytes for 4x4/.test(e.message));
  });

  it('takes a box dilated past the image (as Fooocus leaves them) and still gives an image-size mask', async () => {
    const [result] = await segmenter.segmentBoxes(drawnShape(48, 32), [[-6, -4, 54, 40]]);
    assert.equal(result!.mask.length, 48 * 32);
  });

  it('fills holes below the asked area in the result', async () => {
    const image = drawnShape(48, 32);
    const embedded = await segmenter.encodeImage(image);
    const [plain] = await segmenter.segmentEmbedded(embedded, [[10, 6, 32, 24]]);
    const [filled] = await segmenter.segmentEmbedded(embedded, [[10, 6, 32, 24]], { fillHolesBelow: 48 * 32 + 1 });
    assert.ok(filled!.mask.every((v) => v === 1) || plain!.mask.every((v) => v === 0), 'every outside region is below the whole image');
    assert.deepEqual(filled!.mask, fillSmallHoles(plain!.mask, 48, 32, 48 * 32 + 1));
  });
});
