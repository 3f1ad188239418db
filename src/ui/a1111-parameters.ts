/**
 * AUTOMATIC1111's `parameters` text into form fields: prompt lines, an optional `Negative prompt:` block, then
 * one line of `Key: value` pairs. A value holding a comma or colon is a double-quoted JSON string (read with
 * JSON.parse). Keys Fooocus adds when it writes this scheme (Sharpness, Scheduler, Styles, Performance, Refiner,
 * Lora weights, Raw prompt) are read too.
 */
import { PERFORMANCE_MODES, type LoraChoice, type Performance } from './api-types.ts';
import { normalizeSeed, type FormPatch } from './form-values.ts';
import { parsePythonStrings } from './python-literal.ts';
import { readA1111Sampler, readScheduleType } from './sampling-options.ts';

const NEGATIVE = 'Negative prompt:';
const KEY = /^[A-Za-z0-9_][\w \-/]*$/;

export function parseA1111Parameters(text: string): FormPatch {
  const lines = text.replace(/\r\n?/g, '\n').trim().split('\n');
  const params = readParameterLine(lines[lines.length - 1] ?? '');
  if (params.size > 0) lines.pop();
  const { prompt, negative } = splitPrompts(lines);
  const patch: FormPatch = { prompt: params.get('Raw prompt') ?? prompt, negative: params.get('Raw negative prompt') ?? negative };

  const number = (key: string): number | undefined => {
    const value = params.get(key);
    const n = value === undefined || value.trim() === '' ? NaN : Number(value);
    return Number.isFinite(n) ? n : undefined;
  };
  const samplerName = params.get('Sampler');
  if (samplerName !== undefined) {
    const { sampler, scheduler } = readA1111Sampler(samplerName);
    patch.sampler = sampler;
    if (scheduler !== undefined) patch.scheduler = scheduler;
  }
  const scheduleType = params.get('Scheduler') ?? params.get('Schedule type');
  if (scheduleType !== undefined && scheduleType !== 'Automatic') patch.scheduler = readScheduleType(scheduleType);
  const cfg = number('CFG scale');
  if (cfg !== undefined) patch.cfg = cfg;
  const sharpness = number('Sharpness');
  if (sharpness !== undefined) patch.sharpness = sharpness;
  const seed = normalizeSeed(params.get('Seed') ?? '');
  if (seed !== null) {
    patch.seed = seed;
    patch.randomSeed = false;
  }
  const size = /^(\d{2,5})x(\d{2,5})$/.exec((params.get('Size') ?? '').trim());
  if (size !== null) patch.aspectRatio = `${size[1]}*${size[2]}`;
  const model = params.get('Model');
  if (model !== undefined && model !== '') patch.model = model;
  const refiner = params.get('Refiner');
  if (refiner !== undefined) patch.refiner = refiner;
  const refinerSwitch = number('Refiner switch at');
  if (refinerSwitch !== undefined) patch.refinerSwitch = refinerSwitch;
  const performance = params.get('Performance');
  if (performance !== undefined && (PERFORMANCE_MODES as readonly string[]).includes(performance)) patch.performance = performance as Performance;
  const styles = parsePythonStrings(params.get('Styles') ?? '');
  if (styles !== null) patch.styles = styles;
  const loras = readLoraWeights(params.get('Lora weights'));
  if (loras.length > 0) patch.loras = loras;
  return patch;
}

/**
 * The `Key: value, ...` pairs of a line, or an empty map when the line does not read as parameters (then it is
 * part of the prompt). Requires a `Steps` key, which every A1111 writer puts first.
 */
export function readParameterLine(line: string): Map<string, string> {
  const params = new Map<string, string>();
  let at = 0;
  while (at < line.length) {
    const colon = line.indexOf(':', at);
    if (colon < 0) return new Map();
    const key = line.slice(at, colon).trim();
    if (!KEY.test(key)) return new Map();
    at = colon + 1;
    while (line[at] === ' ') at++;
    let value: string;
    if (line[at] === '"') {
      const close = closingQuote(line, at);
      if (close < 0) return new Map();
      try {
        value = String(JSON.parse(line.slice(at, close + 1)));
      } catch {
        return new Map();
      }
      at = close + 1;
      while (line[at] === ' ') at++;
      if (at < line.length && line[at] !== ',') return new Map();
    } else {
      const comma = line.indexOf(',', at);
      const end = comma < 0 ? line.length : comma;
      value = line.slice(at, end).trim();
      at = end;
    }
    if (!params.has(key)) params.set(key, value);
    at++;
    while (line[at] === ' ') at++;
  }
  return params.has('Steps') ? params : new Map();
}

function closingQuote(line: string, open: number): number {
  for (let i = open + 1; i < line.length; i++) {
    if (line[i] === '\\') i++;
    else if (line[i] === '"') return i;
  }
  return -1;
}

function splitPrompts(lines: string[]): { prompt: string; negative: string } {
  const index = lines.findIndex((line) => line.trimStart().startsWith(NEGATIVE));
  if (index < 0) return { prompt: lines.join('\n').trim(), negative: '' };
  const negative = [lines[index]!.trimStart().slice(NEGATIVE.length), ...lines.slice(index + 1)];
  return { prompt: lines.slice(0, index).join('\n').trim(), negative: negative.join('\n').trim() };
}

/** `name: 0.8, other: 0.5` (Fooocus's A1111 writer); a name may hold colons, the weight is after the last. */
function readLoraWeights(value: string | undefined): LoraChoice[] {
  if (value === undefined) return [];
  return value.split(', ').flatMap((item) => {
    const colon = item.lastIndexOf(':');
    const name = item.slice(0, colon).trim();
    const weight = Number(item.slice(colon + 1));
    return colon > 0 && name !== '' && Number.isFinite(weight) ? [{ name, weight }] : [];
  });
}
