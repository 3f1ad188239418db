/**
 * NovelAI's PNGs: `Software` "NovelAI", `Source` the model, `Description` the prompt, and `Comment` a JSON object
 * of the request (`prompt`, `uc` the negative, `scale` the CFG, `sampler` a k-diffusion name, `noise_schedule`,
 * `strength` for img2img; V4 keeps the prompt in `v4_prompt.caption.base_caption` too). The same fields also come
 * as one JSON object in stealth alpha info.
 */
import { readNumber, readSeed, readSide, readSteps } from './generation-parameters.ts';
import { SettingsBuilder, type SchemeReading } from './imported-settings.ts';
import { isRecord, type JsonRecord } from './metadata-json.ts';
import { mapSamplerName, mapSchedulerName } from './sampler-name-mapping.ts';

const MAPPED = new Set(['prompt', 'uc', 'steps', 'scale', 'seed', 'width', 'height', 'sampler', 'noise_schedule', 'strength', 'v4_prompt', 'v4_negative_prompt']);

/** `comment` is the Comment JSON; `source` the model NovelAI names (not a checkpoint file anyone has locally). */
export function readNovelAiSettings(comment: JsonRecord, source: string | undefined): SchemeReading {
  const b = new SettingsBuilder();
  const v4 = isRecord(comment.v4_prompt) && isRecord(comment.v4_prompt.caption) ? comment.v4_prompt.caption.base_caption : undefined;
  b.map('prompt', comment.prompt ?? v4, 'prompt', (v) => (typeof v === 'string' ? v : undefined));
  b.map('uc', comment.uc, 'negativePrompt', (v) => (typeof v === 'string' ? v : undefined));
  b.map('steps', comment.steps, 'steps', (v) => readSteps('steps', v));
  b.map('scale', comment.scale, 'cfg', (v) => readNumber('scale', v, 0, 100));
  b.map('seed', comment.seed, 'seed', (v) => readSeed('seed', v));
  b.map('width', comment.width, 'width', (v) => readSide('width', v));
  b.map('height', comment.height, 'height', (v) => readSide('height', v));
  b.map('sampler', comment.sampler, 'sampler', (v) => mapSamplerName(String(v))?.sampler);
  // "native" is the sampler's own schedule, which has no single id here.
  b.map('noise_schedule', comment.noise_schedule, 'scheduler', (v) => mapSchedulerName(String(v)) ?? undefined);
  b.map('strength', comment.strength, 'denoise', (v) => readNumber('strength', v, 0, 1));
  if (source !== undefined) b.skip('Source', source, 'names a NovelAI model, not a checkpoint file');
  for (const [key, value] of Object.entries(comment)) if (!MAPPED.has(key)) b.skip(key, value, 'has no equivalent here');
  return { scheme: 'novelai', tool: source ? `NovelAI (${source})` : 'NovelAI', candidates: [b.finish('Comment')] };
}
