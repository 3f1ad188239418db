/**
 * The model files each image prompt type needs, by the names Fooocus downloads them under (as .safetensors), and
 * the check at submit that they are installed. The IP-Adapter types share the CLIP vision encoder and Fooocus's
 * unconditional image embedding; FaceSwap adds the face detector (converted from facexlib's RetinaFace). PyraCanny
 * and CPDS each need their SDXL control-LoRA.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readImageFile, type AdapterPromptType, type ControlHint, type ControlPromptType, type InputImageParameters, type ModelFamily, type RgbImage } from '../../engine/index.ts';
import type { ModelKind } from '../models/model-kinds.ts';
import type { ModelListing, ModelStore } from '../models/model-store.ts';
import { prepareControlHints } from './control-hint-step.ts';
import type { ControlFiles } from './control-runner.ts';
import type { ImagePromptInputs, VerifiedFile } from './image-prompt-runner.ts';
import { ImageRequestError, type ImagePromptChoice, type ImageRequest } from './image-request.ts';

export interface StoreFile {
  kind: ModelKind;
  name: string;
}

/** The signed catalog pins every file (the vision encoder as the IP-Adapter publisher's copy); `models import` adds any of them by hand. */
const IMPORT_HINT = '`npm run fooocus -- models pull --preset image-prompt` or `npm run fooocus -- models import <file> --kind <kind>`';

export const IMAGE_PROMPT_FILES = {
  visionEncoder: { kind: 'clip_vision', name: 'clip_vision_vit_h.safetensors' },
  negative: { kind: 'controlnet', name: 'fooocus_ip_negative.safetensors' },
  faceDetector: { kind: 'controlnet', name: 'detection_Resnet50_Final.safetensors' },
} as const satisfies Record<string, StoreFile>;

const ADAPTERS: Partial<Record<ModelFamily, Record<AdapterPromptType, string>>> = {
  sdxl: { ImagePrompt: 'ip-adapter-plus_sdxl_vit-h.safetensors', FaceSwap: 'ip-adapter-plus-face_sdxl_vit-h.safetensors' },
  sd15: { ImagePrompt: 'ip-adapter-plus_sd15.safetensors', FaceSwap: 'ip-adapter-plus-face_sd15.safetensors' },
};

/** Both control-LoRAs are made for SDXL's UNet (Fooocus offers PyraCanny and CPDS on SDXL only). */
export const CONTROL_FILES = {
  PyraCanny: { kind: 'controlnet', name: 'control-lora-canny-rank128.safetensors' },
  CPDS: { kind: 'controlnet', name: 'fooocus_xl_cpds_128.safetensors' },
} as const satisfies Record<ControlPromptType, StoreFile>;

const CONTROL_IMPORT_HINT = '`npm run fooocus -- models pull --preset image-prompt` or `npm run fooocus -- models import <file> --kind controlnet`';

export function isAdapterPromptType(type: string): type is AdapterPromptType {
  return type === 'ImagePrompt' || type === 'FaceSwap';
}

/** The files image prompt `at` of this type needs on a model of this family, or null when the family has no adapter. */
export function findImagePromptFiles(type: AdapterPromptType, family: ModelFamily): StoreFile[] | null {
  const adapter = ADAPTERS[family]?.[type];
  if (adapter === undefined) return null;
  const files: StoreFile[] = [IMAGE_PROMPT_FILES.visionEncoder, { kind: 'controlnet', name: adapter }, IMAGE_PROMPT_FILES.negative];
  return type === 'FaceSwap' ? [...files, IMAGE_PROMPT_FILES.faceDetector] : files;
}

/** Refuses (naming `imagePrompts[i].type`) an IP-Adapter prompt whose files are not installed for the model's family. */
export function checkImagePromptFiles(prompts: readonly ImagePromptChoice[] | undefined, family: ModelFamily, listing: readonly ModelListing[]): void {
  (prompts ?? []).forEach((prompt, i) => {
    const field = `imagePrompts[${i}].type`;
    if (!isAdapterPromptType(prompt.type)) {
      checkControlFile(prompt.type, field, family, listing);
      return;
    }
    const files = findImagePromptFiles(prompt.type, family);
    if (files === null) throw new ImageRequestError(field, 'family', `${prompt.type} has no IP-Adapter for ${family} models`);
    const missing = files.filter((f) => !listing.some((m) => m.kind === f.kind && m.name === f.name));
    if (missing.length > 0) {
      throw new ImageRequestError(field, 'installed', `${prompt.type} needs ${missing.map((f) => `${f.kind}/${f.name}`).join(', ')}; add each with ${IMPORT_HINT}`);
    }
  });
}

/** Refuses a PyraCanny or CPDS prompt on a model that is not SDXL, or whose control-LoRA is not installed. */
function checkControlFile(type: ControlPromptType, field: string, family: ModelFamily, listing: readonly ModelListing[]): void {
  const file = CONTROL_FILES[type];
  if (family !== 'sdxl') throw new ImageRequestError(field, 'family', `${type} needs an SDXL model: its control-LoRA ${file.name} is made for SDXL, not ${family}`);
  if (!listing.some((m) => m.kind === file.kind && m.name === file.name)) {
    throw new ImageRequestError(field, 'installed', `${type} needs ${file.kind}/${file.name}; add it with ${CONTROL_IMPORT_HINT}`);
  }
}

export interface ImagePromptReadContext {
  store: ModelStore;
  listing: readonly ModelListing[];
  /** Where relative image paths are (the outputs directory, for uploads). */
  inputDir: string;
  /** Image prompt images decoded already (a Redis worker gets them with the job), by the file the request names. */
  images?: readonly ProvidedImage[];
  signal?: AbortSignal;
}

/** An image prompt's image sent along with a job instead of read from a file this machine does not have. */
export interface ProvidedImage {
  file: string;
  image: RgbImage;
  /** SHA-256 of the original file's bytes, for the metadata. */
  sha256?: string;
}

/** The prompt's image: the one sent with the job, else the file (through the engine's decoder and limits). */
function readPromptImage(context: Pick<ImagePromptReadContext, 'inputDir' | 'images'>, file: string, field: string): Promise<RgbImage> {
  const provided = context.images?.find((p) => p.file === file);
  return provided !== undefined ? Promise.resolve(provided.image) : readImageFile(path.resolve(context.inputDir, file), { source: field });
}

/**
 * The IP-Adapter image prompts of a request with their files verified against the trust manifest and their images
 * read; undefined when it has none (PyraCanny and CPDS take another path).
 */
export async function readImagePromptInputs(request: ImageRequest, context: ImagePromptReadContext): Promise<ImagePromptInputs | undefined> {
  const chosen = (request.imagePrompts ?? []).map((p, i) => ({ ...p, field: `imagePrompts[${i}]` })).filter((p) => isAdapterPromptType(p.type));
  if (chosen.length === 0) return undefined;
  const family = (context.listing.find((m) => m.kind === 'checkpoints' && m.name === request.model)?.family ?? 'sdxl') as ModelFamily;
  const verified = new Map<string, VerifiedFile>();
  const verify = async (file: StoreFile, field: string): Promise<VerifiedFile> => {
    const key = `${file.kind}/${file.name}`;
    const done = verified.get(key);
    if (done !== undefined) return done;
    const entry = context.listing.find((m) => m.kind === file.kind && m.name === file.name);
    if (entry === undefined) throw new ImageRequestError(field, 'installed', `${key} is not in the trust manifest; add it with ${IMPORT_HINT}`);
    const result = { path: await context.store.resolve(file.kind, file.name, context.signal ? { signal: context.signal } : {}), sha256: entry.sha256 };
    verified.set(key, result);
    return result;
  };
  const inputs: ImagePromptInputs = {
    visionEncoder: await verify(IMAGE_PROMPT_FILES.visionEncoder, chosen[0]!.field),
    negative: await verify(IMAGE_PROMPT_FILES.negative, chosen[0]!.field),
    adapters: {},
    images: [],
  };
  for (const prompt of chosen) {
    const type = prompt.type as AdapterPromptType;
    const files = findImagePromptFiles(type, family);
    if (files === null) throw new ImageRequestError(`${prompt.field}.type`, 'family', `${type} has no IP-Adapter for ${family} models`);
    inputs.adapters[type] = await verify(files[1]!, `${prompt.field}.type`);
    if (type === 'FaceSwap') inputs.faceDetector = await verify(IMAGE_PROMPT_FILES.faceDetector, `${prompt.field}.type`);
    const image = await readPromptImage(context, prompt.file, prompt.field);
    inputs.images.push({ image, type, stopAt: prompt.stopAt, weight: prompt.weight, field: prompt.field });
  }
  return inputs;
}

/** A job's PyraCanny and CPDS prompts: their control-LoRA files (verified) and hints (see control-hint-step.ts). */
export interface ControlInputs {
  files: ControlFiles;
  hints: ControlHint[];
}

/**
 * The control image prompts of a request with their files verified against the trust manifest and their hints
 * computed at the request's size; undefined when it has none. A prompt that is never active (weight 0 or stop 0)
 * has no hint, so a job of only those runs the plain UNet.
 */
export async function readControlInputs(request: ImageRequest, context: ImagePromptReadContext): Promise<ControlInputs | undefined> {
  const chosen = (request.imagePrompts ?? []).map((p, i) => ({ ...p, field: `imagePrompts[${i}]` })).filter((p) => !isAdapterPromptType(p.type));
  if (chosen.length === 0) return undefined;
  const files: ControlFiles = {};
  for (const prompt of chosen) {
    const type = prompt.type as ControlPromptType;
    if (files[type] !== undefined) continue;
    const file = CONTROL_FILES[type];
    const entry = context.listing.find((m) => m.kind === file.kind && m.name === file.name);
    if (entry === undefined) throw new ImageRequestError(`${prompt.field}.type`, 'installed', `${file.kind}/${file.name} is not in the trust manifest; add it with ${CONTROL_IMPORT_HINT}`);
    files[type] = { path: await context.store.resolve(file.kind, file.name, context.signal ? { signal: context.signal } : {}), sha256: entry.sha256 };
  }
  const fieldOf = (file: string): string => chosen.find((p) => p.file === file)?.field ?? 'imagePrompts';
  const hints = await prepareControlHints(chosen, { width: request.width, height: request.height }, (file) => readPromptImage(context, file, fieldOf(file)));
  return { files, hints };
}

/**
 * The image prompts and mixing switches as the saved image's metadata records them: each prompt's type, stop-at
 * and weight, and its image's file name and the SHA-256 of its bytes (never the pixels); nothing without prompts.
 */
export async function recordImagePrompts(request: ImageRequest, inputDir: string, images: readonly ProvidedImage[] = []): Promise<Pick<InputImageParameters, 'imagePrompts' | 'mixImagePromptAndVary' | 'mixImagePromptAndInpaint'>> {
  const prompts = request.imagePrompts ?? [];
  if (prompts.length === 0) return {};
  const imagePrompts = [];
  for (const p of prompts) {
    const provided = images.find((i) => i.file === p.file);
    // A sent image without its digest is recorded by name only rather than hashed from something else.
    const sha256 = provided !== undefined ? provided.sha256 : createHash('sha256').update(await readFile(path.resolve(inputDir, p.file))).digest('hex');
    imagePrompts.push({ type: p.type, stopAt: p.stopAt, weight: p.weight, image: path.basename(p.file), ...(sha256 === undefined ? {} : { imageSha256: sha256 }) });
  }
  return {
    imagePrompts,
    ...(request.mixImagePromptAndVary === undefined ? {} : { mixImagePromptAndVary: request.mixImagePromptAndVary }),
    ...(request.mixImagePromptAndInpaint === undefined ? {} : { mixImagePromptAndInpaint: request.mixImagePromptAndInpaint }),
  };
}
