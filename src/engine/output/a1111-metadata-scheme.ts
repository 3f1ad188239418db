import {
  DEFAULT_ADAPTIVE_CFG,
  DEFAULT_CLIP_SKIP,
  DEFAULT_SHARPNESS,
  InvalidMetadataError,
  readInteger,
  readModelHash,
  readNumber,
  readSeed,
  readSide,
  readSteps,
  type GenerationParameters,
  type LoraReference,
} from './generation-parameters.ts';
import { listInputImageEntries, readInputImageEntries } from './input-image-metadata.ts';
import { formatPythonList, formatPythonTuple, parsePythonSequence, readPythonTriple } from './python-literal.ts';
import { formatA1111SamplerName, parseA1111SamplerName, parseA1111ScheduleType } from './sampler-display-names.ts';

/**
 * The A1111 "parameters" text (AUTOMATIC1111 `infotext_utils.parse_generation_parameters`): prompt lines, an
 * optional "Negative prompt:" block, then one line of `Key: value` pairs. Values holding `,`, `:` or a newline are
 * JSON-quoted, as Fooocus's `util.quote` does. Keys follow A1111 where it has one and Fooocus's A1111 writer
 * (`A1111MetadataParser.fooocus_to_a1111`) for Fooocus-only settings (Sharpness, ADM Guidance, Scheduler, ...).
 */
export const A1111_SCHEME = 'a1111';
const NEGATIVE_PREFIX = 'Negative prompt:';
/** A1111's key pattern: a word character, then word characters, spaces, dashes or slashes. */
const KEY = /^\w[\w \-/]*$/;

export function formatA1111Parameters(p: GenerationParameters): string {
  const prompt = p.fullPrompt?.join(', ') ?? p.prompt;
  const negative = p.fullNegativePrompt?.join(', ') ?? p.negativePrompt;
  const params: [string, string | number | undefined][] = [
    ['Steps', p.steps],
    ['Sampler', formatA1111SamplerName(p.sampler, p.scheduler)],
    ['CFG scale', p.cfg],
    ['Seed', p.seed],
    ['Size', `${p.width}x${p.height}`],
    ['Model hash', p.modelHash || undefined],
    ['Model', p.modelName],
    ['Denoising strength', p.denoise],
    ['Clip skip', p.clipSkip > DEFAULT_CLIP_SKIP ? p.clipSkip : undefined],
    ['Sharpness', p.sharpness],
    ['ADM Guidance', p.admScalers && formatPythonTuple(p.admScalers, true)],
    ['Adaptive CFG', p.adaptiveCfg !== DEFAULT_ADAPTIVE_CFG ? p.adaptiveCfg : undefined],
    ['Performance', p.performance],
    ['Scheduler', p.scheduler],
    ['VAE', p.vae],
    ['Styles', p.styles.length > 0 ? formatPythonList(p.styles) : undefined],
    ['Fooocus V2 Expansion', p.promptExpansion],
    ['Raw prompt', prompt !== p.prompt ? p.prompt : undefined],
    ['Raw negative prompt', negative !== p.negativePrompt ? p.negativePrompt : undefined],
    ['Refiner', p.refinerName],
    ['Refiner hash', p.refinerName !== undefined ? p.refinerHash : undefined],
    ['Refiner switch at', p.refinerSwitch],
    ['Lora hashes', p.loras?.some((l) => l.hash) ? p.loras.map((l) => `${l.name}: ${l.hash ?? ''}`).join(', ') : undefined],
    ['Lora weights', p.loras?.length ? p.loras.map((l) => `${l.name}: ${l.weight}`).join(', ') : undefined],
    ...listInputImageEntries(p.inputImage).map((e): [string, string | number] => [e.label, e.value]),
  ];
  const known = new Set(params.map(([key]) => key));
  for (const [key, value] of Object.entries(p.extra ?? {})) {
    if (known.has(key) || key === 'Version') continue;
    if (!KEY.test(key)) throw new InvalidMetadataError(key, 'is not a valid A1111 parameter name');
    params.push([key, value]);
  }
  params.push(['Version', p.version || undefined]);
  const line = params
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => `${key}: ${quoteValue(String(value))}`)
    .join(', ');
  return `${prompt}${negative ? `\n${NEGATIVE_PREFIX} ${negative}` : ''}\n${line}`.trim();
}

/** Parse A1111 parameters text; `text` must already be size-checked. */
export function parseA1111Parameters(text: string): GenerationParameters {
  const { prompt, negative, params } = splitA1111Parameters(text);
  const take = (key: string): string | undefined => {
    const value = params.get(key);
    params.delete(key);
    return value;
  };
  const need = (key: string): string => take(key) ?? missingKey(key);

  const sampler = parseA1111SamplerName(need('Sampler'));
  const scheduleType = take('Schedule type');
  const schedulerKey = take('Scheduler');
  const [width, height] = readSize(need('Size'));
  const rawPrompt = take('Raw prompt');
  const rawNegative = take('Raw negative prompt');
  const p: GenerationParameters = {
    prompt: rawPrompt ?? prompt,
    negativePrompt: rawNegative ?? negative,
    styles: readStyles(take('Styles')),
    steps: readSteps('Steps', need('Steps')),
    sampler: sampler.sampler,
    scheduler: schedulerKey ?? (scheduleType && scheduleType !== 'Automatic' ? parseA1111ScheduleType(scheduleType) : undefined) ?? sampler.scheduler ?? 'normal',
    cfg: readNumber('CFG scale', need('CFG scale'), 0, 100),
    sharpness: optionalNumber('Sharpness', take('Sharpness'), 0, 100) ?? DEFAULT_SHARPNESS,
    adaptiveCfg: optionalNumber('Adaptive CFG', take('Adaptive CFG'), 0, 100) ?? DEFAULT_ADAPTIVE_CFG,
    seed: readSeed('Seed', need('Seed')),
    width,
    height,
    modelName: take('Model') ?? '',
    modelHash: readModelHash('Model hash', take('Model hash') ?? ''),
    clipSkip: readInteger('Clip skip', take('Clip skip') ?? DEFAULT_CLIP_SKIP, 1, 12),
    version: take('Version') ?? '',
  };
  if (rawPrompt !== undefined) p.fullPrompt = [prompt];
  if (rawNegative !== undefined) p.fullNegativePrompt = negative === '' ? [] : [negative];
  const adm = take('ADM Guidance');
  if (adm !== undefined) p.admScalers = readPythonTriple('ADM Guidance', adm);
  assignIfPresent(p, 'performance', take('Performance'));
  assignIfPresent(p, 'vae', take('VAE'));
  assignIfPresent(p, 'promptExpansion', take('Fooocus V2 Expansion'));
  assignIfPresent(p, 'refinerName', take('Refiner'));
  assignIfPresent(p, 'refinerHash', optionalHash('Refiner hash', take('Refiner hash')));
  assignIfPresent(p, 'refinerSwitch', optionalNumber('Refiner switch at', take('Refiner switch at'), 0, 1));
  assignIfPresent(p, 'denoise', optionalNumber('Denoising strength', take('Denoising strength'), 0, 1));
  const loras = readLoras(take('Lora weights'), take('Lora hashes'));
  if (loras.length > 0) p.loras = loras;
  const inputImage = readInputImageEntries((key, label) => {
    for (const field of [label, key]) {
      const value = take(field);
      if (value !== undefined) return { field, value };
    }
    return undefined;
  });
  if (inputImage !== undefined) p.inputImage = inputImage;
  if (params.size > 0) p.extra = Object.assign(Object.create(null) as Record<string, string>, Object.fromEntries(params));
  return p;
}

/**
 * The three parts of A1111 parameters text: prompt, negative prompt and the `Key: value` pairs of the last line
 * (keys in their known spelling). A last line with fewer than three pairs is prompt text, as A1111 reads it.
 */
export function splitA1111Parameters(text: string): { prompt: string; negative: string; params: Map<string, string> } {
  const lines = text.trim().split('\n');
  let params = tokenizeParameterLine(lines[lines.length - 1]!);
  if (params.size >= 3) lines.pop();
  else params = new Map();
  return { ...splitPrompts(lines), params };
}

/**
 * `Key: value, Key: "quoted, value", ...` into a map. A quoted value is a JSON string literal (read with
 * JSON.parse, never evaluated); an unquoted one runs to the next comma. Returns what it read before any text that
 * does not fit, so a prompt line simply yields few pairs; a malformed line that did look like parameters is an error.
 */
function tokenizeParameterLine(line: string): Map<string, string> {
  const params = new Map<string, string>();
  let at = 0;
  while (at < line.length) {
    const colon = line.indexOf(':', at);
    const key = colon < 0 ? '' : line.slice(at, colon).trim();
    if (!KEY.test(key)) return params;
    at = colon + 1;
    while (line[at] === ' ') at++;
    let value: string;
    if (line[at] === '"') {
      const end = findClosingQuote(line, at);
      if (end < 0) return failIfParameters(params, key, 'has an unterminated quoted value');
      try {
        value = JSON.parse(line.slice(at, end + 1)) as string;
      } catch {
        return failIfParameters(params, key, 'has a badly escaped quoted value');
      }
      at = end + 1;
      while (line[at] === ' ') at++;
      if (at < line.length && line[at] !== ',') return failIfParameters(params, key, 'has text after its quoted value');
    } else {
      const comma = line.indexOf(',', at);
      const end = comma < 0 ? line.length : comma;
      value = line.slice(at, end).trim();
      at = end;
    }
    params.set(canonicalKey(key), value);
    at++; // the comma
    // A1111 reads pairs with a regular expression that steps over anything between them, empty items included.
    while (line[at] === ' ' || line[at] === ',') at++;
  }
  return params;
}

/**
 * A1111 and Fooocus look keys up as written, but other writers vary the case (comfy-image-saver's "CFG Scale"), so
 * a key that matches a known one apart from case takes the known spelling.
 */
const KNOWN_KEYS = new Map(
  [
    'Steps', 'Sampler', 'Schedule type', 'Scheduler', 'CFG scale', 'Seed', 'Size', 'Model hash', 'Model', 'Denoising strength',
    'Clip skip', 'Sharpness', 'ADM Guidance', 'Adaptive CFG', 'Performance', 'VAE', 'VAE hash', 'Styles', 'Fooocus V2 Expansion',
    'Raw prompt', 'Raw negative prompt', 'Refiner', 'Refiner hash', 'Refiner switch at', 'Lora hashes', 'Lora weights', 'Version',
  ].map((key) => [key.toLowerCase(), key]),
);

export function canonicalKey(key: string): string {
  return KNOWN_KEYS.get(key.toLowerCase()) ?? key;
}

function findClosingQuote(line: string, open: number): number {
  for (let i = open + 1; i < line.length; i++) {
    if (line[i] === '\\') i++;
    else if (line[i] === '"') return i;
  }
  return -1;
}

function failIfParameters(params: Map<string, string>, key: string, problem: string): Map<string, string> {
  if (params.size >= 2) throw new InvalidMetadataError(key, problem);
  return new Map();
}

function splitPrompts(lines: string[]): { prompt: string; negative: string } {
  const prompt: string[] = [];
  const negative: string[] = [];
  let inNegative = false;
  for (const raw of lines) {
    let line = raw.trim();
    if (!inNegative && line.startsWith(NEGATIVE_PREFIX)) {
      inNegative = true;
      line = line.slice(NEGATIVE_PREFIX.length).trim();
    }
    (inNegative ? negative : prompt).push(line);
  }
  return { prompt: prompt.join('\n'), negative: negative.join('\n') };
}

/** Fooocus's `util.quote`, plus values that start with a quote (which would otherwise read back unquoted). */
function quoteValue(value: string): string {
  return /[,:\n]|^"/.test(value) ? JSON.stringify(value) : value;
}

function readSize(value: string): [number, number] {
  const match = /^(\d+)x(\d+)$/.exec(value.trim());
  if (!match) throw new InvalidMetadataError('Size', `${JSON.stringify(value)} is not WIDTHxHEIGHT`);
  return [readSide('Size', match[1]), readSide('Size', match[2])];
}

function readStyles(value: string | undefined): string[] {
  if (value === undefined) return [];
  const items = parsePythonSequence('Styles', value);
  if (!items.every((s) => typeof s === 'string')) throw new InvalidMetadataError('Styles', 'must list style names (strings)');
  return items as string[];
}

/** "name: weight, ..." and "name: hash, ..." (Fooocus's A1111 writer) joined by name. */
function readLoras(weights: string | undefined, hashes: string | undefined): LoraReference[] {
  const hashByName = new Map(splitNamedList('Lora hashes', hashes).map(([name, hash]) => [name, readModelHash('Lora hashes', hash)]));
  return splitNamedList('Lora weights', weights).map(([name, weight]) => {
    const lora: LoraReference = { name, weight: readNumber('Lora weights', weight, -100, 100) };
    const hash = hashByName.get(name);
    if (hash) lora.hash = hash;
    return lora;
  });
}

function splitNamedList(field: string, value: string | undefined): [string, string][] {
  if (value === undefined || value.trim() === '') return [];
  return value.split(', ').map((item) => {
    const at = item.lastIndexOf(': ');
    if (at < 1) throw new InvalidMetadataError(field, `${JSON.stringify(item)} is not "name: value"`);
    return [item.slice(0, at), item.slice(at + 2)];
  });
}

function optionalNumber(field: string, value: string | undefined, min: number, max: number): number | undefined {
  return value === undefined ? undefined : readNumber(field, value, min, max);
}

function optionalHash(field: string, value: string | undefined): string | undefined {
  return value === undefined ? undefined : readModelHash(field, value);
}

function assignIfPresent<K extends keyof GenerationParameters>(p: GenerationParameters, key: K, value: GenerationParameters[K] | undefined): void {
  if (value !== undefined) p[key] = value;
}

function missingKey(key: string): never {
  throw new InvalidMetadataError(key, 'is missing');
}
