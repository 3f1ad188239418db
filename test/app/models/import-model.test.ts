import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { InpaintModelError, InvalidSafetensorsError, PickleFormatError, UnsupportedCheckpointError, UpscalerLayoutError } from '../../../src/engine/index.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import { ModelExistsError, UnsupportedModelFileError } from '../../../src/app/models/model-errors.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { CLIP_BPE_VOCAB_NAME, KNOWN_TOKENIZER_ASSETS } from '../../../src/app/models/tokenizer-assets.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { writeTinyInpaintHead, writeTinyInpaintPatch } from '../../fixtures/inpaint-models.ts';
import { writeTinyRrdb } from '../../fixtures/upscalers.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-import-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (label: string) => mkdtempSync(path.join(root, `${label}-${counter++}-`));
const clipVocab = path.resolve(import.meta.dirname, '..', '..', '..', 'data', 'tokenizers', CLIP_BPE_VOCAB_NAME);

/** The store directory holds nothing but what was there before: no file, no temp, no manifest. */
function assertNothingWritten(models: string): void {
  assert.deepEqual(readdirSync(models), [], `store left untouched, found ${readdirSync(models).join(', ')}`);
}

/** A protocol-2 pickle prefix: what torch.save writes in the legacy format. */
const PICKLE_BYTES = Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61, 0x71, 0x01, 0x4b, 0x01, 0x73, 0x2e]);

describe('importModel', () => {
  it('refuses a .ckpt with the engine pickle explanation and writes nothing', async () => {
    const models = freshDir('models');
    const ckpt = path.join(freshDir('src'), 'model.ckpt');
    writeFileSync(ckpt, PICKLE_BYTES);
    const store = await openModelStore(models);
    await assert.rejects(importModel(store, ckpt, { kind: 'checkpoints' }), (err: Error) => {
      assert.ok(err instanceof PickleFormatError);
      assert.match(err.message, /can execute arbitrary code/);
      assert.match(err.message, /`npm run fooocus -- models convert <file>`/);
      return true;
    });
    assertNothingWritten(models);
  });

  it('refuses a pickle renamed to .safetensors by its content and writes nothing', async () => {
    const models = freshDir('models');
    const renamed = path.join(freshDir('src'), 'innocent.safetensors');
    writeFileSync(renamed, PICKLE_BYTES);
    const store = await openModelStore(models);
    await assert.rejects(importModel(store, renamed, { kind: 'checkpoints' }), (err: Error) => {
      assert.ok(err instanceof PickleFormatError);
      assert.match(err.message, /contains pickle or PyTorch zip data/);
      return true;
    });
    assertNothingWritten(models);
  });

  it('refuses other formats, invalid safetensors and unknown checkpoint layouts', async () => {
    const models = freshDir('models');
    const store = await openModelStore(models);
    const dir = freshDir('src');
    writeFileSync(path.join(dir, 'model.gguf'), 'GGUF');
    writeFileSync(path.join(dir, 'broken.safetensors'), 'not a header');
    await assert.rejects(importModel(store, path.join(dir, 'model.gguf'), { kind: 'loras' }), UnsupportedModelFileError);
    await assert.rejects(importModel(store, path.join(dir, 'broken.safetensors'), { kind: 'loras' }), InvalidSafetensorsError);
    const tiny = await writeTinyCheckpoint(dir, 'sd15');
    await assert.rejects(importModel(store, tiny, { kind: 'checkpoints', name: 'renamed.ckpt' }), PickleFormatError);
    await assert.rejects(importModel(store, tiny, { kind: 'checkpoints', name: 'x.onnx' }), UnsupportedModelFileError);
    assertNothingWritten(models);
    // A LoRA-shaped file (here: a VAE-only header) is a valid safetensors but no checkpoint family.
    const { writeSafetensors } = await import('../../../src/engine/index.ts');
    const vaeOnly = path.join(dir, 'vae-only.safetensors');
    await writeSafetensors(vaeOnly, [{ name: 'first_stage_model.decoder.conv_in.weight', dtype: 'F32', shape: [1], data: new Float32Array(1) }]);
    await assert.rejects(importModel(store, vaeOnly, { kind: 'checkpoints' }), UnsupportedCheckpointError);
    assertNothingWritten(models);
    const lora = await importModel(store, vaeOnly, { kind: 'loras' });
    assert.equal(lora.family, null);
  });

  it('refuses an upscaler whose tensors are no known upscaler layout, naming the file and what was expected; writes nothing', async () => {
    const models = freshDir('models');
    const store = await openModelStore(models);
    const checkpoint = await writeTinyCheckpoint(freshDir('src'), 'sd15');
    await assert.rejects(importModel(store, checkpoint, { kind: 'upscalers', name: 'x4.safetensors' }), (err: Error) => {
      assert.ok(err instanceof UpscalerLayoutError);
      assert.match(err.message, /^tiny-sd15-.*\.safetensors: not a supported upscaler \(RRDBNet\/ESRGAN or SRVGGNetCompact\): found none of "model\.0\.weight"/);
      return true;
    });
    assertNothingWritten(models);
    const good = await writeTinyRrdb(freshDir('src'), { dialect: 'fooocus' });
    assert.equal((await importModel(store, good.file, { kind: 'upscalers' })).kind, 'upscalers');
  });

  it('refuses an inpaint file that is neither the head nor a patch, and a patch made for SD 1.5, naming the file; writes nothing', async () => {
    const models = freshDir('models');
    const store = await openModelStore(models);
    const dir = freshDir('src');
    const checkpoint = await writeTinyCheckpoint(dir, 'sd15');
    await assert.rejects(importModel(store, checkpoint, { kind: 'inpaint' }), (err: Error) => err instanceof InpaintModelError && /not a Fooocus inpaint head or patch: expected one tensor "head" \[channels, 5, 3, 3\]/.test(err.message));
    const sd15Patch = await writeTinyInpaintPatch(path.join(dir, 'sd15'), checkpoint);
    await assert.rejects(importModel(store, sd15Patch, { kind: 'inpaint' }), (err: Error) => {
      assert.ok(err instanceof InpaintModelError);
      assert.match(err.message, /^tiny-inpaint-patch-tiny-sd15-.*\.safetensors: a patch for a UNet with attention at its first level .*is for SDXL base models/);
      return true;
    });
    assertNothingWritten(models);
    const sdxlPatch = await writeTinyInpaintPatch(path.join(dir, 'sdxl'), await writeTinyCheckpoint(dir, 'sdxl'));
    assert.equal((await importModel(store, sdxlPatch, { kind: 'inpaint', name: 'inpaint_v26.fooocus.safetensors' })).kind, 'inpaint');
    assert.equal((await importModel(store, await writeTinyInpaintHead(dir, 32), { kind: 'inpaint', name: 'fooocus_inpaint_head.safetensors' })).kind, 'inpaint');
  });

  it('refuses to replace a file already in the store', async () => {
    const models = freshDir('models');
    const store = await openModelStore(models);
    const tiny = await writeTinyCheckpoint(freshDir('src'), 'sdxl');
    await importModel(store, tiny, { kind: 'checkpoints', name: 'a.safetensors' });
    await assert.rejects(importModel(store, tiny, { kind: 'checkpoints', name: 'a.safetensors' }), ModelExistsError);
    assert.deepEqual(readdirSync(path.join(models, 'checkpoints')), ['a.safetensors'], 'no temp file left behind');
  });

  it('hard-links with link: true and records the file', async () => {
    const models = freshDir('models');
    const store = await openModelStore(models);
    const tiny = await writeTinyCheckpoint(freshDir('src'), 'sdxl-refiner');
    const imported = await importModel(store, tiny, { kind: 'checkpoints', link: true });
    assert.equal(statSync(imported.path).ino, statSync(tiny).ino);
    assert.equal(imported.family, 'sdxl-refiner');
    assert.equal(await store.resolve('checkpoints', path.basename(tiny)), imported.path);
  });

  it('imports an untracked file already in the store in place', async () => {
    const models = freshDir('models');
    const tiny = await writeTinyCheckpoint(path.join(models, 'checkpoints'), 'sd15');
    const store = await openModelStore(models);
    const imported = await importModel(store, tiny, { kind: 'checkpoints' });
    assert.equal(imported.path, path.join(store.dir, 'checkpoints', path.basename(tiny)));
    assert.equal(await store.resolve('checkpoints', path.basename(tiny)), imported.path);
  });
});

describe('importModel: tokenizers', () => {
  it('pins the real SHA-256 of the CLIP BPE vocabulary', async () => {
    const { createHash } = await import('node:crypto');
    const digest = createHash('sha256').update(readFileSync(clipVocab)).digest('hex');
    assert.equal(KNOWN_TOKENIZER_ASSETS[CLIP_BPE_VOCAB_NAME]!.sha256, digest);
    assert.equal(KNOWN_TOKENIZER_ASSETS[CLIP_BPE_VOCAB_NAME]!.size, statSync(clipVocab).size);
  });

  it('imports the known vocabulary and resolves it (an override of the shipped copy)', async () => {
    const models = freshDir('models');
    const store = await openModelStore(models);
    await importModel(store, clipVocab, { kind: 'tokenizers' });
    assert.equal(await store.resolve('tokenizers', CLIP_BPE_VOCAB_NAME), path.join(store.dir, 'tokenizers', CLIP_BPE_VOCAB_NAME));
  });

  it('refuses unknown names and a known name with other bytes, writing nothing', async () => {
    const models = freshDir('models');
    const store = await openModelStore(models);
    const dir = freshDir('src');
    await mkdir(dir, { recursive: true });
    const fake = path.join(dir, CLIP_BPE_VOCAB_NAME);
    writeFileSync(fake, 'not the merges');
    await assert.rejects(importModel(store, fake, { kind: 'tokenizers' }), /must be 924691ac/);
    const other = path.join(dir, 'vocab.txt.gz');
    await copyFile(clipVocab, other);
    await assert.rejects(importModel(store, other, { kind: 'tokenizers' }), /not a known tokenizer asset/);
    assertNothingWritten(models);
  });
});
