/**
 * Fooocus's JSON `parameters` (its "fooocus" metadata scheme) into form fields. Read with JSON.parse; keys are
 * snake_case (`guidance_scale`), with the display labels older Fooocus versions wrote (`Guidance Scale`) accepted
 * too. Styles, resolution and LoRAs arrive as Python literals inside strings.
 */
import { PERFORMANCE_MODES, type LoraChoice, type Performance } from './api-types.ts';
import { normalizeSeed, type FormPatch } from './form-values.ts';
import { parsePythonNumbers, parsePythonStrings } from './python-literal.ts';
import { readA1111Sampler } from './sampling-options.ts';

const LABELS: Record<string, string> = {
  prompt: 'Prompt',
  negative_prompt: 'Negative Prompt',
  styles: 'Styles',
  performance: 'Performance',
  resolution: 'Resolution',
  guidance_scale: 'Guidance Scale',
  sharpness: 'Sharpness',
  base_model: 'Base Model',
  refiner_model: 'Refiner Model',
  refiner_switch: 'Refiner Switch',
  sampler: 'Sampler',
  scheduler: 'Scheduler',
  seed: 'Seed',
};

/** Form fields from Fooocus JSON, or null when `text` is not a JSON object. */
export function parseFooocusParameters(text: string): FormPatch | null {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) return null;
  const rec = root as Record<string, unknown>;
  const get = (key: string): unknown => (Object.hasOwn(rec, key) ? rec[key] : Object.hasOwn(rec, LABELS[key] ?? '') ? rec[LABELS[key]!] : undefined);
  const str = (key: string): string | undefined => {
    const value = get(key);
    return typeof value === 'string' ? value : undefined;
  };
  const num = (key: string): number | undefined => {
    const value = get(key);
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    return Number.isFinite(n) ? n : undefined;
  };

  const patch: FormPatch = {};
  const prompt = str('prompt');
  if (prompt !== undefined) patch.prompt = prompt;
  const negative = str('negative_prompt');
  if (negative !== undefined) patch.negative = negative;
  const styles = get('styles');
  const styleList = Array.isArray(styles) ? styles.filter((s): s is string => typeof s === 'string') : typeof styles === 'string' ? parsePythonStrings(styles) : null;
  if (styleList !== null) patch.styles = styleList;
  const performance = str('performance');
  if (performance !== undefined && (PERFORMANCE_MODES as readonly string[]).includes(performance)) patch.performance = performance as Performance;
  const resolution = str('resolution');
  const size = resolution === undefined ? null : parsePythonNumbers(resolution);
  if (size !== null && size.length === 2) patch.aspectRatio = `${size[0]}*${size[1]}`;
  const cfg = num('guidance_scale');
  if (cfg !== undefined) patch.cfg = cfg;
  const sharpness = num('sharpness');
  if (sharpness !== undefined) patch.sharpness = sharpness;
  const model = str('base_model');
  if (model !== undefined && model !== '') patch.model = model;
  const refiner = str('refiner_model');
  if (refiner !== undefined) patch.refiner = refiner === 'None' ? '' : refiner;
  const refinerSwitch = num('refiner_switch');
  if (refinerSwitch !== undefined) patch.refinerSwitch = refinerSwitch;
  const sampler = str('sampler');
  if (sampler !== undefined) patch.sampler = readA1111Sampler(sampler).sampler;
  const scheduler = str('scheduler');
  if (scheduler !== undefined) patch.scheduler = scheduler;
  const seed = readSeed(get('seed'), text);
  if (seed !== null) {
    patch.seed = seed;
    patch.randomSeed = false;
  }
  const loras = readLoras(rec);
  if (loras !== null) patch.loras = loras;
  return patch;
}

/** Seeds are written as strings; a bare number past 2^53 lost digits in JSON.parse, so read those from the text. */
function readSeed(value: unknown, text: string): string | null {
  if (typeof value === 'string') return normalizeSeed(value);
  if (typeof value !== 'number') return null;
  if (Number.isSafeInteger(value)) return normalizeSeed(String(value));
  const raw = /"(?:seed|Seed)"\s*:\s*(\d+)/.exec(text);
  return raw === null ? null : normalizeSeed(raw[1]!);
}

/** `loras: [[name, weight, hash], ...]`, else `lora_combined_N: "name : weight"` (an optional leading enabled flag). */
function readLoras(rec: Record<string, unknown>): LoraChoice[] | null {
  const list = rec.loras;
  if (Array.isArray(list)) {
    return list.flatMap((entry) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string') return [];
      const weight = Number(entry[1]);
      return Number.isFinite(weight) ? [{ name: entry[0], weight }] : [];
    });
  }
  const loras: LoraChoice[] = [];
  for (let i = 1; typeof rec[`lora_combined_${i}`] === 'string'; i++) {
    const parts = (rec[`lora_combined_${i}`] as string).split(' : ');
    if (parts.length < 2 || (parts.length === 3 && parts[0] !== 'True')) continue;
    const weight = Number(parts[parts.length - 1]);
    if (Number.isFinite(weight)) loras.push({ name: parts[parts.length - 2]!, weight });
  }
  return loras.length > 0 ? loras : null;
}
