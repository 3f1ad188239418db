/**
 * `fooocus generate "prompt" [options]`: text-to-image and image-to-image from the command line, with a progress
 * bar (or JSON lines when stdout is not a terminal), Ctrl-C to cancel, and images saved with their metadata.
 *
 * This file only turns options into the application's request and shows progress: the generation use case
 * (app/generation/generate-images.ts) checks the request against what is installed before anything loads, and
 * composes each image exactly as the studio does, so the same inputs make the same images in both.
 */
import { ImageDescribers } from '../../app/describe/describe-image.ts';
import { createDescriberRegistry, DESCRIBE_TYPES, isDescribeType, type DescribeType } from '../../app/describe/describer-registry.ts';
import os from 'node:os';
import path from 'node:path';
import { parseEnhanceOptions } from './enhance-option.ts';
import { ensureAppDirectories } from '../../app/config/app-directories.ts';
import { loadCreativeData, readShippedCatalog } from '../../app/creative/creative-data.ts';
import { ensureDemoModel, isDemoModel } from '../../app/demo/demo-model.ts';
import { createImageGenerator, prepareImageRequest, readInputImage, type ImageRequestDraft } from '../../app/generation/generate-images.ts';
import { GENERATION_DEFAULTS } from '../../app/generation/generation-defaults.ts';
import { GenerationService, int8CacheDir, type ServiceProgress } from '../../app/generation/generation-service.ts';
import { ImageRequestError, type ImageRequest } from '../../app/generation/image-request.ts';
import { createTokenizerLoader } from '../../app/generation/tokenizer-selection.ts';
import { MEMORY_SETTINGS, type MemorySetting } from '../../app/generation/memory-mode.ts';
import { readUnetInChannels } from '../../app/generation/inpaint-run.ts';
import { readUpscalerScale } from '../../app/generation/upscaler-selection.ts';
import { openModelStore, type ModelStore } from '../../app/models/model-store.ts';
import type { MetadataSchemeName } from '../../app/outputs/output-writer.ts';
import { InpaintEngineError, InvalidGenerationRequestError, MAX_IMAGES_PER_REQUEST, readMaskFile, type ImageFormat } from '../../engine/index.ts';
import { UsageError, type CommandContext } from '../command.ts';
import { loadCommandConfig } from '../command-config.ts';
import { ProgressReporter } from '../progress-reporter.ts';
import { chooseStyles, findPreset, GENERATE_OPTIONS, GENERATE_USAGE, parseNumberOption, parsePerformance, parseVaryUpscale, type GenerateValues } from './generate-options.ts';
import { optionForInpaintField, toInpaintChoice } from './inpaint-options.ts';
import { parseImagePromptOptions } from './image-prompt-option.ts';

/** Request fields whose option is not the field's name in kebab case (`clipSkip` is `--clip-skip`). */
const OPTION_FOR_FIELD: Record<string, string> = {
  prompt: 'prompt',
  negativePrompt: '--negative',
  width: '--size',
  height: '--size',
  aspectRatio: '--size',
  imageCount: '--n',
  refinerSwitch: '--switch',
  refinerSwitchMethod: '--refiner-method',
  styles: '--style',
  'varyUpscale.mode': '--upscale',
  'varyUpscale.factor': '--factor',
  'varyUpscale.upscaler': '--upscaler',
};

function optionFor(field: string, names: Readonly<Record<string, string>> = {}): string {
  if (field.startsWith('enhance')) return '--enhance';
  return names[field] ?? OPTION_FOR_FIELD[field] ?? optionForInpaintField(field) ?? `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export interface GenerateRunOptions {
  /** Request field -> the option that set it, for a command that forwards its own options here (`upscale`). */
  optionNames?: Readonly<Record<string, string>>;
}

function parseSeed(value: string | undefined): string | undefined {
  if (value === undefined || value === 'random') return undefined;
  if (!/^\d{1,19}$/.test(value) || BigInt(value) > (1n << 63n) - 1n) throw new UsageError(`--seed must be an integer in 0..9223372036854775807 or "random", got "${value}"`);
  return value;
}

function parseImageCount(value: string | undefined): number | undefined {
  const n = parseNumberOption('n', value);
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > MAX_IMAGES_PER_REQUEST)) throw new UsageError(`--n: must be an integer in 1..${MAX_IMAGES_PER_REQUEST}, got ${n}`);
  return n;
}

/** More threads than cores x 4 only thrash (or hang ONNX Runtime); a fraction or a negative number is a typo. */
function parseThreads(value: string | undefined): number | undefined {
  const n = parseNumberOption('threads', value);
  const max = os.availableParallelism() * 4;
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > max)) throw new UsageError(`--threads: must be an integer in 1..${max} (4 x ${max / 4} cores), got ${n}`);
  return n;
}

function parseMemory(value: string | undefined): MemorySetting | undefined {
  if (value === undefined) return undefined;
  if (!(MEMORY_SETTINGS as readonly string[]).includes(value)) throw new UsageError(`--memory must be ${MEMORY_SETTINGS.join(', ')}, got "${value}"`);
  return value as MemorySetting;
}

/** Steps about the models rather than one image (hashing, loading, the memory mode) carry no image number. */
const MODEL_PHASES: ReadonlySet<ServiceProgress['phase']> = new Set(['verify', 'load', 'memory']);

/**
 * Shows one progress event: its message (a bar when it counts, a line when it does not; sampling is a bar named
 * by its stage). What the event is about (model, component, tab, memory mode) goes into the JSON-lines fields.
 */
function showProgress(p: ServiceProgress, reporter: ProgressReporter, index: number, count: number): void {
  const forImage = !MODEL_PHASES.has(p.phase);
  const prefix = forImage ? `[${index + 1}/${count}] ` : '';
  const fields: Record<string, string | number> = { phase: p.phase, ...(forImage ? { image: index } : {}) };
  for (const key of ['model', 'component', 'type', 'tab', 'mode'] as const) {
    const value = (p as Partial<Record<typeof key, string | number>>)[key];
    if (value !== undefined) fields[key] = value;
  }
  if (p.phase === 'sample') {
    const stage = p.message === undefined ? '' : `${p.message}: `;
    reporter.update({ label: `${prefix}${stage}sampling`, done: p.step, total: p.steps, fields: { ...fields, seed: String(p.seed) } });
  } else if ('total' in p) {
    reporter.update({ label: `${prefix}${p.message}`, done: p.done, total: p.total, ...(p.unit === undefined ? {} : { unit: p.unit }), fields });
  } else {
    reporter.message(`${prefix}${p.message}`, fields);
  }
}

/** The options as the application's request; names (preset, styles, mode) are matched as the user may type them. */
function imagePromptChoices(values: GenerateValues): Pick<ImageRequestDraft, 'imagePrompts' | 'mixImagePromptAndVary' | 'mixImagePromptAndInpaint'> {
  const imagePrompts = parseImagePromptOptions(values['image-prompt']);
  if (imagePrompts === undefined) return {};
  return { imagePrompts, mixImagePromptAndVary: values['mix-image-prompt-vary'], mixImagePromptAndInpaint: values['mix-image-prompt-inpaint'] };
}

function toDraft(values: GenerateValues, prompt: string, data: Awaited<ReturnType<typeof loadCreativeData>>, defaultSteps: number): ImageRequestDraft {
  const preset = values.preset === undefined ? undefined : findPreset(data.presets, values.preset);
  const number = (option: string, text: string | undefined) => parseNumberOption(option, text);
  const varyUpscale = parseVaryUpscale(values);
  // Vary and Upscale take their steps from the performance mode (Fooocus's image-to-image steps for an upscale).
  const steps = number('steps', values.steps) ?? (preset === undefined && values.performance === undefined && varyUpscale === undefined ? defaultSteps : undefined);
  const denoise = number('denoise', values.denoise);
  const inpaint = toInpaintChoice(values);
  if (inpaint !== undefined && (values.size ?? values['aspect-ratio'] ?? values.aspect) !== undefined) {
    throw new UsageError(`${values.size !== undefined ? '--size' : values.aspect !== undefined ? '--aspect' : '--aspect-ratio'}: an inpaint or outpaint result has the input image's size (plus the outpaint padding); leave it out`);
  }
  if (denoise !== undefined && values.input === undefined) throw new UsageError('--denoise applies to image-to-image: give --input IMG as well');
  if (denoise !== undefined && varyUpscale !== undefined) throw new UsageError('--denoise does not apply to --vary or --upscale: their strength is fixed (0.5, 0.85; 0.382 for an upscale)');
  const draft: ImageRequestDraft = {
    prompt,
    negative: values.negative,
    styles: chooseStyles(values.style, preset?.preset.styles, data.styles, values['no-expansion']),
    ...(preset === undefined ? {} : { preset: preset.name }),
    ...(values.performance === undefined ? {} : { performance: parsePerformance(values.performance) }),
    ...(values.model === undefined ? {} : { model: values.model }),
    ...(values.refiner === undefined ? {} : { refiner: values.refiner === 'none' ? null : values.refiner }),
    refinerSwitch: number('switch', values.switch),
    ...(values.vae === undefined ? {} : { vae: values.vae }),
    // Checked with the other engine rules (validateGenerationRequest), which name the option on a bad value.
    ...(values['refiner-method'] === undefined ? {} : { refinerSwitchMethod: values['refiner-method'] as NonNullable<ImageRequest['refinerSwitchMethod']> }),
    steps,
    cfg: number('cfg', values.cfg),
    sharpness: number('sharpness', values.sharpness),
    adaptiveCfg: number('adaptive-cfg', values['adaptive-cfg']),
    sampler: values.sampler,
    scheduler: values.scheduler,
    clipSkip: number('clip-skip', values['clip-skip']),
    seed: parseSeed(values.seed),
    aspectRatio: values.size ?? values['aspect-ratio'],
    aspect: values.aspect,
    imageCount: parseImageCount(values.n),
    ...(values.input === undefined ? {} : { input: { file: path.resolve(values.input), denoise: denoise ?? GENERATION_DEFAULTS.denoise } }),
    inpaint,
    ...(varyUpscale === undefined ? {} : { varyUpscale }),
    ...imagePromptChoices(values),
    enhance: parseEnhanceOptions(values.enhance, values['enhance-vary'], values['enhance-order']),
    describeFirst: parseDescribeFirst(values['describe-first']),
    format: values.format as ImageFormat,
    metadataScheme: values.metadata as MetadataSchemeName,
  };
  // Options left out stay out, so the preset and the defaults fill them.
  return Object.fromEntries(Object.entries(draft).filter(([, v]) => v !== undefined)) as ImageRequestDraft;
}

function parseDescribeFirst(text: string | undefined): DescribeType | undefined {
  if (text === undefined) return undefined;
  if (!isDescribeType(text)) throw new UsageError(`--describe-first must be one of ${DESCRIBE_TYPES.join(', ')}, got "${text}"`);
  return text;
}

/** A refusal of the use case, in the words of the option that set the field. */
function toUsageError(err: ImageRequestError | InvalidGenerationRequestError | InpaintEngineError, values: GenerateValues, names: Readonly<Record<string, string>> = {}): UsageError {
  const sizeOption = values['aspect-ratio'] !== undefined && values.size === undefined ? '--aspect-ratio' : '--size';
  const inpaintNames: Record<string, string> = values.mask !== undefined || values.outpaint !== undefined ? { denoise: '--inpaint-strength' } : {};
  const option = err.field === 'aspectRatio' ? sizeOption : optionFor(err.field, { ...(values.vary === undefined ? {} : { 'varyUpscale.mode': '--vary' }), ...inpaintNames, ...names });
  const detail = err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message;
  return new UsageError(`${option}: ${detail}`);
}

/** The request, checked against the store and every rule before any model is read. */
async function prepareRun(ctx: CommandContext, values: GenerateValues, prompt: string, store: ModelStore, defaults: { model: string | null; steps: number }, names: Readonly<Record<string, string>>) {
  const catalog = await readShippedCatalog((err) => {
    // A preset names its models by catalog id, so it cannot do without the catalog; otherwise this is a warning.
    if (values.preset !== undefined) throw err;
    ctx.stderr.write(`warning: ${err.message}; catalog ids are not mapped to model files\n`);
  });
  const data = await loadCreativeData({ store, catalog });
  const draft = toDraft(values, prompt, data, defaults.steps);
  // On an empty store the demo model is the default: put it in place before the store is listed, so the request
  // is checked against a listing that has it (a fresh checkout's first generate).
  const demo = defaults.model === null ? await ensureDemoModel(store) : null;
  const defaultModel = async () => defaults.model ?? demo;
  try {
    const request = await prepareImageRequest(draft, { data, listing: await store.list() }, {
      defaultModel,
      readInput: (file) => readInputImage(process.cwd(), file, '--input'),
      readMask: (file) => readMaskFile(path.resolve(file), { source: '--mask' }),
      readUpscalerScale: (name) => readUpscalerScale(store, name, ctx.signal),
      readUnetInChannels: (name) => readUnetInChannels(store, name, ctx.signal),
    });
    return { request, data };
  } catch (err) {
    if (err instanceof ImageRequestError) throw toUsageError(err, values, names);
    throw err;
  }
}

export async function runGenerate(ctx: CommandContext, runOptions: GenerateRunOptions = {}): Promise<number> {
  const names = runOptions.optionNames ?? {};
  const { values, positionals } = ctx.parse(GENERATE_OPTIONS);
  if (values.help) {
    ctx.stdout.write(GENERATE_USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one prompt: npm run fooocus -- generate "a photo of a cat" --model <name> (see npm run fooocus -- generate --help)');
  if ([values.size, values['aspect-ratio'], values.aspect].filter((v) => v !== undefined).length > 1) throw new UsageError('give one of --size, --aspect-ratio and --aspect');
  if (!['png', 'jpeg', 'webp'].includes(values.format)) throw new UsageError(`--format must be png, jpeg or webp, got "${values.format}"`);
  if (values.metadata !== 'fooocus' && values.metadata !== 'a1111') throw new UsageError(`--metadata must be fooocus or a1111, got "${values.metadata}"`);
  const threadsOption = parseThreads(values.threads);
  const memoryOption = parseMemory(values.memory);
  const jsonLines = values.json || (ctx.stdout as NodeJS.WriteStream).isTTY !== true;
  const reporter = new ProgressReporter(jsonLines ? ctx.stdout : ctx.stderr, jsonLines ? 'json' : 'tty');

  const { config } = await loadCommandConfig(ctx, { config: values.config, models: values.models, outputs: values.out, 'insecure-permissions': values['insecure-permissions'], precision: values.precision }, ['models']);
  const store = await openModelStore(config.paths.models);

  // 1. the request, checked and with its defaults resolved: nothing has been loaded yet
  const { request, data } = await prepareRun(ctx, values, positionals[0]!, store, { model: config.generation.defaultModel, steps: config.generation.defaultSteps }, names);
  if (isDemoModel(request.model!)) reporter.message(`using the built-in demo model (random weights, abstract images); get a real model with \`npm run fooocus -- models pull <id>\` or \`npm run fooocus -- models import <file>\``);

  // A refused request writes nothing, not even the outputs folder.
  for (const line of await ensureAppDirectories(config.paths, ['outputs'])) ctx.stderr.write(`${line}\n`);

  // 2. one image at a time, each composed with its own seed (wildcards, arrays and Random Style draw from it)
  const threads = threadsOption ?? config.runtime.threads;
  const service = new GenerationService({
    runtime: { executionProvider: config.runtime.executionProvider, ...(threads > 0 ? { threads } : {}) },
    outputsDir: config.paths.outputs,
    ...(config.runtime.precision === 'int8' ? { int8CacheDir: int8CacheDir(config.paths.cache) } : {}),
    ...(config.runtime.precision === 'fp16' ? { float16: true } : {}),
    loadTokenizer: createTokenizerLoader(store),
    software: 'Fooocus-TS',
    memory: memoryOption ?? config.runtime.memory,
  });
  const describers = new ImageDescribers(store, createDescriberRegistry(), { executionProvider: config.runtime.executionProvider, ...(threads > 0 ? { threads } : {}) });
  const generateImage = createImageGenerator({ store, data, service, inputDir: process.cwd(), inputSource: '--input', maskSource: '--mask', describers });
  reporter.message(`seed ${request.seed}`, { seed: request.seed });
  let written = 0;
  try {
    for (let index = 0; index < request.imageCount; index++) {
      const onProgress = (p: ServiceProgress) => showProgress(p, reporter, index, request.imageCount);
      const saved = await generateImage(request as ImageRequest, index, { onProgress, signal: ctx.signal });
      reporter.finishLine();
      written += 1;
      if (jsonLines) ctx.stdout.write(JSON.stringify({ event: 'saved', path: saved.path, seed: String(saved.seed), seconds: saved.seconds }) + '\n');
      else ctx.stdout.write(`${saved.path}\n`);
    }
    return 0;
  } catch (err) {
    reporter.finishLine();
    if (err instanceof InvalidGenerationRequestError || err instanceof ImageRequestError || err instanceof InpaintEngineError) throw toUsageError(err, values, names);
    if (ctx.signal.aborted) {
      ctx.stderr.write(written === 0 ? 'cancelled; no image was written\n' : `cancelled; ${written} of ${request.imageCount} images were written\n`);
      return 130;
    }
    throw err;
  } finally {
    await describers.release();
    await service.close();
  }
}
