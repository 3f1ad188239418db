import { parseStrictJson, StrictJsonError, type JsonValue } from '../io/strict-json.ts';
import {
  DEFAULT_ADAPTIVE_CFG,
  DEFAULT_CLIP_SKIP,
  DEFAULT_SHARPNESS,
  describe,
  InvalidMetadataError,
  readInteger,
  readModelHash,
  readNumber,
  readSeed,
  readSteps,
  readString,
  type GenerationParameters,
  type LoraReference,
} from './generation-parameters.ts';
import { INPUT_IMAGE_KEYS, listInputImageEntries, readInputImageEntries } from './input-image-metadata.ts';
import { formatPythonFloat, formatPythonList, formatPythonTuple, parsePythonSequence, readPythonPair, readPythonTriple } from './python-literal.ts';

/**
 * The Fooocus metadata scheme ("fooocus"): the JSON object `FooocusMetadataParser.to_string` writes (Fooocus 2.5,
 * `modules/meta_parser.py`, keys from `async_worker.save_and_log`): snake_case keys, sorted, Python `json.dumps`
 * spacing and ASCII escapes, with styles, resolution and ADM guidance as Python literals inside strings.
 */
export const FOOOCUS_SCHEME = 'fooocus';
/** Fooocus's `flags.default_vae`: the checkpoint's own VAE. */
const DEFAULT_VAE = 'Default (model)';
const NO_MODEL = 'None';

/** Key -> the label older Fooocus logs used; Fooocus's loader tries the key, then the label. */
const KEY_LABELS: Record<string, string> = {
  prompt: 'Prompt',
  negative_prompt: 'Negative Prompt',
  prompt_expansion: 'Fooocus V2 Expansion',
  styles: 'Styles',
  performance: 'Performance',
  steps: 'Steps',
  resolution: 'Resolution',
  guidance_scale: 'Guidance Scale',
  sharpness: 'Sharpness',
  adm_guidance: 'ADM Guidance',
  base_model: 'Base Model',
  refiner_model: 'Refiner Model',
  refiner_switch: 'Refiner Switch',
  refiner_swap_method: 'Refiner Swap Method',
  adaptive_cfg: 'CFG Mimicking from TSNR',
  clip_skip: 'CLIP Skip',
  sampler: 'Sampler',
  scheduler: 'Scheduler',
  vae: 'VAE',
  seed: 'Seed',
  metadata_scheme: 'Metadata Scheme',
  version: 'Version',
};
const OTHER_KNOWN_KEYS = ['full_prompt', 'full_negative_prompt', 'base_model_hash', 'refiner_model_hash', 'loras', 'denoise'];

type PyValue = string | number | PyValue[];

export function formatFooocusJson(p: GenerationParameters): string {
  const loras = p.loras ?? [];
  // No prototype: an extra key named __proto__ must stay a key.
  const out: Record<string, PyValue> = Object.create(null) as Record<string, PyValue>;
  for (const [key, value] of Object.entries(p.extra ?? {})) if (!isKnownKey(key)) out[key] = value;
  Object.assign(out, {
    prompt: p.prompt,
    negative_prompt: p.negativePrompt,
    prompt_expansion: p.promptExpansion ?? '',
    styles: formatPythonList(p.styles),
    steps: p.steps,
    resolution: formatPythonTuple([p.width, p.height], false),
    guidance_scale: pyFloat(p.cfg),
    sharpness: pyFloat(p.sharpness),
    base_model: p.modelName,
    base_model_hash: p.modelHash,
    refiner_model: p.refinerName ?? NO_MODEL,
    sampler: p.sampler,
    scheduler: p.scheduler,
    vae: p.vae ?? DEFAULT_VAE,
    seed: p.seed,
    full_prompt: p.fullPrompt ?? (p.prompt === '' ? [] : [p.prompt]),
    full_negative_prompt: p.fullNegativePrompt ?? (p.negativePrompt === '' ? [] : [p.negativePrompt]),
    loras: loras.map((l) => [l.name, pyFloat(l.weight), l.hash ?? '']),
    metadata_scheme: FOOOCUS_SCHEME,
    version: p.version,
  });
  loras.forEach((l, i) => (out[`lora_combined_${i + 1}`] = `${l.name} : ${formatPythonFloat(l.weight)}`));
  if (p.performance !== undefined) out.performance = p.performance;
  if (p.admScalers) out.adm_guidance = formatPythonTuple(p.admScalers, true);
  if (p.refinerName !== undefined && p.refinerHash !== undefined) out.refiner_model_hash = p.refinerHash;
  if (p.refinerSwitch !== undefined) out.refiner_switch = pyFloat(p.refinerSwitch);
  if (p.refinerSwitchMethod !== undefined) out.refiner_swap_method = p.refinerSwitchMethod;
  // Fooocus writes these two only when they differ from its defaults.
  if (p.adaptiveCfg !== DEFAULT_ADAPTIVE_CFG) out.adaptive_cfg = pyFloat(p.adaptiveCfg);
  if (p.clipSkip > DEFAULT_CLIP_SKIP) out.clip_skip = p.clipSkip;
  if (p.denoise !== undefined) out.denoise = pyFloat(p.denoise);
  for (const e of listInputImageEntries(p.inputImage)) out[e.key] = e.float ? pyFloat(e.value as number) : e.value;
  return toPythonJson(out);
}

/** Parse the Fooocus JSON scheme; `text` must already be size-checked. */
export function parseFooocusJson(text: string): GenerationParameters {
  let root: JsonValue;
  try {
    root = parseStrictJson(text);
  } catch (error) {
    if (error instanceof StrictJsonError) throw new InvalidMetadataError(error.path.join('.') || 'metadata', error.message);
    throw error;
  }
  if (!(root instanceof Map)) throw new InvalidMetadataError('metadata', 'is not a JSON object');
  const get = (key: string): { field: string; value: JsonValue } | undefined => {
    for (const field of [key, KEY_LABELS[key]]) if (field !== undefined && root.has(field)) return { field, value: root.get(field)! };
    return undefined;
  };
  const need = (key: string): { field: string; value: JsonValue } => get(key) ?? missing(key);
  const str = (key: string, fallback = ''): string => {
    const entry = get(key);
    return entry ? readString(entry.field, entry.value) : fallback;
  };
  const num = (key: string, min: number, max: number, fallback: number): number => {
    const entry = get(key);
    return entry ? readNumber(entry.field, entry.value, min, max) : fallback;
  };

  const resolution = need('resolution');
  const [width, height] = readPythonPair(resolution.field, readString(resolution.field, resolution.value));
  const steps = need('steps');
  const seed = need('seed');
  const refiner = str('refiner_model', NO_MODEL);
  const vae = str('vae', DEFAULT_VAE);
  const p: GenerationParameters = {
    prompt: str('prompt'),
    negativePrompt: str('negative_prompt'),
    styles: readStyles(get('styles')),
    steps: readSteps(steps.field, steps.value),
    sampler: readString(need('sampler').field, need('sampler').value),
    scheduler: readString(need('scheduler').field, need('scheduler').value),
    cfg: readNumber(need('guidance_scale').field, need('guidance_scale').value, 0, 100),
    sharpness: num('sharpness', 0, 100, DEFAULT_SHARPNESS),
    adaptiveCfg: num('adaptive_cfg', 0, 100, DEFAULT_ADAPTIVE_CFG),
    seed: readSeed(seed.field, seed.value),
    width,
    height,
    modelName: str('base_model'),
    modelHash: root.has('base_model_hash') ? readModelHash('base_model_hash', root.get('base_model_hash')) : '',
    clipSkip: get('clip_skip') ? readInteger(get('clip_skip')!.field, get('clip_skip')!.value, 1, 12) : DEFAULT_CLIP_SKIP,
    version: str('version'),
  };
  const expansion = str('prompt_expansion');
  if (expansion !== '') p.promptExpansion = expansion;
  if (root.has('full_prompt')) p.fullPrompt = readStringList('full_prompt', root.get('full_prompt')!);
  if (root.has('full_negative_prompt')) p.fullNegativePrompt = readStringList('full_negative_prompt', root.get('full_negative_prompt')!);
  if (get('performance')) p.performance = str('performance');
  const adm = get('adm_guidance');
  if (adm) p.admScalers = readPythonTriple(adm.field, readString(adm.field, adm.value));
  if (refiner !== NO_MODEL && refiner !== '') {
    p.refinerName = refiner;
    if (root.has('refiner_model_hash')) p.refinerHash = readModelHash('refiner_model_hash', root.get('refiner_model_hash'));
  }
  if (get('refiner_switch')) p.refinerSwitch = num('refiner_switch', 0, 1, 1);
  if (get('refiner_swap_method')) p.refinerSwitchMethod = str('refiner_swap_method');
  if (vae !== DEFAULT_VAE) p.vae = vae;
  if (root.has('denoise')) p.denoise = readNumber('denoise', root.get('denoise'), 0, 1);
  const inputImage = readInputImageEntries((key, label) => {
    for (const field of [key, label]) if (root.has(field)) return { field, value: root.get(field) };
    return undefined;
  });
  if (inputImage !== undefined) p.inputImage = inputImage;
  const loras = readLoras(root);
  if (loras.length > 0) p.loras = loras;
  const extra = collectExtra(root);
  if (Object.keys(extra).length > 0) p.extra = extra;
  return p;
}

function readStyles(entry: { field: string; value: JsonValue } | undefined): string[] {
  if (!entry) return [];
  // Fooocus writes str(list); a plain JSON array is accepted too.
  if (Array.isArray(entry.value)) return readStringList(entry.field, entry.value);
  const items = parsePythonSequence(entry.field, readString(entry.field, entry.value));
  if (!items.every((s) => typeof s === 'string')) throw new InvalidMetadataError(entry.field, 'must list style names (strings)');
  return items as string[];
}

function readStringList(field: string, value: JsonValue): string[] {
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) {
    throw new InvalidMetadataError(field, `${describe(shallow(value))} is not a list of strings`);
  }
  return value as string[];
}

/** `loras` ([name, weight, hash] lists) when present, else Fooocus's `lora_combined_N` ("name : weight"). */
function readLoras(root: Map<string, JsonValue>): LoraReference[] {
  const list = root.get('loras');
  if (Array.isArray(list) && list.length > 0) {
    return list.map((entry, i) => {
      const field = `loras[${i}]`;
      if (!Array.isArray(entry) || entry.length < 2) throw new InvalidMetadataError(field, 'is not [name, weight, hash]');
      const lora: LoraReference = { name: readString(field, entry[0]), weight: readNumber(field, entry[1], -100, 100) };
      if (typeof entry[2] === 'string' && entry[2] !== '') lora.hash = readModelHash(field, entry[2]);
      return lora;
    });
  }
  const loras: LoraReference[] = [];
  for (let i = 1; root.has(`lora_combined_${i}`); i++) {
    const field = `lora_combined_${i}`;
    const parts = readString(field, root.get(field)).split(' : ');
    if (parts.length < 2) throw new InvalidMetadataError(field, 'is not "name : weight"');
    const enabled = parts.length === 3 ? parts[0] === 'True' : true;
    if (enabled) loras.push({ name: parts[parts.length - 2]!, weight: readNumber(field, parts[parts.length - 1], -100, 100) });
  }
  return loras;
}

function collectExtra(root: Map<string, JsonValue>): Record<string, string> {
  const extra: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of root) {
    if (isKnownKey(key) || /^lora_combined_\d+$/.test(key)) continue;
    extra[key] = typeof value === 'string' ? value : stringifyJsonValue(value);
  }
  return extra;
}

function isKnownKey(key: string): boolean {
  return Object.hasOwn(KEY_LABELS, key) || Object.values(KEY_LABELS).includes(key) || OTHER_KNOWN_KEYS.includes(key) || INPUT_IMAGE_KEYS.has(key);
}

function stringifyJsonValue(value: JsonValue): string {
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${JSON.stringify(k)}: ${stringifyJsonValue(v)}`).join(', ')}}`;
  if (Array.isArray(value)) return `[${value.map(stringifyJsonValue).join(', ')}]`;
  return typeof value === 'bigint' ? String(value) : JSON.stringify(value);
}

/** Arrays and maps are shown by kind only in error messages. */
function shallow(value: JsonValue): unknown {
  return value instanceof Map ? '{object}' : value;
}

function missing(key: string): never {
  throw new InvalidMetadataError(key, 'is missing');
}

/** A float Fooocus holds as a Python float, marked so `toPythonJson` prints `4.0` rather than `4`. */
class PyFloat {
  constructor(readonly value: number) {}
}

function pyFloat(value: number): PyValue {
  return new PyFloat(value) as unknown as PyValue;
}

/** Python `json.dumps(sort_keys=True)`: ", " and ": " separators, non-ASCII as \uXXXX escapes. */
function toPythonJson(value: PyValue | Record<string, PyValue>): string {
  if (value instanceof PyFloat) return formatPythonFloat(value.value);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (Array.isArray(value)) return `[${value.map(toPythonJson).join(', ')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${toPythonJson(k)}: ${toPythonJson(value[k]!)}`).join(', ')}}`;
}
