import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { InpaintModelError, PickleFormatError, readSafetensorsHeader, TorchFileError, UpscalerLayoutError } from '../../../src/engine/index.ts';
import { convertModel, defaultConvertedName } from '../../../src/app/models/convert-model.ts';
import { ModelExistsError, UnsupportedModelFileError } from '../../../src/app/models/model-errors.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { readTrustManifest } from '../../../src/app/models/trust-manifest.ts';
import { buildTinyInpaintHead, buildTinyInpaintPatch, buildTinyUpscaler, writeTorchFile } from '../../fixtures/torch-files.ts';
import { PickleEmitter, writeTorchZip, type TestValue } from '../../fixtures/torch-save-writer.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-convert-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (label: string) => mkdtempSync(path.join(root, `${label}-${counter++}-`));
const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every file under `dir`, relative, so a test can assert nothing (not even a temp file) was left behind. */
function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

describe('convertModel', () => {
  it("converts Fooocus's upscaler layout into upscalers/, hashed and recorded as converted from the source's SHA-256", async () => {
    const models = freshDir('models');
    const source = await writeTorchFile(freshDir('src'), 'fooocus_upscaler_s409985e5.bin', buildTinyUpscaler());
    const store = await openModelStore(models);
    const converted = await convertModel(store, source, { now: () => new Date('2026-01-02T03:04:05Z') });
    assert.equal(converted.kind, 'upscalers');
    assert.equal(converted.role, 'upscaler');
    assert.equal(converted.name, 'fooocus_upscaler_s409985e5.safetensors');
    assert.equal(converted.sourceSha256, sha256Of(source));
    assert.equal(converted.sha256, sha256Of(converted.path));
    assert.deepEqual(listTree(models), ['.trust-cache.json', 'trust.json', 'upscalers/fooocus_upscaler_s409985e5.safetensors']);
    const entry = (await readTrustManifest(models)).models['upscalers/fooocus_upscaler_s409985e5.safetensors'];
    assert.deepEqual(entry, {
      kind: 'upscalers',
      size: converted.size,
      sha256: converted.sha256,
      source: 'local-import',
      verifiedAt: '2026-01-02T03:04:05.000Z',
      convertedFrom: { sha256: converted.sourceSha256, fileName: 'fooocus_upscaler_s409985e5.bin' },
    });
    assert.equal(await store.resolve('upscalers', converted.name), converted.path);
    const header = await readSafetensorsHeader(converted.path);
    assert.deepEqual([...header.tensors.keys()].sort(), (buildTinyUpscaler() as { dict: [string, unknown][] }).dict.map(([k]) => k).sort());
    assert.equal(header.metadata.converted_from_sha256, converted.sourceSha256);
    const [listed] = await store.list();
    assert.equal(listed!.convertedFrom, converted.sourceSha256);
  });

  it('detects the inpaint head and patch, and names the patch after its base name', async () => {
    const models = freshDir('models');
    const dir = freshDir('src');
    const store = await openModelStore(models);
    const head = await convertModel(store, await writeTorchFile(dir, 'fooocus_inpaint_head.pth', buildTinyInpaintHead()));
    assert.deepEqual([head.kind, head.role, head.name], ['inpaint', 'inpaint-head', 'fooocus_inpaint_head.safetensors']);
    const patch = await convertModel(store, await writeTorchFile(dir, 'inpaint_v26.fooocus.patch', buildTinyInpaintPatch()));
    assert.deepEqual([patch.kind, patch.role, patch.name], ['inpaint', 'inpaint-patch', 'inpaint_v26.fooocus.safetensors']);
    const header = await readSafetensorsHeader(patch.path);
    assert.equal(header.tensors.get('diffusion_model.input_blocks.0.0.weight.0')?.dtype, 'U8');
    assert.equal(header.tensors.get('diffusion_model.input_blocks.0.0.weight.2')?.dtype, 'F16');
  });

  it('refuses a pickle that names os.system, naming it, and writes nothing', async () => {
    const models = freshDir('models');
    const e = new PickleEmitter().header().global('os', 'system').str('touch /tmp/owned').op(0x85, 0x52);
    const source = path.join(freshDir('src'), 'evil.pth');
    writeFileSync(source, writeTorchZip(e.stop(), new Map()));
    const store = await openModelStore(models);
    await assert.rejects(convertModel(store, source), (err: Error) => {
      assert.ok(err instanceof TorchFileError);
      assert.match(err.message, /evil\.pth: the pickle names os\.system, which is not on the allowlist/);
      return true;
    });
    assert.deepEqual(listTree(models), []);
  });

  it('refuses an unknown layout without --kind, a --kind the tensors contradict, a non-zip file and an existing name', async () => {
    const models = freshDir('models');
    const dir = freshDir('src');
    const store = await openModelStore(models);
    const other = await writeTorchFile(dir, 'classifier.pth', { dict: [['fc.weight', { tensor: { dtype: 'F32', shape: [2], bytes: new Uint8Array(8) } }]] });
    await assert.rejects(convertModel(store, other), (err: Error) => err instanceof UnsupportedModelFileError && /kind of model is unknown.*--kind upscalers\|inpaint/.test(err.message));
    const head = await writeTorchFile(dir, 'head.pth', buildTinyInpaintHead());
    await assert.rejects(convertModel(store, head, { kind: 'upscalers' }), (err: Error) => err instanceof UnsupportedModelFileError && /inpaint-head \(kind inpaint\)/.test(err.message));
    const text = path.join(dir, 'notes.bin');
    writeFileSync(text, 'just some text, not a checkpoint');
    await assert.rejects(convertModel(store, text, { kind: 'upscalers' }), (err: Error) => err instanceof TorchFileError && err.rule === 'not-zip');
    await assert.rejects(convertModel(store, head, { name: 'head.ckpt' }), UnsupportedModelFileError);
    assert.deepEqual(listTree(models), []);
    const kept = await convertModel(store, await writeTorchFile(dir, 'x4.pth', buildTinyUpscaler()));
    await assert.rejects(convertModel(store, await writeTorchFile(dir, 'x4.bin', buildTinyUpscaler()), { name: 'x4.safetensors' }), ModelExistsError);
    assert.equal(existsSync(kept.path), true);
  });

  it('refuses, once written under its temp name, an explicit kind whose layout the tensors do not have, naming the file; nothing stays', async () => {
    const models = freshDir('models');
    const dir = freshDir('src');
    const store = await openModelStore(models);
    const other = await writeTorchFile(dir, 'classifier.pth', { dict: [['fc.weight', { tensor: { dtype: 'F32', shape: [2], bytes: new Uint8Array(8) } }]] });
    await assert.rejects(convertModel(store, other, { kind: 'upscalers' }), (err: Error) => err instanceof UpscalerLayoutError && /^classifier\.pth: not a supported upscaler .*found none of "model\.0\.weight"/.test(err.message));
    await assert.rejects(convertModel(store, other, { kind: 'inpaint' }), (err: Error) => err instanceof InpaintModelError && /^classifier\.pth: not a Fooocus inpaint head or patch: expected one tensor "head"/.test(err.message));
    assert.deepEqual(listTree(models).filter((f) => !f.endsWith('.trust-cache.json')), []);
  });

  it('refuses an inpaint patch made for SD 1.5 (cross-attention width 768), naming the file; nothing stays', async () => {
    const models = freshDir('models');
    const store = await openModelStore(models);
    const u8 = (shape: number[]): TestValue => ({ tensor: { dtype: 'U8', shape, bytes: new Uint8Array(shape.reduce((a, b) => a * b, 1)) } });
    const scalar: TestValue = { tensor: { dtype: 'F16', shape: [], bytes: new Uint8Array(2) } };
    const sd15Patch: TestValue = { dict: [['diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight', { tuple: [u8([320, 768]), scalar, scalar] }]] };
    const source = await writeTorchFile(freshDir('src'), 'sd15-inpaint.patch', sd15Patch);
    await assert.rejects(convertModel(store, source), (err: Error) => err instanceof InpaintModelError && /^sd15-inpaint\.patch: a patch for SD 1\.5 \(cross-attention width 768/.test(err.message));
    assert.deepEqual(listTree(models).filter((f) => !f.endsWith('.trust-cache.json')), []);
  });

  it('derives the default name by replacing the last extension', () => {
    assert.equal(defaultConvertedName('/x/RealESRGAN_x4plus.pth'), 'RealESRGAN_x4plus.safetensors');
    assert.equal(defaultConvertedName('inpaint_v26.fooocus.patch'), 'inpaint_v26.fooocus.safetensors');
    assert.equal(defaultConvertedName('plain'), 'plain.safetensors');
  });

  it('leaves the loader refusing the PyTorch file itself, pointing at models convert', async () => {
    const source = await writeTorchFile(freshDir('src'), 'fooocus_upscaler_s409985e5.bin', buildTinyUpscaler());
    await assert.rejects(readSafetensorsHeader(source), (err: Error) => err instanceof PickleFormatError && err.message.includes('npm run fooocus -- models convert <file>'));
  });
});
