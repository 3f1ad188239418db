/**
 * "Describe then generate" through the app on a tiny SD 1.5 checkpoint and the tiny WD14 tagger: checked at submit
 * (an input image, the describer installed; each refusal names describeFirst), then a job with a blank prompt is
 * described once and generates with the description as its prompt, recorded in the image's metadata; a typed
 * prompt wins and the describer does not run.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadCreativeData, type CreativeData } from '../../../src/app/creative/creative-data.ts';
import { ImageDescribers } from '../../../src/app/describe/describe-image.ts';
import { WD14_TAGGER_ENTRY } from '../../../src/app/describe/describer-registry.ts';
import { createImageGenerator, prepareImageRequest } from '../../../src/app/generation/generate-images.ts';
import { GenerationService, type ServiceProgress } from '../../../src/app/generation/generation-service.ts';
import { ImageRequestError } from '../../../src/app/generation/image-request.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import { openModelStore, type ModelStore } from '../../../src/app/models/model-store.ts';
import { readImageMetadata, type RgbImage } from '../../../src/engine/index.ts';
import { parseGenerationMetadata } from '../../../src/engine/output/generation-metadata.ts';
import { encodePng } from '../../../src/engine/output/png.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { tinyImageRequest } from '../../fixtures/generation-requests.ts';
import { writeTinyTagger } from '../../fixtures/wd14-taggers.ts';

const W = 64;
const H = 64;
const RED: RgbImage = { width: W, height: H, rgb: new Uint8Array(W * H * 3).map((_, i) => (i % 3 === 0 ? 255 : 0)) };
/** What the tiny tagger says of a red image (test/app/describe/describers.test.ts checks the same). */
const RED_TAGS = 'hatsune miku \\(vocaloid\\), 1girl, red theme, simple background';

function refusal(rule: string, pattern: RegExp): (err: unknown) => boolean {
  return (err) => err instanceof ImageRequestError && err.field === 'describeFirst' && err.rule === rule && pattern.test(err.message);
}

describe('describe then generate (describeFirst)', () => {
  let dir: string;
  let outputs: string;
  let store: ModelStore;
  let data: CreativeData;
  let model: string;
  let service: GenerationService;
  let loads = 0;
  let describers: ImageDescribers;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-describe-first-'));
    outputs = path.join(dir, 'outputs');
    for (const d of ['models', 'outputs', 'files']) await mkdir(path.join(dir, d));
    store = await openModelStore(path.join(dir, 'models'));
    model = (await importModel(store, await writeTinyCheckpoint(path.join(dir, 'files'), 'sd15'), { kind: 'checkpoints' })).name;
    data = await loadCreativeData({ store, catalog: null });
    await writeFile(path.join(outputs, 'input.png'), encodePng(RED.rgb, W, H));
    service = new GenerationService({ runtime: { threads: 2 }, outputsDir: outputs, loadTokenizer: async () => ClipTokenizer.byteLevel(), software: 'Fooocus-TS test' });
    const counting = { anime: { ...WD14_TAGGER_ENTRY, load: (paths: readonly string[], runtime: object) => (loads++, WD14_TAGGER_ENTRY.load(paths, runtime)) } };
    describers = new ImageDescribers(store, counting, { threads: 1 });
  });
  after(async () => {
    await describers.release();
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  const prepare = async (draft: object, registry = { anime: WD14_TAGGER_ENTRY }) =>
    prepareImageRequest(
      { ...tinyImageRequest(''), model, steps: 2, imageCount: 2, ...draft },
      { data, listing: await store.list() },
      { defaultModel: async () => model, readInput: async () => RED, describerRegistry: registry },
    );

  it('refuses at submit a job with no input image, or whose describer is not installed, naming describeFirst', async () => {
    await assert.rejects(prepare({ describeFirst: 'anime' }), refusal('needsInput', /describes the input image/));
    await assert.rejects(prepare({ describeFirst: 'anime', input: { file: 'input.png', denoise: 0.6 } }), refusal('installed', /needs clip_vision\/wd-v1-4-moat-tagger-v2\.onnx, clip_vision\/wd-v1-4-moat-tagger-v2\.csv; add them with/));
    await assert.rejects(prepare({ describeFirst: 'photo', input: { file: 'input.png', denoise: 0.6 } }), refusal('installed', /Photograph describer \(type "photo"\) is not part of this build/));
  });

  it('describes the input once for the whole batch and generates with the description as the prompt', async () => {
    const files = writeTinyTagger(path.join(dir, 'files'));
    await importModel(store, files.model, { kind: 'clip_vision' });
    await importModel(store, files.tags, { kind: 'clip_vision' });
    const request = await prepare({ describeFirst: 'anime', input: { file: 'input.png', denoise: 0.6 } });
    const generate = createImageGenerator({ store, data, service, inputDir: outputs, describers });
    const progress: ServiceProgress[] = [];
    const prompts: string[] = [];
    for (const index of [0, 1]) {
      const saved = await generate(request, index, { onProgress: (p) => progress.push(p) });
      const text = await readImageMetadata(new Uint8Array(await readFile(saved.path)));
      prompts.push(parseGenerationMetadata(text.parameters!, text.fooocus_scheme).prompt);
    }
    assert.deepEqual(prompts, [RED_TAGS, RED_TAGS]);
    assert.equal(loads, 1);
    assert.ok(progress.some((p) => p.phase === 'describe' && p.type === 'anime'), 'the describing shows as progress');
    // Every describing event says so in words: the one field the CLI and the page show.
    const describing = progress.filter((p) => p.phase === 'describe');
    assert.deepEqual([...new Set(describing.map((p) => p.message))], ['describing the input image (Art/Anime)']);
    const describeRuns = describing.filter((p) => p.done === p.total).length;
    assert.ok(describeRuns >= 1 && describeRuns <= 3, `the tagger ran for image 0 only (${describeRuns} finished phases)`);
    assert.ok(!progress.slice(progress.findIndex((p) => p.phase === 'sample')).some((p) => p.phase === 'describe'), 'image 1 reuses the description');
  });

  it('keeps a typed prompt: the describer does not run', async () => {
    const before = loads;
    const request = await prepare({ prompt: 'a blue boat', describeFirst: 'anime', input: { file: 'input.png', denoise: 0.6 }, imageCount: 1 });
    const progress: ServiceProgress[] = [];
    const saved = await createImageGenerator({ store, data, service, inputDir: outputs, describers })(request, 0, { onProgress: (p) => progress.push(p) });
    const text = await readImageMetadata(new Uint8Array(await readFile(saved.path)));
    assert.equal(parseGenerationMetadata(text.parameters!, text.fooocus_scheme).prompt, 'a blue boat');
    assert.ok(!progress.some((p) => p.phase === 'describe'));
    assert.equal(loads, before);
  });

  it('refuses to run a describeFirst job where no describers were given (rather than generating from a blank prompt)', async () => {
    const request = await prepare({ describeFirst: 'anime', input: { file: 'input.png', denoise: 0.6 }, imageCount: 1 });
    await assert.rejects(createImageGenerator({ store, data, service, inputDir: outputs })(request, 0), refusal('installed', /no describers/));
  });
});
