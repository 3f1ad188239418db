/**
 * Fooocus's JSON scheme (read by the strict scheme parser, as this project writes it too) and RuinedFooocus's
 * JSON (`"software": "RuinedFooocus"`: `Prompt`, `Negative`, `cfg`, `sampler_name`, `base_model_name`, ...), in
 * request terms.
 */
import { parseFooocusJson } from './fooocus-metadata-scheme.ts';
import { readInteger, readModelHash, readNumber, readSeed, readSide, readSteps, type GenerationParameters } from './generation-parameters.ts';
import { SettingsBuilder, type ImportedLora, type SchemeReading } from './imported-settings.ts';
import { textOf, type JsonRecord } from './metadata-json.ts';
import { mapSamplerName, mapSchedulerName } from './sampler-name-mapping.ts';

export function readFooocusSettings(text: string): SchemeReading {
  const p = parseFooocusJson(text);
  const b = new SettingsBuilder();
  Object.assign(b.settings, fromGenerationParameters(p, b));
  for (const [key, value] of Object.entries(p.extra ?? {})) b.skip(key, value, 'has no equivalent here');
  // The page restores the Input Image mode from these; the input image itself is not in the file.
  if (p.inputImage !== undefined) b.settings.inputImage = p.inputImage;
  return { scheme: 'fooocus', tool: p.version || 'Fooocus', candidates: [b.finish('parameters')] };
}

/** Settings of a request this project (or Fooocus) recorded, in import terms. */
export function fromGenerationParameters(p: GenerationParameters, b: SettingsBuilder): SettingsBuilder['settings'] {
  const s: SettingsBuilder['settings'] = {
    prompt: p.prompt,
    negativePrompt: p.negativePrompt,
    styles: p.styles,
    steps: p.steps,
    cfg: p.cfg,
    sharpness: p.sharpness,
    adaptiveCfg: p.adaptiveCfg,
    seed: p.seed,
    width: p.width,
    height: p.height,
    clipSkip: p.clipSkip,
  };
  const sampler = mapSamplerName(p.sampler);
  if (sampler) s.sampler = sampler.sampler;
  else b.skip('sampler', p.sampler, 'has no equivalent sampler here');
  const scheduler = mapSchedulerName(p.scheduler);
  if (scheduler) s.scheduler = scheduler;
  else b.skip('scheduler', p.scheduler, 'has no equivalent scheduler here');
  if (p.performance !== undefined) s.performance = p.performance;
  if (p.admScalers) s.admScalers = p.admScalers;
  if (p.modelName) s.model = p.modelName;
  if (p.modelHash) s.modelHash = p.modelHash;
  // Fooocus records "None" and "Default (model)" for no refiner and the checkpoint's VAE: restoring those is a choice too.
  s.refiner = p.refinerName ?? '';
  s.vae = p.vae ?? '';
  if (p.refinerSwitch !== undefined) s.refinerSwitch = p.refinerSwitch;
  if (p.refinerSwitchMethod !== undefined) s.refinerSwitchMethod = p.refinerSwitchMethod;
  if (p.loras) s.loras = p.loras.map((l) => ({ name: l.name, weight: l.weight }));
  if (p.denoise !== undefined) s.denoise = p.denoise;
  return s;
}

const RUINED_MAPPED = new Set(['Prompt', 'Negative', 'steps', 'cfg', 'seed', 'width', 'height', 'sampler_name', 'scheduler', 'base_model_name', 'base_model_hash', 'loras', 'denoise', 'clip_skip', 'software']);

export function readRuinedFooocusSettings(json: JsonRecord): SchemeReading {
  const b = new SettingsBuilder();
  b.map('Prompt', json.Prompt, 'prompt', (v) => (typeof v === 'string' ? v : undefined));
  b.map('Negative', json.Negative, 'negativePrompt', (v) => (typeof v === 'string' ? v : undefined));
  b.map('steps', json.steps, 'steps', (v) => readSteps('steps', v));
  b.map('cfg', json.cfg, 'cfg', (v) => readNumber('cfg', v, 0, 100));
  b.map('seed', json.seed, 'seed', (v) => readSeed('seed', v));
  b.map('width', json.width, 'width', (v) => readSide('width', v));
  b.map('height', json.height, 'height', (v) => readSide('height', v));
  b.map('sampler_name', json.sampler_name, 'sampler', (v) => mapSamplerName(String(v))?.sampler);
  b.map('scheduler', json.scheduler, 'scheduler', (v) => mapSchedulerName(String(v)) ?? undefined);
  b.map('base_model_name', json.base_model_name, 'model', (v) => (typeof v === 'string' ? v : undefined));
  b.map('base_model_hash', json.base_model_hash, 'modelHash', (v) => readModelHash('base_model_hash', v));
  b.map('loras', json.loras, 'loras', readRuinedLoras);
  b.map('denoise', json.denoise, 'denoise', (v) => readNumber('denoise', v, 0, 1));
  // RuinedFooocus counts clip skip as ComfyUI does (-2 is "skip one layer"); ours counts from 1.
  b.map('clip_skip', json.clip_skip, 'clipSkip', (v) => Math.abs(readInteger('clip_skip', v, -12, 12)) || 1);
  for (const [key, value] of Object.entries(json)) if (!RUINED_MAPPED.has(key)) b.skip(key, value, 'has no equivalent here');
  return { scheme: 'ruinedfooocus', tool: `RuinedFooocus${textOf(json, 'version') ? ` ${textOf(json, 'version')}` : ''}`, candidates: [b.finish('parameters')] };
}

/** `[[name, weight], ...]`, `["name:weight", ...]` or `[{name, weight}, ...]`: RuinedFooocus versions differ. */
function readRuinedLoras(value: unknown): ImportedLora[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.map((item, i) => {
    const field = `loras[${i}]`;
    if (Array.isArray(item) && typeof item[0] === 'string') return { name: item[0], weight: readNumber(field, item[1] ?? 1, -100, 100) };
    if (typeof item === 'string') {
      const at = item.lastIndexOf(':');
      return at > 0 ? { name: item.slice(0, at).trim(), weight: readNumber(field, item.slice(at + 1), -100, 100) } : { name: item, weight: 1 };
    }
    if (typeof item === 'object' && item !== null && typeof (item as { name?: unknown }).name === 'string') {
      const { name, weight } = item as { name: string; weight?: unknown };
      return { name, weight: readNumber(field, weight ?? 1, -100, 100) };
    }
    throw new Error(`${field}: is not a LoRA and weight`);
  });
}
