import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { deformableAttention, flattenLevels, readLevelGeometry } from '../../../src/engine/graphs/grounding-dino-deformable.ts';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { deformableAttentionTensors, readWeights } from '../../fixtures/grounding-dino.ts';
import { deformableAttentionReference } from '../../reference/deformable-attention.ts';
import { concat, imageToTokens } from '../../reference/ops.ts';
import { fromRef, maxAbsDiff, runSubgraph, sampleInput } from '../graphs/graph-harness.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'deformable-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const WIDTH = 16;
const HEADS = 2;
const POINTS = 3;
const LEVELS: [number, number][] = [[5, 7], [3, 4], [2, 2], [1, 1]];
const QUERIES = 6;

/** Reference points spread a little past the map's edges, so some samples fall outside and read zeros. */
function referencePoints(coords: 2 | 4): { shape: number[]; data: Float32Array } {
  const base = sampleInput([1, QUERIES, LEVELS.length, coords], 5);
  const data = base.data.map((v, i) => (coords === 4 && i % 4 >= 2 ? 0.2 + 0.3 * Math.abs(v) : 0.5 + 0.65 * v));
  return { shape: base.shape, data };
}

describe('multi-scale deformable attention graph', () => {
  for (const coords of [2, 4] as const) {
    it(`matches the point-by-point reference with ${coords}-coordinate reference points`, async () => {
      const file = path.join(dir, `attn${coords}.safetensors`);
      await writeSafetensors(file, deformableAttentionTensors('attn.', WIDTH, HEADS, LEVELS.length, POINTS, 3));
      const header = await readSafetensorsHeader(file);
      const maps = LEVELS.map(([h, w], l) => sampleInput([1, WIDTH, h, w], 10 + l));
      const query = sampleInput([1, QUERIES, WIDTH], 2);
      const reference = referencePoints(coords);
      const inputs = [
        { name: 'query', value: fromRef(query) },
        { name: 'reference', value: fromRef(reference) },
        ...maps.map((m, l) => ({ name: `level${l}`, value: fromRef(m) })),
      ];
      const actual = await runSubgraph(header, inputs, (g, q, ref, ...levelMaps) => {
        const geometry = readLevelGeometry(g, levelMaps);
        return deformableAttention(g, 'attn.', q!, flattenLevels(g, levelMaps), ref!, coords, geometry, { heads: HEADS, levels: LEVELS.length, points: POINTS });
      });
      const value = concat(maps.map((m) => imageToTokens(m)), 1);
      const expected = deformableAttentionReference(await readWeights(file), 'attn.', query, value, reference, LEVELS, HEADS, POINTS);
      const err = maxAbsDiff(actual, expected);
      assert.ok(err <= 1e-4, `max abs error ${err}`);
    });
  }
});

