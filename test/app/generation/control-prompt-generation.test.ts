/**
 * PyraCanny through the app on a tiny SDXL checkpoint: the request is checked at submit (the control-LoRA must be
 * installed, and the model SDXL), then the job verifies the file, computes the hint from the uploaded image and
 * runs the ControlNet. Weight 0 gives the plain image bit for bit; an active control changes it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadCreativeData, type CreativeData } from '../../../src/app/creative/creative-data.ts';
import { createImageGenerator, prepareImageRequest, type ImageRequestDraft } from '../../../src/app/generation/generate-images.ts';
import { GenerationService } from '../../../src/app/generation/generation-service.ts';
import { ControlRunner } from '../../../src/app/generation/control-runner.ts';
import { GuidedUnetCache } from '../../../src/app/generation/guided-unet-cache.ts';
import { checkImagePromptFiles, CONTROL_FILES } from '../../../src/app/generation/image-prompt-files.ts';
import { ImageRequestError } from '../../../src/app/generation/image-request.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import { openModelStore, type ModelListing, type ModelStore } from '../../../src/app/models/model-store.ts';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { inspectHeader } from '../../../src/engine/models/inspect.ts';
import { parseGenerationMetadata } from '../../../src/engine/output/generation-metadata.ts';
import { decodePng, encodePng } from '../../../src/engine/output/png.ts';
import { readPngTextChunks } from '../../../src/engine/output/png-text.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { generateTinyControlLora } from '../../fixtures/control-loras.ts';
import { controlTestImage } from '../../fixtures/control-maps/control-test-image.ts';
import { tinyImageRequest } from '../../fixtures/generation-requests.ts';

const listed = (kind: ModelListing['kind'], name: string): ModelListing => ({ kind, name, size: 1, sha256: '0'.repeat(64), source: 'local-import', verifiedAt: '', family: null, convertedFrom: null });

function refusal(field: string, ...parts: string[]): (err: unknown) => boolean {
  return (err) => err instanceof ImageRequestError && err.field === field && parts.every((p) => err.message.includes(p));
}

describe('PyraCanny and CPDS files at submit', () => {
  const canny = CONTROL_FILES.PyraCanny;
  const prompts = [{ file: 'a.png', type: 'ImagePrompt' as const, stopAt: 0.5, weight: 0 }, { file: 'b.png', type: 'PyraCanny' as const, stopAt: 0.5, weight: 1 }];

  it('refuses a missing control-LoRA naming the field, the file and the import command', () => {
    const ipFiles = ['clip_vision_vit_h.safetensors', 'ip-adapter-plus_sdxl_vit-h.safetensors', 'fooocus_ip_negative.safetensors'].map((n) => listed(n.startsWith('clip') ? 'clip_vision' : 'controlnet', n));
    assert.throws(() => checkImagePromptFiles(prompts, 'sdxl', ipFiles), refusal('imagePrompts[1].type', 'controlnet/control-lora-canny-rank128.safetensors', 'models import <file> --kind controlnet'));
    assert.throws(() => checkImagePromptFiles([{ file: 'c.png', type: 'CPDS', stopAt: 0.5, weight: 1 }], 'sdxl', [listed(canny.kind, canny.name)]), refusal('imagePrompts[0].type', 'fooocus_xl_cpds_128.safetensors'));
    checkImagePromptFiles([prompts[1]!], 'sdxl', [listed(canny.kind, canny.name)]);
  });

  it('refuses PyraCanny and CPDS on an SD 1.5 model, even with the files installed', () => {
    const both = [listed(canny.kind, canny.name), listed(CONTROL_FILES.CPDS.kind, CONTROL_FILES.CPDS.name)];
    assert.throws(() => checkImagePromptFiles([prompts[1]!], 'sd15', both), refusal('imagePrompts[0].type', 'SDXL'));
    assert.throws(() => checkImagePromptFiles([{ file: 'c.png', type: 'CPDS', stopAt: 0.5, weight: 1 }], 'sd15', both), (e: unknown) => e instanceof ImageRequestError && e.rule === 'family');
  });
});

describe('PyraCanny through the image generator (tiny SDXL)', () => {
  let dir: string;
  let outputs: string;
  let store: ModelStore;
  let data: CreativeData;
  let model: string;
  let checkpoint: string;
  let service: GenerationService;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-control-app-'));
    outputs = path.join(dir, 'outputs');
    for (const d of ['models', 'outputs', 'files']) await mkdir(path.join(dir, d));
    store = await openModelStore(path.join(dir, 'models'));
    checkpoint = await writeTinyCheckpoint(path.join(dir, 'files'), 'sdxl');
    model = (await importModel(store, checkpoint, { kind: 'checkpoints' })).name;
    data = await loadCreativeData({ store, catalog: null });
    const control = controlTestImage(64, 64, 5);
    await writeFile(path.join(outputs, 'edges.png'), encodePng(control.rgb, control.width, control.height));
    service = new GenerationService({ runtime: { threads: 2 }, outputsDir: outputs, loadTokenizer: async () => ClipTokenizer.byteLevel(), software: 'Fooocus-TS test' });
  });
  after(async () => {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  const draft = (weight?: number): ImageRequestDraft => ({
    ...tinyImageRequest('a lighthouse'),
    model,
    ...(weight === undefined ? {} : { imagePrompts: [{ file: 'edges.png', type: 'PyraCanny', weight }] }),
  });
  const prepare = async (d: ImageRequestDraft) => prepareImageRequest(d, { data, listing: await store.list() }, { defaultModel: async () => model });
  const pixels = async (file: string) => decodePng(new Uint8Array(await readFile(file))).rgb;

  it('is refused at submit until the control-LoRA is installed, then weight 0 is the plain image and weight 1 changes it', async () => {
    await assert.rejects(prepare(draft(1)), refusal('imagePrompts[0].type', CONTROL_FILES.PyraCanny.name, '--kind controlnet'));

    const controlFile = path.join(dir, 'files', CONTROL_FILES.PyraCanny.name);
    const { architecture } = inspectHeader(await readSafetensorsHeader(checkpoint));
    await writeSafetensors(controlFile, generateTinyControlLora(architecture.unet!));
    await importModel(store, controlFile, { kind: 'controlnet' });

    const run = createImageGenerator({ store, data, service, inputDir: outputs });
    const plain = await run(await prepare(draft()), 0);
    const weightless = await run(await prepare(draft(0)), 0);
    const guided = await run(await prepare(draft(1)), 0);
    assert.deepEqual(await pixels(weightless.path), await pixels(plain.path));
    assert.notDeepEqual(await pixels(guided.path), await pixels(plain.path), 'the control changed nothing');
    // The metadata records the prompt's values, its image's name and SHA-256 (never its pixels), and reads back.
    const chunks = readPngTextChunks(new Uint8Array(await readFile(guided.path)));
    const recorded = parseGenerationMetadata(chunks.parameters!, chunks.fooocus_scheme).inputImage?.imagePrompts;
    const sha256 = createHash('sha256').update(await readFile(path.join(outputs, 'edges.png'))).digest('hex');
    assert.deepEqual(recorded, [{ type: 'PyraCanny', stopAt: 0.5, weight: 1, image: 'edges.png', imageSha256: sha256 }]);
    // The ControlNet and controlled UNet are kept for the next job with the same model: it gives the same image.
    const again = await run(await prepare(draft(1)), 0);
    assert.deepEqual(await pixels(again.path), await pixels(guided.path));
    assert.equal(service.guidedUnets.builds, 1, 'one controlled UNet build for the three guided jobs');
  });
});

describe('the guided UNet cache and the control runner', () => {
  it('builds one UNet with both kinds of inputs for a mixed job, keeps it for the same base and kinds, and frees it on release', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-control-runner-'));
    const cache = new GuidedUnetCache({ threads: 2 });
    const runner = new ControlRunner({ threads: 2 });
    try {
      const checkpoint = await writeTinyCheckpoint(dir, 'sdxl');
      const { architecture } = inspectHeader(await readSafetensorsHeader(checkpoint));
      const base = { key: 'base', path: checkpoint, architecture, loras: [], loraKey: '' };
      const mixed = await cache.get(base, { imagePrompts: true, controlResiduals: true });
      assert.ok(mixed.inputNames.includes('control_middle'));
      assert.ok(mixed.inputNames.includes('ip_scale'));
      assert.equal(await cache.get(base, { imagePrompts: true, controlResiduals: true }), mixed, 'kept for the same base and kinds');
      assert.equal(cache.builds, 1);
      const controlsOnly = await cache.get(base, { imagePrompts: false, controlResiduals: true });
      assert.ok(!controlsOnly.inputNames.includes('ip_scale'));
      assert.equal(cache.builds, 2);
      await assert.rejects(mixed.run({}), /session was released/, 'the replaced build was released');
      await cache.release();
      await assert.rejects(controlsOnly.run({}), /session was released/, 'release frees the held build');
      assert.notEqual(await cache.get(base, { imagePrompts: false, controlResiduals: true }), controlsOnly, 'built again after release');

      const controlFile = path.join(dir, CONTROL_FILES.PyraCanny.name);
      await writeSafetensors(controlFile, generateTinyControlLora(architecture.unet!));
      const files = { PyraCanny: { path: controlFile, sha256: 'a'.repeat(64) } };
      const nets = await runner.prepare(base, files, ['PyraCanny']);
      assert.equal((await runner.prepare(base, files, ['PyraCanny', 'PyraCanny'])).PyraCanny, nets.PyraCanny, 'the ControlNet is kept for the same file and base');
      await assert.rejects(runner.prepare(base, files, ['CPDS']), /no CPDS control-LoRA file/);
    } finally {
      await runner.release();
      await cache.release();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
