/**
 * Image Prompt and FaceSwap through the app, each on tiny SD 1.5 and SDXL checkpoints: the request is checked at
 * submit (the family's files must be installed), then the job verifies the files, encodes the uploaded image and
 * runs the UNet with the adapter's inputs. The files are tiny stand-ins written here under the names the app looks for: a
 * vision encoder of a published width (so the app reads it with no overrides, as it reads the real one), the
 * family's adapter, the unconditional embedding and, for FaceSwap, a face detector with a fixed verdict. Weight 0
 * gives the plain image bit for bit, an active prompt changes it, the metadata records the prompt, and a FaceSwap
 * image without a face fails naming the slot, with nothing saved.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadCreativeData, type CreativeData } from '../../../src/app/creative/creative-data.ts';
import { createImageGenerator, prepareImageRequest, type ImageRequestDraft } from '../../../src/app/generation/generate-images.ts';
import { GenerationService } from '../../../src/app/generation/generation-service.ts';
import { findImagePromptFiles, IMAGE_PROMPT_FILES } from '../../../src/app/generation/image-prompt-files.ts';
import { ImageRequestError } from '../../../src/app/generation/image-request.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import { openModelStore, type ModelStore } from '../../../src/app/models/model-store.ts';
import { NoFaceFoundError } from '../../../src/engine/face/face-alignment.ts';
import { ipAdapterLayerOrder } from '../../../src/engine/graphs/decoupled-attention.ts';
import type { TensorToWrite } from '../../../src/engine/io/safetensors-types.ts';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { inspectHeader } from '../../../src/engine/models/inspect.ts';
import { parseGenerationMetadata } from '../../../src/engine/output/generation-metadata.ts';
import { decodePng, encodePng } from '../../../src/engine/output/png.ts';
import { readPngTextChunks } from '../../../src/engine/output/png-text.ts';
import type { AdapterPromptType } from '../../../src/engine/pipeline/image-guidance.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { writeTinyCheckpoint, type TinyFamily } from '../../fixtures/checkpoints.ts';
import { generateTinyIpAdapter, generateTinyIpNegative, generateTinyVisionEncoder, PUBLISHED_WIDTH_VISION } from '../../fixtures/image-prompt-models.ts';
import { buildVerdictRetinaFaceTensors } from '../../fixtures/retinaface.ts';
import { tinyImageRequest } from '../../fixtures/generation-requests.ts';

const PROMPT_IMAGE = 'reference.png';

/** One store with a tiny checkpoint of `family`, and an outputs folder holding the image prompt's upload. */
interface Studio {
  dir: string;
  outputs: string;
  store: ModelStore;
  data: CreativeData;
  model: string;
  checkpoint: string;
  service: GenerationService;
}

async function openStudio(family: TinyFamily): Promise<Studio> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `fooocus-ip-app-${family}-`));
  const outputs = path.join(dir, 'outputs');
  for (const d of ['models', 'outputs', 'files']) await mkdir(path.join(dir, d));
  const store = await openModelStore(path.join(dir, 'models'));
  const checkpoint = await writeTinyCheckpoint(path.join(dir, 'files'), family);
  const model = (await importModel(store, checkpoint, { kind: 'checkpoints' })).name;
  const data = await loadCreativeData({ store, catalog: null });
  // A picture with structure (a bright disc on a gradient), 64x48 so the encoder and the face crop resize it.
  const rgb = new Uint8Array(64 * 48 * 3).map((_, i) => {
    const p = Math.floor(i / 3);
    const [x, y] = [p % 64, Math.floor(p / 64)];
    return (x - 32) ** 2 + (y - 24) ** 2 < 150 ? 230 - (i % 3) * 20 : (x * 3 + y * 2 + (i % 3) * 40) % 256;
  });
  await writeFile(path.join(outputs, PROMPT_IMAGE), encodePng(rgb, 64, 48));
  const service = new GenerationService({ runtime: { threads: 2 }, outputsDir: outputs, loadTokenizer: async () => ClipTokenizer.byteLevel(), software: 'Fooocus-TS test' });
  return { dir, outputs, store, data, model, checkpoint, service };
}

async function closeStudio(studio: Studio): Promise<void> {
  await studio.service.close();
  await rm(studio.dir, { recursive: true, force: true });
}

/** Writes each tiny file under its store name and imports it, as `models import` would. */
async function install(studio: Studio, files: readonly { kind: 'clip_vision' | 'controlnet'; name: string; tensors: TensorToWrite[] }[]): Promise<void> {
  for (const f of files) {
    const file = path.join(studio.dir, 'files', f.name);
    await writeSafetensors(file, f.tensors);
    await importModel(studio.store, file, { kind: f.kind });
  }
}

/** The vision encoder's tensors (about 22 MB), generated once for every store of this file. */
let visionTensors: TensorToWrite[] | undefined;

/** The files `type` needs on the studio's checkpoint: an adapter fitted to its UNet; `faceLevel` as in the fixture. */
async function installImagePromptFiles(studio: Studio, family: TinyFamily, type: AdapterPromptType, faceLevel: number | null = 2): Promise<void> {
  const header = await readSafetensorsHeader(studio.checkpoint);
  const unet = inspectHeader(header).architecture.unet!;
  const widths = ipAdapterLayerOrder(unet).map((p) => header.tensors.get(`${p}to_q.weight`)!.shape[0]!);
  const [, adapter] = findImagePromptFiles(type, family === 'sd15' ? 'sd15' : 'sdxl')!;
  await install(studio, [
    { ...IMAGE_PROMPT_FILES.visionEncoder, tensors: (visionTensors ??= generateTinyVisionEncoder(11, undefined, PUBLISHED_WIDTH_VISION)) },
    { ...IMAGE_PROMPT_FILES.negative, tensors: generateTinyIpNegative(13, PUBLISHED_WIDTH_VISION) },
    { kind: 'controlnet', name: adapter!.name, tensors: generateTinyIpAdapter(widths, unet.contextDim, type === 'FaceSwap' ? 14 : 12, PUBLISHED_WIDTH_VISION.width) },
    ...(type === 'FaceSwap' ? [{ ...IMAGE_PROMPT_FILES.faceDetector, tensors: buildVerdictRetinaFaceTensors(faceLevel) }] : []),
  ]);
}

function draftFor(studio: Studio, type: AdapterPromptType, window?: { weight: number; stopAt?: number }): ImageRequestDraft {
  return {
    ...tinyImageRequest('a lighthouse'),
    model: studio.model,
    ...(window === undefined ? {} : { imagePrompts: [{ file: PROMPT_IMAGE, type, ...window }] }),
  };
}

const prepare = async (studio: Studio, draft: ImageRequestDraft) =>
  prepareImageRequest(draft, { data: studio.data, listing: await studio.store.list() }, { defaultModel: async () => studio.model });
const pixels = async (file: string) => decodePng(new Uint8Array(await readFile(file))).rgb;

/** Plain, weight 0 and active runs of one prompt type; checks pixels and the recorded prompt. */
async function checkPromptChangesOnlyWhenActive(studio: Studio, type: AdapterPromptType): Promise<void> {
  const run = createImageGenerator({ store: studio.store, data: studio.data, service: studio.service, inputDir: studio.outputs });
  const plain = await run(await prepare(studio, draftFor(studio, type)), 0);
  const weightless = await run(await prepare(studio, draftFor(studio, type, { weight: 0 })), 0);
  const guided = await run(await prepare(studio, draftFor(studio, type, { weight: 2, stopAt: 1 })), 0);
  assert.deepEqual(await pixels(weightless.path), await pixels(plain.path), 'weight 0 is the plain image');
  assert.notDeepEqual(await pixels(guided.path), await pixels(plain.path), `the ${type} prompt changed nothing`);
  // The metadata records the prompt's values, its image's name and SHA-256 (never its pixels), and reads back.
  const chunks = readPngTextChunks(new Uint8Array(await readFile(guided.path)));
  const recorded = parseGenerationMetadata(chunks.parameters!, chunks.fooocus_scheme).inputImage?.imagePrompts;
  const sha256 = createHash('sha256').update(await readFile(path.join(studio.outputs, PROMPT_IMAGE))).digest('hex');
  assert.deepEqual(recorded, [{ type, stopAt: 1, weight: 2, image: PROMPT_IMAGE, imageSha256: sha256 }]);
}

for (const family of ['sd15', 'sdxl'] as const) {
  describe(`Image Prompt through the image generator (tiny ${family})`, () => {
    let studio: Studio;
    before(async () => {
      studio = await openStudio(family);
    });
    after(() => closeStudio(studio));

    it("is refused at submit until the family's files are installed, then changes the image only when active", async () => {
      const adapter = family === 'sd15' ? 'ip-adapter-plus_sd15.safetensors' : 'ip-adapter-plus_sdxl_vit-h.safetensors';
      await assert.rejects(prepare(studio, draftFor(studio, 'ImagePrompt', { weight: 0.6 })), (err: unknown) => {
        assert.ok(err instanceof ImageRequestError);
        assert.equal(err.field, 'imagePrompts[0].type');
        assert.match(err.message, new RegExp(`controlnet/${adapter.replaceAll('.', '\\.')}`));
        assert.match(err.message, /models pull --preset image-prompt/);
        return true;
      });
      await installImagePromptFiles(studio, family, 'ImagePrompt');
      await checkPromptChangesOnlyWhenActive(studio, 'ImagePrompt');
    });
  });
}

for (const family of ['sd15', 'sdxl'] as const) {
  describe(`FaceSwap through the image generator (tiny ${family})`, () => {
    let studio: Studio;
    before(async () => {
      studio = await openStudio(family);
    });
    after(() => closeStudio(studio));

    it('crops the face, changes the image only when active and records the prompt', async () => {
      await installImagePromptFiles(studio, family, 'FaceSwap');
      await checkPromptChangesOnlyWhenActive(studio, 'FaceSwap');
    });
  });
}

describe('FaceSwap without a face (tiny sdxl)', () => {
  let faceless: Studio;
  before(async () => {
    faceless = await openStudio('sdxl');
  });
  after(() => closeStudio(faceless));

  it('fails a job whose FaceSwap image has no face, naming the slot, and saves nothing', async () => {
    await installImagePromptFiles(faceless, 'sdxl', 'FaceSwap', null);
    const run = createImageGenerator({ store: faceless.store, data: faceless.data, service: faceless.service, inputDir: faceless.outputs });
    const request = await prepare(faceless, draftFor(faceless, 'FaceSwap', { weight: 0.75 }));
    const before = await readdir(faceless.outputs, { recursive: true });
    await assert.rejects(run(request, 0), (err: unknown) => {
      assert.ok(err instanceof NoFaceFoundError, `got ${String(err)}`);
      assert.equal(err.kind, 'invalid');
      assert.match(err.field ?? '', /^imagePrompts\[0\]/);
      assert.match(err.message, /^imagePrompts\[0\][^:]*: no face was found in this FaceSwap image/);
      return true;
    });
    assert.deepEqual(await readdir(faceless.outputs, { recursive: true }), before, 'nothing was saved');
  });
});
