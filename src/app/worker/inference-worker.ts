/**
 * Runs generation and Describe in a separate, restricted process. A crash, an out-of-memory kill or a runaway
 * allocation while parsing a model or running inference fails that job with a clear reason; the caller (server,
 * queue) keeps running, its event loop free while ONNX Runtime works, and the next job gets a fresh process.
 *
 * The child runs under Node's permission model: it may read the application's own files, the models directory
 * and the user's styles and wildcards beside it, write only the outputs and cache directories, load native addons (ONNX Runtime, sharp), and may not
 * spawn processes or workers. Native addons are not confined by that model (they read the weights directly), so
 * this is defence in depth, not a sandbox; SECURITY.md says how to add OS-level isolation.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RevivedError, type ErrorData, type RgbImage } from '../../engine/index.ts';
import type { GreyImage } from '../../engine/output/mask-image.ts';
import type { ImageDescriptionResult } from '../describe/describe-image.ts';
import type { DescribeType } from '../describe/describer-registry.ts';
import type { SavedImage, ServiceProgress } from '../generation/generation-service.ts';
import type { ProvidedImage } from '../generation/image-prompt-files.ts';
import type { ImageRequest } from '../generation/image-request.ts';
import { JobInterruptedError } from '../jobs/job-errors.ts';
import type { FromWorker, ToWorker, WorkerSettings } from './worker-protocol.ts';

export interface InferenceWorkerOptions extends WorkerSettings {
  /** Apply Node's permission model to the child (default true). */
  restrict?: boolean;
  /**
   * How long a cancelled job may take to stop on its own before its process is killed (default 500 ms). The
   * process stops between model runs; a run in flight (a whole UNet step, ~1 min at SDXL 1024 on a slow CPU)
   * cannot be interrupted inside the process, so past this the process is ended and the next job starts a
   * fresh one (reloading its models).
   */
  cancelGraceMs?: number;
}

const CANCEL_GRACE_MS = 500;

/**
 * The inference process died while a job was running (killed, out of memory, a native crash). The job was not at
 * fault, so the queue records it as interrupted (retryable); the message names the signal or exit code and is
 * what the user sees. The next job starts a fresh process.
 */
export class WorkerCrashedError extends JobInterruptedError {
  constructor(readonly detail: string) {
    super(`the inference worker stopped unexpectedly (${detail}); retry`);
  }
}

/**
 * A failure the worker reported, re-created from its data: the original name, kind, messages, field and file, so
 * the server treats it exactly as if it had been thrown here. `userError`: the request or a model file was at fault.
 */
export class WorkerJobError extends RevivedError {
  constructor(data: ErrorData, readonly cancelled: boolean) {
    super(data);
  }

  /** A job the server stopped: not the request's fault, never shown as a failure. */
  static cancelled(message: string): WorkerJobError {
    return new WorkerJobError({ name: 'WorkerJobError', kind: 'conflict', message, publicMessage: message }, true);
  }

  get userError(): boolean {
    return !this.cancelled && this.kind !== 'internal';
  }
}

/** What a request ends with when it succeeds: a generation's images, or Describe's description. */
type WorkerReply = Extract<FromWorker, { type: 'done' | 'described' }>;

interface PendingJob {
  child: ChildProcess;
  resolve: (reply: WorkerReply) => void;
  reject: (err: Error) => void;
  onProgress: (p: ServiceProgress) => void;
}

interface RunOptions {
  onProgress?: (p: ServiceProgress) => void;
  signal?: AbortSignal;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, '..', '..', '..');
const sourceExtension = path.extname(fileURLToPath(import.meta.url));
const entry = path.join(here, `worker-main${sourceExtension}`);
/**
 * From source, the child runs TypeScript with Node's own type transform rather than tsx: tsx's compiler needs
 * worker threads and a child process, which the permission model rightly denies. The built package needs no flag.
 */
const loaderFlags = sourceExtension === '.ts' ? ['--experimental-transform-types', '--disable-warning=ExperimentalWarning'] : [];

export class InferenceWorker {
  private child: ChildProcess | null = null;
  private ready: Promise<void> | null = null;
  private jobs = new Map<number, PendingJob>();
  private nextId = 1;
  /** Children killed to stop a cancelled job: their jobs end as cancelled, not crashed. */
  private readonly killedForCancel = new WeakSet<ChildProcess>();

  constructor(private readonly options: InferenceWorkerOptions) {}

  /** Node flags that confine the child to what inference needs. */
  permissionFlags(): string[] {
    if (this.options.restrict === false) return [];
    // The user's styles and wildcards sit beside the models folder; the worker composes each image's prompt.
    const userData = ['styles', 'wildcards'].map((d) => path.join(path.dirname(path.resolve(this.options.modelsDir)), d));
    const read = [projectRoot, this.options.modelsDir, this.options.outputsDir, this.options.cacheDir, ...userData];
    const write = [this.options.outputsDir, this.options.cacheDir];
    // --allow-addons is needed for ONNX Runtime and sharp; its warning restates the limit documented above.
    return ['--permission', '--allow-addons', '--disable-warning=PERM0001', ...read.map((p) => `--allow-fs-read=${path.resolve(p)}`), ...write.map((p) => `--allow-fs-write=${path.resolve(p)}`)];
  }

  private start(): Promise<void> {
    const settings: WorkerSettings = {
      modelsDir: path.resolve(this.options.modelsDir),
      outputsDir: path.resolve(this.options.outputsDir),
      threads: this.options.threads,
      executionProvider: this.options.executionProvider,
      precision: this.options.precision ?? 'fp32',
      cacheDir: path.resolve(this.options.cacheDir),
      ...(this.options.memory === undefined ? {} : { memory: this.options.memory }),
      software: this.options.software,
    };
    const child = fork(entry, [JSON.stringify(settings)], {
      serialization: 'advanced',
      execArgv: [...loaderFlags, ...this.permissionFlags()],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    this.ready = new Promise((resolve, reject) => {
      // A failed spawn, or a send racing the child's death: the 'exit' handler below settles the jobs either way,
      // and an 'error' event with no listener would take the server down.
      child.on('error', reject);
      child.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          resolve();
          return;
        }
        const job = this.jobs.get(message.id);
        if (job === undefined) return;
        if (message.type === 'progress') job.onProgress(message.progress);
        else {
          this.jobs.delete(message.id);
          if (message.type === 'failed') job.reject(new WorkerJobError(message.error, message.cancelled));
          else job.resolve(message);
        }
      });
      child.once('exit', (code, signal) => {
        const detail = signal ?? `exit code ${code}`;
        reject(new WorkerCrashedError(detail));
        // The job a cancel ended the process for has failed as cancelled already; anything else it was running (a
        // description) was not cancelled by anyone, so it fails as a crash, to be retried.
        const why = this.killedForCancel.has(child) ? 'ended to stop a cancelled job' : detail;
        // Only this child's jobs: a process killed for a cancel may exit after a fresh one took the next job.
        for (const [id, job] of this.jobs) {
          if (job.child !== child) continue;
          this.jobs.delete(id);
          job.reject(new WorkerCrashedError(why));
        }
        if (this.child === child) {
          this.child = null;
          this.ready = null;
        }
      });
    });
    return this.ready;
  }

  /** Requests sent to the child and not yet answered (tests use it to know a request has reached the child). */
  get inFlight(): number {
    return this.jobs.size;
  }

  /** The running child's pid (tests use it to simulate a crash), or null. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Makes image `imageIndex` of a request as the queue stored it; `input` and `mask` are its input image and inpaint mask, already decoded. */
  async generate(
    request: ImageRequest,
    imageIndex: number,
    opts: RunOptions & { input?: RgbImage; mask?: GreyImage; imagePromptImages?: ProvidedImage[]; jobTag?: string } = {},
  ): Promise<SavedImage[]> {
    const { input, mask, imagePromptImages, jobTag } = opts;
    const reply = await this.run((id) => ({ type: 'generate', id, request, imageIndex, ...(input ? { input } : {}), ...(mask ? { mask } : {}), ...(imagePromptImages ? { imagePromptImages } : {}), ...(jobTag === undefined ? {} : { jobTag }) }), opts);
    if (reply.type !== 'done') throw new Error(`the inference worker answered a generation with "${reply.type}"`);
    return reply.images;
  }

  /**
   * Describe: the image (decoded already, as an upload) described by the type's describer in the inference process,
   * where ONNX Runtime's runs cannot hold up the server's other requests; the describer stays loaded there.
   */
  async describe(type: DescribeType, image: RgbImage, opts: RunOptions = {}): Promise<ImageDescriptionResult> {
    const reply = await this.run((id) => ({ type: 'describe', id, describeType: type, image }), opts);
    if (reply.type !== 'described') throw new Error(`the inference worker answered a description with "${reply.type}"`);
    return reply.description;
  }

  /** Sends one request to the child (started if need be) and settles with its reply, its failure or the child's death. */
  private async run(message: (id: number) => ToWorker, opts: RunOptions): Promise<WorkerReply> {
    await (this.ready ?? this.start());
    // A cancel that came while the child was starting (or before this call) has no listener to hear it.
    if (opts.signal?.aborted === true) throw WorkerJobError.cancelled('cancelled before it started');
    const id = this.nextId++;
    const child = this.child;
    if (child === null || !child.connected) throw new WorkerCrashedError(child?.signalCode ?? 'disconnected');
    const signal = opts.signal;
    let killTimer: NodeJS.Timeout | undefined;
    const cancel = (): void => {
      sendTo(child, { type: 'cancel', id });
      killTimer = setTimeout(() => {
        const job = this.jobs.get(id);
        if (job === undefined) return;
        // The job ends now, not when the kernel has finished tearing down a process of several GB; the next job
        // starts a fresh process rather than waiting for this one's exit.
        this.killedForCancel.add(child);
        this.jobs.delete(id);
        if (this.child === child) {
          this.child = null;
          this.ready = null;
        }
        child.kill('SIGKILL');
        job.reject(WorkerJobError.cancelled('cancelled: the model run in progress was stopped'));
      }, this.options.cancelGraceMs ?? CANCEL_GRACE_MS);
    };
    return new Promise<WorkerReply>((resolve, reject) => {
      const settle = (): void => {
        signal?.removeEventListener('abort', cancel);
        clearTimeout(killTimer);
      };
      this.jobs.set(id, {
        child,
        resolve: (reply) => (settle(), resolve(reply)),
        reject: (error) => (settle(), reject(error)),
        onProgress: opts.onProgress ?? (() => undefined),
      });
      signal?.addEventListener('abort', cancel, { once: true });
      sendTo(child, message(id));
    });
  }

  /**
   * Stops the child (it releases its models first when it can; killed after 5 s if it cannot). A job it was
   * running fails with WorkerCrashedError. Safe to call again while closing, and after the child is gone.
   */
  async close(): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Sends without throwing: a child that died meanwhile fails its jobs through its 'exit' event. */
function sendTo(child: ChildProcess, message: ToWorker): void {
  if (child.connected) child.send(message, undefined, {}, () => undefined);
}
