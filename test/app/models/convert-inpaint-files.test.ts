/**
 * Conversion feeds the inpaint engine: a tiny patch in Fooocus's layout (per UNet weight a tuple of uint8 codes and
 * 0-d min/max) for the tiny SDXL checkpoint, and a tiny head, are converted with their kind detected and then read
 * by the engine's inpaint readers against that checkpoint.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { convertModel } from '../../../src/app/models/convert-model.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { inspectHeader, readSafetensorsHeader } from '../../../src/engine/index.ts';
import { readInpaintHead, readInpaintPatch } from '../../../src/engine/inpaint/inpaint-models.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { writeTorchFile } from '../../fixtures/torch-files.ts';
import type { TestValue } from '../../fixtures/torch-save-writer.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-convert-inpaint-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('converted inpaint files are read by the inpaint engine', () => {
  it('a patch for two UNet weights of the tiny SDXL checkpoint, and a head, convert and load', async () => {
    const checkpoint = await readSafetensorsHeader(await writeTinyCheckpoint(path.join(root, 'ckpt'), 'sdxl'));
    const architecture = inspectHeader(checkpoint).architecture;
    const prefix = architecture.unet!.prefix;
    const targets = [...checkpoint.tensors.values()].filter((t) => t.name.startsWith(prefix) && t.name.endsWith('.weight')).slice(0, 2);
    const half = (bits: number): TestValue => ({ tensor: { dtype: 'F16', shape: [], bytes: Uint8Array.of(bits & 0xff, bits >> 8) } });
    const patch: TestValue = {
      dict: targets.map((t): [string, TestValue] => [
        `diffusion_model.${t.name.slice(prefix.length)}`,
        { tuple: [{ tensor: { dtype: 'U8', shape: t.shape, bytes: new Uint8Array(t.shape.reduce((a, b) => a * b, 1)).fill(255) } }, half(0xbc00), half(0x3c00)] },
      ]),
      ordered: false,
    };
    const store = await openModelStore(path.join(root, 'models'));
    const src = path.join(root, 'src');
    mkdirSync(src, { recursive: true });
    const convertedPatch = await convertModel(store, await writeTorchFile(src, 'inpaint_v26.fooocus.patch', patch));
    assert.equal(convertedPatch.role, 'inpaint-patch');
    const patches = await readInpaintPatch(convertedPatch.path, checkpoint, architecture);
    assert.deepEqual([...patches.keys()].sort(), targets.map((t) => t.name).sort());
    for (const p of patches.values()) assert.deepEqual([p.min, p.max], [-1, 1]);

    const channels = architecture.unet!.modelChannels;
    const head: TestValue = { dict: [['head', { tensor: { dtype: 'F32', shape: [channels, 5, 3, 3], bytes: new Uint8Array(channels * 45 * 4) } }]] };
    const convertedHead = await convertModel(store, await writeTorchFile(src, 'fooocus_inpaint_head.pth', head));
    assert.equal(convertedHead.role, 'inpaint-head');
    assert.equal((await readInpaintHead(convertedHead.path, channels)).weight.length, channels * 45);
  });
});
