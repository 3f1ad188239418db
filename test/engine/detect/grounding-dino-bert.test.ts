import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { buildPhraseMasks, type PhraseDelimiters } from '../../../src/engine/detect/grounding-dino-text.ts';
import { buildBertText, countBertLayers } from '../../../src/engine/graphs/grounding-dino-bert.ts';
import { linear } from '../../../src/engine/graphs/layers.ts';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { bertTensors, linearTensors, readWeights, TINY_GROUNDING_DINO } from '../../fixtures/grounding-dino.ts';
import { groundingTextReference } from '../../reference/grounding-dino-text.ts';
import { maxAbsDiff, runSubgraph } from '../graphs/graph-harness.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gdino-bert-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('GroundingDINO text branch graph', () => {
  it('matches the token-by-token BERT reference under the phrase mask and restarting positions (1e-4)', async () => {
    const file = path.join(dir, 'bert.safetensors');
    const bert = TINY_GROUNDING_DINO.bert;
    await writeSafetensors(file, [...bertTensors('model.text_backbone.', bert, 4), ...linearTensors('model.text_projection.', 64, bert.width, 4)]);
    const header = await readSafetensorsHeader(file);
    // [CLS] a b . c d e . [SEP] with delimiters 1 ([CLS]), 2 ([SEP]), 3 (".")
    const delimiters: PhraseDelimiters = { cls: 1, sep: 2, all: new Set([1, 2, 3]) };
    const ids = [1, 10, 11, 3, 12, 13, 14, 3, 2];
    const { attention, positions } = buildPhraseMasks(ids, delimiters);
    const T = ids.length;
    const layers = countBertLayers((k) => header.tensors.has(k), 'model.text_backbone.');
    assert.equal(layers, 2);
    const actual = await runSubgraph(
      header,
      [
        { name: 'input_ids', value: { dims: [1, T], data: BigInt64Array.from(ids.map(BigInt)) } },
        { name: 'position_ids', value: { dims: [1, T], data: BigInt64Array.from(positions.map(BigInt)) } },
        { name: 'text_attention', value: { dims: [1, T, T], data: Float32Array.from(attention) } },
      ],
      (g, i, p, m) => linear(g, buildBertText(g, 'model.text_backbone.', i!, p!, m!, layers), 'model.text_projection.'),
    );
    const expected = groundingTextReference(await readWeights(file), 'model.text_backbone.', ids, positions, attention, layers, 2, 'model.text_projection.');
    const err = maxAbsDiff(actual, { shape: [1, T, 64], data: expected.data });
    assert.ok(err <= 1e-4, `max abs error ${err}`);
  });
});
