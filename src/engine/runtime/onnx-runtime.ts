/**
 * The one module that imports onnxruntime-node (a dependency-cruiser rule keeps it that way). Everything else
 * in the engine runs models through `createModelSession` and the `ModelSession` it returns.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Int64Tensor, Tensor } from '../tensor.ts';
import { FooocusError } from '../errors/fooocus-error.ts';

export interface ExecutionProviderInfo {
  /** ONNX Runtime's id: `cpu`, `cuda`, `dml`, `coreml`, `webgpu`, `tensorrt`. */
  name: string;
  /** True when the provider's native library ships inside the installed package. */
  bundled: boolean;
}

/** The execution providers this build of onnxruntime-node knows about on this platform. */
export function listExecutionProviders(): ExecutionProviderInfo[] {
  return ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
}

export function onnxRuntimeVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

export type ExecutionProvider = 'cpu' | 'cuda' | 'dml' | 'coreml';

export interface RuntimeOptions {
  executionProvider?: ExecutionProvider;
  /** Intra-op threads; default: every logical core. */
  threads?: number;
  /** ONNX Runtime graph optimization level; `all` (default) enables the fusions that matter on CPU. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** GPU index for cuda/dml. */
  deviceId?: number;
  /** ONNX Runtime's CPU memory arena (default on): keeps freed activation blocks for reuse instead of returning them. */
  memoryArena?: boolean;
  /** Plans activation buffers from the first run's shapes (default on); takes effect only with the arena. */
  memoryPattern?: boolean;
  /**
   * Turns on ONNX Runtime's profiler: every node's kernel time goes to `<prefix>_<timestamp>.json` (Chrome trace
   * events), written when `ModelSession.endProfiling` is called. For benchmarks; it slows runs slightly.
   */
  profileFilePrefix?: string;
  /**
   * ONNX Runtime session config entries (`session.*`, `optimization.*` keys, string values), added to the ones this
   * module sets; for settings chosen by measurement (the memory benchmark compares them).
   */
  sessionConfig?: Readonly<Record<string, string>>;
}

/** The requested execution provider cannot run here; the message says what to install. */
export class ExecutionProviderUnavailableError extends FooocusError {
  constructor(readonly provider: ExecutionProvider, detail: string) {
    super('invalid', `execution provider "${provider}" is not available: ${detail}`, { field: 'executionProvider' });
  }
}

/** A run was cancelled through its AbortSignal before it started. */
export class RunCancelledError extends Error {
  override name = 'RunCancelledError';
  constructor() {
    super('cancelled');
  }
}

const INSTALL_HINT: Record<ExecutionProvider, string> = {
  cpu: '',
  cuda: 'fetch its CUDA 12 files with `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` (Linux x64; needs CUDA 12 and cuDNN 9; README, "Running on a GPU")',
  dml: 'DirectML is available on Windows only, with a DirectX 12 GPU',
  coreml: 'CoreML is available on macOS only',
};

/**
 * Fails with the install step when `ep` cannot run here: this onnxruntime-node build does not list it, or lists it
 * as not bundled (CUDA on Linux) and its provider library is not beside the binding (the install script was not
 * run with ONNXRUNTIME_NODE_INSTALL=cuda12). CUDA's own libraries (cudart, cuBLAS, cuDNN) are found only when the
 * session loads the provider; a failure there is reported by `createModelSession` with the same hint.
 */
export function checkExecutionProvider(ep: ExecutionProvider): void {
  if (ep === 'cpu') return;
  const listed = listExecutionProviders().find((p) => p.name === ep);
  if (listed === undefined) throw new ExecutionProviderUnavailableError(ep, `this onnxruntime-node build for ${process.platform}-${process.arch} has no ${ep} provider; ${INSTALL_HINT[ep]}`);
  if (listed.bundled) return;
  const library = providerLibraryPath(ep);
  if (library !== null && !existsSync(library)) {
    throw new ExecutionProviderUnavailableError(ep, `onnxruntime-node ${onnxRuntimeVersion()} has no ${ep} files (${path.basename(library)} is missing); ${INSTALL_HINT[ep]}`);
  }
}

/** Where onnxruntime-node's install script puts a provider's shared library, or null when we do not know the name. */
function providerLibraryPath(ep: ExecutionProvider): string | null {
  const file = process.platform === 'win32' ? `onnxruntime_providers_${ep}.dll` : process.platform === 'linux' ? `libonnxruntime_providers_${ep}.so` : null;
  if (file === null) return null;
  const packageDir = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  return path.join(packageDir, 'bin', 'napi-v6', process.platform, process.arch, file);
}

function providerConfig(options: RuntimeOptions): ort.InferenceSession.ExecutionProviderConfig[] {
  const ep = options.executionProvider ?? 'cpu';
  if (ep === 'cpu') return ['cpu'];
  const device = options.deviceId ?? 0;
  // Fall back to CPU for any operator the accelerator does not implement.
  if (ep === 'cuda') return [{ name: 'cuda', deviceId: device }, 'cpu'];
  if (ep === 'dml') return [{ name: 'dml', deviceId: device }, 'cpu'];
  return ['coreml', 'cpu'];
}

/**
 * A loaded model. Runs are serialized (one at a time per session, which is how ONNX Runtime uses all intra-op
 * threads for one request) and can be cancelled before they start; a started run finishes. onnxruntime-node 1.30
 * offers no way to stop a run in flight: its `run` executes synchronously on the calling thread (the event loop
 * is blocked until it returns), and its binding reads only `logSeverityLevel` and `tag` from the run options
 * (`terminate` is honoured by the WebAssembly backend alone, and only for the run it is passed to). Whoever needs
 * a cancel to take effect inside a long run stops the process running it (the app's inference worker does).
 */
export class ModelSession {
  private queue: Promise<unknown> = Promise.resolve();
  private released = false;
  private bound: Record<string, ort.Tensor> = {};
  /** Runs completed and the seconds ONNX Runtime spent in them (for overhead accounting in benchmarks). */
  readonly stats = { runs: 0, seconds: 0 };

  constructor(
    private readonly session: ort.InferenceSession,
    readonly buildSeconds: number,
  ) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  run(feeds: Record<string, Tensor | Int64Tensor>, signal?: AbortSignal): Promise<Record<string, Tensor>> {
    const next = this.queue.then(async () => {
      if (this.released) throw new Error('session was released');
      if (signal?.aborted) throw new RunCancelledError();
      const inputs: Record<string, ort.Tensor> = { ...this.bound };
      for (const [name, t] of Object.entries(feeds)) {
        inputs[name] = t.data instanceof BigInt64Array ? new ort.Tensor('int64', t.data, [...t.dims]) : new ort.Tensor('float32', t.data, [...t.dims]);
      }
      const started = performance.now();
      const results = await this.session.run(inputs);
      this.stats.runs++;
      this.stats.seconds += (performance.now() - started) / 1000;
      const out: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(results)) {
        out[name] = { dims: [...t.dims], data: t.data as Float32Array };
      }
      return out;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Inputs passed to every later run besides the caller's feeds (LoRA slot values); replaces the previous set.
   * Takes effect for runs that start after it, in order with `run`.
   */
  bindInputs(feeds: Record<string, Tensor>): Promise<void> {
    const known = new Set(this.session.inputNames);
    const unknown = Object.keys(feeds).filter((name) => !known.has(name));
    if (unknown.length > 0) return Promise.reject(new Error(`session has no input named ${unknown.slice(0, 3).map((n) => `"${n}"`).join(', ')}`));
    const bound: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) bound[name] = new ort.Tensor('float32', t.data, [...t.dims]);
    const next = this.queue.then(() => {
      this.bound = bound;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Writes the profile of a session created with `profileFilePrefix` (after the runs queued before it). */
  endProfiling(): Promise<void> {
    const next = this.queue.then(() => {
      if (this.released) throw new Error('session was released');
      this.session.endProfiling();
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Frees the native session (weights included). Waits for a run in progress. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.queue;
    await this.session.release();
  }
}

/**
 * Creates a session from ONNX model bytes whose initializers may reference external data files by name;
 * `weightsDir` is the directory those names resolve in (the checkpoint's directory: weights are read in place).
 */
export async function createModelSession(model: Uint8Array, weightsDir: string | null, options: RuntimeOptions = {}): Promise<ModelSession> {
  const ep = options.executionProvider ?? 'cpu';
  checkExecutionProvider(ep);
  const started = performance.now();
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: providerConfig(options),
    graphOptimizationLevel: options.optimization ?? 'all',
    intraOpNumThreads: options.threads ?? os.availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    enableCpuMemArena: options.memoryArena ?? true,
    enableMemPattern: options.memoryPattern ?? true,
    logSeverityLevel: 3,
  };
  if (options.profileFilePrefix !== undefined) {
    sessionOptions.enableProfiling = true;
    sessionOptions.profileFilePrefix = options.profileFilePrefix;
  }
  // Flat dotted keys: the binding joins nested `extra` objects with dots, so both spell the same entry.
  const extra: Record<string, string> = { ...options.sessionConfig };
  if (weightsDir !== null) extra['session.model_external_initializers_file_folder_path'] = weightsDir;
  if (Object.keys(extra).length > 0) sessionOptions.extra = extra;
  try {
    const session = await ort.InferenceSession.create(model, sessionOptions);
    return new ModelSession(session, (performance.now() - started) / 1000);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (ep !== 'cpu' && /provider|cuda|dml|coreml|\.so|\.dll|dylib/i.test(message)) {
      throw new ExecutionProviderUnavailableError(ep, `${message.split('\n')[0]}; ${INSTALL_HINT[ep]}`);
    }
    throw err;
  }
}
