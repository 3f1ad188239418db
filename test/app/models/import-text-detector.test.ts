/**
 * The text detector's files enter the store only in their own layouts: the GroundingDINO vocabulary through the
 * strict WordPiece reader plus the entries its prompts need, a `detection` .safetensors only as GroundingDINO, a
 * `sam` file only as Segment Anything. A refused file leaves nothing behind and nothing recorded.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { importModel } from '../../../src/app/models/import-model.ts';
import { UnsupportedModelFileError } from '../../../src/app/models/model-errors.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { GroundingDinoLayoutError, SamLayoutError, VocabularyFormatError } from '../../../src/engine/index.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { TINY_GROUNDING_VOCABULARY, writeTinyGroundingDino } from '../../fixtures/grounding-dino.ts';
import { writeSamModel } from '../../fixtures/sam-models.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-import-text-detector-'));
after(() => rmSync(root, { recursive: true, force: true }));
const files = path.join(root, 'files');

describe('importing GroundingDINO and SAM files', () => {
  it('imports the tiny GroundingDINO, its vocabulary and SAM under the names Enhance looks for', async () => {
    const store = await openModelStore(path.join(root, 'good'));
    const dino = await writeTinyGroundingDino(files);
    await importModel(store, dino.model, { kind: 'detection' });
    await importModel(store, dino.vocabulary, { kind: 'detection' });
    await importModel(store, await writeSamModel(files, undefined, 'sam-vit-base.safetensors'), { kind: 'sam' });
    const names = (await store.list()).map((m) => `${m.kind}/${m.name}`).sort();
    assert.deepEqual(names, ['detection/grounding-dino-tiny-vocab.txt', 'detection/grounding-dino-tiny.safetensors', 'sam/sam-vit-base.safetensors']);
  });

  it('refuses a vocabulary the reader refuses, or one without the prompt delimiters, naming it, and records nothing', async () => {
    const store = await openModelStore(path.join(root, 'bad-vocab'));
    const duplicate = path.join(files, 'duplicate-vocab.txt');
    writeFileSync(duplicate, `${[...TINY_GROUNDING_VOCABULARY, 'face'].join('\n')}\n`);
    await assert.rejects(importModel(store, duplicate, { kind: 'detection' }), (err: unknown) => err instanceof VocabularyFormatError && /duplicate-vocab\.txt.*repeats the entry "face"/.test(err.message));
    const noQuestion = path.join(files, 'no-question-vocab.txt');
    writeFileSync(noQuestion, `${TINY_GROUNDING_VOCABULARY.filter((t) => t !== '?').join('\n')}\n`);
    await assert.rejects(importModel(store, noQuestion, { kind: 'detection' }), (err: unknown) => err instanceof UnsupportedModelFileError && /no-question-vocab\.txt: a GroundingDINO vocabulary needs .*; it lacks \?$/.test(err.message));
    assert.deepEqual(await store.list(), []);
    assert.equal(existsSync(path.join(root, 'bad-vocab', 'detection', 'no-question-vocab.txt')), false);
  });

  it('refuses a .safetensors of another family in detection or sam, naming the file', async () => {
    const store = await openModelStore(path.join(root, 'bad-layout'));
    const other = path.join(files, 'other.safetensors');
    await writeSafetensors(other, [{ name: 'stage1.rebnconvin.conv_s1.weight', dtype: 'F32', shape: [1], data: new Float32Array(1) }]);
    await assert.rejects(importModel(store, other, { kind: 'detection' }), (err: unknown) => err instanceof GroundingDinoLayoutError && /other\.safetensors/.test(err.message));
    await assert.rejects(importModel(store, other, { kind: 'sam' }), (err: unknown) => err instanceof SamLayoutError && /other\.safetensors/.test(err.message));
    const dino = await writeTinyGroundingDino(path.join(files, 'as-sam'));
    await assert.rejects(importModel(store, dino.model, { kind: 'sam' }), SamLayoutError);
    assert.deepEqual(await store.list(), []);
  });
});
