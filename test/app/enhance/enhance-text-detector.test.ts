/**
 * Enhance tabs with a text detection prompt ("face") through the app, on the tiny SD 1.5 checkpoint and tiny
 * GroundingDINO + SAM files imported into a real store: the submit refuses such a tab until all three files are
 * installed (naming the tab's detectionPrompt, the missing files and the import command); with them, a tab whose
 * thresholds let boxes through repaints SAM's mask and leaves every pixel outside it as it was, and a tab whose box
 * threshold nothing can pass (1: scores are sigmoids, below 1) is skipped and says so.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadCreativeData, type CreativeData } from '../../../src/app/creative/creative-data.ts';
import { resolveEnhanceChoice } from '../../../src/app/enhance/enhance-choice.ts';
import { createImageGenerator, prepareImageRequest } from '../../../src/app/generation/generate-images.ts';
import { GenerationService, type ServiceProgress } from '../../../src/app/generation/generation-service.ts';
import { ImageRequestError } from '../../../src/app/generation/image-request.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import { openModelStore, type ModelListing, type ModelStore } from '../../../src/app/models/model-store.ts';
import { GroundingDino, loadSegmenter, prepareInpaintMask, readImageMetadata, TextRegionDetector, WordPieceTokenizer, type RegionDetection } from '../../../src/engine/index.ts';
import { SOFT_MASK_REACH } from '../../../src/engine/inpaint/grey-mask.ts';
import { parseGenerationMetadata } from '../../../src/engine/output/generation-metadata.ts';
import { decodePng, encodePng } from '../../../src/engine/output/png.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { redSquarePicture } from '../../fixtures/foreground-models.ts';
import { tinyImageRequest } from '../../fixtures/generation-requests.ts';
import { writeTinyGroundingDino } from '../../fixtures/grounding-dino.ts';
import { writeSamModel } from '../../fixtures/sam-models.ts';
import { pixelsFarFrom } from '../../engine/inpaint/inpaint-harness.ts';

const listed = (kind: ModelListing['kind'], name: string): ModelListing => ({ kind, name, size: 1, sha256: '0'.repeat(64), source: 'local-import', verifiedAt: '', family: null, convertedFrom: null });
const ALL_FILES = [listed('detection', 'grounding-dino-tiny.safetensors'), listed('detection', 'grounding-dino-tiny-vocab.txt'), listed('sam', 'sam-vit-base.safetensors')];
const context = (listing: ModelListing[]) => ({ family: 'sd15' as const, listing, size: { width: 512, height: 512 } });

function refusal(field: string, pattern: RegExp): (err: unknown) => boolean {
  return (err) => err instanceof ImageRequestError && err.field === field && pattern.test(err.message);
}

describe('Enhance text-prompted tabs at submit', () => {
  it('refuses a "face" tab until GroundingDINO, its vocabulary and SAM are all installed, naming what is missing and how to add it', async () => {
    const none = /needs GroundingDINO and SAM; missing from the model store: detection\/grounding-dino-tiny\.safetensors, detection\/grounding-dino-tiny-vocab\.txt, sam\/sam-vit-base\.safetensors\. Add each with `npm run fooocus -- models import <file> --kind detection --name grounding-dino-tiny\.safetensors`/;
    await assert.rejects(resolveEnhanceChoice({ tabs: [{ detectionPrompt: 'face' }] }, context([listed('detection', 'u2net.onnx')])), refusal('enhance.tabs[0].detectionPrompt', none));
    const onlySam = /missing from the model store: sam\/sam-vit-base\.safetensors\. Add it with `npm run fooocus -- models import <file> --kind sam --name sam-vit-base\.safetensors` \(facebook\/sam-vit-base's model\.safetensors\)$/;
    await assert.rejects(resolveEnhanceChoice({ tabs: [{ detectionPrompt: 'person' }, { detectionPrompt: 'hand' }] }, context([listed('detection', 'u2net.onnx'), ...ALL_FILES.slice(0, 2)])), refusal('enhance.tabs[1].detectionPrompt', onlySam));
  });

  it('accepts it with the three files (no foreground-mask model needed) and refuses a maskModel on it', async () => {
    const resolved = await resolveEnhanceChoice({ tabs: [{ detectionPrompt: 'face', boxThreshold: 0.4 }] }, context(ALL_FILES));
    assert.deepEqual(resolved.tabs[0], { detectionPrompt: 'face', mode: 'default', strength: 1, respectiveField: 0.618, boxThreshold: 0.4, textThreshold: 0.25, maxDetections: 0 });
    await assert.rejects(resolveEnhanceChoice({ tabs: [{ detectionPrompt: 'face', maskModel: 'u2net.onnx' }] }, context([...ALL_FILES, listed('detection', 'u2net.onnx')])), refusal('enhance.tabs[0].maskModel', /finds only "person"/));
  });
});

describe('Enhance with GroundingDINO and SAM through the image generator (tiny files, real store)', () => {
  let dir: string;
  let outputs: string;
  let store: ModelStore;
  let data: CreativeData;
  let model: string;
  let service: GenerationService;
  let files: { model: string; vocabulary: string; sam: string };
  const W = 136;
  const H = 104;
  const picture = redSquarePicture(W, H, { x0: 52, x1: 80, y0: 36, y1: 64 });
  // Random SAM weights speckle the mask over the whole image; eroding it leaves the dense part, so pixels past
  // the soft mask's reach exist to compare.
  const ERODE = 8;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-enhance-text-'));
    outputs = path.join(dir, 'outputs');
    for (const d of ['models', 'outputs', 'files']) await mkdir(path.join(dir, d));
    store = await openModelStore(path.join(dir, 'models'));
    model = (await importModel(store, await writeTinyCheckpoint(path.join(dir, 'files'), 'sd15'), { kind: 'checkpoints' })).name;
    const dino = await writeTinyGroundingDino(path.join(dir, 'files'));
    files = { ...dino, sam: await writeSamModel(path.join(dir, 'files'), undefined, 'sam-vit-base.safetensors') };
    await importModel(store, dino.model, { kind: 'detection' });
    await importModel(store, dino.vocabulary, { kind: 'detection' });
    await importModel(store, files.sam, { kind: 'sam' });
    data = await loadCreativeData({ store, catalog: null });
    await writeFile(path.join(outputs, 'input.png'), encodePng(picture.rgb, W, H));
    service = new GenerationService({ runtime: { threads: 2 }, outputsDir: outputs, loadTokenizer: async () => ClipTokenizer.byteLevel(), software: 'Fooocus-TS test' });
  });
  after(async () => {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The region the tab finds, by the engine's detector built here from the same files. */
  async function detectDirectly(maxDetections: number): Promise<RegionDetection> {
    const boxes = await GroundingDino.load(files.model, await WordPieceTokenizer.fromFile(files.vocabulary), { threads: 1 });
    const detector = new TextRegionDetector('direct', boxes, await loadSegmenter(files.sam, { threads: 1 }));
    try {
      return await detector.detect(picture, { prompt: 'face', boxThreshold: 0, textThreshold: 0, maxDetections });
    } finally {
      await detector.release();
    }
  }

  it('repaints the mask SAM makes of the first box (eroded), keeps every pixel past its soft edge, and skips a tab no box can pass', async () => {
    const listing = await store.list();
    const request = await prepareImageRequest(
      {
        ...tinyImageRequest('a toy'),
        model,
        steps: 2,
        width: undefined,
        height: undefined,
        input: { file: 'input.png', denoise: 1 },
        enhance: { tabs: [{ detectionPrompt: 'face', prompt: 'a red robot', boxThreshold: 0, textThreshold: 0, maxDetections: 1, maskErode: ERODE }, { detectionPrompt: 'hand', boxThreshold: 1 }] },
      },
      { data, listing },
      { defaultModel: async () => model, readInput: async () => picture },
    );
    assert.equal(request.enhance!.tabs[0]!.maskModel, undefined);
    const progress: ServiceProgress[] = [];
    const generate = createImageGenerator({ store, data, service, inputDir: outputs });
    const saved = await generate(request, 0, { input: picture, onProgress: (p) => progress.push(p) });
    const bytes = new Uint8Array(await readFile(saved.path));
    const image = decodePng(bytes);
    assert.deepEqual([image.width, image.height], [W, H]);

    const found = await detectDirectly(1);
    assert.equal(found.regions, 1);
    const repainted = prepareInpaintMask({ maskErode: ERODE, invertMask: false }, found.mask);
    const far = pixelsFarFrom(repainted, SOFT_MASK_REACH - 1);
    assert.ok(far.length > 1000, `${far.length} pixels outside the soft mask`);
    for (const p of far) assert.deepEqual([...image.rgb.subarray(p * 3, p * 3 + 3)], [...picture.rgb.subarray(p * 3, p * 3 + 3)], `pixel ${p} changed`);
    let changed = 0;
    for (let i = 0; i < repainted.data.length; i++) if (repainted.data[i] === 255 && image.rgb[i * 3] !== picture.rgb[i * 3]) changed++;
    assert.ok(changed > 50, `only ${changed} pixels of the region were repainted`);

    const messages = progress.flatMap((p) => (p.phase === 'enhance' ? [p.message] : []));
    assert.ok(messages.includes('Enhance 1/2: repainting "face" (1 region)'), messages.join(' | '));
    assert.ok(messages.includes('Enhance 2/2: no "hand" found, tab skipped'), messages.join(' | '));
    // Built once for both tabs: the detector is held between them.
    assert.equal(progress.filter((p) => p.phase === 'load' && p.model === 'grounding-dino-tiny.safetensors').length, 1);

    const text = await readImageMetadata(bytes);
    const record = parseGenerationMetadata(text.parameters!, text.fooocus_scheme).inputImage?.enhance;
    assert.deepEqual(
      record?.tabs.map((t) => [t.detectionPrompt, t.regions, t.skipped]),
      [
        ['face', 1, false],
        ['hand', 0, true],
      ],
    );
  });
});
