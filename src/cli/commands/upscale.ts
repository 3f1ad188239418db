/**
 * `fooocus upscale IMG [--mode 1.5x|2x|fast|custom] [--factor F] [--upscaler NAME]`: Fooocus's Upscale on one
 * image. It is `fooocus generate` with the image as `--input` and the mode as `--upscale` (same use case, same
 * progress and output), so an upscale made here and one made in the studio are the same request.
 */
import { UsageError, createContext, type CommandContext } from '../command.ts';
import { IMAGE_OUTPUT_OPTIONS } from './generate-options.ts';
import { runGenerate } from './generate.ts';

export const UPSCALE_OPTIONS = {
  help: { type: 'boolean', short: 'h', default: false },
  mode: { type: 'string', default: '2x' },
  factor: { type: 'string' },
  upscaler: { type: 'string' },
  prompt: { type: 'string', default: '' },
  negative: { type: 'string' },
  model: { type: 'string' },
  performance: { type: 'string' },
  steps: { type: 'string' },
  seed: { type: 'string' },
  ...IMAGE_OUTPUT_OPTIONS,
} as const;

export const UPSCALE_USAGE = [
  'Usage: npm run fooocus -- upscale IMG [options]',
  '',
  'Fooocus\'s Upscale: the upscaler model (ESRGAN / Real-ESRGAN .safetensors in the store\'s upscalers folder), a',
  'Lanczos resample to the factor, then image-to-image at denoise 0.382 with the performance mode\'s image-to-image',
  'steps (Speed 18, Quality 36) and a tiled VAE. A result over 2800 px (shape ceil, SDXL) is the upscaler\'s image.',
  '',
  '  --mode 1.5x|2x|fast|custom   default 2x; fast: the upscaler\'s image only, no diffusion',
  '  --factor F                   custom mode\'s factor, 1..4 (implies --mode custom)',
  '  --upscaler NAME              upscaler file in the store (default: Fooocus\'s, else the only one installed)',
  '  --steps N                    overrides the performance mode\'s image-to-image steps',
  '  --prompt TEXT  --negative TEXT  --model NAME  --performance MODE  --seed N',
  '  --out DIR  --format png|jpeg|webp  --metadata fooocus|a1111  --json  --threads N',
  '  --models DIR  --config FILE  --insecure-permissions',
].join('\n');

const UPSCALE_MODES = ['1.5x', '2x', 'fast', 'custom'];

/** The errors name this command's options: the mode's field is `--mode` here. */
const OPTION_NAMES = { 'varyUpscale.mode': '--mode', input: 'IMG' };

export async function runUpscale(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse(UPSCALE_OPTIONS);
  if (values.help) {
    ctx.stdout.write(UPSCALE_USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one image: npm run fooocus -- upscale photo.png --mode 2x (see npm run fooocus -- upscale --help)');
  const mode = values.factor !== undefined && ctx.argv.every((a) => a !== '--mode' && !a.startsWith('--mode=')) ? 'custom' : values.mode.toLowerCase();
  if (!UPSCALE_MODES.includes(mode)) throw new UsageError(`--mode must be one of ${UPSCALE_MODES.join(', ')}, got "${values.mode}"`);
  const forward: string[] = [values.prompt, '--input', positionals[0]!, '--upscale', mode];
  for (const [name, value] of Object.entries(values)) {
    if (['help', 'mode', 'prompt'].includes(name) || value === undefined || value === false) continue;
    forward.push(`--${name}`, ...(value === true ? [] : [String(value)]));
  }
  return runGenerate(createContext(forward, ctx), { optionNames: OPTION_NAMES });
}
