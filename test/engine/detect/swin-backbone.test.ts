import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { buildSwinBackbone, detectSwinConfig, shiftedWindowMask, SwinInputSizeError } from '../../../src/engine/graphs/swin-backbone.ts';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { GraphBuilder } from '../../../src/engine/onnx/graph-builder.ts';
import { encodeOnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import { readWeights, swinTensors, TINY_SWIN } from '../../fixtures/grounding-dino.ts';
import { swinReference } from '../../reference/swin.ts';
import { fromRef, maxAbsDiff, sampleInput } from '../graphs/graph-harness.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'swin-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const PREFIX = 'model.backbone.conv_encoder.model.';

describe('Swin backbone graph', () => {
  it('reads its sizes from the tensors', async () => {
    const file = path.join(dir, 'swin-sizes.safetensors');
    await writeSafetensors(file, swinTensors(PREFIX, TINY_SWIN, 1));
    const header = await readSafetensorsHeader(file);
    const cfg = detectSwinConfig((k) => header.tensors.get(k)?.shape ?? null, PREFIX);
    assert.deepEqual(cfg, { prefix: PREFIX, patch: 4, embedDim: 8, depths: [2, 2, 2, 2], heads: [2, 2, 4, 4], window: 3, outStages: [2, 3, 4] });
    assert.equal(detectSwinConfig((k) => header.tensors.get(k)?.shape ?? null, 'vision_model.'), null);
  });

  it('masks only token pairs the shift brought together from different regions', () => {
    // One 3x3 padded map with window 3, shift 1: rows/columns 0-1 are region 0, row/column 2 region 2.
    const mask = shiftedWindowMask(3, 3, 3, 1);
    assert.equal(mask[0 * 9 + 1], 0); // (0,0) and (0,1): same region
    assert.equal(mask[0 * 9 + 2], -100); // (0,0) and (0,2): column regions differ
    assert.equal(mask[8 * 9 + 8], 0);
  });

  it('matches the window-by-window reference on a tiny Swin, padding and shifts included (1e-4)', async () => {
    const file = path.join(dir, 'swin.safetensors');
    await writeSafetensors(file, swinTensors(PREFIX, TINY_SWIN, 2));
    const header = await readSafetensorsHeader(file);
    const cfg = detectSwinConfig((k) => header.tensors.get(k)?.shape ?? null, PREFIX)!;
    // 100x76: patch grids 25x19 -> 13x10 -> 7x5 -> 4x3 (odd sizes padded for windows and merging; the last one window wide).
    const [height, width] = [100, 76];
    const g = new GraphBuilder('swin', header);
    const pixels = g.input('pixels', 'float32', [1, 3, height, width]);
    buildSwinBackbone(g, pixels, cfg, height, width).forEach((map, i) => g.output(map, `stage${i}`, 'float32', []));
    const session = await createModelSession(encodeOnnxModel(g.build()), dir, { threads: 2 });
    const input = sampleInput([1, 3, height, width], 3);
    const out = await session.run({ pixels: fromRef(input) });
    await session.release();
    const expected = swinReference(await readWeights(file), { ...cfg, outStages: [2, 3, 4] }, input);
    expected.forEach((ref, i) => {
      const err = maxAbsDiff(out[`stage${i}`]!, ref);
      assert.ok(err <= 1e-4, `stage ${i + 2}: max abs error ${err}`);
    });
  });

  it('refuses an input whose last stage is narrower than a window', async () => {
    const file = path.join(dir, 'swin-narrow.safetensors');
    await writeSafetensors(file, swinTensors(PREFIX, TINY_SWIN, 1));
    const header = await readSafetensorsHeader(file);
    const cfg = detectSwinConfig((k) => header.tensors.get(k)?.shape ?? null, PREFIX)!;
    const g = new GraphBuilder('swin', header);
    assert.throws(() => buildSwinBackbone(g, g.input('pixels', 'float32', [1, 3, 200, 40]), cfg, 200, 40), SwinInputSizeError);
  });
});
