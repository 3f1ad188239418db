/**
 * The Input Image choices behind a file's record, both ways: this project's ids (`vary-subtle`, `default`,
 * `fooocus-v2.6`) and the labels the metadata records (Fooocus's own where it has them: `Vary (Subtle)`,
 * `Inpaint or Outpaint (default)`, engine `v2.6`). The use case writes the labels; history Reuse and an image
 * dropped on the page read them back into choices. Labels this project does not know are left out rather than
 * guessed, and the mask is not in the file, so an inpaint comes back without one.
 */
import type { InputImageParameters, OutpaintSide } from './generation-parameters.ts';

export const UOV_METHOD_LABELS = {
  'vary-subtle': 'Vary (Subtle)',
  'vary-strong': 'Vary (Strong)',
  'upscale-1.5x': 'Upscale (1.5x)',
  'upscale-2x': 'Upscale (2x)',
  'upscale-fast-2x': 'Upscale (Fast 2x)',
  'upscale-custom': 'Upscale (Custom)',
} as const;

/** Fooocus's `flags.inpaint_options`. */
export const INPAINT_METHOD_LABELS = {
  default: 'Inpaint or Outpaint (default)',
  detail: 'Improve Detail (face, hand, eyes, etc.)',
  modify: 'Modify Content (add objects, change background, etc.)',
} as const;

/** Fooocus's `inpaint_engine_version` for its own engine; the others have no Fooocus name and keep ours. */
export const INPAINT_ENGINE_LABELS = { 'fooocus-v2.6': 'v2.6', 'inpaint-checkpoint': 'inpaint-checkpoint', 'latent-blend': 'latent-blend' } as const;

export const RECORDED_OUTPAINT_SIDES: [keyof RecordedOutpaint, OutpaintSide][] = [
  ['left', 'Left'],
  ['right', 'Right'],
  ['top', 'Top'],
  ['bottom', 'Bottom'],
];

export type RecordedOutpaintAmount = { px: number } | { percent: number };
export interface RecordedOutpaint {
  left?: RecordedOutpaintAmount;
  right?: RecordedOutpaintAmount;
  top?: RecordedOutpaintAmount;
  bottom?: RecordedOutpaintAmount;
}

export interface RecordedInputImageChoices {
  varyUpscale?: { mode: keyof typeof UOV_METHOD_LABELS; factor?: number; upscaler?: string };
  inpaint?: {
    mode: keyof typeof INPAINT_METHOD_LABELS;
    engine?: keyof typeof INPAINT_ENGINE_LABELS;
    strength?: number;
    respectiveField?: number;
    maskErode?: number;
    invertMask?: boolean;
    additionalPrompt?: string;
    outpaint?: RecordedOutpaint;
  };
}

/** The request choices a file's record restores (a fast upscale Fooocus recorded reads as Upscale (Fast 2x)). */
export function readInputImageChoices(p: InputImageParameters | undefined): RecordedInputImageChoices {
  if (p === undefined) return {};
  const uov = findKey(UOV_METHOD_LABELS, p.uovMethod);
  if (uov !== undefined) {
    return {
      varyUpscale: {
        mode: uov,
        ...(uov === 'upscale-custom' && p.upscaleFactor !== undefined ? { factor: p.upscaleFactor } : {}),
        ...(p.upscaler === undefined ? {} : { upscaler: `${p.upscaler}.safetensors` }),
      },
    };
  }
  const mode = findKey(INPAINT_METHOD_LABELS, p.inpaintMethod) ?? (p.outpaint !== undefined ? 'default' : undefined);
  if (mode === undefined) return {};
  const engine = findKey(INPAINT_ENGINE_LABELS, p.inpaintEngine);
  const outpaint: RecordedOutpaint = {};
  for (const { side, size } of p.outpaint ?? []) outpaint[RECORDED_OUTPAINT_SIDES.find(([, s]) => s === side)![0]] = readAmount(size);
  return {
    inpaint: {
      mode,
      ...(engine === undefined ? {} : { engine }),
      ...(p.inpaintStrength === undefined ? {} : { strength: p.inpaintStrength }),
      ...(p.inpaintRespectiveField === undefined ? {} : { respectiveField: p.inpaintRespectiveField }),
      ...(p.inpaintErodeOrDilate === undefined ? {} : { maskErode: p.inpaintErodeOrDilate }),
      ...(p.invertMask === undefined ? {} : { invertMask: p.invertMask }),
      ...(p.inpaintAdditionalPrompt === undefined ? {} : { additionalPrompt: p.inpaintAdditionalPrompt }),
      ...(Object.keys(outpaint).length === 0 ? {} : { outpaint }),
    },
  };
}

function readAmount(size: string): RecordedOutpaintAmount {
  return size.endsWith('px') ? { px: Number(size.slice(0, -2)) } : { percent: Number(size.slice(0, -1)) };
}

function findKey<K extends string>(labels: Readonly<Record<K, string>>, label: string | undefined): K | undefined {
  return (Object.keys(labels) as K[]).find((key) => labels[key] === label);
}
