import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveClipVocabulary, SHIPPED_TOKENIZERS_DIR } from '../../../src/app/models/clip-vocabulary.ts';
import { CLIP_BPE_VOCAB_SIZE, createTokenizerLoader } from '../../../src/app/generation/tokenizer-selection.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import { ModelChangedError, UnsupportedModelFileError } from '../../../src/app/models/model-errors.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { CLIP_BPE_VOCAB_NAME, KNOWN_TOKENIZER_ASSETS } from '../../../src/app/models/tokenizer-assets.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-clip-vocab-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (label: string): string => mkdtempSync(path.join(root, `${label}-${counter++}-`));
const shipped = path.join(SHIPPED_TOKENIZERS_DIR, CLIP_BPE_VOCAB_NAME);

describe('the shipped CLIP vocabulary', () => {
  it('is in the repository with its licence, and its bytes are the pinned ones', () => {
    const pin = KNOWN_TOKENIZER_ASSETS[CLIP_BPE_VOCAB_NAME]!;
    assert.equal(createHash('sha256').update(readFileSync(shipped)).digest('hex'), pin.sha256);
    assert.equal(statSync(shipped).size, pin.size);
    assert.match(readFileSync(path.join(SHIPPED_TOKENIZERS_DIR, 'LICENSE'), 'utf8'), /MIT License[\s\S]*Copyright \(c\) 2021 OpenAI/);
    assert.ok(readFileSync(path.join(SHIPPED_TOKENIZERS_DIR, 'README.md'), 'utf8').includes(pin.sha256), 'the notice records the pinned digest');
  });

  it('is what a store without an imported vocabulary uses, with no import step', async () => {
    const store = await openModelStore(freshDir('models'));
    assert.equal(await resolveClipVocabulary(store), shipped);
    const tokenizer = await createTokenizerLoader(store)(CLIP_BPE_VOCAB_SIZE);
    assert.equal(tokenizer.vocabSize, CLIP_BPE_VOCAB_SIZE);
    assert.deepEqual(tokenizer.encode('a photo of a cat'), [320, 1125, 539, 320, 2368]);
  });

  it('is refused when its bytes differ from the pin, before it is parsed', async () => {
    const store = await openModelStore(freshDir('models'));
    const changed = freshDir('shipped');
    const bytes = readFileSync(shipped);
    bytes[bytes.length - 1]! ^= 1;
    await writeFile(path.join(changed, CLIP_BPE_VOCAB_NAME), bytes);
    await assert.rejects(resolveClipVocabulary(store, { shippedDir: changed }), (err: Error) => {
      assert.ok(err instanceof UnsupportedModelFileError);
      assert.match(err.message, /SHA-256 is [0-9a-f]{64}, expected 924691ac.*shipped with the application was changed/);
      return true;
    });
    await writeFile(path.join(changed, CLIP_BPE_VOCAB_NAME), 'short');
    await assert.rejects(createTokenizerLoader(store, { shippedDir: changed })(CLIP_BPE_VOCAB_SIZE), /size is 5 bytes, expected 1356917/);
  });
});

describe('an imported CLIP vocabulary', () => {
  it('overrides the shipped copy, and a changed imported copy is refused rather than replaced', async () => {
    const models = freshDir('models');
    const store = await openModelStore(models);
    const source = path.join(freshDir('src'), CLIP_BPE_VOCAB_NAME);
    await copyFile(shipped, source);
    await importModel(store, source, { kind: 'tokenizers' });
    const imported = path.join(store.dir, 'tokenizers', CLIP_BPE_VOCAB_NAME);
    assert.equal(await resolveClipVocabulary(store), imported);
    const bytes = readFileSync(imported);
    bytes[100]! ^= 1;
    await writeFile(imported, bytes);
    await assert.rejects(resolveClipVocabulary(store), ModelChangedError);
  });
});
