/**
 * `fooocus generate "prompt" [options]`: text-to-image and image-to-image from the command line, with a progress
 * bar (or JSON lines when stdout is not a terminal), Ctrl-C to cancel, and images saved with their metadata.
 *
 * Each image's request is composed by the creative layer exactly as the studio composes it (the same data loader
 * and compose-request): preset, styles, prompt expansion, wildcards, arrays, `<lora:…>` tokens and performance
 * mode, with explicit options overriding the preset. The same inputs therefore make the same images in both.
 */
import { readFile } from 'node:fs/promises';
import { composedGenerationFields, composeRequest, type ComposedRequest, type CreativeContext, type CreativeRequest, type SettingsChoices } from '../../app/creative/compose-request.ts';
import { loadCreativeData, type CreativeData } from '../../app/creative/creative-data.ts';
import { PresetModelsMissingError } from '../../app/creative/creative-errors.ts';
import { findMissingPresetModels, resolvePresetModels, toStoreFileName } from '../../app/creative/preset-models.ts';
import type { Preset } from '../../app/creative/presets.ts';
import { ensureDemoModel, isDemoModel } from '../../app/demo/demo-model.ts';
import { GENERATION_DEFAULTS } from '../../app/generation/generation-defaults.ts';
import { GenerationService, type AppGenerationRequest, type ServiceProgress, type VerifiedLora, type VerifiedModel } from '../../app/generation/generation-service.ts';
import { parseSize, sizeForAspect } from '../../app/generation/image-size.ts';
import { findLoraName, verifyLoras } from '../../app/generation/lora-selection.ts';
import { createTokenizerLoader } from '../../app/generation/tokenizer-selection.ts';
import type { AppConfig } from '../../app/config/config-schema.ts';
import { readVerifiedCatalog, type Catalog } from '../../app/models/catalog.ts';
import { ModelNotFoundError } from '../../app/models/model-errors.ts';
import { openModelStore, type ModelListing, type ModelStore } from '../../app/models/model-store.ts';
import {
  decodeImage,
  InvalidGenerationRequestError,
  inspectHeader,
  MAX_IMAGES_PER_REQUEST,
  randomSeed,
  readSafetensorsHeader,
  type ImageFormat,
  type RgbImage,
} from '../../engine/index.ts';
import { UsageError, type CommandContext } from '../command.ts';
import { loadCommandConfig } from '../command-config.ts';
import { ProgressReporter } from '../progress-reporter.ts';
import { chooseStyles, findPreset, GENERATE_OPTIONS, GENERATE_USAGE, parseNumberOption, parsePerformance, type GenerateValues } from './generate-options.ts';
import { BUILTIN_CATALOG } from './models-pull.ts';

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

function parseSeed(value: string | undefined): bigint {
  if (value === undefined || value === 'random') return randomSeed();
  if (!/^\d{1,19}$/.test(value)) throw new UsageError(`--seed must be an integer in 0..9223372036854775807 or "random", got "${value}"`);
  return BigInt(value);
}

function parseImageCount(value: string | undefined, fallback: number): number {
  const n = parseNumberOption('n', value) ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > MAX_IMAGES_PER_REQUEST) throw new UsageError(`--n: must be an integer in 1..${MAX_IMAGES_PER_REQUEST}, got ${n}`);
  return n;
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
 * A model by its name in the model store: verified against the trust manifest (size and SHA-256) before anything
 * reads it. Files outside the store are never loaded.
 */
async function resolveModel(store: ModelStore, name: string, option: string, reporter: ProgressReporter, signal: AbortSignal): Promise<VerifiedModel> {
  const file = await store
    .resolve('checkpoints', name, {
      signal,
      onHashProgress: (done, total) => reporter.update({ label: `verifying ${name}`, done: Math.round(done / 2 ** 20), total: Math.round(total / 2 ** 20), unit: 'MiB' }),
    })
    .catch((err: unknown) => {
      if (!(err instanceof ModelNotFoundError)) throw err;
      throw new UsageError(`${option}: ${err.message}; see \`fooocus models list\`, and add a checkpoint with \`fooocus models import <file>\``);
    });
  reporter.finishLine();
  const entry = (await store.list()).find((m) => m.kind === 'checkpoints' && m.name === name);
  if (entry === undefined) throw new UsageError(`${option}: "${name}" vanished from the model store while loading`);
  return { path: file, sha256: entry.sha256 };
}

function describeProgress(p: ServiceProgress, reporter: ProgressReporter, index: number, count: number): void {
  if (p.phase === 'load') {
    reporter.update({ label: `loading ${p.model}: ${p.component}`, done: p.index, total: p.total, fields: { phase: 'load' } });
    return;
  }
  const image = `[${index + 1}/${count}]`;
  if (p.phase === 'sample') reporter.update({ label: `${image} sampling`, done: p.step, total: p.steps, fields: { phase: 'sample', image: index, seed: String(p.seed) } });
  else reporter.message(`${image} ${p.phase === 'encode' ? 'encoding prompt' : 'decoding'} (seed ${p.seed})`, { phase: p.phase, image: index });
}

/**
 * The signed catalog that ships with the app, which maps preset model names (catalog ids) to files. A preset
 * cannot do without it; without a preset a catalog that fails to verify is only a warning.
 */
async function readShippedCatalog(ctx: CommandContext, required: boolean): Promise<Catalog | null> {
  try {
    return (await readVerifiedCatalog(BUILTIN_CATALOG)).catalog;
  } catch (err) {
    if (required) throw err;
    ctx.stderr.write(`warning: ${(err as Error).message}; catalog ids are not mapped to model files\n`);
    return null;
  }
}

/** The preset's models the store lacks, leaving out those an explicit option replaces. */
function checkPresetModels(name: string, preset: Preset, values: GenerateValues, data: CreativeData, listing: readonly ModelListing[]): void {
  const installed = new Set(listing.map((m) => `${m.kind}/${m.name}`));
  const missing = findMissingPresetModels(preset, data.catalogFiles, installed).filter(
    (m) => !(m.field === 'model' && values.model !== undefined) && !(m.field === 'refiner' && values.refiner !== undefined),
  );
  if (missing.length > 0) throw new PresetModelsMissingError(name, missing);
}

/** What the user chose explicitly: these win over the preset (but not over what a fast performance mode forces). */
function explicitChoices(values: GenerateValues, data: CreativeData): SettingsChoices {
  const numbers: [keyof SettingsChoices, string, string | undefined][] = [
    ['refinerSwitch', 'switch', values.switch],
    ['cfg', 'cfg', values.cfg],
    ['sharpness', 'sharpness', values.sharpness],
    ['adaptiveCfg', 'adaptive-cfg', values['adaptive-cfg']],
  ];
  const choices: SettingsChoices = Object.fromEntries(numbers.flatMap(([field, option, text]) => (text === undefined ? [] : [[field, parseNumberOption(option, text)]])));
  if (values.model !== undefined) choices.model = toStoreFileName(values.model, 'checkpoints', data.catalogFiles);
  if (values.refiner !== undefined) choices.refiner = values.refiner === 'none' ? null : toStoreFileName(values.refiner, 'checkpoints', data.catalogFiles);
  if (values.sampler !== undefined) choices.sampler = values.sampler;
  if (values.scheduler !== undefined) choices.scheduler = values.scheduler;
  return choices;
}

/** --size / --aspect-ratio, then --aspect (at the family's native area), then the input image, the preset, the default. */
function chooseSize(values: GenerateValues, preset: Preset | undefined, input: RgbImage | undefined, native: number): { width: number; height: number } {
  const exact = values.size ?? values['aspect-ratio'];
  const option = values.size !== undefined ? 'size' : values['aspect-ratio'] !== undefined ? 'aspect-ratio' : 'aspect';
  try {
    if (exact !== undefined) return parseSize(exact);
    if (values.aspect !== undefined) return sizeForAspect(values.aspect, native);
  } catch (err) {
    throw new UsageError(`--${option}: ${(err as Error).message}`);
  }
  if (input !== undefined) return input;
  if (preset !== undefined) return parseSize(preset.aspectRatio);
  return parseSize(native === 1024 ? GENERATION_DEFAULTS.aspect.sdxl : `${native}x${native}`);
}

/** Everything about a run that the creative layer decides, and image 0 composed (its settings pick the models). */
interface RunPlan {
  preset: Preset | undefined;
  batch: Omit<CreativeRequest, 'imageIndex'>;
  context: CreativeContext;
  first: ComposedRequest;
  imageCount: number;
  listing: ModelListing[];
}

/** Preset, styles, performance and explicit settings, checked; the preset's models must be in the store. */
async function planRun(ctx: CommandContext, values: GenerateValues, prompt: string, store: ModelStore, defaultSteps: number): Promise<RunPlan> {
  const data = await loadCreativeData({ store, catalog: await readShippedCatalog(ctx, values.preset !== undefined) });
  const chosen = values.preset === undefined ? undefined : findPreset(data.presets, values.preset);
  const preset = chosen?.preset;
  const steps = parseNumberOption('steps', values.steps) ?? (chosen === undefined && values.performance === undefined ? defaultSteps : undefined);
  const listing = await store.list();
  if (chosen !== undefined) checkPresetModels(chosen.name, chosen.preset, values, data, listing);
  const batch: Omit<CreativeRequest, 'imageIndex'> = {
    prompt,
    negative: values.negative,
    styles: chooseStyles(values.style, preset?.styles, data.styles, values['no-expansion']),
    performance: values.performance === undefined ? (preset?.performance ?? 'Speed') : parsePerformance(values.performance),
    ...(preset === undefined ? {} : { preset: { ...preset, ...resolvePresetModels(preset, data.catalogFiles) } }),
    seed: parseSeed(values.seed),
    choices: explicitChoices(values, data),
    ...(steps === undefined ? {} : { steps }),
  };
  const imageCount = parseImageCount(values.n, preset?.imageCount ?? GENERATION_DEFAULTS.imageCount);
  const context: CreativeContext = { ...data.context, loraAvailable: (file) => findLoraName(listing, file) !== null };
  return { preset, batch, context, first: composeRequest({ ...batch, imageIndex: 0 }, context), imageCount, listing };
}

/** What every image of the run shares: verified models, size, input image and output settings. */
type SharedRequest = Pick<AppGenerationRequest, 'model' | 'refiner' | 'width' | 'height' | 'clipSkip' | 'input' | 'format' | 'scheme' | 'performance'>;

function toAppRequest(composed: ComposedRequest, loras: VerifiedLora[], shared: SharedRequest): AppGenerationRequest {
  return { ...shared, ...composedGenerationFields(composed), ...(loras.length > 0 ? { loras } : {}) };
}

/** The checkpoints, verified, and what depends on them: the size from the model family (or the input image). */
async function prepareSharedRequest(values: GenerateValues, plan: RunPlan, store: ModelStore, config: AppConfig, reporter: ProgressReporter, signal: AbortSignal): Promise<SharedRequest> {
  const fromPreset = (option: 'model' | 'refiner') => (values[option] === undefined && plan.preset !== undefined ? '--preset' : `--${option}`);
  const modelName = plan.first.settings.model ?? config.generation.defaultModel ?? (await ensureDemoModel(store));
  if (modelName === null) throw new UsageError('--model <name> is required (a checkpoint in the model store: see fooocus models list)');
  if (isDemoModel(modelName)) reporter.message(`using the built-in demo model (random weights, abstract images); get a real model with \`fooocus models pull <id>\` or \`fooocus models import <file>\``);
  const model = await resolveModel(store, modelName, fromPreset('model'), reporter, signal);
  const refinerName = plan.first.settings.refiner;
  const refiner = refinerName === null ? undefined : await resolveModel(store, refinerName, fromPreset('refiner'), reporter, signal);

  // The file is verified by now, so its header may be read.
  const family = inspectHeader(await readSafetensorsHeader(model.path)).architecture.family;
  const native = family === 'sd15' ? 512 : family === 'sd2x' ? 768 : 1024;
  const input = values.input === undefined ? undefined : cropToGrid(await decodeImage(new Uint8Array(await readFile(values.input))));
  const size = chooseSize(values, plan.preset, input, native);
  return {
    model,
    ...(refiner ? { refiner } : {}),
    width: size.width,
    height: size.height,
    clipSkip: parseNumberOption('clip-skip', values['clip-skip']) ?? GENERATION_DEFAULTS.clipSkip,
    ...(input ? { input: { image: input, denoise: parseNumberOption('denoise', values.denoise) ?? GENERATION_DEFAULTS.denoise } } : {}),
    format: values.format as ImageFormat,
    // Checked by runGenerate before anything else.
    scheme: values.metadata as SharedRequest['scheme'],
    performance: plan.batch.performance,
  };
}

export async function runGenerate(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse(GENERATE_OPTIONS);
  if (values.help) {
    ctx.stdout.write(GENERATE_USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('give exactly one prompt: fooocus generate "a photo of a cat" --model <name> (see fooocus generate --help)');
  if ([values.size, values['aspect-ratio'], values.aspect].filter((v) => v !== undefined).length > 1) throw new UsageError('give one of --size, --aspect-ratio and --aspect');
  if (!['png', 'jpeg', 'webp'].includes(values.format)) throw new UsageError(`--format must be png, jpeg or webp, got "${values.format}"`);
  if (values.metadata !== 'fooocus' && values.metadata !== 'a1111') throw new UsageError(`--metadata must be fooocus or a1111, got "${values.metadata}"`);
  const jsonLines = values.json || (ctx.stdout as NodeJS.WriteStream).isTTY !== true;
  const reporter = new ProgressReporter(jsonLines ? ctx.stdout : ctx.stderr, jsonLines ? 'json' : 'tty');

  const { config } = await loadCommandConfig(ctx, { config: values.config, models: values.models, outputs: values.out, 'insecure-permissions': values['insecure-permissions'] }, ['models', 'outputs']);
  const store = await openModelStore(config.paths.models);

  // 1. the creative choices: preset, styles, performance, explicit settings; image 0 composed
  const plan = await planRun(ctx, values, positionals[0]!, store, config.generation.defaultSteps);

  // 2. the checkpoints, verified (LoRAs are verified per image, below), and the size from their family
  const shared = await prepareSharedRequest(values, plan, store, config, reporter, ctx.signal);
  const listing = await store.list();

  // 3. one image at a time, each composed with its own seed (wildcards, arrays and Random Style draw from it)
  const threads = parseNumberOption('threads', values.threads) ?? config.runtime.threads;
  const service = new GenerationService({
    runtime: { executionProvider: config.runtime.executionProvider, ...(threads > 0 ? { threads } : {}) },
    outputsDir: config.paths.outputs,
    loadTokenizer: createTokenizerLoader(store),
    software: 'Fooocus-TS',
  });
  reporter.message(`seed ${plan.batch.seed}`, { seed: String(plan.batch.seed) });
  let written = 0;
  try {
    for (let index = 0; index < plan.imageCount; index++) {
      const composed = index === 0 ? plan.first : composeRequest({ ...plan.batch, imageIndex: index }, plan.context);
      const loras = await verifyLoras(store, listing, composed.settings.loras, ctx.signal);
      const onProgress = (p: ServiceProgress) => describeProgress(p, reporter, index, plan.imageCount);
      const [saved] = await service.generate(toAppRequest(composed, loras, shared), { onProgress, signal: ctx.signal });
      reporter.finishLine();
      written += 1;
      if (jsonLines) ctx.stdout.write(JSON.stringify({ event: 'saved', path: saved!.path, seed: String(saved!.seed), seconds: saved!.seconds }) + '\n');
      else ctx.stdout.write(`${saved!.path}\n`);
    }
    return 0;
  } catch (err) {
    reporter.finishLine();
    if (err instanceof InvalidGenerationRequestError) throw new UsageError(`${OPTION_FOR_FIELD[err.field] ?? err.field}: ${err.message.slice(err.field.length + 2)}`);
    if (ctx.signal.aborted) {
      ctx.stderr.write(written === 0 ? 'cancelled; no image was written\n' : `cancelled; ${written} of ${plan.imageCount} images were written\n`);
      return 130;
    }
    throw err;
  } finally {
    await service.close();
  }
}
