/**
 * SwarmUI's metadata: a JSON object whose `sui_image_params` holds the generation parameters by SwarmUI's
 * parameter ids (`prompt`, `negativeprompt`, `cfgscale`, `loraweights`, ...), beside `sui_extra_data` and
 * `sui_models`. Samplers and schedulers are ComfyUI ids.
 */
import { readInteger, readNumber, readSeed, readSide, readSteps } from './generation-parameters.ts';
import { SettingsBuilder, type SchemeReading } from './imported-settings.ts';
import { isRecord, textOf, type JsonRecord } from './metadata-json.ts';
import { mapSamplerName, mapSchedulerName } from './sampler-name-mapping.ts';

const MAPPED = new Set(['prompt', 'negativeprompt', 'seed', 'steps', 'cfgscale', 'width', 'height', 'sampler', 'scheduler', 'model', 'vae', 'loras', 'loraweights', 'clipstopatlayer', 'initimagecreativity', 'refinermodel', 'swarm_version']);

export function readSwarmUiSettings(json: JsonRecord): SchemeReading | null {
  const params = json.sui_image_params;
  if (!isRecord(params)) return null;
  const b = new SettingsBuilder();
  b.map('prompt', params.prompt, 'prompt', (v) => (typeof v === 'string' ? v : undefined));
  b.map('negativeprompt', params.negativeprompt, 'negativePrompt', (v) => (typeof v === 'string' ? v : undefined));
  b.map('seed', params.seed, 'seed', (v) => readSeed('seed', v));
  b.map('steps', params.steps, 'steps', (v) => readSteps('steps', v));
  b.map('cfgscale', params.cfgscale, 'cfg', (v) => readNumber('cfgscale', v, 0, 100));
  b.map('width', params.width, 'width', (v) => readSide('width', v));
  b.map('height', params.height, 'height', (v) => readSide('height', v));
  b.map('sampler', params.sampler, 'sampler', (v) => mapSamplerName(String(v))?.sampler);
  b.map('scheduler', params.scheduler, 'scheduler', (v) => mapSchedulerName(String(v)) ?? undefined);
  b.map('model', params.model, 'model', (v) => (typeof v === 'string' ? v : undefined));
  b.map('vae', params.vae, 'vae', (v) => (typeof v === 'string' && v !== 'None' ? v : undefined));
  b.map('refinermodel', params.refinermodel, 'refiner', (v) => (typeof v === 'string' ? v : undefined));
  b.map('loras', params.loras, 'loras', (v) => {
    if (!Array.isArray(v)) return undefined;
    const weights = Array.isArray(params.loraweights) ? params.loraweights : [];
    return v.map((name, i) => ({ name: String(name), weight: readNumber(`loraweights[${i}]`, weights[i] ?? 1, -100, 100) }));
  });
  // SwarmUI's "CLIP Stop At Layer" is negative (-2 skips one layer); ours counts from 1.
  b.map('clipstopatlayer', params.clipstopatlayer, 'clipSkip', (v) => Math.abs(readInteger('clipstopatlayer', v, -12, -1)));
  b.map('initimagecreativity', params.initimagecreativity, 'denoise', (v) => readNumber('initimagecreativity', v, 0, 1));
  for (const [key, value] of Object.entries(params)) if (!MAPPED.has(key)) b.skip(key, value, 'has no equivalent here');
  const version = textOf(params, 'swarm_version');
  return { scheme: 'swarmui', tool: `SwarmUI${version ? ` ${version}` : ''}`, candidates: [b.finish('sui_image_params')] };
}
