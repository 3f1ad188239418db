/**
 * `--enhance "detect=person;prompt=...;strength=0.8"` (repeatable, at most three): one Enhance tab per value, its
 * settings as `key=value` parts separated by semicolons (`invert` alone sets invertMask); `--enhance-vary MODE` and
 * `--enhance-order before|after` add Enhance's own Upscale or Vary, run before the first tab or after the last.
 * The CLI parses the syntax only; the use case checks each value and names the field (`enhance.tabs[1].strength`).
 */
import type { EnhanceChoice, EnhanceTab, InpaintEngine, InpaintMode, VaryUpscaleMode } from '../../app/generation/image-request.ts';
import { ENHANCE_LIMITS } from '../../app/enhance/enhance-choice.ts';
import { UsageError } from '../command.ts';

export const ENHANCE_OPTIONS = {
  enhance: { type: 'string', multiple: true },
  'enhance-vary': { type: 'string' },
  'enhance-order': { type: 'string' },
} as const;

/** `--enhance-vary` names, as `--vary` and `--upscale` spell them (a custom factor has no spelling here). */
const VARY_NAMES: Readonly<Record<string, VaryUpscaleMode>> = { subtle: 'vary-subtle', strong: 'vary-strong', '1.5x': 'upscale-1.5x', '2x': 'upscale-2x', fast: 'upscale-fast-2x' };

export const ENHANCE_USAGE = [
  "Enhance (Fooocus's Enhance; up to three tabs, run after the image is made, or on --input alone):",
  '  --enhance "detect=PROMPT[;prompt=TEXT][;negative=TEXT][;mode=default|detail|modify][;engine=ENGINE]',
  '             [;strength=S][;field=K][;erode=PX][;invert][;box=T][;text=T][;max=N][;model=FILE]"',
  '                            detect: person, foreground, subject or background (a foreground-mask model in',
  '                            the store\'s detection folder), or any other prompt such as face or hand',
  '                            (GroundingDINO and SAM); a tab that finds nothing is skipped',
  '  --enhance-vary subtle|strong|1.5x|2x|fast',
  '                            Vary or Upscale the image as part of Enhance (upscales use the default upscaler)',
  '  --enhance-order before|after',
  '                            run it before the first tab (default) or after the last',
].join('\n');

type TextKey = 'detectionPrompt' | 'prompt' | 'negative' | 'maskModel';
type NumberKey = 'strength' | 'respectiveField' | 'maskErode' | 'boxThreshold' | 'textThreshold' | 'maxDetections';

const TEXT_KEYS: Readonly<Record<string, TextKey>> = { detect: 'detectionPrompt', prompt: 'prompt', negative: 'negative', model: 'maskModel' };
const NUMBER_KEYS: Readonly<Record<string, NumberKey>> = { strength: 'strength', field: 'respectiveField', erode: 'maskErode', box: 'boxThreshold', text: 'textThreshold', max: 'maxDetections' };

function parseTab(value: string): EnhanceTab {
  const tab: Partial<EnhanceTab> = {};
  for (const part of value.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const text = eq < 0 ? undefined : part.slice(eq + 1).trim();
    if (key === 'invert' && (text === undefined || text === 'true' || text === 'false')) {
      tab.invertMask = text !== 'false';
    } else if (text === undefined) {
      throw new UsageError(`--enhance "${value}": "${part}" is not key=value`);
    } else if (TEXT_KEYS[key] !== undefined) {
      tab[TEXT_KEYS[key]] = text;
    } else if (NUMBER_KEYS[key] !== undefined) {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) throw new UsageError(`--enhance "${value}": ${key} must be a number, got "${text}"`);
      tab[NUMBER_KEYS[key]] = n;
    } else if (key === 'mode') {
      tab.mode = text as InpaintMode;
    } else if (key === 'engine') {
      tab.engine = text as InpaintEngine;
    } else {
      throw new UsageError(`--enhance "${value}": unknown key "${key}"; keys: detect, prompt, negative, mode, engine, strength, field, erode, invert, box, text, max, model`);
    }
  }
  if (tab.detectionPrompt === undefined || tab.detectionPrompt === '') throw new UsageError(`--enhance "${value}": detect=PROMPT is required (what to find, e.g. detect=person)`);
  return tab as EnhanceTab;
}

/** The Upscale or Vary of `--enhance-vary` and `--enhance-order`; refused without tabs to go with. */
function parseEnhanceVary(vary: string | undefined, order: string | undefined, tabs: boolean): Pick<EnhanceChoice, 'varyUpscale' | 'varyUpscaleOrder'> {
  if (vary === undefined) {
    if (order !== undefined) throw new UsageError('--enhance-order needs --enhance-vary: it says when that Upscale or Vary runs');
    return {};
  }
  if (!tabs) throw new UsageError('--enhance-vary needs at least one --enhance tab');
  const mode = VARY_NAMES[vary.trim().toLowerCase()];
  if (mode === undefined) throw new UsageError(`--enhance-vary must be one of ${Object.keys(VARY_NAMES).join(', ')}, got "${vary}"`);
  const when = order?.trim().toLowerCase();
  if (when !== undefined && when !== 'before' && when !== 'after') throw new UsageError(`--enhance-order must be before or after, got "${order}"`);
  return { varyUpscale: { mode }, ...(when === undefined ? {} : { varyUpscaleOrder: when }) };
}

/** The Enhance choice of `--enhance` (tabs), `--enhance-vary` and `--enhance-order`; undefined when no tab is given. */
export function parseEnhanceOptions(values: readonly string[] | undefined, vary?: string, order?: string): EnhanceChoice | undefined {
  const extra = parseEnhanceVary(vary, order, values !== undefined && values.length > 0);
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > ENHANCE_LIMITS.tabs.max) throw new UsageError(`--enhance: ${values.length} given; at most ${ENHANCE_LIMITS.tabs.max} tabs`);
  return { tabs: values.map(parseTab), ...extra };
}
