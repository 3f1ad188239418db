/**
 * A1111-style parameters text, as AUTOMATIC1111 and its forks (Forge, reForge, SD.Next), Civitai, Fooocus's
 * `a1111` scheme and many ComfyUI saver nodes write it, mapped field by field. Unlike the strict scheme parser
 * (a1111-metadata-scheme.ts, which reads back what this project wrote) a missing key is simply absent and a bad
 * value is listed as not applied; only text with no recognisable parameter line is not A1111 at all.
 */
import { splitA1111Parameters } from './a1111-metadata-scheme.ts';
import { readInteger, readModelHash, readNumber, readSeed, readSide, readSteps } from './generation-parameters.ts';
import { SettingsBuilder, type SchemeReading } from './imported-settings.ts';
import { INPUT_IMAGE_KEYS } from './input-image-metadata.ts';
import { parsePythonSequence, readPythonTriple } from './python-literal.ts';
import { mapSamplerName, mapSchedulerName } from './sampler-name-mapping.ts';

/** Keys that carry a request setting; every other key of the line is listed as not applied. */
const MAPPED = new Set([
  'Steps', 'Sampler', 'Schedule type', 'Scheduler', 'CFG scale', 'Seed', 'Size', 'Model', 'Model hash', 'Clip skip', 'Denoising strength',
  'VAE', 'Styles', 'Sharpness', 'Adaptive CFG', 'ADM Guidance', 'Performance', 'Refiner', 'Refiner switch at', 'Lora weights',
  'Raw prompt', 'Raw negative prompt', 'Version', 'Fooocus V2 Expansion', 'Lora hashes', 'Refiner hash',
]);

/** Input Image settings only mean something with the input image they were made from, which a file does not carry. */
export const INPUT_IMAGE_REASON = 'is an Input Image setting: choose it with the input image';

/** The reading, or null when the text has no parameter line (then it is not A1111 text). */
export function readA1111Settings(text: string, fooocusScheme: boolean): SchemeReading | null {
  const { prompt, negative, params } = splitA1111Parameters(text.replace(/\r\n?/g, '\n'));
  if (params.size === 0) return null;
  const b = new SettingsBuilder();
  const get = (key: string): string | undefined => params.get(key);
  b.settings.prompt = get('Raw prompt') ?? prompt;
  b.settings.negativePrompt = get('Raw negative prompt') ?? negative;
  b.map('Steps', get('Steps'), 'steps', (v) => readSteps('Steps', v));
  mapSampler(b, get('Sampler'), get('Schedule type') ?? get('Scheduler'));
  b.map('CFG scale', get('CFG scale'), 'cfg', (v) => readNumber('CFG scale', v, 0, 100));
  b.map('Seed', get('Seed'), 'seed', (v) => readSeed('Seed', v));
  b.mapSize('Size', get('Size'), (v) => {
    const size = /^\s*(\d+)\s*x\s*(\d+)\s*$/.exec(String(v));
    if (!size) throw new Error('Size: is not WIDTHxHEIGHT');
    return [readSide('Size', size[1]), readSide('Size', size[2])];
  });
  b.map('Model', get('Model'), 'model', (v) => String(v));
  b.map('Model hash', get('Model hash'), 'modelHash', (v) => readModelHash('Model hash', v));
  b.map('Clip skip', get('Clip skip'), 'clipSkip', (v) => readInteger('Clip skip', v, 1, 12));
  b.map('Denoising strength', get('Denoising strength'), 'denoise', (v) => readNumber('Denoising strength', v, 0, 1));
  b.map('VAE', get('VAE'), 'vae', (v) => String(v));
  b.map('Styles', get('Styles'), 'styles', (v) => readStyles(String(v)));
  b.map('Sharpness', get('Sharpness'), 'sharpness', (v) => readNumber('Sharpness', v, 0, 100));
  b.map('Adaptive CFG', get('Adaptive CFG'), 'adaptiveCfg', (v) => readNumber('Adaptive CFG', v, 0, 100));
  b.map('ADM Guidance', get('ADM Guidance'), 'admScalers', (v) => readPythonTriple('ADM Guidance', String(v)));
  b.map('Performance', get('Performance'), 'performance', (v) => String(v));
  b.map('Refiner', get('Refiner'), 'refiner', (v) => String(v));
  b.map('Refiner switch at', get('Refiner switch at'), 'refinerSwitch', (v) => readNumber('Refiner switch at', v, 0, 1));
  b.map('Lora weights', get('Lora weights'), 'loras', (v) => readLoraWeights(String(v)));
  for (const [key, value] of params) {
    if (INPUT_IMAGE_KEYS.has(key)) b.skip(key, value, INPUT_IMAGE_REASON);
    else if (!MAPPED.has(key)) b.skip(key, value, 'has no equivalent here');
  }
  const version = get('Version') ?? '';
  const civitai = params.has('Civitai resources') || params.has('Civitai metadata');
  return {
    scheme: civitai ? 'civitai' : 'a1111',
    tool: fooocusScheme || version.startsWith('Fooocus') ? version || 'Fooocus' : civitai ? 'Civitai' : describeA1111Tool(version, params.get('App')),
    candidates: [b.finish('parameters')],
  };
}

/** Forge writes `f2.0.1v1.10.1-...`, reForge `f1.7.0-v1.10.1RC...`, SD.Next `App: SD.Next` and a commit as Version. */
function describeA1111Tool(version: string, app: string | undefined): string {
  if (app !== undefined) return `${app}${version ? ` ${version}` : ''}`;
  if (/^f\d/.test(version)) return `Forge or reForge ${version}`;
  return version ? `AUTOMATIC1111 ${version}` : 'AUTOMATIC1111 or a compatible tool';
}

function mapSampler(b: SettingsBuilder, sampler: string | undefined, schedule: string | undefined): void {
  if (sampler !== undefined) {
    const mapped = mapSamplerName(sampler);
    if (mapped === null) b.skip('Sampler', sampler, 'has no equivalent sampler here');
    else {
      b.settings.sampler = mapped.sampler;
      if (mapped.scheduler !== undefined) b.settings.scheduler = mapped.scheduler;
    }
  }
  // "Automatic" is the sampler's own default schedule: nothing to set.
  if (schedule !== undefined && schedule !== 'Automatic') {
    const scheduler = mapSchedulerName(schedule);
    if (scheduler === null) b.skip('Schedule type', schedule, 'has no equivalent scheduler here');
    else b.settings.scheduler = scheduler;
  }
}

function readStyles(value: string): string[] {
  const items = parsePythonSequence('Styles', value);
  if (!items.every((s) => typeof s === 'string')) throw new Error('Styles: must list style names');
  return items as string[];
}

/** Fooocus's "name: weight, name: weight". */
function readLoraWeights(value: string): { name: string; weight: number }[] {
  return value.split(', ').filter((item) => item.trim() !== '').map((item) => {
    const at = item.lastIndexOf(': ');
    if (at < 1) throw new Error(`Lora weights: ${JSON.stringify(item)} is not "name: weight"`);
    return { name: item.slice(0, at), weight: readNumber('Lora weights', item.slice(at + 2), -100, 100) };
  });
}
