import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { buildGroundingDinoGraph } from '../../../src/engine/detect/grounding-dino-graph.ts';
import { detectGroundingDinoLayout, GroundingDinoLayoutError } from '../../../src/engine/detect/grounding-dino-layout.ts';
import { buildPhraseMasks } from '../../../src/engine/detect/grounding-dino-text.ts';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import type { SafetensorsHeader, TensorInfo } from '../../../src/engine/io/safetensors-types.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { encodeOnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import { GROUNDING_DINO_TINY, groundingDinoTensors, readWeights, TINY_GROUNDING_DINO } from '../../fixtures/grounding-dino.ts';
import { groundingDinoReference } from '../../reference/grounding-dino.ts';
import { fromRef, maxAbsDiff, sampleInput } from '../graphs/graph-harness.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gdino-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A header with the given tensors' shapes and no data: a full-size file's layout without its 700 MB. */
function headerOnly(file: string, dims = GROUNDING_DINO_TINY): SafetensorsHeader {
  const tensors = new Map<string, TensorInfo>();
  let at = 0;
  for (const t of groundingDinoTensors({ ...dims, bert: { ...dims.bert, vocab: 4 } }, 1)) {
    const shape = t.name.endsWith('word_embeddings.weight') ? [dims.bert.vocab, dims.bert.width] : t.shape;
    const bytes = shape.reduce((a, b) => a * b, 1) * (t.dtype === 'I64' ? 8 : 4);
    tensors.set(t.name, { name: t.name, dtype: t.dtype, shape, begin: at, end: at + bytes });
    at += bytes;
  }
  return { file, fileSize: 8 + at, dataOffset: 8, metadata: {}, tensors };
}

describe('GroundingDINO graph', () => {
  it("reads grounding-dino-tiny's sizes from its key layout and builds the full graph from it", () => {
    const header = headerOnly('/models/detection/grounding-dino-tiny.safetensors');
    const layout = detectGroundingDinoLayout(header);
    assert.deepEqual(layout.swin.depths, [2, 2, 6, 2]);
    assert.deepEqual(layout.swin.heads, [3, 6, 12, 24]);
    assert.equal(layout.swin.window, 7);
    assert.deepEqual(layout.transformer, { width: 256, heads: 8, levels: 4, points: 4, encoderLayers: 6, decoderLayers: 6 });
    assert.equal(layout.bertLayers, 12);
    assert.equal(layout.queries, 900);
    const model = buildGroundingDinoGraph(header, layout, 800, 1200);
    const used = new Set(model.graph.initializers.map((t) => t.name.replace(/#rows.*$/, '')));
    const unused = [...header.tensors.keys()].filter((k) => !used.has(k) && !k.endsWith('relative_position_index'));
    assert.deepEqual(unused, []);
  });

  it('refuses a checkpoint of another family, naming the file and the keys it lacks', async () => {
    const file = path.join(dir, 'sam_vit_b.safetensors');
    await writeSafetensors(file, [{ name: 'image_encoder.patch_embed.proj.weight', dtype: 'F32', shape: [1], data: new Float32Array(1) }]);
    const header = await readSafetensorsHeader(file);
    assert.throws(() => detectGroundingDinoLayout(header), (err: unknown) => err instanceof GroundingDinoLayoutError && /sam_vit_b\.safetensors is not a GroundingDINO/.test(err.message) && /model\.text_projection\.weight/.test(err.message));
  });

  it('matches the plain-TS reference end to end on tiny weights: logits and boxes (1e-4)', async () => {
    const file = path.join(dir, 'tiny.safetensors');
    await writeSafetensors(file, groundingDinoTensors(TINY_GROUNDING_DINO, 5));
    const header = await readSafetensorsHeader(file);
    const layout = detectGroundingDinoLayout(header);
    const [height, width] = [100, 76];
    const session = await createModelSession(encodeOnnxModel(buildGroundingDinoGraph(header, layout, height, width)), dir, { threads: 2 });
    const ids = [1, 10, 11, 3, 12, 3, 2]; // [CLS] a b . c . [SEP]
    const { attention, positions } = buildPhraseMasks(ids, { cls: 1, sep: 2, all: new Set([1, 2, 3]) });
    const pixels = sampleInput([1, 3, height, width], 9);
    const T = ids.length;
    const out = await session.run({
      pixel_values: fromRef(pixels),
      input_ids: { dims: [1, T], data: BigInt64Array.from(ids.map(BigInt)) },
      position_ids: { dims: [1, T], data: BigInt64Array.from(positions.map(BigInt)) },
      text_attention: { dims: [1, T, T], data: Float32Array.from(attention) },
    });
    await session.release();
    const cfg = {
      swin: { ...layout.swin },
      ...layout.transformer,
      bertLayers: layout.bertLayers,
      bertHeads: 2,
      queries: layout.queries,
    };
    const expected = groundingDinoReference(await readWeights(file), cfg, pixels, ids, positions, attention);
    const logitErr = maxAbsDiff(out.logits!, expected.logits);
    const boxErr = maxAbsDiff(out.boxes!, expected.boxes);
    assert.ok(logitErr <= 1e-4, `logits: max abs error ${logitErr}`);
    assert.ok(boxErr <= 1e-4, `boxes: max abs error ${boxErr}`);
  });
});
