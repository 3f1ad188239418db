/**
 * `fooocus generate`'s options: their definitions, the help text, and the checks that turn what the user typed
 * into the creative layer's names (preset, styles, performance mode), each refusal naming the value and the choices.
 */
import type { parseArgs } from 'node:util';
import { GENERATION_DEFAULTS } from '../../app/generation/generation-defaults.ts';
import type { Preset } from '../../app/creative/presets.ts';
import { PERFORMANCE_MODE_NAMES } from '../../app/creative/performance-modes.ts';
import type { StyleLibrary } from '../../app/creative/style-library.ts';
import { isExpansionStyleName, RESERVED_STYLE_NAMES } from '../../app/creative/style-names.ts';
import { suggestStyleNames } from '../../app/creative/style-suggestions.ts';
import type { VaryUpscaleChoice, VaryUpscaleMode } from '../../app/generation/image-request.ts';
import { UsageError } from '../command.ts';
import { CONFIG_OPTIONS } from '../command-config.ts';
import { ENHANCE_OPTIONS, ENHANCE_USAGE } from './enhance-option.ts';
import { IMAGE_PROMPT_OPTIONS, IMAGE_PROMPT_USAGE } from './image-prompt-option.ts';
import { INPAINT_OPTIONS, INPAINT_USAGE } from './inpaint-options.ts';

import { parseNumberOption } from './number-option.ts';

export { parseNumberOption };

/** Where and how a command that makes images writes them, and the config and threads it runs with (generate, upscale). */
export const IMAGE_OUTPUT_OPTIONS = {
  out: { type: 'string' },
  ...CONFIG_OPTIONS,
  format: { type: 'string', default: GENERATION_DEFAULTS.format },
  metadata: { type: 'string', default: GENERATION_DEFAULTS.scheme },
  threads: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export const GENERATE_OPTIONS = {
  help: { type: 'boolean', short: 'h', default: false },
  preset: { type: 'string' },
  style: { type: 'string', multiple: true },
  performance: { type: 'string' },
  'no-expansion': { type: 'boolean', default: false },
  negative: { type: 'string', default: '' },
  model: { type: 'string' },
  refiner: { type: 'string' },
  switch: { type: 'string' },
  vae: { type: 'string' },
  'refiner-method': { type: 'string' },
  steps: { type: 'string' },
  cfg: { type: 'string' },
  sharpness: { type: 'string' },
  'adaptive-cfg': { type: 'string' },
  sampler: { type: 'string' },
  scheduler: { type: 'string' },
  seed: { type: 'string' },
  size: { type: 'string' },
  'aspect-ratio': { type: 'string' },
  aspect: { type: 'string' },
  n: { type: 'string' },
  input: { type: 'string' },
  denoise: { type: 'string' },
  'describe-first': { type: 'string' },
  ...INPAINT_OPTIONS,
  ...IMAGE_PROMPT_OPTIONS,
  ...ENHANCE_OPTIONS,
  vary: { type: 'string' },
  upscale: { type: 'string' },
  factor: { type: 'string' },
  upscaler: { type: 'string' },
  'clip-skip': { type: 'string' },
  precision: { type: 'string' },
  memory: { type: 'string' },
  ...IMAGE_OUTPUT_OPTIONS,
} as const;

export type GenerateValues = ReturnType<typeof parseArgs<{ options: typeof GENERATE_OPTIONS; allowPositionals: true; strict: true }>>['values'];

export const GENERATE_USAGE = [
  'Usage: npm run fooocus -- generate "PROMPT" [options]',
  '',
  'The prompt may use wildcards (__name__ reads wildcards/name.txt beside the models folder), arrays ([[red, blue]]:',
  'image i of a run takes item i) and LoRA tokens (<lora:name:weight>, a LoRA in the model store).',
  '',
  'Creative options (explicit options below override the preset):',
  '  --preset NAME             start from a preset (data/presets): model, refiner, LoRAs, guidance, sampler,',
  '                            styles, performance, aspect ratio and image count',
  '  --style NAME              apply a style; repeat for several, in order (replaces the preset\'s styles)',
  `  --performance MODE        ${PERFORMANCE_MODE_NAMES.join(' | ')} (any case; default Speed)`,
  '  --no-expansion            switch prompt expansion off (drops the FooocusTS Expansion / Fooocus V2 style)',
  '',
  'Models and sampling:',
  '  --model NAME              checkpoint in the model store (file name or catalog id)',
  '  --refiner NAME|none       refiner checkpoint, or none to drop the preset\'s;  --switch F  when it takes over',
  '  --refiner-method M       joint (default), separate or vae: how the refiner takes over',
  '  --vae NAME                VAE file in the model store (models import <file> --kind vae) instead of the model\'s',
  '  --steps N                 sampling steps (default: the performance mode\'s)',
  '  --cfg F  --sharpness F  --adaptive-cfg F  --sampler ID  --scheduler ID  --clip-skip N',
  '  --seed N|random           0..9223372036854775807; image i of a run uses seed + i',
  '  --precision fp32|int8|fp16  UNet arithmetic (default: runtime.precision); int8 quantizes the weights once,',
  '                            into the cache folder, and runs faster where the CPU has VNNI or AMX; fp16 runs the',
  '                            UNet and text encoders in half precision, for GPU providers (cuda, dml, coreml)',
  '',
  'Size and count:',
  '  --size WxH, --aspect-ratio W*H   exact size (1152x896, 1152*896)',
  '  --aspect R                ratio at the model\'s native area (9:7, 16:9)',
  '  --n N                     images per run',
  '  --input IMG --denoise F   image-to-image',
  '  --input IMG --vary subtle|strong      Fooocus\'s Vary (denoise 0.5 / 0.85, resized to the model\'s range)',
  '  --input IMG --upscale 1.5x|2x|fast|custom [--factor F] [--upscaler NAME]',
  '                            Fooocus\'s Upscale: the upscaler model, then image-to-image at 0.382 (fast: the',
  '                            upscaler\'s image only); custom: factor F in 1..4; NAME: a file in the upscalers store',
  '  --input IMG --describe-first photo|anime   with an empty prompt (""), describe IMG first and use that as',
  '                            the prompt (Fooocus\'s auto-describe; see the describe command)',
  '',
  INPAINT_USAGE,
  '',
  IMAGE_PROMPT_USAGE,
  ENHANCE_USAGE,
  '',
  'Output and setup:',
  '  --out DIR  --format png|jpeg|webp  --metadata fooocus|a1111  --json  --threads N',
  '  --memory auto|resident|per-phase  keep every model part built, or one phase\'s at a time (default: runtime.memory)',
  '  --models DIR  --config FILE  --insecure-permissions',
].join('\n');

/** Presets, styles and modes are matched without regard to case (and to spaces, `-` and `_` for modes). */
const modeKey = (name: string): string => name.toLowerCase().replace(/[\s_-]+/g, '');

export function parsePerformance(value: string): string {
  const mode = PERFORMANCE_MODE_NAMES.find((m) => modeKey(m) === modeKey(value));
  if (mode === undefined) throw new UsageError(`--performance: unknown mode "${value}"; modes: ${PERFORMANCE_MODE_NAMES.join(', ')}`);
  return mode;
}

export function findPreset(presets: ReadonlyMap<string, Preset>, value: string): { name: string; preset: Preset } {
  const name = [...presets.keys()].find((n) => n === value) ?? [...presets.keys()].find((n) => n.toLowerCase() === value.toLowerCase());
  if (name === undefined) throw new UsageError(`--preset: unknown preset "${value}"; presets: ${[...presets.keys()].join(', ')}`);
  return { name, preset: presets.get(name)! };
}

/**
 * The styles to apply: `--style` values (library names, Random Style, the expansion toggle; any case) when given,
 * else the preset's; without the expansion toggle when `noExpansion`.
 */
export function chooseStyles(values: readonly string[] | undefined, presetStyles: readonly string[] | undefined, library: StyleLibrary, noExpansion: boolean): string[] {
  const known = [...RESERVED_STYLE_NAMES, ...library.keys()];
  const chosen = (values ?? presetStyles ?? []).map((value) => {
    const name = known.find((n) => n === value) ?? known.find((n) => n.toLowerCase() === value.toLowerCase());
    if (name === undefined) {
      const near = suggestStyleNames(value, known);
      const hint = near.length > 0 ? `did you mean ${near.map((n) => `"${n}"`).join(', ')}?` : 'no style has a similar name (the studio page lists them all)';
      throw new UsageError(`--style: unknown style "${value}"; ${hint}`);
    }
    return name;
  });
  return [...new Set(noExpansion ? chosen.filter((n) => !isExpansionStyleName(n)) : chosen)];
}

/** `--vary` / `--upscale` (and `--factor`, `--upscaler`) as the request's varyUpscale choice, or undefined. */
export function parseVaryUpscale(values: { vary?: string | undefined; upscale?: string | undefined; factor?: string | undefined; upscaler?: string | undefined; input?: string | undefined }): VaryUpscaleChoice | undefined {
  const factor = parseNumberOption('factor', values.factor);
  if (values.vary !== undefined && (values.upscale !== undefined || factor !== undefined || values.upscaler !== undefined)) {
    throw new UsageError('--vary cannot be combined with --upscale, --factor or --upscaler: give one of Vary and Upscale');
  }
  let mode: VaryUpscaleMode | undefined;
  if (values.vary !== undefined) {
    mode = ({ subtle: 'vary-subtle', strong: 'vary-strong' } as const)[values.vary.toLowerCase() as 'subtle' | 'strong'];
    if (mode === undefined) throw new UsageError(`--vary must be subtle or strong, got "${values.vary}"`);
  } else if (values.upscale !== undefined || factor !== undefined || values.upscaler !== undefined) {
    const name = values.upscale?.toLowerCase() ?? (factor === undefined ? '2x' : 'custom');
    mode = UPSCALE_MODE_NAMES[name];
    if (mode === undefined) throw new UsageError(`--upscale must be one of ${Object.keys(UPSCALE_MODE_NAMES).join(', ')}, got "${values.upscale}"`);
  }
  if (mode === undefined) return undefined;
  if (values.input === undefined) throw new UsageError(`--${values.vary !== undefined ? 'vary' : 'upscale'} works on an input image: give --input IMG as well`);
  return { mode, ...(factor === undefined ? {} : { factor }), ...(values.upscaler === undefined ? {} : { upscaler: values.upscaler }) };
}

const UPSCALE_MODE_NAMES: Record<string, VaryUpscaleMode> = { '1.5x': 'upscale-1.5x', '2x': 'upscale-2x', fast: 'upscale-fast-2x', 'fast-2x': 'upscale-fast-2x', custom: 'upscale-custom' };
