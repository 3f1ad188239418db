/**
 * The Input Image panel's values (which tab, and each tab's choices), how they become the generate request's
 * `varyUpscale` or `inpaint` field, and how a job's request (history Reuse) fills them back in. Field names and
 * values are the API's (GET /api/openapi.json); the labels live in the panel.
 */
import type { EnhanceTabRequest, GenerateRequest, InpaintRequest, OutpaintAmount } from './api-types.ts';

export const OUTPAINT_SIDES = ['left', 'right', 'top', 'bottom'] as const;
export type OutpaintSideName = (typeof OUTPAINT_SIDES)[number];

export interface InputImageValues {
  /** What the input image is for: image to image (`image`), Upscale or Variation (`uov`), Inpaint or Outpaint (`inpaint`), Enhance (`enhance`). */
  tab: 'image' | 'uov' | 'inpaint' | 'enhance';
  uovMode: string;
  /** '' lets the server choose (Fooocus's upscaler, else the only one installed). */
  upscaler: string;
  /** upscale-custom only. */
  upscaleFactor: number;
  inpaintMode: string;
  /** '' lets the server choose from what is installed. */
  inpaintEngine: string;
  /** null: the mode's default. */
  inpaintStrength: number | null;
  respectiveField: number | null;
  /** Positive erodes, negative dilates (pixels). */
  maskErode: number;
  invertMask: boolean;
  additionalPrompt: string;
  outpaintSides: OutpaintSideName[];
  /** The padding of each chosen side, in `outpaintUnit`. */
  outpaintAmount: number;
  outpaintUnit: 'percent' | 'px';
  /** The drawn mask, uploaded just before the request is sent; null when none is drawn. */
  maskImageId: string | null;
  /** The Enhance tabs (at most three); a tab without a detection prompt is left out of the request. */
  enhanceTabs: EnhanceTabValues[];
  /** Enhance's own Vary or Upscale (a `varyUpscale` mode), '' for none; and whether it runs before or after the tabs. */
  enhanceVary: string;
  enhanceVaryOrder: 'before' | 'after';
  /** "Describe then generate": the describer that writes the prompt when it is empty, or null. */
  describeFirst: 'photo' | 'anime' | null;
}

export interface EnhanceTabValues {
  detectionPrompt: string;
  prompt: string;
  negative: string;
  /** null: the server's default (1.0). */
  strength: number | null;
  maskErode: number;
  invertMask: boolean;
}

export const ENHANCE_TAB_COUNT = 3;
export const EMPTY_ENHANCE_TAB: EnhanceTabValues = { detectionPrompt: '', prompt: '', negative: '', strength: null, maskErode: 0, invertMask: false };

/** Fooocus's defaults: Vary (Subtle), the default inpaint method, 30 % outpaint. */
export const DEFAULT_INPUT_IMAGE: InputImageValues = {
  tab: 'image',
  uovMode: 'vary-subtle',
  upscaler: '',
  upscaleFactor: 2,
  inpaintMode: 'default',
  inpaintEngine: '',
  inpaintStrength: null,
  respectiveField: null,
  maskErode: 0,
  invertMask: false,
  additionalPrompt: '',
  outpaintSides: [],
  outpaintAmount: 30,
  outpaintUnit: 'percent',
  maskImageId: null,
  enhanceTabs: Array.from({ length: ENHANCE_TAB_COUNT }, () => ({ ...EMPTY_ENHANCE_TAB })),
  enhanceVary: '',
  enhanceVaryOrder: 'before',
  describeFirst: null,
};

function toEnhanceTab(values: EnhanceTabValues): EnhanceTabRequest {
  const tab: EnhanceTabRequest = { detectionPrompt: values.detectionPrompt.trim() };
  if (values.prompt.trim() !== '') tab.prompt = values.prompt;
  if (values.negative.trim() !== '') tab.negative = values.negative;
  if (values.strength !== null) tab.strength = values.strength;
  if (values.maskErode !== 0) tab.maskErode = values.maskErode;
  if (values.invertMask) tab.invertMask = true;
  return tab;
}

function buildEnhance(values: InputImageValues): NonNullable<GenerateRequest['enhance']> {
  const tabs = values.enhanceTabs.filter((t) => t.detectionPrompt.trim() !== '').map(toEnhanceTab);
  if (values.enhanceVary === '') return { tabs };
  // Before is the server's default, so only "after" is sent.
  return { tabs, varyUpscale: { mode: values.enhanceVary }, ...(values.enhanceVaryOrder === 'after' ? { varyUpscaleOrder: 'after' as const } : {}) };
}

/** The `varyUpscale` or `inpaint` field for the chosen tab; nothing for plain image to image. */
export function buildInputImageFields(values: InputImageValues): Pick<GenerateRequest, 'varyUpscale' | 'inpaint' | 'enhance'> {
  if (values.tab === 'enhance') return { enhance: buildEnhance(values) };
  if (values.tab === 'uov') {
    const vary = values.uovMode.startsWith('vary-');
    return {
      varyUpscale: {
        mode: values.uovMode,
        ...(values.uovMode === 'upscale-custom' ? { factor: values.upscaleFactor } : {}),
        ...(!vary && values.upscaler !== '' ? { upscaler: values.upscaler } : {}),
      },
    };
  }
  if (values.tab !== 'inpaint') return {};
  const amount: OutpaintAmount = values.outpaintUnit === 'px' ? { px: Math.round(values.outpaintAmount) } : { percent: values.outpaintAmount };
  const inpaint: InpaintRequest = { mode: values.inpaintMode };
  if (values.maskImageId !== null) inpaint.mask = values.maskImageId;
  if (values.inpaintEngine !== '') inpaint.engine = values.inpaintEngine;
  if (values.inpaintStrength !== null) inpaint.strength = values.inpaintStrength;
  if (values.respectiveField !== null) inpaint.respectiveField = values.respectiveField;
  if (values.maskErode !== 0) inpaint.maskErode = values.maskErode;
  if (values.invertMask) inpaint.invertMask = true;
  if (values.additionalPrompt.trim() !== '') inpaint.additionalPrompt = values.additionalPrompt;
  if (values.outpaintSides.length > 0) inpaint.outpaint = Object.fromEntries(values.outpaintSides.map((side) => [side, { ...amount }]));
  return { inpaint };
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const finite = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/**
 * The panel's values a job's request sets (its mode and parameters; the mask is not restored, the input image
 * having to be chosen again), or undefined when the request used no Input Image mode.
 */
export function patchInputImageFromRequest(request: Record<string, unknown>): InputImageValues | undefined {
  const { varyUpscale, inpaint, enhance } = request;
  if (isRecord(enhance) && Array.isArray(enhance.tabs)) {
    const tabs = enhance.tabs.filter(isRecord).slice(0, ENHANCE_TAB_COUNT).map((t): EnhanceTabValues => ({
      detectionPrompt: typeof t.detectionPrompt === 'string' ? t.detectionPrompt : '',
      prompt: typeof t.prompt === 'string' ? t.prompt : '',
      negative: typeof t.negative === 'string' ? t.negative : '',
      strength: finite(t.strength),
      maskErode: finite(t.maskErode) ?? 0,
      invertMask: t.invertMask === true,
    }));
    while (tabs.length < ENHANCE_TAB_COUNT) tabs.push({ ...EMPTY_ENHANCE_TAB });
    const vary = isRecord(enhance.varyUpscale) && typeof enhance.varyUpscale.mode === 'string' ? enhance.varyUpscale.mode : '';
    return { ...DEFAULT_INPUT_IMAGE, tab: 'enhance', enhanceTabs: tabs, enhanceVary: vary, enhanceVaryOrder: vary !== '' && enhance.varyUpscaleOrder === 'after' ? 'after' : 'before' };
  }
  if (isRecord(varyUpscale) && typeof varyUpscale.mode === 'string') {
    return {
      ...DEFAULT_INPUT_IMAGE,
      tab: 'uov',
      uovMode: varyUpscale.mode,
      upscaler: typeof varyUpscale.upscaler === 'string' ? varyUpscale.upscaler : '',
      upscaleFactor: finite(varyUpscale.factor) ?? DEFAULT_INPUT_IMAGE.upscaleFactor,
    };
  }
  if (!isRecord(inpaint) || typeof inpaint.mode !== 'string') return undefined;
  const outpaint = isRecord(inpaint.outpaint) ? inpaint.outpaint : {};
  const sides = OUTPAINT_SIDES.filter((side) => isRecord(outpaint[side]));
  const first = sides.length > 0 ? (outpaint[sides[0]!] as Record<string, unknown>) : {};
  return {
    ...DEFAULT_INPUT_IMAGE,
    tab: 'inpaint',
    inpaintMode: inpaint.mode,
    inpaintEngine: typeof inpaint.engine === 'string' ? inpaint.engine : '',
    inpaintStrength: finite(inpaint.strength),
    respectiveField: finite(inpaint.respectiveField),
    maskErode: finite(inpaint.maskErode) ?? 0,
    invertMask: inpaint.invertMask === true,
    additionalPrompt: typeof inpaint.additionalPrompt === 'string' ? inpaint.additionalPrompt : '',
    outpaintSides: sides,
    ...(finite(first.px) !== null ? { outpaintAmount: finite(first.px)!, outpaintUnit: 'px' as const } : {}),
    ...(finite(first.percent) !== null ? { outpaintAmount: finite(first.percent)!, outpaintUnit: 'percent' as const } : {}),
  };
}

/**
 * What a restored Input Image mode still lacks: the input image (never in a file or a job's request as pixels the
 * page can reuse) and, for an inpaint that is not only an outpaint, its mask.
 */
export function listInputImageNotRestored(values: InputImageValues): { key: string; value: string; reason: string }[] {
  const missing = [{ key: 'input image', value: '', reason: 'choose or drop it again' }];
  if (values.tab === 'inpaint' && values.outpaintSides.length === 0) missing.push({ key: 'mask', value: '', reason: 'draw or upload it again' });
  return missing;
}
