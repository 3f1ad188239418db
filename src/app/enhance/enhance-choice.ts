/**
 * Checks an Enhance choice at submit and fills in what each tab leaves out, so the stored request says what ran.
 * Fooocus's numbers (its Enhance tabs): up to three tabs; each repaints with the inpaint's Default mode (v2.6
 * engine where installed, strength 1.0, respective field 0.618) unless it says otherwise; GroundingDINO keeps
 * boxes scoring over 0.3 whose phrase scores over 0.25, and SAM's masks of at most `maxDetections` boxes (0: all)
 * are merged. A tab's empty prompt or negative prompt falls back to the request's. An Upscale or Vary runs before
 * the first tab unless `varyUpscaleOrder` says after.
 *
 * Every refusal names the field as the client sent it (`enhance.tabs[1].strength`); the inpaint and Upscale/Vary
 * rules are the Input Image tabs' own, renamed.
 */
import { classifyForegroundPrompt, type ModelFamily } from '../../engine/index.ts';
import type { ModelListing } from '../models/model-store.ts';
import { ImageRequestError, type EnhanceChoice, type EnhanceTab, type InpaintChoice } from '../generation/image-request.ts';
import { resolveInpaintChoice } from '../generation/inpaint-step.ts';
import { prepareVaryUpscale } from '../generation/vary-upscale-step.ts';
import { describeTextDetectorImport, listMissingTextDetectorFiles } from './text-detector-files.ts';

export const ENHANCE_LIMITS = {
  tabs: { min: 0, max: 3 },
  detectionPrompt: { maxLength: 200 },
  threshold: { min: 0, max: 1 },
  maxDetections: { min: 0, max: 10 },
} as const;

export const ENHANCE_DETECTION_DEFAULTS = { boxThreshold: 0.3, textThreshold: 0.25, maxDetections: 0 } as const;

/** Foreground-mask files preferred when a tab names none, in order (Fooocus's default mask model first). */
export const PREFERRED_FOREGROUND_MODELS = ['isnet-general-use.onnx', 'u2net.onnx', 'u2net_human_seg.onnx', 'silueta.onnx', 'u2netp.onnx'] as const;

export const ENHANCE_ORDERS = ['before', 'after'] as const;

/**
 * What finds a tab's region: a foreground-mask model for "person"/"foreground"/"subject"/"background", else the
 * text detector (GroundingDINO boxes, SAM masks; its files are fixed, see text-detector-files.ts).
 */
export type DetectorPlan = { kind: 'foreground'; file: string } | { kind: 'text' };

export interface EnhanceContext {
  family: ModelFamily;
  listing: readonly ModelListing[];
  /** The size of the image the tabs work on (the request's result before Enhance). */
  size: { width: number; height: number };
  readUpscalerScale?: (name: string) => Promise<number>;
  maxPixels?: number;
}

function refuse(field: string, rule: string, message: string): ImageRequestError {
  return new ImageRequestError(field, rule, message);
}

/** Runs a check written for another field and renames that field in the refusal. */
function renamed<T>(from: string, to: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof ImageRequestError) || !err.field.startsWith(from)) throw err;
    const field = `${to}${err.field.slice(from.length)}`;
    throw refuse(field, err.rule, err.message.split(from).join(to));
  }
}

async function renamedAsync<T>(from: string, to: string, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    return renamed(from, to, () => {
      throw err;
    });
  }
}

function checkUnit(field: string, value: unknown, min: number, max: number, integer = false): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw refuse(field, 'range', `${field} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got ${String(value)}`);
  }
}

function checkText(field: string, value: unknown, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'string') throw refuse(field, 'format', `${field} must be a string`);
  if (required && value.trim() === '') throw refuse(field, 'required', `${field} is required: what to find ("face", "hand", "person", "background")`);
}

/** The installed foreground-mask files (the store's `detection` folder, ONNX). */
export function listForegroundModels(listing: readonly ModelListing[]): string[] {
  return listing.filter((m) => m.kind === 'detection' && m.name.toLowerCase().endsWith('.onnx')).map((m) => m.name);
}

/** How a tab's region is found, refused naming the tab's field when nothing installed can find it. */
export function planRegionDetector(tab: EnhanceTab, listing: readonly ModelListing[], field: string): DetectorPlan {
  const side = classifyForegroundPrompt(tab.detectionPrompt);
  if (side === null) {
    if (tab.maskModel !== undefined) {
      throw refuse(`${field}.maskModel`, 'detector', `${field}.maskModel picks a foreground-mask model, which finds only "person", "foreground", "subject" and "background"; "${tab.detectionPrompt}" is found by GroundingDINO and SAM`);
    }
    const missing = listMissingTextDetectorFiles(listing);
    if (missing.length > 0) {
      throw refuse(
        `${field}.detectionPrompt`,
        'detector',
        `${field}.detectionPrompt "${tab.detectionPrompt}" needs GroundingDINO and SAM; missing from the model store: ${missing.map((f) => `${f.kind}/${f.name}`).join(', ')}. Add ${missing.length === 1 ? 'it' : 'each'} with ${missing.map(describeTextDetectorImport).join('; ')}`,
      );
    }
    return { kind: 'text' };
  }
  const installed = listForegroundModels(listing);
  if (tab.maskModel !== undefined) {
    if (!installed.includes(tab.maskModel)) {
      throw refuse(`${field}.maskModel`, 'installed', `${field}.maskModel "${tab.maskModel}" is not an ONNX file in the model store's detection folder${installed.length > 0 ? ` (installed: ${installed.join(', ')})` : ''}`);
    }
    return { kind: 'foreground', file: tab.maskModel };
  }
  const file = PREFERRED_FOREGROUND_MODELS.find((name) => installed.includes(name)) ?? installed.sort()[0];
  if (file === undefined) {
    throw refuse(
      `${field}.maskModel`,
      'installed',
      `${field}: finding "${tab.detectionPrompt}" needs a foreground-mask model (rembg's u2net.onnx or isnet-general-use.onnx): add one with \`npm run fooocus -- models import <file> --kind detection\``,
    );
  }
  return { kind: 'foreground', file };
}

/** The inpaint choice a tab repaints with (its mask comes from the detector). */
export function toTabInpaint(tab: EnhanceTab): InpaintChoice {
  return {
    mode: tab.mode ?? 'default',
    ...(tab.engine === undefined ? {} : { engine: tab.engine }),
    ...(tab.strength === undefined ? {} : { strength: tab.strength }),
    ...(tab.respectiveField === undefined ? {} : { respectiveField: tab.respectiveField }),
    ...(tab.maskErode === undefined ? {} : { maskErode: tab.maskErode }),
    ...(tab.invertMask === undefined ? {} : { invertMask: tab.invertMask }),
  };
}

function resolveTab(tab: EnhanceTab, at: number, context: EnhanceContext): EnhanceTab {
  const field = `enhance.tabs[${at}]`;
  if (typeof tab !== 'object' || tab === null) throw refuse(field, 'format', `${field} must be an object`);
  checkText(`${field}.detectionPrompt`, tab.detectionPrompt, true);
  if (tab.detectionPrompt.length > ENHANCE_LIMITS.detectionPrompt.maxLength) {
    throw refuse(`${field}.detectionPrompt`, 'range', `${field}.detectionPrompt is longer than ${ENHANCE_LIMITS.detectionPrompt.maxLength} characters`);
  }
  checkText(`${field}.prompt`, tab.prompt, false);
  checkText(`${field}.negative`, tab.negative, false);
  const { threshold, maxDetections } = ENHANCE_LIMITS;
  if (tab.boxThreshold !== undefined) checkUnit(`${field}.boxThreshold`, tab.boxThreshold, threshold.min, threshold.max);
  if (tab.textThreshold !== undefined) checkUnit(`${field}.textThreshold`, tab.textThreshold, threshold.min, threshold.max);
  if (tab.maxDetections !== undefined) checkUnit(`${field}.maxDetections`, tab.maxDetections, maxDetections.min, maxDetections.max, true);
  // The inpaint's own rules, with a stand-in mask: the tab's mask is found when it runs.
  const inpaint = renamed('inpaint', field, () => resolveInpaintChoice({ ...toTabInpaint(tab), mask: 'detected' }, { hasInput: true, family: context.family, listing: context.listing }));
  const plan = planRegionDetector(tab, context.listing, field);
  return {
    ...tab,
    ...(plan.kind === 'foreground' ? { maskModel: plan.file } : {}),
    mode: inpaint.mode,
    strength: inpaint.strength!,
    respectiveField: inpaint.respectiveField!,
    boxThreshold: tab.boxThreshold ?? ENHANCE_DETECTION_DEFAULTS.boxThreshold,
    textThreshold: tab.textThreshold ?? ENHANCE_DETECTION_DEFAULTS.textThreshold,
    maxDetections: tab.maxDetections ?? ENHANCE_DETECTION_DEFAULTS.maxDetections,
  };
}

/** Checks a choice (refusals name the field) and fills in each tab's defaults and the Upscale/Vary's files. */
export async function resolveEnhanceChoice(choice: EnhanceChoice, context: EnhanceContext): Promise<EnhanceChoice> {
  if (typeof choice !== 'object' || choice === null || !Array.isArray(choice.tabs)) throw refuse('enhance.tabs', 'format', 'enhance.tabs must be a list of tabs');
  const { min, max } = ENHANCE_LIMITS.tabs;
  if (choice.tabs.length < min || choice.tabs.length > max) throw refuse('enhance.tabs', 'range', `enhance.tabs holds ${min} to ${max} tabs, got ${choice.tabs.length}`);
  if (choice.tabs.length === 0 && choice.varyUpscale === undefined) throw refuse('enhance.tabs', 'required', 'enhance needs at least one tab (or enhance.varyUpscale)');
  if (choice.varyUpscaleOrder !== undefined && !(ENHANCE_ORDERS as readonly string[]).includes(choice.varyUpscaleOrder)) {
    throw refuse('enhance.varyUpscaleOrder', 'known', `enhance.varyUpscaleOrder must be one of ${ENHANCE_ORDERS.join(', ')}, got "${String(choice.varyUpscaleOrder)}"`);
  }
  if (choice.varyUpscaleOrder !== undefined && choice.varyUpscale === undefined) throw refuse('enhance.varyUpscaleOrder', 'required', 'enhance.varyUpscaleOrder needs enhance.varyUpscale');
  const tabs = choice.tabs.map((tab, at) => resolveTab(tab, at, context));
  if (choice.varyUpscale === undefined) return { tabs };
  const vary = choice.varyUpscale;
  const prepared = await renamedAsync('varyUpscale', 'enhance.varyUpscale', () =>
    prepareVaryUpscale(vary, {
      input: context.size,
      family: context.family,
      listing: context.listing,
      ...(context.readUpscalerScale === undefined ? {} : { readUpscalerScale: context.readUpscalerScale }),
      ...(context.maxPixels === undefined ? {} : { maxPixels: context.maxPixels }),
    }),
  );
  return { tabs, varyUpscale: prepared.choice, varyUpscaleOrder: choice.varyUpscaleOrder ?? 'before' };
}
