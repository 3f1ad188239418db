import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadWd14Tagger, type RgbImage } from '../../../src/engine/index.ts';
import { countGraphFlops } from '../../../src/engine/onnx/flop-count.ts';
import { GraphBuilder } from '../../../src/engine/onnx/graph-builder.ts';
import { checkOnnxFile } from '../../../src/engine/onnx/onnx-model-check.ts';
import { STANDARD_OPERATORS } from '../../../src/engine/onnx/onnx-standard-ops.ts';
import { buildMoatTagger, TINY_MOAT_TAGGER, writeMoatTagger } from '../../fixtures/moat-tagger.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'moat-tagger-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function gradientImage(width: number, height: number, phase: number): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgb.set([(x * 3 + phase) & 255, (y * 5) & 255, ((x ^ y) + phase * 2) & 255], (y * width + x) * 3);
  return { width, height, rgb };
}

describe('generated MOAT tagger (reduced width and depth)', () => {
  it('passes the ONNX checker and the tagger checks, and scores every tag in [0, 1] from the image', async () => {
    const files = { model: path.join(dir, 'moat.onnx'), tags: path.join(dir, 'moat.csv') };
    await writeMoatTagger(files, TINY_MOAT_TAGGER);
    const { model } = checkOnnxFile(files.model);
    for (const op of model.operators) assert.ok(STANDARD_OPERATORS.has(op), op);
    assert.ok(model.operators.has('Softmax') && model.operators.has('AveragePool') && model.operators.has('LayerNormalization'), [...model.operators].join());
    // Every tag kept, so each general and character score is seen (the four ratings are dropped by design).
    const tagger = await loadWd14Tagger(files, { thresholds: { general: -1, character: -1 } });
    try {
      const scores: number[][] = [];
      for (const phase of [0, 90]) {
        const { tags } = await tagger.describe(gradientImage(160, 120, phase));
        assert.equal(tags!.length, TINY_MOAT_TAGGER.tags - 4);
        for (const t of tags!) assert.ok(Number.isFinite(t.score) && t.score >= 0 && t.score <= 1, `${t.name}: ${t.score}`);
        scores.push(tags!.map((t) => t.score));
      }
      // The scores come from the picture: two pictures, two different score vectors.
      assert.ok(scores[0]!.some((s, i) => Math.abs(s - scores[1]![i]!) > 1e-6));
    } finally {
      await tagger.release();
    }
  });

  it('has the published stage layout: the counter follows it to [1, tags] and its window attention splits 28x28 into four', () => {
    const { model, parameters } = buildMoatTagger(TINY_MOAT_TAGGER);
    const count = countGraphFlops(model, { 'input_1:0': [1, 448, 448, 3] });
    assert.deepEqual(count.outputs, { predictions_sigmoid: [1, TINY_MOAT_TAGGER.tags] });
    assert.ok(count.conv > 0 && count.gemm > 0);
    const stored = model.graph.initializers.filter((t) => t.name.includes('/')).reduce((n, t) => n + t.dims.reduce((a, b) => a * b, 1), 0);
    assert.equal(parameters, stored);
    // Stage 2 (32 channels, 28x28) splits into 2 x 2 windows of 14 x 14 tokens; stage 3 (64, 14x14) is one window.
    const shapes = model.graph.initializers
      .filter((t) => t.dtype === 'int64' && t.data.kind === 'raw')
      .map((t) => (t.data.kind === 'raw' ? [...new BigInt64Array(t.data.bytes.slice().buffer)].join(',') : ''));
    for (const shape of ['-1,2,14,2,14,32', '-1,196,32', '-1,1,14,1,14,64', '-1,196,64']) assert.ok(shapes.includes(shape), shape);
    const names = new Set(model.graph.initializers.map((t) => t.name));
    for (const name of ['stage2_block1_attention/q/kernel', 'stage3_block0_attention/o/kernel', 'stage0_block0_mb_se_dense_01/kernel', 'predictions_dense/kernel']) assert.ok(names.has(name), name);
    assert.ok(!names.has('stage2_block0_mb_se_dense_01/kernel'), 'MOAT blocks have no squeeze-excitation');
  });

  it('refuses a window that does not divide its stage', () => {
    assert.throws(() => buildMoatTagger({ ...TINY_MOAT_TAGGER, windowSide: 12 }), /28x28 map does not divide into 12x12 windows/);
  });
});

describe('GraphBuilder.embeddedFloat', () => {
  it('refuses a second initializer of the same name and values that do not fill the shape', () => {
    const g = new GraphBuilder('t', null);
    g.embeddedFloat('w', [2, 3], new Float32Array(6));
    assert.throws(() => g.embeddedFloat('w', [6], new Float32Array(6)), /"w" is declared twice/);
    assert.throws(() => g.embeddedFloat('v', [2, 3], new Float32Array(5)), /needs 6 values, got 5/);
  });
});
