/**
 * Named sets of catalog models that `models pull --preset <name>` fetches besides the generation presets' own
 * `downloads`: `image-prompt` is every file Fooocus's Image Prompt tab needs on SDXL (its four types) and on SD 1.5
 * (Image Prompt and FaceSwap; PyraCanny and CPDS are SDXL only). A file with no citable SHA-256 has no catalog
 * entry; a set names such a file in `byHand` with how to add it, and the pull prints that.
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
    description: 'the Image Prompt, FaceSwap, PyraCanny and CPDS files for SDXL models, and the Image Prompt and FaceSwap adapters for SD 1.5 models',
    // The vision encoder last: a hand-imported file of the same name (a different digest) stops the pull only there.
    ids: [
      'fooocus-ip-negative',
      'ip-adapter-plus-sdxl-vit-h',
      'ip-adapter-plus-face-sdxl-vit-h',
      'ip-adapter-plus-sd15',
      'ip-adapter-plus-face-sd15',
      'retinaface-resnet50',
      'control-lora-canny-rank128',
      'fooocus-xl-cpds-128',
      'clip-vision-vit-h14-laion2b',
    ],
    byHand: [],
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
