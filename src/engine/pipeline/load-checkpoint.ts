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
  components?: readonly CheckpointComponent[];
  runtime?: RuntimeOptions;
  unet?: UnetGraphOptions;
  /** Per text encoder, in `architecture.textEncoders` order. */
  text?: readonly ClipTextGraphOptions[];
  /** LoRAs to apply from the start (the same as calling `applyLoras` afterwards, without building twice). */
  loras?: readonly WeightedLora[];
  /**
   * Runs the UNet's linear and conv layers in int8 (`runtime.precision: "int8"`), with the weights quantized once
   * into `cacheDir`, keyed by the checkpoint's SHA-256, and read back from there on later loads.
   */
  int8?: { cacheDir: string; sourceSha256: string };
  /** Called before each component is built, for progress reporting. */
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
  /** The current sessions; `applyLoras` may replace the UNet's and the text encoders'. */
  readonly unet: ModelSession | null;
  readonly textEncoders: readonly ModelSession[];
  readonly vaeDecoder: ModelSession | null;
  readonly vaeEncoder: ModelSession | null;
  /** Seconds spent building graphs and creating sessions, by component (latest build). */
  buildSeconds: Partial<Record<CheckpointComponent, number>>;
  /** The UNet's int8 weights when `int8` was asked for: read from the cache or (re)built, and how long that took. */
  int8Weights: Pick<Int8WeightFile, 'origin' | 'seconds'> | null;
  /**
   * Makes `loras` the active set (an empty list removes them all). Only the LoRA values change when every
   * adapted weight already has a slot; otherwise the affected component is rebuilt once with slots for the old
   * and new weights, so switching back and forth among sets costs no further builds.
   */
  applyLoras(loras: readonly WeightedLora[]): Promise<LoraApplyReport>;
  release(): Promise<void>;
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

/** One built graph: its session, the component it belongs to, and the adapter slots it was built with. */
interface BuiltSession {
  session: ModelSession;
  adapter: AdapterComponent | null;
  slots: Set<string>;
}

export async function loadCheckpoint(
  header: SafetensorsHeader,
  architecture: CheckpointArchitecture,
  options: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const wanted = new Set(options.components ?? ['unet', 'text', 'vae-decoder']);
  const weightsDir = path.dirname(path.resolve(header.file));
  const int8 = options.int8 !== undefined && wanted.has('unet') && architecture.unet !== null
    ? await ensureInt8Weights(header, selectInt8UnetWeights(header, architecture.unet), { dir: options.int8.cacheDir, sourceSha256: options.int8.sourceSha256, ...(options.signal ? { signal: options.signal } : {}) })
    : null;
  // A patched or int8 UNet reads several files; the session's weights directory must hold them all.
  const unetFiles = [header.file, ...[...(options.unet?.weightPatches?.values() ?? [])].map((p) => p.header.file), ...(int8 ? [int8.header.file] : [])];
  const unetWeightsDir = commonDirectory(unetFiles);
  const unetOptions: UnetGraphOptions = { ...options.unet, ...(int8 ? { int8Weights: { header: int8.header, keys: int8.keys } } : {}) };
  const buildSeconds: LoadedCheckpoint['buildSeconds'] = {};
  const { unet, vae, textEncoders } = architecture;
  const initialPlan = options.loras !== undefined && options.loras.length > 0 ? planAdapters(header, architecture, options.loras) : null;
  const slotsFor = (component: AdapterComponent): Set<string> => new Set(initialPlan?.slots.get(component) ?? []);

  const optimizationOf = (component: CheckpointComponent): RuntimeOptions => ({ ...options.runtime, optimization: options.runtime?.optimization ?? DEFAULT_OPTIMIZATION[component] });
  const graphOf = (adapter: AdapterComponent, slots: Set<string>): OnnxModel => {
    if (adapter === 'unet') return buildUnetGraph(header, unet!, { ...unetOptions, lowRankSlots: slots, weightsRoot: unetWeightsDir });
    const index = Number(adapter.slice('text'.length));
    return buildClipTextGraph(header, textEncoders[index]!, { ...options.text?.[index], lowRankSlots: slots });
  };
  const buildAdaptable = async (adapter: AdapterComponent, slots: Set<string>): Promise<BuiltSession> => {
    const component: CheckpointComponent = adapter === 'unet' ? 'unet' : 'text';
    const session = await createModelSession(encodeOnnxModel(graphOf(adapter, slots)), adapter === 'unet' ? unetWeightsDir : weightsDir, optimizationOf(component));
    return { session, adapter, slots };
  };

  const plan: [CheckpointComponent, () => Promise<BuiltSession>[]][] = [];
  if (wanted.has('text')) plan.push(['text', () => textEncoders.map((_, i) => buildAdaptable(`text${i}`, slotsFor(`text${i}`)))]);
  if (wanted.has('unet') && unet !== null) plan.push(['unet', () => [buildAdaptable('unet', slotsFor('unet'))]]);
  const fixed = (component: CheckpointComponent, model: () => OnnxModel) => async (): Promise<BuiltSession> => ({
    session: await createModelSession(encodeOnnxModel(model()), weightsDir, optimizationOf(component)),
    adapter: null,
    slots: new Set(),
  });
  if (wanted.has('vae-decoder') && vae?.hasDecoder) plan.push(['vae-decoder', () => [fixed('vae-decoder', () => buildVaeDecoderGraph(header, vae))()]]);
  if (wanted.has('vae-encoder') && vae?.hasEncoder) plan.push(['vae-encoder', () => [fixed('vae-encoder', () => buildVaeEncoderGraph(header, vae))()]]);

  const built = new Map<CheckpointComponent, BuiltSession[]>();
  const all = (): BuiltSession[] => [...built.values()].flat();
  try {
    for (const [index, [component, build]] of plan.entries()) {
      options.signal?.throwIfAborted();
      options.onComponent?.(component, index, plan.length);
      const started = performance.now();
      const list: BuiltSession[] = [];
      built.set(component, list);
      // One at a time: building several sessions at once would multiply the peak memory.
      for (const make of build()) list.push(await make);
      buildSeconds[component] = (performance.now() - started) / 1000;
    }
    if (initialPlan !== null) await bindAll(all(), initialPlan);
  } catch (err) {
    await Promise.all(all().map((b) => b.session.release()));
    throw err;
  }

  let switching: Promise<unknown> = Promise.resolve();
  const applyLoras = async (loras: readonly WeightedLora[]): Promise<LoraApplyReport> => {
    const started = performance.now();
    const next = planAdapters(header, architecture, loras);
    const rebuilt: AdapterComponent[] = [];
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
    await bindAll(all(), next);
    return { modules: next.modules, rebuilt, seconds: (performance.now() - started) / 1000 };
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
    buildSeconds,
    int8Weights: int8 === null ? null : { origin: int8.origin, seconds: int8.seconds },
    applyLoras: (loras) => {
      const run = switching.then(() => applyLoras(loras));
      switching = run.catch(() => undefined);
      return run;
    },
    release: async () => {
      await switching;
      await Promise.all(all().map((b) => b.session.release()));
    },
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
