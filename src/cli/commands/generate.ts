/**
 * `fooocus generate "prompt" [options]`: text-to-image and image-to-image from the command line, with a progress
 * bar (or JSON lines when stdout is not a terminal), Ctrl-C to cancel, and images saved with their metadata.
 */
import { readFile } from 'node:fs/promises';
import { GENERATION_DEFAULTS } from '../../app/generation/generation-defaults.ts';
import { GenerationService, type AppGenerationRequest, type ServiceProgress, type VerifiedModel } from '../../app/generation/generation-service.ts';
import { parseSize, sizeForAspect } from '../../app/generation/image-size.ts';
import {
  decodeImage,
  InvalidGenerationRequestError,
  randomSeed,
  readSafetensorsHeader,
  inspectHeader,
  type ImageFormat,
  type RgbImage,
} from '../../engine/index.ts';
import { ensureDemoModel, isDemoModel } from '../../app/demo/demo-model.ts';
import { ModelNotFoundError } from '../../app/models/model-errors.ts';
import { openModelStore, type ModelStore } from '../../app/models/model-store.ts';
import { createTokenizerLoader } from '../../app/generation/tokenizer-selection.ts';
import { UsageError, type CommandContext } from '../command.ts';
import { CONFIG_OPTIONS, loadCommandConfig } from '../command-config.ts';
import { ProgressReporter } from '../progress-reporter.ts';

/** Engine request fields and the option that sets each, so validation errors name what the user typed. */
const OPTION_FOR_FIELD: Record<string, string> = {
  prompt: 'prompt',
  negativePrompt: '--negative',
  width: '--size',
  height: '--size',
  steps: '--steps',
  cfg: '--cfg',
  sharpness: '--sharpness',
  adaptiveCfg: '--adaptive-cfg',
  sampler: '--sampler',
  scheduler: '--scheduler',
  seed: '--seed',
  imageCount: '--n',
  clipSkip: '--clip-skip',
  refinerSwitch: '--switch',
  denoise: '--denoise',
  input: '--input',
};

function numberOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${value}"`);
  return n;
}

function parseSeed(value: string | undefined): bigint {
  if (value === undefined || value === 'random') return randomSeed();
  if (!/^\d{1,19}$/.test(value)) throw new UsageError(`--seed must be an integer in 0..9223372036854775807 or "random", got "${value}"`);
  return BigInt(value);
}

/** Fooocus encodes each line of a prompt as its own part. */
function promptParts(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.length === 0 ? [''] : lines;
}

/** Centre-crops an input image to multiples of 8 (the latent grid). */
function cropToGrid(img: RgbImage): RgbImage {
  const width = img.width - (img.width % 8);
  const height = img.height - (img.height % 8);
  if (width === img.width && height === img.height) return img;
  const x0 = Math.floor((img.width - width) / 2);
  const y0 = Math.floor((img.height - height) / 2);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) rgb.set(img.rgb.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + width) * 3), y * width * 3);
  return { width, height, rgb };
}

/**
 * A checkpoint by its name in the model store: verified against the trust manifest (size and SHA-256) before
 * anything reads it. Files outside the store are never loaded.
 */
async function resolveModel(store: ModelStore, name: string, reporter: ProgressReporter, signal: AbortSignal): Promise<VerifiedModel> {
  const file = await store
    .resolve('checkpoints', name, {
      signal,
      onHashProgress: (done, total) => reporter.update({ label: `verifying ${name}`, done: Math.round(done / 2 ** 20), total: Math.round(total / 2 ** 20), unit: 'MiB' }),
    })
    .catch((err: unknown) => {
      if (!(err instanceof ModelNotFoundError)) throw err;
      throw new UsageError(`--model: ${err.message}; see \`fooocus models list\`, and add a checkpoint with \`fooocus models import <file>\``);
    });
  reporter.finishLine();
  const entry = (await store.list()).find((m) => m.kind === 'checkpoints' && m.name === name);
  if (entry === undefined) throw new UsageError(`--model: "${name}" vanished from the model store while loading`);
  return { path: file, sha256: entry.sha256 };
}


function describeProgress(p: ServiceProgress, reporter: ProgressReporter): void {
  if (p.phase === 'load') {
    reporter.update({ label: `loading ${p.model}: ${p.component}`, done: p.index, total: p.total, fields: { phase: 'load' } });
    return;
  }
  const image = `[${p.image + 1}/${p.images}]`;
  if (p.phase === 'sample') reporter.update({ label: `${image} sampling`, done: p.step, total: p.steps, fields: { phase: 'sample', image: p.image, seed: String(p.seed) } });
  else reporter.message(`${image} ${p.phase === 'encode' ? 'encoding prompt' : 'decoding'} (seed ${p.seed})`, { phase: p.phase, image: p.image });
}

export async function runGenerate(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse({
    negative: { type: 'string', default: '' },
    model: { type: 'string' },
    refiner: { type: 'string' },
    switch: { type: 'string' },
    steps: { type: 'string' },
    cfg: { type: 'string' },
    sharpness: { type: 'string' },
    'adaptive-cfg': { type: 'string' },
    sampler: { type: 'string', default: GENERATION_DEFAULTS.sampler },
    scheduler: { type: 'string', default: GENERATION_DEFAULTS.scheduler },
    seed: { type: 'string' },
    size: { type: 'string' },
    aspect: { type: 'string' },
    n: { type: 'string' },
    input: { type: 'string' },
    denoise: { type: 'string' },
    'clip-skip': { type: 'string' },
    out: { type: 'string' },
    ...CONFIG_OPTIONS,
    format: { type: 'string', default: GENERATION_DEFAULTS.format },
    metadata: { type: 'string', default: GENERATION_DEFAULTS.scheme },
    threads: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one prompt: fooocus generate "a photo of a cat" --model <name>');

  if (values.size !== undefined && values.aspect !== undefined) throw new UsageError('give --size or --aspect, not both');
  if (!['png', 'jpeg', 'webp'].includes(values.format)) throw new UsageError(`--format must be png, jpeg or webp, got "${values.format}"`);
  if (values.metadata !== 'fooocus' && values.metadata !== 'a1111') throw new UsageError(`--metadata must be fooocus or a1111, got "${values.metadata}"`);
  const stdoutIsTty = (ctx.stdout as NodeJS.WriteStream).isTTY === true;
  const reporter = new ProgressReporter(values.json || !stdoutIsTty ? ctx.stdout : ctx.stderr, values.json || !stdoutIsTty ? 'json' : 'tty');

  const { config } = await loadCommandConfig(ctx, { config: values.config, models: values.models, outputs: values.out, 'insecure-permissions': values['insecure-permissions'] });
  const store = await openModelStore(config.paths.models);
  const modelName = values.model ?? config.generation.defaultModel ?? (await ensureDemoModel(store));
  if (modelName === null) throw new UsageError('--model <name> is required (a checkpoint in the model store: see fooocus models list)');
  if (isDemoModel(modelName)) reporter.message(`using the built-in demo model (random weights, abstract images); get a real model with \`fooocus models pull <id>\` or \`fooocus models import <file>\``);
  const model = await resolveModel(store, modelName, reporter, ctx.signal);
  const refiner = values.refiner === undefined ? undefined : await resolveModel(store, values.refiner, reporter, ctx.signal);

  // Decide the size from the model family (SDXL or SD1.5 area) or the input image; the file is verified by now.
  const family = inspectHeader(await readSafetensorsHeader(model.path)).architecture.family;
  const native = family === 'sd15' ? 512 : family === 'sd2x' ? 768 : 1024;
  let input: RgbImage | undefined;
  if (values.input !== undefined) input = cropToGrid(await decodeImage(new Uint8Array(await readFile(values.input))));
  let size: { width: number; height: number };
  try {
    size = values.size !== undefined ? parseSize(values.size) : values.aspect !== undefined ? sizeForAspect(values.aspect, native) : input ?? parseSize(native === 1024 ? GENERATION_DEFAULTS.aspect.sdxl : `${native}x${native}`);
  } catch (err) {
    throw new UsageError(`--${values.size !== undefined ? 'size' : 'aspect'}: ${(err as Error).message}`);
  }

  const request: AppGenerationRequest = {
    prompt: promptParts(positionals[0]!),
    negativePrompt: promptParts(values.negative),
    rawPrompt: positionals[0]!,
    rawNegativePrompt: values.negative,
    styles: [],
    width: size.width,
    height: size.height,
    steps: numberOption('steps', values.steps, config.generation.defaultSteps),
    cfg: numberOption('cfg', values.cfg, GENERATION_DEFAULTS.cfg),
    sharpness: numberOption('sharpness', values.sharpness, GENERATION_DEFAULTS.sharpness),
    adaptiveCfg: numberOption('adaptive-cfg', values['adaptive-cfg'], GENERATION_DEFAULTS.adaptiveCfg),
    sampler: values.sampler,
    scheduler: values.scheduler,
    seed: parseSeed(values.seed),
    imageCount: numberOption('n', values.n, GENERATION_DEFAULTS.imageCount),
    clipSkip: numberOption('clip-skip', values['clip-skip'], GENERATION_DEFAULTS.clipSkip),
    admScalers: { ...GENERATION_DEFAULTS.admScalers },
    refinerSwitch: numberOption('switch', values.switch, GENERATION_DEFAULTS.refinerSwitch),
    model,
    ...(refiner ? { refiner } : {}),
    ...(input ? { input: { image: input, denoise: numberOption('denoise', values.denoise, GENERATION_DEFAULTS.denoise) } } : {}),
    format: values.format as ImageFormat,
    scheme: values.metadata,
  };
  const threads = numberOption('threads', values.threads, config.runtime.threads);
  const service = new GenerationService({
    runtime: { executionProvider: config.runtime.executionProvider, ...(threads > 0 ? { threads } : {}) },
    outputsDir: config.paths.outputs,
    loadTokenizer: createTokenizerLoader(store),
    software: 'Fooocus-TS',
  });
  reporter.message(`seed ${request.seed}`, { seed: String(request.seed) });
  try {
    const saved = await service.generate(request, { onProgress: (p) => describeProgress(p, reporter), signal: ctx.signal });
    reporter.finishLine();
    for (const s of saved) {
      if (values.json || !stdoutIsTty) ctx.stdout.write(JSON.stringify({ event: 'saved', path: s.path, seed: String(s.seed), seconds: s.seconds }) + '\n');
      else ctx.stdout.write(`${s.path}\n`);
    }
    return 0;
  } catch (err) {
    reporter.finishLine();
    if (err instanceof InvalidGenerationRequestError) throw new UsageError(`${OPTION_FOR_FIELD[err.field] ?? err.field}: ${err.message.slice(err.field.length + 2)}`);
    if (ctx.signal.aborted) {
      ctx.stderr.write('cancelled; no image was written\n');
      return 130;
    }
    throw err;
  } finally {
    await service.close();
  }
}
