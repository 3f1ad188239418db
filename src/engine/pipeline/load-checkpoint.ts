/**
 * Turns an inspected checkpoint into runnable ONNX Runtime sessions: one graph per component, built from the
 * checkpoint's own tensors and reading the weights in place from the .safetensors file.
 */
import path from 'node:path';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { buildClipTextGraph, type ClipTextGraphOptions } from '../graphs/clip-text.ts';
import { buildUnetGraph, type UnetGraphOptions } from '../graphs/unet.ts';
import { buildVaeDecoderGraph, buildVaeEncoderGraph } from '../graphs/vae.ts';
import { encodeOnnxModel, type OnnxModel } from '../onnx/onnx-proto.ts';
import { createModelSession, type ModelSession, type RuntimeOptions } from '../runtime/onnx-runtime.ts';
import type { CheckpointArchitecture } from '../models/architecture.ts';
import { planAdapters, type AdapterPlan, type WeightedLora } from '../lora/lora-plan.ts';
import type { AdapterComponent } from '../lora/lora-targets.ts';
import { ensureInt8Weights, type Int8WeightFile } from '../quantize/int8-weight-cache.ts';
import { selectInt8UnetWeights } from '../quantize/int8-unet-weights.ts';

export type CheckpointComponent = 'unet' | 'text' | 'vae-decoder' | 'vae-encoder';

export interface LoadCheckpointOptions {
  /** Built at once (default: UNet, text encoders, VAE decoder); any other when `ensureComponents` asks for it. */
  components?: readonly CheckpointComponent[];
  runtime?: RuntimeOptions;
  unet?: UnetGraphOptions;
  /** Per text encoder, in `architecture.textEncoders` order. */
  text?: readonly ClipTextGraphOptions[];
  /** LoRAs to apply from the start (the same as calling `applyLoras` afterwards, without building twice). */
  loras?: readonly WeightedLora[];
  /**
   * Runs the UNet's linear and conv layers in int8 (`runtime.precision: "int8"`), with the weights quantized once
   * into `cacheDir`, keyed by the checkpoint's SHA-256, and read back from there on later loads (checked here,
   * whether or not the UNet is among `components`, so that a later build finds them ready).
   */
  int8?: { cacheDir: string; sourceSha256: string };
  /**
   * Builds the UNet and the text encoders as float16 graphs (`runtime.precision: "fp16"`, for GPU providers), with
   * float32 islands (GroupNorm statistics, softmax, the timestep embedding) and float32 inputs and outputs. The VAE stays float32 for every family, as Fooocus and ComfyUI keep it by default.
   */
  float16?: boolean;
  /** Called before each of `components` is built, for progress reporting. */
  onComponent?: (component: CheckpointComponent, index: number, total: number) => void;
  signal?: AbortSignal;
}

export interface LoraApplyReport {
  /** Modules applied over all LoRAs. */
  modules: number;
  /** Components whose graph had to be rebuilt because the set adapts weights the old graph had no slot for. */
  rebuilt: AdapterComponent[];
  /** Seconds for the whole switch: planning, rebuilding (if any) and binding the new values. */
  seconds: number;
}

export interface LoadedCheckpoint {
  architecture: CheckpointArchitecture;
  /** The current sessions (null while a component is not built); `applyLoras` may replace the UNet's and the text encoders'. */
  readonly unet: ModelSession | null;
  readonly textEncoders: readonly ModelSession[];
  readonly vaeDecoder: ModelSession | null;
  readonly vaeEncoder: ModelSession | null;
  /** The UNet graph takes Fooocus's inpaint head feature (built with the inpaint patch), built yet or not. */
  readonly inpaintFeature: boolean;
  /** Seconds spent building graphs and creating sessions, by component (latest build). */
  buildSeconds: Partial<Record<CheckpointComponent, number>>;
  /** The UNet's int8 weights when `int8` was asked for: read from the cache or (re)built, and how long that took. */
  int8Weights: Pick<Int8WeightFile, 'origin' | 'seconds'> | null;
  /**
   * How many times each component's sessions were built (a component released and built again counts twice):
   * what a job really built, for logs, the benchmark and the tests that check a job builds only what it uses.
   */
  readonly sessionsBuilt: Readonly<Record<CheckpointComponent, number>>;
  /** Builds the listed components that are not built yet (and that the checkpoint has), one at a time. */
  ensureComponents(components: readonly CheckpointComponent[], options?: ComponentBuildOptions): Promise<void>;
  /** Releases the listed components' sessions; a later `ensureComponents` builds them again. */
  releaseComponents(components: readonly CheckpointComponent[]): Promise<void>;
  /**
   * Makes `loras` the active set (an empty list removes them all). Only the LoRA values change when every
   * adapted weight already has a slot; otherwise the affected component is rebuilt once with slots for the old
   * and new weights, so switching back and forth among sets costs no further builds. A component not built now
   * is built later with the slots and values of the active set.
   */
  applyLoras(loras: readonly WeightedLora[]): Promise<LoraApplyReport>;
  release(): Promise<void>;
}

export interface ComponentBuildOptions {
  /** Called before each component is built, for progress reporting. */
  onComponent?: (component: CheckpointComponent, index: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * ONNX Runtime optimization level per component when the caller sets none. Measured on SD1.5 (npm run bench):
 * `all` adds NCHWc layout transforms that cost the UNet ~25 s of session build and ~1.6 GB of peak memory for a
 * ~5% faster step, while the conv-heavy VAE decoder gains ~10% at no build cost.
 */
const DEFAULT_OPTIMIZATION: Record<CheckpointComponent, NonNullable<RuntimeOptions['optimization']>> = {
  unet: 'extended',
  text: 'extended',
  'vae-decoder': 'all',
  'vae-encoder': 'all',
};

/**
 * ONNX Runtime's memory pattern per component when the caller sets none. The pattern is learnt from the first run
 * and allocated as one block from the second on; the arena cannot fit that block into the blocks the first run
 * left free, so it grows again, and a block that size costs fresh pages at every run. Measured with the arena on
 * (README, "Memory"): the SD 1.5 UNet holds about 180 MB less without it (5 % of its weights) at the same step
 * time and output bits (`npm run bench -- memory:sd15-unet-pattern-off`); the VAE decoder, whose activations are
 * many times its weights, peaks at 1.48 GiB instead of 2.45 GiB at 512x512 and 3.72 GiB instead of 7.31 GiB at
 * 1024x1024, and decodes 23 % and 45 % faster (`memory-case.ts <family> vae <cache> resident on off`). The text
 * encoders' activations are small; they keep it.
 */
const DEFAULT_MEMORY_PATTERN: Record<CheckpointComponent, boolean> = {
  unet: false,
  text: true,
  'vae-decoder': false,
  'vae-encoder': false,
};

/**
 * ONNX Runtime session settings per component, under the caller's own. The fp32 UNet is built without weight
 * prepacking: ONNX Runtime would copy each linear layer's fp32 weight into its packed layout and free the original,
 * and the freed blocks stay in the C heap. Measured on the full-size UNets (README, "Memory"; `npm run bench --
 * memory:sd15-unet-prepacking` against `memory:sd15-unet-default`, `session-memory-case.ts sdxl`): SD 1.5 peaks
 * 0.05-0.1 GiB lower (1.11-1.12x its weights instead of 1.13-1.15x), SDXL the same, at the same step time (SD 1.5
 * median 5.80 s against 5.76 s over interleaved runs, SDXL 45.5 s against 45.3 s). The GEMM packs its weight panels
 * as it runs instead, which costs about 1/M of the product for M rows (M >= 128 in any UNet layer). The int8 UNet
 * keeps prepacking (see componentRuntimeOptions).
 */
const DEFAULT_SESSION_CONFIG: Record<CheckpointComponent, Readonly<Record<string, string>>> = {
  unet: { 'session.disable_prepacking': '1' },
  text: {},
  'vae-decoder': {},
  'vae-encoder': {},
};

/**
 * The runtime options a component's sessions are built with: the caller's, and this module's defaults for the rest.
 * `int8`: the UNet runs in int8, whose integer GEMMs (DynamicQuantizeMatMul, MatMulIntegerToFloat) took 2.47-2.62 s
 * per SD 1.5 step with their weights prepacked and 2.85-3.15 s without (three interleaved pairs of processes), for
 * the same bits and peak; so it keeps ONNX Runtime's default there.
 */
export function componentRuntimeOptions(component: CheckpointComponent, runtime: RuntimeOptions = {}, int8 = false): RuntimeOptions {
  const sessionConfig = { ...(int8 ? {} : DEFAULT_SESSION_CONFIG[component]), ...runtime.sessionConfig };
  return {
    ...runtime,
    optimization: runtime.optimization ?? DEFAULT_OPTIMIZATION[component],
    memoryPattern: runtime.memoryPattern ?? DEFAULT_MEMORY_PATTERN[component],
    ...(Object.keys(sessionConfig).length === 0 ? {} : { sessionConfig }),
  };
}

/** Build order when several components are asked for at once (the order a pipeline uses them in). */
const BUILD_ORDER: readonly CheckpointComponent[] = ['text', 'unet', 'vae-decoder', 'vae-encoder'];

/** One built graph: its session, the component it belongs to, and the adapter slots it was built with. */
interface BuiltSession {
  session: ModelSession;
  adapter: AdapterComponent | null;
  slots: Set<string>;
}

/**
 * Prepares a checkpoint's components for running. Only `options.components` are built now (default: UNet, text
 * encoders, VAE decoder); any other is built when `ensureComponents` asks for it, so a job builds only what it uses.
 */
export async function loadCheckpoint(
  header: SafetensorsHeader,
  architecture: CheckpointArchitecture,
  options: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const weightsDir = path.dirname(path.resolve(header.file));
  if (options.float16 === true && options.int8 !== undefined) throw new RangeError('loadCheckpoint: int8 and float16 are alternatives; ask for one');
  const precision = options.float16 === true ? { precision: 'float16' as const } : {};
  const int8 = options.int8 !== undefined && architecture.unet !== null
    ? await ensureInt8Weights(header, selectInt8UnetWeights(header, architecture.unet), { dir: options.int8.cacheDir, sourceSha256: options.int8.sourceSha256, ...(options.signal ? { signal: options.signal } : {}) })
    : null;
  // A patched or int8 UNet reads several files; the session's weights directory must hold them all.
  const unetFiles = [header.file, ...[...(options.unet?.weightPatches?.values() ?? [])].map((p) => p.header.file), ...(int8 ? [int8.header.file] : [])];
  const unetWeightsDir = commonDirectory(unetFiles);
  const unetOptions: UnetGraphOptions = { ...options.unet, ...(int8 ? { int8Weights: { header: int8.header, keys: int8.keys } } : {}) };
  const buildSeconds: LoadedCheckpoint['buildSeconds'] = {};
  const sessionsBuilt: Record<CheckpointComponent, number> = { unet: 0, text: 0, 'vae-decoder': 0, 'vae-encoder': 0 };
  const { unet, vae, textEncoders } = architecture;
  // The LoRA set bound now, and per adapted graph the slots it is (or will be) built with; kept across releases.
  let activePlan: AdapterPlan | null = options.loras !== undefined && options.loras.length > 0 ? planAdapters(header, architecture, options.loras) : null;
  const slotMemory = new Map<AdapterComponent, Set<string>>();
  const slotsFor = (adapter: AdapterComponent): Set<string> => slotMemory.get(adapter) ?? new Set(activePlan?.slots.get(adapter) ?? []);

  const optimizationOf = (component: CheckpointComponent): RuntimeOptions => componentRuntimeOptions(component, options.runtime, component === 'unet' && int8 !== null);
  const graphOf = (adapter: AdapterComponent, slots: Set<string>): OnnxModel => {
    if (adapter === 'unet') return buildUnetGraph(header, unet!, { ...unetOptions, ...precision, lowRankSlots: slots, weightsRoot: unetWeightsDir });
    const index = Number(adapter.slice('text'.length));
    return buildClipTextGraph(header, textEncoders[index]!, { ...options.text?.[index], ...precision, lowRankSlots: slots });
  };
  const buildAdaptable = async (adapter: AdapterComponent, slots: Set<string>): Promise<BuiltSession> => {
    const component: CheckpointComponent = adapter === 'unet' ? 'unet' : 'text';
    const session = await createModelSession(encodeOnnxModel(graphOf(adapter, slots)), adapter === 'unet' ? unetWeightsDir : weightsDir, optimizationOf(component));
    slotMemory.set(adapter, slots);
    return { session, adapter, slots };
  };
  const fixed = (component: CheckpointComponent, model: () => OnnxModel) => async (): Promise<BuiltSession> => ({
    session: await createModelSession(encodeOnnxModel(model()), weightsDir, optimizationOf(component)),
    adapter: null,
    slots: new Set(),
  });
  // The sessions each component needs, or none when the checkpoint lacks it.
  const buildersOf = (component: CheckpointComponent): (() => Promise<BuiltSession>)[] => {
    if (component === 'text') return textEncoders.map((_, i) => () => buildAdaptable(`text${i}`, slotsFor(`text${i}`)));
    if (component === 'unet') return unet === null ? [] : [() => buildAdaptable('unet', slotsFor('unet'))];
    if (component === 'vae-decoder') return vae?.hasDecoder ? [fixed(component, () => buildVaeDecoderGraph(header, vae))] : [];
    return vae?.hasEncoder ? [fixed(component, () => buildVaeEncoderGraph(header, vae))] : [];
  };

  const built = new Map<CheckpointComponent, BuiltSession[]>();
  const all = (): BuiltSession[] => [...built.values()].flat();
  const buildComponent = async (component: CheckpointComponent): Promise<void> => {
    const started = performance.now();
    const list: BuiltSession[] = [];
    try {
      // One at a time: building several sessions at once would multiply the peak memory.
      for (const make of buildersOf(component)) list.push(await make());
      if (activePlan !== null) await bindAll(list, activePlan);
    } catch (err) {
      await Promise.all(list.map((b) => b.session.release()));
      throw err;
    }
    built.set(component, list);
    sessionsBuilt[component]++;
    buildSeconds[component] = (performance.now() - started) / 1000;
  };
  const ensureComponents = async (components: readonly CheckpointComponent[], build: ComponentBuildOptions = {}): Promise<void> => {
    const missing = BUILD_ORDER.filter((c) => components.includes(c) && !built.has(c) && buildersOf(c).length > 0);
    for (const [index, component] of missing.entries()) {
      build.signal?.throwIfAborted();
      build.onComponent?.(component, index, missing.length);
      await buildComponent(component);
    }
  };
  const releaseComponents = async (components: readonly CheckpointComponent[]): Promise<void> => {
    for (const component of components) {
      const list = built.get(component);
      if (list === undefined) continue;
      built.delete(component);
      await Promise.all(list.map((b) => b.session.release()));
    }
  };

  try {
    await ensureComponents(options.components ?? ['unet', 'text', 'vae-decoder'], { ...(options.onComponent ? { onComponent: options.onComponent } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  } catch (err) {
    await Promise.all(all().map((b) => b.session.release()));
    throw err;
  }

  const applyLoras = async (loras: readonly WeightedLora[]): Promise<LoraApplyReport> => {
    const started = performance.now();
    const next = planAdapters(header, architecture, loras);
    const rebuilt: AdapterComponent[] = [];
    for (const [adapter, wanted] of next.slots) {
      // A graph not built now only has to remember the slots it will need.
      const current = slotsFor(adapter);
      if (![...wanted].every((k) => current.has(k))) slotMemory.set(adapter, new Set([...current, ...wanted]));
    }
    for (const list of built.values()) {
      for (const [i, entry] of list.entries()) {
        if (entry.adapter === null) continue;
        const wantedSlots = next.slots.get(entry.adapter) ?? new Set<string>();
        if ([...wantedSlots].every((k) => entry.slots.has(k))) continue;
        const union = new Set([...entry.slots, ...wantedSlots]);
        const component: CheckpointComponent = entry.adapter === 'unet' ? 'unet' : 'text';
        const t0 = performance.now();
        await entry.session.release(); // first, so the old and new weights are never in memory together
        list[i] = await buildAdaptable(entry.adapter, union);
        buildSeconds[component] = (performance.now() - t0) / 1000;
        rebuilt.push(entry.adapter);
      }
    }
    activePlan = next;
    await bindAll(all(), next);
    return { modules: next.modules, rebuilt, seconds: (performance.now() - started) / 1000 };
  };

  // LoRA switches, builds and releases change the same sessions: they run one after another.
  let queue: Promise<unknown> = Promise.resolve();
  const serialize = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task);
    queue = run.catch(() => undefined);
    return run;
  };
  const sessionOf = (component: CheckpointComponent): ModelSession | null => built.get(component)?.[0]?.session ?? null;
  return {
    architecture,
    get unet() {
      return sessionOf('unet');
    },
    get textEncoders() {
      return (built.get('text') ?? []).map((b) => b.session);
    },
    get vaeDecoder() {
      return sessionOf('vae-decoder');
    },
    get vaeEncoder() {
      return sessionOf('vae-encoder');
    },
    inpaintFeature: options.unet?.inpaintFeature === true,
    buildSeconds,
    int8Weights: int8 === null ? null : { origin: int8.origin, seconds: int8.seconds },
    sessionsBuilt,
    ensureComponents: (components, build) => serialize(() => ensureComponents(components, build)),
    releaseComponents: (components) => serialize(() => releaseComponents(components)),
    applyLoras: (loras) => serialize(() => applyLoras(loras)),
    release: () => serialize(() => releaseComponents([...built.keys()])),
  };
}

/** Binds each adaptable session's slot values for the plan (zeros for slots the plan leaves untouched). */
async function bindAll(sessions: readonly BuiltSession[], plan: AdapterPlan): Promise<void> {
  for (const b of sessions) {
    if (b.adapter !== null && b.slots.size > 0) await b.session.bindInputs(plan.feeds(b.adapter, b.slots));
  }
}

/** The deepest directory containing every file of `files`. */
function commonDirectory(files: readonly string[]): string {
  const dirs = files.map((f) => path.dirname(path.resolve(f)).split(path.sep));
  const first = dirs[0]!;
  let depth = first.length;
  for (const d of dirs) {
    let i = 0;
    while (i < depth && i < d.length && d[i] === first[i]) i++;
    depth = i;
  }
  return first.slice(0, depth).join(path.sep) || path.sep;
}
