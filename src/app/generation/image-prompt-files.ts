/**
 * The model files each image prompt type needs, by the names Fooocus downloads them under (as .safetensors), and
 * the check at submit that they are installed. The IP-Adapter types share the CLIP vision encoder and Fooocus's
 * unconditional image embedding; FaceSwap adds the face detector (converted from facexlib's RetinaFace).
 */
import path from 'node:path';
import { readImageFile, type AdapterPromptType, type ModelFamily } from '../../engine/index.ts';
import type { ModelKind } from '../models/model-kinds.ts';
import type { ModelListing, ModelStore } from '../models/model-store.ts';
import type { ImagePromptInputs, VerifiedFile } from './image-prompt-runner.ts';
import { ImageRequestError, type ImagePromptChoice, type ImageRequest } from './image-request.ts';

export interface StoreFile {
  kind: ModelKind;
  name: string;
}

/** The catalog has no pinned entries for these files yet: the user imports (or converts) the ones Fooocus downloads. */
const IMPORT_HINT = '`npm run fooocus -- models import <file> --kind <kind>` (IP-Adapters as the publisher\'s .safetensors; the face detector through `models convert`)';

export const IMAGE_PROMPT_FILES = {
  visionEncoder: { kind: 'clip_vision', name: 'clip_vision_vit_h.safetensors' },
  negative: { kind: 'controlnet', name: 'fooocus_ip_negative.safetensors' },
  faceDetector: { kind: 'controlnet', name: 'detection_Resnet50_Final.safetensors' },
} as const satisfies Record<string, StoreFile>;

const ADAPTERS: Partial<Record<ModelFamily, Record<AdapterPromptType, string>>> = {
  sdxl: { ImagePrompt: 'ip-adapter-plus_sdxl_vit-h.safetensors', FaceSwap: 'ip-adapter-plus-face_sdxl_vit-h.safetensors' },
  sd15: { ImagePrompt: 'ip-adapter-plus_sd15.safetensors', FaceSwap: 'ip-adapter-plus-face_sd15.safetensors' },
};

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
    if (!isAdapterPromptType(prompt.type)) return;
    const field = `imagePrompts[${i}].type`;
    const files = findImagePromptFiles(prompt.type, family);
    if (files === null) throw new ImageRequestError(field, 'family', `${prompt.type} has no IP-Adapter for ${family} models`);
    const missing = files.filter((f) => !listing.some((m) => m.kind === f.kind && m.name === f.name));
    if (missing.length > 0) {
      throw new ImageRequestError(field, 'installed', `${prompt.type} needs ${missing.map((f) => `${f.kind}/${f.name}`).join(', ')}; add each with ${IMPORT_HINT}`);
    }
  });
}

export interface ImagePromptReadContext {
  store: ModelStore;
  listing: readonly ModelListing[];
  /** Where relative image paths are (the outputs directory, for uploads). */
  inputDir: string;
  signal?: AbortSignal;
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
    const image = await readImageFile(path.resolve(context.inputDir, prompt.file), { source: prompt.field });
    inputs.images.push({ image, type, stopAt: prompt.stopAt, weight: prompt.weight, field: prompt.field });
  }
  return inputs;
}
