/**
 * The held text detector: built once per set of files (by SHA-256), rebuilt when one changes, and a vocabulary
 * longer than the checkpoint's embedding table refused naming it before any graph is built.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { TextDetectorSlot } from '../../../src/app/enhance/text-detector-slot.ts';
import { FooocusError } from '../../../src/engine/index.ts';
import { TINY_GROUNDING_VOCABULARY, writeTinyGroundingDino } from '../../fixtures/grounding-dino.ts';
import { writeSamModel } from '../../fixtures/sam-models.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-text-slot-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('TextDetectorSlot', () => {
  it('holds the detector for the same files, rebuilds it for others, and releases it', async () => {
    const dino = await writeTinyGroundingDino(root);
    const sam = await writeSamModel(root);
    const files = { detector: { path: dino.model, sha256: 'a' }, vocabulary: { path: dino.vocabulary, sha256: 'b' }, segmenter: { path: sam, sha256: 'c' } };
    const slot = new TextDetectorSlot({ threads: 1 });
    let loads = 0;
    const first = await slot.acquire(files, () => loads++);
    assert.equal(await slot.acquire(files, () => loads++), first);
    const other = await slot.acquire({ ...files, segmenter: { path: sam, sha256: 'd' } }, () => loads++);
    assert.notEqual(other, first);
    assert.equal(loads, 2);
    await slot.release();
    assert.notEqual(await slot.acquire(files, () => loads++), other);
    assert.equal(loads, 3);
    await slot.release();
  });

  it('refuses a vocabulary with more entries than the checkpoint embeds, naming it', async () => {
    const dino = await writeTinyGroundingDino(path.join(root, 'long'));
    const long = path.join(root, 'long', 'long-vocab.txt');
    writeFileSync(long, `${[...TINY_GROUNDING_VOCABULARY, 'extra'].join('\n')}\n`);
    const slot = new TextDetectorSlot({ threads: 1 });
    await assert.rejects(
      slot.acquire({ detector: { path: dino.model, sha256: 'a' }, vocabulary: { path: long, sha256: 'b' }, segmenter: { path: await writeSamModel(root), sha256: 'c' } }),
      (err: unknown) => err instanceof FooocusError && err.file === long && /grounding-dino-tiny-vocab\.txt has 12 entries, but grounding-dino-tiny\.safetensors embeds only 11 tokens/.test(err.message),
    );
  });
});
