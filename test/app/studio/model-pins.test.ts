import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { CatalogEntry } from '../../../src/app/models/catalog.ts';
import { convertModel } from '../../../src/app/models/convert-model.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { pullModel } from '../../../src/app/models/pull-model.ts';
import { MissingPinnedModelError, pinRequestModels, verifyModelPins } from '../../../src/app/studio/model-pins.ts';
import { CONTROL_FILES } from '../../../src/app/generation/image-prompt-files.ts';
import type { ImageRequest } from '../../../src/app/generation/image-request.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import { inspectHeader, readSafetensorsHeader, writeSafetensors } from '../../../src/engine/index.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { generateTinyControlLora } from '../../fixtures/control-loras.ts';
import { writeTinyGroundingDino } from '../../fixtures/grounding-dino.ts';
import { writeSamModel } from '../../fixtures/sam-models.ts';
import { tinyImageRequest } from '../../fixtures/generation-requests.ts';
import { buildTinyUpscaler, writeTorchFile } from '../../fixtures/torch-files.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-pins-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (label: string) => mkdtempSync(path.join(root, `${label}-${counter++}-`));

describe('verifyModelPins with a converted catalog entry', () => {
  it('pulls a PyTorch entry pinned by its converted name, and the worker ends with the studio\'s SHA-256', async () => {
    const source = await writeTorchFile(freshDir('upstream'), 'fooocus_upscaler_s409985e5.bin', buildTinyUpscaler());
    const entry: CatalogEntry = {
      id: 'tiny-upscaler',
      kind: 'upscalers',
      family: 'esrgan',
      fileName: 'fooocus_upscaler_s409985e5.bin',
      convertTo: 'fooocus_upscaler_s409985e5.safetensors',
      size: statSync(source).size,
      sha256: createHash('sha256').update(readFileSync(source)).digest('hex'),
      urls: ['https://mirror.example/fooocus_upscaler_s409985e5.bin'],
      licence: 'test',
      hashSource: 'test fixture',
    };
    const studio = await openModelStore(freshDir('studio'));
    const converted = await convertModel(studio, source);
    const pins = [{ kind: 'upscalers', name: converted.name, sha256: converted.sha256 }];
    const worker = await openModelStore(freshDir('worker'));
    await assert.rejects(verifyModelPins(worker, pins), MissingPinnedModelError);
    const pull = { entries: [entry], fetch: (e: CatalogEntry) => pullModel(worker, e, { download: (request) => copyFile(source, request.destination) }).then(() => undefined) };
    await verifyModelPins(worker, pins, pull);
    assert.equal((await worker.list())[0]?.sha256, converted.sha256);
  });
});

describe('pinRequestModels with image prompts', () => {
  it('pins each image prompt type\'s files for the checkpoint\'s family, so a worker without them refuses the job', async () => {
    const studio = await openModelStore(freshDir('studio'));
    const files = freshDir('files');
    const checkpoint = await writeTinyCheckpoint(files, 'sdxl');
    const model = (await importModel(studio, checkpoint, { kind: 'checkpoints' })).name;
    const control = path.join(files, CONTROL_FILES.PyraCanny.name);
    await writeSafetensors(control, generateTinyControlLora(inspectHeader(await readSafetensorsHeader(checkpoint)).architecture.unet!));
    const controlSha = (await importModel(studio, control, { kind: 'controlnet' })).sha256;
    const request = { ...tinyImageRequest('x'), model, imagePrompts: [{ file: 'a.png', type: 'PyraCanny' as const, stopAt: 0.5, weight: 1 }, { file: 'b.png', type: 'FaceSwap' as const, stopAt: 0.9, weight: 0.75 }] };
    const pins = await pinRequestModels(studio, request as unknown as ImageRequest, async () => model);
    // Only files the studio has are pinned (the FaceSwap files are not installed here; submit would refuse them).
    assert.deepEqual(pins.map((p) => `${p.kind}/${p.name}`), [`checkpoints/${model}`, `controlnet/${CONTROL_FILES.PyraCanny.name}`]);
    assert.equal(pins[1]!.sha256, controlSha);
    const worker = await openModelStore(freshDir('worker'));
    await importModel(worker, checkpoint, { kind: 'checkpoints' });
    await assert.rejects(verifyModelPins(worker, pins), (err: unknown) => err instanceof MissingPinnedModelError && /controlnet\/control-lora-canny-rank128\.safetensors/.test(err.message));
  });
});

describe('pinRequestModels with Enhance', () => {
  it("pins a text tab's GroundingDINO, vocabulary and SAM files, so a worker without them refuses the job", async () => {
    const studio = await openModelStore(freshDir('studio'));
    const files = freshDir('files');
    const checkpoint = await writeTinyCheckpoint(files, 'sd15');
    const model = (await importModel(studio, checkpoint, { kind: 'checkpoints' })).name;
    const dino = await writeTinyGroundingDino(files);
    for (const file of [dino.model, dino.vocabulary]) await importModel(studio, file, { kind: 'detection' });
    await importModel(studio, await writeSamModel(files, undefined, 'sam-vit-base.safetensors'), { kind: 'sam' });
    const request = { ...tinyImageRequest('x'), model, enhance: { tabs: [{ detectionPrompt: 'face' }, { detectionPrompt: 'person', maskModel: 'u2net.onnx' }] } };
    const pins = await pinRequestModels(studio, request as unknown as ImageRequest, async () => model);
    // u2net.onnx is not installed here (submit would refuse it), so it is left to the worker to refuse.
    assert.deepEqual(pins.map((p) => `${p.kind}/${p.name}`), [`checkpoints/${model}`, 'detection/grounding-dino-tiny.safetensors', 'detection/grounding-dino-tiny-vocab.txt', 'sam/sam-vit-base.safetensors']);
    const worker = await openModelStore(freshDir('worker'));
    await importModel(worker, checkpoint, { kind: 'checkpoints' });
    await importModel(worker, dino.model, { kind: 'detection' });
    await assert.rejects(verifyModelPins(worker, pins), (err: unknown) => err instanceof MissingPinnedModelError && /detection\/grounding-dino-tiny-vocab\.txt/.test(err.message));
  });
});
