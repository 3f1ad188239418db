/**
 * InvokeAI's three generations of metadata: `invokeai_metadata` (3.x and later: a flat JSON object with
 * `positive_prompt`, `cfg_scale`, `scheduler`, `model` as an object, `loras` as model/weight pairs), `sd-metadata`
 * (2.x: JSON with the settings under `image` and the prompt as weighted parts), and `Dream` (1.x-2.x: a command
 * line such as `"a prompt [negative]" -s 50 -S 42 -W 512 -H 512 -C 7.5 -A k_lms`).
 */
import { readNumber, readSeed, readSide, readSteps } from './generation-parameters.ts';
import { SettingsBuilder, type ImportedLora, type SchemeReading } from './imported-settings.ts';
import { isRecord, textOf, type JsonRecord } from './metadata-json.ts';
import { mapSamplerName } from './sampler-name-mapping.ts';

const MAPPED_V3 = new Set(['positive_prompt', 'negative_prompt', 'seed', 'steps', 'cfg_scale', 'width', 'height', 'scheduler', 'model', 'loras', 'strength', 'vae', 'app_version', 'refiner_model', 'clip_skip']);

export function readInvokeAiSettings(json: JsonRecord): SchemeReading {
  const b = new SettingsBuilder();
  b.map('positive_prompt', json.positive_prompt, 'prompt', (v) => (typeof v === 'string' ? v : undefined));
  b.map('negative_prompt', json.negative_prompt, 'negativePrompt', (v) => (typeof v === 'string' ? v : undefined));
  b.map('seed', json.seed, 'seed', (v) => readSeed('seed', v));
  b.map('steps', json.steps, 'steps', (v) => readSteps('steps', v));
  b.map('cfg_scale', json.cfg_scale, 'cfg', (v) => readNumber('cfg_scale', v, 0, 100));
  b.map('width', json.width, 'width', (v) => readSide('width', v));
  b.map('height', json.height, 'height', (v) => readSide('height', v));
  mapScheduler(b, 'scheduler', json.scheduler);
  b.map('model', json.model, 'model', modelName);
  b.map('refiner_model', json.refiner_model, 'refiner', modelName);
  b.map('vae', json.vae, 'vae', modelName);
  b.map('loras', json.loras, 'loras', (v) => (Array.isArray(v) ? v.map(readInvokeLora) : undefined));
  b.map('strength', json.strength, 'denoise', (v) => readNumber('strength', v, 0, 1));
  b.map('clip_skip', json.clip_skip, 'clipSkip', (v) => readNumber('clip_skip', v, 0, 12) + 1);
  for (const [key, value] of Object.entries(json)) if (!MAPPED_V3.has(key)) b.skip(key, value, 'has no equivalent here');
  const version = textOf(json, 'app_version');
  return { scheme: 'invokeai', tool: `InvokeAI${version ? ` ${version}` : ''}`, candidates: [b.finish('invokeai_metadata')] };
}

/** InvokeAI 2.x `sd-metadata`. */
export function readInvokeAiLegacySettings(json: JsonRecord): SchemeReading {
  const b = new SettingsBuilder();
  const image = isRecord(json.image) ? json.image : json;
  const prompt = Array.isArray(image.prompt) ? image.prompt.map((part) => (isRecord(part) && typeof part.prompt === 'string' ? part.prompt : '')).join(' ') : image.prompt;
  if (typeof prompt === 'string') Object.assign(b.settings, splitBracketNegative(prompt));
  b.map('seed', image.seed, 'seed', (v) => readSeed('seed', v));
  b.map('steps', image.steps, 'steps', (v) => readSteps('steps', v));
  b.map('cfg_scale', image.cfg_scale, 'cfg', (v) => readNumber('cfg_scale', v, 0, 100));
  b.map('width', image.width, 'width', (v) => readSide('width', v));
  b.map('height', image.height, 'height', (v) => readSide('height', v));
  mapScheduler(b, 'sampler', image.sampler);
  b.map('strength', image.strength, 'denoise', (v) => readNumber('strength', v, 0, 1));
  b.map('model_weights', json.model_weights, 'model', (v) => (typeof v === 'string' ? v : undefined));
  const known = new Set(['prompt', 'seed', 'steps', 'cfg_scale', 'width', 'height', 'sampler', 'strength']);
  for (const [key, value] of Object.entries(image)) if (!known.has(key)) b.skip(`image.${key}`, value, 'has no equivalent here');
  const version = textOf(json, 'app_version');
  return { scheme: 'invokeai', tool: `InvokeAI${version ? ` ${version}` : ''}`, candidates: [b.finish('sd-metadata')] };
}

/** The `Dream` command line. Options are read, never run; an option this reader does not know is listed. */
export function readInvokeAiDreamSettings(line: string): SchemeReading | null {
  const match = /^\s*"((?:[^"\\]|\\.)*)"\s*(.*)$/s.exec(line);
  if (!match) return null;
  const b = new SettingsBuilder();
  Object.assign(b.settings, splitBracketNegative(match[1]!.replace(/\\(.)/g, '$1')));
  const tokens = match[2]!.split(/\s+/).filter((t) => t !== '');
  for (let i = 0; i < tokens.length; i++) {
    const option = tokens[i]!;
    const value = tokens[i + 1];
    const take = (): string | undefined => (value !== undefined && !value.startsWith('-') ? (i++, value) : undefined);
    if (option === '-s') b.map('-s', take(), 'steps', (v) => readSteps('-s', v));
    else if (option === '-S') b.map('-S', take(), 'seed', (v) => readSeed('-S', v));
    else if (option === '-W') b.map('-W', take(), 'width', (v) => readSide('-W', v));
    else if (option === '-H') b.map('-H', take(), 'height', (v) => readSide('-H', v));
    else if (option === '-C') b.map('-C', take(), 'cfg', (v) => readNumber('-C', v, 0, 100));
    else if (option === '-A') mapScheduler(b, '-A', take());
    else if (option === '-f') b.map('-f', take(), 'denoise', (v) => readNumber('-f', v, 0, 1));
    else if (option === '-m') b.map('-m', take(), 'model', (v) => String(v));
    else b.skip(option, take() ?? '', 'has no equivalent here');
  }
  return { scheme: 'invokeai', tool: 'InvokeAI (Dream)', candidates: [b.finish('Dream')] };
}

/** InvokeAI names the sampler and its schedule in one "scheduler" (`dpmpp_2m_k`). */
function mapScheduler(b: SettingsBuilder, key: string, value: unknown): void {
  if (typeof value !== 'string') return;
  const mapped = mapSamplerName(value);
  if (mapped === null) return b.skip(key, value, 'has no equivalent sampler here');
  b.settings.sampler = mapped.sampler;
  if (mapped.scheduler) b.settings.scheduler = mapped.scheduler;
}

function modelName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (!isRecord(value)) return undefined;
  return textOf(value, 'name') ?? textOf(value, 'model_name');
}

function readInvokeLora(item: unknown, i: number): ImportedLora {
  if (!isRecord(item)) throw new Error(`loras[${i}]: is not a LoRA and weight`);
  const name = modelName(item.lora ?? item.model);
  if (name === undefined) throw new Error(`loras[${i}]: names no LoRA`);
  return { name, weight: readNumber(`loras[${i}]`, item.weight ?? 1, -100, 100) };
}

/** InvokeAI 2 writes the negative prompt in square brackets inside the prompt. */
function splitBracketNegative(prompt: string): { prompt: string; negativePrompt: string } {
  const negatives: string[] = [];
  const positive = prompt.replace(/\[([^\]]*)\]/g, (_all, inner: string) => {
    negatives.push(inner.trim());
    return '';
  });
  return { prompt: positive.replace(/\s+/g, ' ').trim(), negativePrompt: negatives.join(', ') };
}
