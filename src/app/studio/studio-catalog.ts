/**
 * What the studio offers a client to choose from: installed models, styles with their templates, presets with the
 * form values they fill in (and the models they still lack), and the sizes of each model family.
 */
import { findMissingPresetModels, resolvePresetModels } from '../creative/preset-models.ts';
import type { Preset } from '../creative/presets.ts';
import { EXPANSION_STYLE_NAME, RANDOM_STYLE_NAME } from '../creative/style-names.ts';
import { DEMO_MODEL_NAME } from '../demo/demo-model.ts';
import { parseAspectRatio, SD15_ASPECT_RATIOS, SDXL_ASPECT_RATIOS } from '../generation/aspect-ratios.ts';
import type { Studio } from './create-studio.ts';

export interface ModelInfo {
  name: string;
  kind: 'checkpoint' | 'refiner' | 'lora' | 'vae' | 'upscaler';
  family?: string;
  /** The built-in demo checkpoint (random weights): the page says how to get a real model. */
  demo?: boolean;
}

/** A preset with the values it fills the form with; model names are model-store file names. */
export type PresetInfo = Omit<Preset, 'downloads'> & {
  /** The preset's id (its file name without `.json`). */
  name: string;
  /** The preset's models the store lacks; `fooocus models pull --preset <name>` fetches those with a catalog id. */
  missing: { kind: 'checkpoint' | 'lora'; name: string; catalogId: string | null }[];
};

export interface StyleInfo {
  name: string;
  prompt: string;
  negative: string;
}

/** The sizes offered for each model family. */
export interface AspectRatioLists {
  sdxl: AspectRatioInfo[];
  sd15: AspectRatioInfo[];
}

export interface AspectRatioInfo {
  /** `width*height`, as the generate request's aspectRatio takes it. */
  id: string;
  width: number;
  height: number;
}

export interface StudioCatalog {
  listModels(): Promise<ModelInfo[]>;
  /** The built-in switches (expansion, random) first, then the library's styles. */
  listStyles(): Promise<StyleInfo[]>;
  listPresets(): Promise<PresetInfo[]>;
  listAspectRatios(): Promise<AspectRatioLists>;
}

export function createStudioCatalog(studio: Studio): StudioCatalog {
  return {
    listModels: async () => {
      const stored = await studio.store.list();
      return [
        ...stored.filter((m) => m.kind === 'checkpoints').map((m) => ({ name: m.name, kind: 'checkpoint' as const, ...(m.family ? { family: m.family } : {}), ...(m.name === DEMO_MODEL_NAME ? { demo: true } : {}) })),
        ...stored.filter((m) => m.kind === 'loras').map((m) => ({ name: m.name, kind: 'lora' as const })),
        ...stored.filter((m) => m.kind === 'vae').map((m) => ({ name: m.name, kind: 'vae' as const })),
        ...stored.filter((m) => m.kind === 'upscalers').map((m) => ({ name: m.name, kind: 'upscaler' as const })),
      ];
    },
    listStyles: async () => [
      { name: EXPANSION_STYLE_NAME, prompt: '', negative: '' },
      { name: RANDOM_STYLE_NAME, prompt: '', negative: '' },
      ...[...studio.styles.values()].map((s) => ({ name: s.name, prompt: s.prompt, negative: s.negative })),
    ],
    listPresets: async () => {
      const installed = new Set((await studio.store.list()).map((m) => `${m.kind}/${m.name}`));
      return [...studio.presets].map(([name, preset]) => {
        const { downloads: _downloads, ...values } = preset;
        const missing = findMissingPresetModels(preset, studio.catalogFiles, installed).map((m) => ({
          kind: m.kind === 'loras' ? ('lora' as const) : ('checkpoint' as const),
          name: m.fileName,
          catalogId: m.catalogId,
        }));
        return { name, ...values, ...resolvePresetModels(preset, studio.catalogFiles), styles: [...values.styles], missing };
      });
    },
    listAspectRatios: async () => ({
      sdxl: SDXL_ASPECT_RATIOS.map((id) => ({ id, ...parseAspectRatio(id) })),
      sd15: SD15_ASPECT_RATIOS.map((id) => ({ id, ...parseAspectRatio(id) })),
    }),
  };
}
