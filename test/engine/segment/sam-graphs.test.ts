import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildSamImageEncoderGraph } from '../../../src/engine/graphs/sam-image-encoder.ts';
import { buildSamMaskDecoderGraph } from '../../../src/engine/graphs/sam-mask-decoder.ts';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../../../src/engine/io/safetensors-reader.ts';
import type { SafetensorsHeader } from '../../../src/engine/io/safetensors-types.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { encodeOnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import { detectSamLayout, SamLayoutError } from '../../../src/engine/segment/sam-layout.ts';
import { loadSegmenter } from '../../../src/engine/segment/segmenter.ts';
import { buildSamTensors, listSamTensors, SAM_VIT_B, TINY_SAM, writeSamModel } from '../../fixtures/sam-models.ts';
import { writeTinyRetinaFace } from '../../fixtures/retinaface.ts';
import { referenceSamDecoder, referenceSamEncoder } from '../../reference/sam.ts';
import { weightSourceFromMap, type RefTensor, type WeightSource } from '../../reference/tensor.ts';
import { fromRef, maxAbsDiff, sampleInput } from '../graphs/graph-harness.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sam-graphs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let header: SafetensorsHeader;
let weights: WeightSource;

before(async () => {
  header = await readSafetensorsHeader(await writeSamModel(dir));
  const map = new Map<string, RefTensor>();
  for (const name of header.tensors.keys()) map.set(name, { shape: header.tensors.get(name)!.shape, data: await readTensorAsFloat32(header, name) });
  weights = weightSourceFromMap(map);
});

describe('SAM layout', () => {
  it('reads every size of the tiny model from its shapes', () => {
    const layout = detectSamLayout(header);
    assert.deepEqual(layout.vision, { width: 16, patch: 4, grid: 16, imageSize: 64, layers: 4, heads: 2, mlp: 32, window: 6, globalLayers: [1, 3], outChannels: 32 });
    assert.deepEqual(layout.decoder, { hidden: 32, layers: 2, heads: 8, mlp: 48, maskTokens: 4, mlpDepth: 3, positionKey: 'shared_image_embedding.positional_embedding' });
  });

  it("reads ViT-B's published sizes from a header of its shapes (window 14, global layers 2, 5, 8, 11)", () => {
    const tensors = new Map(listSamTensors(SAM_VIT_B).map((s, i) => [s.name, { name: s.name, dtype: 'F32' as const, shape: s.shape, begin: i, end: i }]));
    const layout = detectSamLayout({ file: '/models/sam/sam-vit-base.safetensors', tensors, metadata: {}, dataOffset: 0 } as unknown as SafetensorsHeader);
    assert.equal(layout.vision.imageSize, 1024);
    assert.equal(layout.vision.window, 14);
    assert.deepEqual(layout.vision.globalLayers, [2, 5, 8, 11]);
    assert.equal(layout.vision.heads, 12);
    assert.equal(layout.decoder.hidden, 256);
  });

  it('refuses another family of file, naming it', async () => {
    const file = await writeTinyRetinaFace(dir, {}, 'detector.safetensors');
    await assert.rejects(loadSegmenter(file), (e: unknown) => e instanceof SamLayoutError && /detector\.safetensors: not a Segment Anything/.test(e.message) && e.file === file);
  });

  it('refuses a SAM file with a missing relative-position table, naming the key and the file', async () => {
    const file = path.join(dir, 'broken-sam.safetensors');
    await writeSafetensors(file, buildSamTensors(TINY_SAM).filter((t) => t.name !== 'vision_encoder.layers.2.attn.rel_pos_h'));
    await assert.rejects(loadSegmenter(file), (e: unknown) => e instanceof SamLayoutError && e.message.includes('broken-sam.safetensors') && e.message.includes('layers.2.attn.rel_pos_h'));
  });
});

describe('SAM graphs against the plain-TS reference', () => {
  it('image encoder (windows padded 16 -> 18, two global layers, neck) within 1e-4', async () => {
    const layout = detectSamLayout(header);
    const session = await createModelSession(encodeOnnxModel(buildSamImageEncoderGraph(header, layout.vision)), dir, { threads: 1 });
    try {
      const pixels = sampleInput([1, 3, 64, 64], 3);
      const out = (await session.run({ pixel_values: fromRef(pixels) })).image_embeddings!;
      const expected = referenceSamEncoder(weights, TINY_SAM, pixels);
      const err = maxAbsDiff(out, expected);
      assert.ok(err <= 1e-4, `max abs err ${err}`);
      assert.ok(Math.max(...expected.data.map(Math.abs)) > 0.5, 'the reference output is not trivially small');
    } finally {
      await session.release();
    }
  });

  it('prompt encoder + mask decoder, two boxes at once, within 1e-4', async () => {
    const layout = detectSamLayout(header);
    const session = await createModelSession(encodeOnnxModel(buildSamMaskDecoderGraph(header, layout.decoder, 16, 64)), dir, { threads: 1 });
    try {
      const embedding = sampleInput([1, 32, 16, 16], 5);
      const boxes = [
        [4, 6.5, 40, 52],
        [0, 0, 63, 30],
      ];
      const out = await session.run({ image_embeddings: fromRef(embedding), boxes: fromRef({ shape: [2, 4], data: Float32Array.from(boxes.flat()) }) });
      assert.deepEqual(out.masks!.dims, [2, 4, 64, 64]);
      assert.deepEqual(out.iou!.dims, [2, 4]);
      boxes.forEach((box, n) => {
        const expected = referenceSamDecoder(weights, TINY_SAM, embedding, box);
        const masks = { dims: [4, 64, 64], data: out.masks!.data.subarray(n * 4 * 64 * 64, (n + 1) * 4 * 64 * 64) };
        const iou = { dims: [4], data: out.iou!.data.subarray(n * 4, (n + 1) * 4) };
        const maskErr = maxAbsDiff(masks, expected.masks);
        const iouErr = maxAbsDiff(iou, expected.iou);
        assert.ok(maskErr <= 1e-4 && iouErr <= 1e-4, `box ${n}: mask err ${maskErr}, iou err ${iouErr}`);
      });
    } finally {
      await session.release();
    }
  });
});
