/**
 * How an image's metadata names the Input Image mode of its request, and back: the request's choices (our ids)
 * become Fooocus's labels (`Vary (Subtle)`, `Improve Detail (face, hand, eyes, etc.)`, engine `v2.6`) so a
 * Fooocus user reading the file recognises them, and a file's labels become the choices again (history Reuse and a
 * dropped image restore the mode). Only what the request chose is recorded: the per-mode defaults stay the use
 * case's, so reading a file back asks for exactly what was asked.
 */
import type { InputImageParameters, OutpaintSide } from '../../engine/index.ts';
import type { InpaintChoice, InpaintEngine, InpaintMode, OutpaintAmount, VaryUpscaleChoice, VaryUpscaleMode } from './image-request.ts';

const UOV_LABELS: Record<VaryUpscaleMode, string> = {
  'vary-subtle': 'Vary (Subtle)',
  'vary-strong': 'Vary (Strong)',
  'upscale-1.5x': 'Upscale (1.5x)',
  'upscale-2x': 'Upscale (2x)',
  'upscale-fast-2x': 'Upscale (Fast 2x)',
  'upscale-custom': 'Upscale (Custom)',
};

/** Fooocus's `flags.inpaint_options`. */
const INPAINT_LABELS: Record<InpaintMode, string> = {
  default: 'Inpaint or Outpaint (default)',
  detail: 'Improve Detail (face, hand, eyes, etc.)',
  modify: 'Modify Content (add objects, change background, etc.)',
};

/** Fooocus's `inpaint_engine_version` for its own engine; the others have no Fooocus name and keep ours. */
const ENGINE_LABELS: Record<InpaintEngine, string> = { 'fooocus-v2.6': 'v2.6', 'inpaint-checkpoint': 'inpaint-checkpoint', 'latent-blend': 'latent-blend' };

const SIDES: [keyof NonNullable<InpaintChoice['outpaint']>, OutpaintSide][] = [
  ['left', 'Left'],
  ['right', 'Right'],
  ['top', 'Top'],
  ['bottom', 'Bottom'],
];

/** The metadata record of a request's Input Image mode; undefined without one. */
export function describeInputImage(request: { varyUpscale?: VaryUpscaleChoice; inpaint?: InpaintChoice }): InputImageParameters | undefined {
  const { varyUpscale, inpaint } = request;
  if (varyUpscale !== undefined) {
    return {
      uovMethod: UOV_LABELS[varyUpscale.mode],
      ...(varyUpscale.factor === undefined ? {} : { upscaleFactor: varyUpscale.factor }),
      ...(varyUpscale.upscaler === undefined ? {} : { upscaler: varyUpscale.upscaler.replace(/\.safetensors$/, '') }),
    };
  }
  if (inpaint === undefined) return undefined;
  const outpaint = SIDES.flatMap(([key, side]) => {
    const amount = inpaint.outpaint?.[key];
    return amount === undefined ? [] : [{ side, size: 'px' in amount ? `${amount.px}px` : `${amount.percent}%` }];
  });
  return {
    inpaintMethod: INPAINT_LABELS[inpaint.mode],
    ...(inpaint.engine === undefined ? {} : { inpaintEngine: ENGINE_LABELS[inpaint.engine] }),
    ...(inpaint.strength === undefined ? {} : { inpaintStrength: inpaint.strength }),
    ...(inpaint.respectiveField === undefined ? {} : { inpaintRespectiveField: inpaint.respectiveField }),
    ...(inpaint.maskErode === undefined ? {} : { inpaintErodeOrDilate: inpaint.maskErode }),
    ...(inpaint.invertMask === undefined ? {} : { invertMask: inpaint.invertMask }),
    ...(inpaint.additionalPrompt === undefined ? {} : { inpaintAdditionalPrompt: inpaint.additionalPrompt }),
    ...(outpaint.length === 0 ? {} : { outpaint }),
  };
}

/**
 * The request choices a file's record restores (the mask itself is not in the file, so an inpaint comes back
 * without one); labels this project does not know are left out rather than guessed.
 */
export function readInputImageChoices(p: InputImageParameters | undefined): { varyUpscale?: VaryUpscaleChoice; inpaint?: InpaintChoice } {
  if (p === undefined) return {};
  const uov = findKey(UOV_LABELS, p.uovMethod);
  if (uov !== undefined) {
    return {
      varyUpscale: {
        mode: uov,
        ...(uov === 'upscale-custom' && p.upscaleFactor !== undefined ? { factor: p.upscaleFactor } : {}),
        ...(p.upscaler === undefined ? {} : { upscaler: `${p.upscaler}.safetensors` }),
      },
    };
  }
  const mode = findKey(INPAINT_LABELS, p.inpaintMethod) ?? (p.outpaint !== undefined ? 'default' : undefined);
  if (mode === undefined) return {};
  const engine = findKey(ENGINE_LABELS, p.inpaintEngine);
  const outpaint: NonNullable<InpaintChoice['outpaint']> = {};
  for (const { side, size } of p.outpaint ?? []) outpaint[SIDES.find(([, s]) => s === side)![0]] = readAmount(size);
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

function readAmount(size: string): OutpaintAmount {
  return size.endsWith('px') ? { px: Number(size.slice(0, -2)) } : { percent: Number(size.slice(0, -1)) };
}

function findKey<K extends string>(labels: Record<K, string>, label: string | undefined): K | undefined {
  return (Object.keys(labels) as K[]).find((key) => labels[key] === label);
}
