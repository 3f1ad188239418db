import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importModel } from '../../../src/app/models/import-model.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { InferenceWorker } from '../../../src/app/worker/inference-worker.ts';
import type { ImageRequest } from '../../../src/app/generation/image-request.ts';
import { decodePng } from '../../../src/engine/index.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { tinyImageRequest } from '../../fixtures/generation-requests.ts';
import { writeTinyRrdb } from '../../fixtures/upscalers.ts';

describe('Upscale and Vary in the studio\'s restricted inference process', () => {
  let dir: string;
  let worker: InferenceWorker;
  let model: string;
  let upscaler: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-worker-upscale-'));
    for (const d of ['models', 'outputs', 'cache']) mkdirSync(path.join(dir, d), { mode: 0o755 });
    const store = await openModelStore(path.join(dir, 'models'));
    model = (await importModel(store, await writeTinyCheckpoint(dir, 'sd15'), { kind: 'checkpoints' })).name;
    const tiny = await writeTinyRrdb(dir, { dialect: 'esrgan', blocks: 1, upsamples: 2 }, 'tiny-x4.safetensors');
    upscaler = (await importModel(store, tiny.file, { kind: 'upscalers' })).name;
    worker = new InferenceWorker({ modelsDir: path.join(dir, 'models'), outputsDir: path.join(dir, 'outputs'), cacheDir: path.join(dir, 'cache'), threads: 1, executionProvider: 'cpu', software: 'Fooocus-TS test' });
  });
  after(async () => {
    await worker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const input = { width: 64, height: 48, rgb: new Uint8Array(64 * 48 * 3).map((_, i) => (i * 7) % 256) };

  it('Upscale (Fast 2x): the upscaler runs in the worker and its image is saved at the prepared size', async () => {
    // As prepareImageRequest makes it for a 64x48 input on SD 1.5: under the native ceil, so resized to 576x448.
    const request: ImageRequest = {
      ...tinyImageRequest(),
      model,
      width: 576,
      height: 448,
      input: { file: 'upload.png', denoise: 0.382 },
      varyUpscale: { mode: 'upscale-fast-2x', upscaler },
    };
    const phases = new Set<string>();
    const built: string[] = [];
    const [saved] = await worker.generate(request, 0, { input, onProgress: (p) => {
      phases.add(p.phase);
      if (p.phase === 'load') built.push(p.component);
    } });
    assert.ok(phases.has('upscale') && !phases.has('sample'), [...phases].join(', '));
    assert.deepEqual(built, ['upscaler'], 'an upscaler-only upscale builds no part of the checkpoint');
    const image = decodePng(new Uint8Array(readFileSync(saved!.path)));
    assert.deepEqual([image.width, image.height], [576, 448]);
  });

  it('Vary (Strong): image-to-image on the resized input', async () => {
    const request: ImageRequest = { ...tinyImageRequest(), model, steps: 2, width: 576, height: 448, input: { file: 'upload.png', denoise: 0.85 }, varyUpscale: { mode: 'vary-strong' } };
    const phases = new Set<string>();
    const [saved] = await worker.generate(request, 0, { input, onProgress: (p) => phases.add(p.phase) });
    assert.ok(phases.has('sample') && !phases.has('upscale'), [...phases].join(', '));
    const image = decodePng(new Uint8Array(readFileSync(saved!.path)));
    assert.deepEqual([image.width, image.height], [576, 448]);
  });
});
