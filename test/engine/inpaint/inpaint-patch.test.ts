import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readInpaintPatch } from '../../../src/engine/inpaint/inpaint-models.ts';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { inspectHeader } from '../../../src/engine/models/inspect.ts';
import { writeTinyInpaintPatch } from '../../fixtures/inpaint-models.ts';
import { loadModelFile, makeTempDir, writeTinyModel } from './inpaint-harness.ts';

describe('inpaint patch applied to the UNet weights', () => {
  const temp = makeTempDir('patch');
  after(() => temp.remove());

  it('adds (u8 / 255) * (max - min) + min to each patched weight: checked on the output bias, which reaches the output unchanged', async () => {
    const file = await writeTinyModel(temp.dir, 'sdxl');
    const header = await readSafetensorsHeader(file);
    const { architecture } = inspectHeader(header);
    const [min, max] = [-0.5, 0.3];
    const patchFile = await writeTinyInpaintPatch(path.join(temp.dir, 'inpaint'), file, { only: 'out.2.bias', range: [min, max] });
    const patches = await readInpaintPatch(patchFile, header, architecture);
    assert.deepEqual([...patches.keys()], ['model.diffusion_model.out.2.bias']);
    const patchHeader = await readSafetensorsHeader(patchFile);
    const info = patchHeader.tensors.get('diffusion_model.out.2.bias.0')!;
    const codes = (await readFile(patchFile)).subarray(patchHeader.dataOffset + info.begin, patchHeader.dataOffset + info.end);
    assert.equal(codes.length, 4);

    const plain = await loadModelFile(file, 'plain');
    const patched = await loadModelFile(file, 'patched', { unet: { weightPatches: patches } });
    try {
      const [h, w] = [4, 4];
      const feeds = {
        x: { dims: [1, 4, h, w], data: Float32Array.from({ length: 4 * h * w }, (_, i) => Math.sin(i)) },
        timesteps: { dims: [1], data: Float32Array.of(500) },
        context: { dims: [1, 3, architecture.unet!.contextDim], data: Float32Array.from({ length: 3 * architecture.unet!.contextDim }, (_, i) => Math.cos(i) * 0.1) },
        y: { dims: [1, architecture.unet!.admInChannels!], data: new Float32Array(architecture.unet!.admInChannels!).fill(0.1) },
      };
      const a = (await plain.model.unet.run(feeds)).out!.data;
      const b = (await patched.model.unet.run(feeds)).out!.data;
      for (let c = 0; c < 4; c++) {
        const delta = (codes[c]! / 255) * (max - min) + min;
        for (let p = 0; p < h * w; p++) assert.ok(Math.abs(b[c * h * w + p]! - a[c * h * w + p]! - delta) < 1e-5, `channel ${c}: ${b[c * h * w + p]! - a[c * h * w + p]!} vs ${delta}`);
      }
    } finally {
      await plain.release();
      await patched.release();
    }
  });
});
