/**
 * Named sets of catalog models that `models pull --preset <name>` fetches besides the generation presets' own
 * `downloads`: `image-prompt` is every file Fooocus's Image Prompt tab needs on SDXL (its four types). A file with
 * no citable SHA-256 has no catalog entry; the set names it with how to add it by hand, and the pull prints that.
 */
import type { Catalog, CatalogEntry } from './catalog.ts';

export interface ManualModelFile {
  /** The store path the app looks for: `<kind>/<name>`. */
  stored: string;
  /** What to do, as one line the CLI prints. */
  how: string;
}

export interface ModelBundle {
  description: string;
  ids: readonly string[];
  byHand: readonly ManualModelFile[];
}

export const MODEL_BUNDLES: Readonly<Record<string, ModelBundle>> = {
  'image-prompt': {
    description: 'the Image Prompt, FaceSwap, PyraCanny and CPDS files for SDXL models',
    ids: ['fooocus-ip-negative', 'ip-adapter-plus-sdxl-vit-h', 'ip-adapter-plus-face-sdxl-vit-h', 'retinaface-resnet50', 'control-lora-canny-rank128', 'fooocus-xl-cpds-128'],
    byHand: [
      {
        stored: 'clip_vision/clip_vision_vit_h.safetensors',
        how:
          'no published SHA-256 could be pinned for it: download https://huggingface.co/lllyasviel/misc/resolve/main/clip_vision_vit_h.safetensors, ' +
          'compare `sha256sum clip_vision_vit_h.safetensors` with the SHA-256 on that file\'s Hugging Face page, then ' +
          '`npm run fooocus -- models import clip_vision_vit_h.safetensors --kind clip_vision`',
      },
      {
        stored: 'controlnet/ip-adapter-plus_sd15.safetensors, controlnet/ip-adapter-plus-face_sd15.safetensors',
        how:
          'only for SD 1.5 models: download the publisher\'s files from https://huggingface.co/h94/IP-Adapter (models/), check them the same way, then ' +
          '`npm run fooocus -- models import <file> --kind controlnet`',
      },
    ],
  },
};

export function findModelBundle(name: string): ModelBundle | undefined {
  return Object.hasOwn(MODEL_BUNDLES, name) ? MODEL_BUNDLES[name] : undefined;
}

/** The bundle's catalog entries, in its order, and the ids the catalog lacks (a catalog older than the app). */
export function resolveModelBundle(catalog: Catalog, bundle: ModelBundle): { entries: CatalogEntry[]; missing: string[] } {
  const entries: CatalogEntry[] = [];
  const missing: string[] = [];
  for (const id of bundle.ids) {
    const entry = catalog.entries.find((e) => e.id === id);
    if (entry === undefined) missing.push(id);
    else entries.push(entry);
  }
  return { entries, missing };
}
