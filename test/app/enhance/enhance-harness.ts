/**
 * What the Enhance tests through the app share: a real model store holding the tiny SD 1.5 checkpoint and the
 * test's detection files, the red-square input picture saved where the generator reads inputs, the generation
 * service, one call that submits and runs an Enhance on that picture, and the check that a repaint stayed inside
 * its soft mask.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadCreativeData, type CreativeData } from '../../../src/app/creative/creative-data.ts';
import { createImageGenerator, prepareImageRequest } from '../../../src/app/generation/generate-images.ts';
import { GenerationService, type ServiceProgress } from '../../../src/app/generation/generation-service.ts';
import { ImageRequestError, type EnhanceChoice, type ImageRequest } from '../../../src/app/generation/image-request.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import { openModelStore, type ModelListing, type ModelStore } from '../../../src/app/models/model-store.ts';
import { readImageMetadata, type GreyMask, type RgbImage } from '../../../src/engine/index.ts';
import { SOFT_MASK_REACH } from '../../../src/engine/inpaint/grey-mask.ts';
import { parseGenerationMetadata } from '../../../src/engine/output/generation-metadata.ts';
import type { EnhanceRecord } from '../../../src/engine/output/generation-parameters.ts';
import { decodePng, encodePng } from '../../../src/engine/output/png.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { pixelsFarFrom } from '../../engine/inpaint/inpaint-harness.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { redSquarePicture } from '../../fixtures/foreground-models.ts';
import { tinyImageRequest } from '../../fixtures/generation-requests.ts';

/** A store listing entry for the submit checks, which look only at kind and name. */
export function listedModel(kind: ModelListing['kind'], name: string): ModelListing {
  return { kind, name, size: 1, sha256: '0'.repeat(64), source: 'local-import', verifiedAt: '', family: null, convertedFrom: null };
}

/** What `resolveEnhanceChoice` is told about an SD 1.5 request at 512x512 with this store. */
export function enhanceContext(listing: ModelListing[]) {
  return { family: 'sd15' as const, listing, size: { width: 512, height: 512 } };
}

/** Matches the request error for `field` (and, if given, its message). */
export function refusal(field: string, pattern?: RegExp): (err: unknown) => boolean {
  return (err) => err instanceof ImageRequestError && err.field === field && (pattern === undefined || pattern.test(err.message));
}

export const PICTURE_WIDTH = 136;
export const PICTURE_HEIGHT = 104;
/** The input every Enhance run starts from: a red square on a plain background. */
export const picture: RgbImage = redSquarePicture(PICTURE_WIDTH, PICTURE_HEIGHT, { x0: 52, x1: 80, y0: 36, y1: 64 });

export interface EnhanceBench<Files> {
  store: ModelStore;
  data: CreativeData;
  /** The checkpoint's store name. */
  model: string;
  service: GenerationService;
  /** What `addModels` returned. */
  files: Files;
  /** Where the generator reads inputs (`input.png` is the picture) and writes results. */
  outputs: string;
  close(): Promise<void>;
}

/**
 * Opens a store in a fresh temporary folder with the tiny SD 1.5 checkpoint; `addModels` writes and imports the
 * test's detection files (given a folder for them) before the creative data is loaded from the store.
 */
export async function openEnhanceBench<Files>(tag: string, addModels: (folder: string, store: ModelStore) => Promise<Files>): Promise<EnhanceBench<Files>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `fooocus-enhance-${tag}-`));
  const outputs = path.join(dir, 'outputs');
  for (const d of ['models', 'outputs', 'files']) await mkdir(path.join(dir, d));
  const store = await openModelStore(path.join(dir, 'models'));
  const model = (await importModel(store, await writeTinyCheckpoint(path.join(dir, 'files'), 'sd15'), { kind: 'checkpoints' })).name;
  const files = await addModels(path.join(dir, 'files'), store);
  const data = await loadCreativeData({ store, catalog: null });
  await writeFile(path.join(outputs, 'input.png'), encodePng(picture.rgb, PICTURE_WIDTH, PICTURE_HEIGHT));
  const service = new GenerationService({ runtime: { threads: 2 }, outputsDir: outputs, loadTokenizer: async () => ClipTokenizer.byteLevel(), software: 'Fooocus-TS test' });
  return {
    store,
    data,
    model,
    service,
    files,
    outputs,
    close: async () => {
      await service.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface EnhanceRun {
  request: ImageRequest;
  /** The saved file's bytes and its decoded pixels. */
  bytes: Uint8Array;
  image: RgbImage;
  progress: ServiceProgress[];
}

/** Submits an Enhance of the picture (input kept at its size, denoise 1, 2 steps) and runs image 0 of it. */
export async function runEnhance<Files>(bench: EnhanceBench<Files>, enhance: EnhanceChoice): Promise<EnhanceRun> {
  const { store, data, service, model, outputs } = bench;
  const listing = await store.list();
  const request = await prepareImageRequest(
    { ...tinyImageRequest('a toy'), model, steps: 2, width: undefined, height: undefined, input: { file: 'input.png', denoise: 1 }, enhance },
    { data, listing },
    { defaultModel: async () => model, readInput: async () => picture },
  );
  const progress: ServiceProgress[] = [];
  const generate = createImageGenerator({ store, data, service, inputDir: outputs });
  const saved = await generate(request, 0, { input: picture, onProgress: (p) => progress.push(p) });
  const bytes = new Uint8Array(await readFile(saved.path));
  return { request, bytes, image: decodePng(bytes), progress };
}

/** The Enhance record in a saved image's metadata. */
export async function readSavedEnhanceRecord(bytes: Uint8Array): Promise<EnhanceRecord | undefined> {
  const text = await readImageMetadata(bytes);
  return parseGenerationMetadata(text.parameters!, text.fooocus_scheme).inputImage?.enhance;
}

/**
 * Asserts a repaint of `region` stayed inside its soft mask: more than `minFar` pixels lie past the mask's reach
 * and every one of them is the picture's, bit for bit; more than `minChanged` of the region's pixels changed.
 */
export function assertRepaintedOnly(image: RgbImage, region: GreyMask, bounds: { minFar: number; minChanged: number }): void {
  const far = pixelsFarFrom(region, SOFT_MASK_REACH - 1);
  assert.ok(far.length > bounds.minFar, `${far.length} pixels outside the soft mask`);
  for (const p of far) assert.deepEqual([...image.rgb.subarray(p * 3, p * 3 + 3)], [...picture.rgb.subarray(p * 3, p * 3 + 3)], `pixel ${p} changed`);
  let changed = 0;
  for (let i = 0; i < region.data.length; i++) if (region.data[i] === 255 && image.rgb[i * 3] !== picture.rgb[i * 3]) changed++;
  assert.ok(changed > bounds.minChanged, `only ${changed} pixels of the region were repainted`);
}
