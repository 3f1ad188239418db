/**
 * Decodes uploads in a short-lived, restricted child process, one process per upload, so a malformed or hostile
 * image (a decoder bug in libvips, a decompression bomb) costs that process and never the server.
 *
 * The child runs under Node's permission model: it may read the application's code, its package.json and the
 * node_modules folder that holds sharp (with its native libraries), and nothing else (not the models, outputs or
 * configuration, even when they lie in the application's folder), write nothing, spawn nothing, and load native addons (sharp). The bytes arrive
 * and the PNG leaves over IPC. Time is bounded (killed after `timeoutMs`) and so is memory: the V8 heap by
 * --max-old-space-size, the whole process (native decoder buffers included) by a watchdog on its resident size
 * where the platform reports it (/proc). Node 24's permission model has no network switch; the child's code opens
 * no socket, and Node 25 and later deny the network to it because no --allow-net is given.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DecodeReply, DecodeRequest, UploadPurpose } from './upload-decoder-protocol.ts';
import { UploadRefusedError } from './upload-errors.ts';

export interface UploadDecoderOptions {
  /** Default 20 s. */
  timeoutMs?: number;
  /** Resident memory the child may reach before it is killed; default 1 GiB. */
  memoryLimitBytes?: number;
  /** Decoding processes at once; further uploads wait their turn. Default 2. */
  maxConcurrent?: number;
  /** Apply Node's permission model to the child (default true). */
  restrict?: boolean;
}

export interface DecodedUpload {
  width: number;
  height: number;
  /** 8-bit RGB PNG of the decoded pixels (a mask's grey in all three channels), no metadata. */
  png: Uint8Array;
}

/** The decoding process failed for a reason other than its limits (it could not start, it crashed). */
export class UploadDecoderError extends Error {
  override readonly name = 'UploadDecoderError';
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** `src` from source, `dist` when built: the child's own code and the engine modules it imports. */
const codeRoot = path.resolve(here, '..', '..');
const projectRoot = path.resolve(codeRoot, '..');
const sourceExtension = path.extname(fileURLToPath(import.meta.url));
const entry = path.join(here, `upload-decoder-main${sourceExtension}`);
/** As for the inference process: from source, Node's own type transform (tsx needs what the permission model denies). */
const loaderFlags = sourceExtension === '.ts' ? ['--experimental-transform-types', '--disable-warning=ExperimentalWarning'] : [];
const WATCH_INTERVAL_MS = 20;

export class UploadDecoder {
  readonly #timeoutMs: number;
  readonly #memoryLimitBytes: number;
  readonly #maxConcurrent: number;
  readonly #restrict: boolean;
  readonly #children = new Set<ChildProcess>();
  #running = 0;
  #waiting: (() => void)[] = [];

  constructor(options: UploadDecoderOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 20_000;
    this.#memoryLimitBytes = options.memoryLimitBytes ?? 1024 ** 3;
    this.#maxConcurrent = options.maxConcurrent ?? 2;
    this.#restrict = options.restrict ?? true;
  }

  /** Node flags of the child: read only the application, no writes, no processes, addons for sharp, a heap cap. */
  permissionFlags(): string[] {
    const heapMb = Math.max(64, Math.floor(this.#memoryLimitBytes / 1024 ** 2 / 2));
    const heap = [`--max-old-space-size=${heapMb}`];
    if (!this.#restrict) return heap;
    return [...heap, '--permission', '--allow-addons', '--disable-warning=PERM0001', ...readablePaths().map((p) => `--allow-fs-read=${p}`)];
  }

  /**
   * Decodes `bytes` (PNG, JPEG or WebP) fully and returns its pixels as a fresh PNG. Throws UploadRefusedError for
   * bytes that do not decode (`pixelData`), too many pixels (`maxPixels`) or a decode past the time or memory limit
   * (`decodeLimits`), UploadDecoderError when the process fails otherwise. A `mask` is decoded to its grey channel.
   */
  async decode(bytes: Uint8Array, maxPixels: number, purpose: UploadPurpose = 'image'): Promise<DecodedUpload> {
    await this.#acquire();
    try {
      const reply = await this.#run({ bytes, maxPixels, purpose });
      if (reply.ok) return { width: reply.width, height: reply.height, png: reply.png };
      if (reply.problem === 'too-large') throw new UploadRefusedError('maxPixels', `the image has more than the ${maxPixels} pixels a job may have`, maxPixels, true);
      if (reply.problem === 'internal') throw new UploadDecoderError(`the decoding process failed: ${reply.message}`);
      throw new UploadRefusedError('pixelData', `the image does not decode: ${reply.message}`);
    } finally {
      this.#release();
    }
  }

  /** Kills any decoding process still running (their uploads fail). */
  close(): void {
    for (const child of this.#children) child.kill('SIGKILL');
  }

  #run(request: DecodeRequest): Promise<DecodeReply> {
    const child = fork(entry, [], {
      serialization: 'advanced',
      execArgv: [...loaderFlags, ...this.permissionFlags()],
      // Nothing from the server's environment (tokens, proxies) reaches the child.
      env: {},
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.#children.add(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8');
    });
    return new Promise<DecodeReply>((resolve, reject) => {
      let reply: DecodeReply | null = null;
      let killedFor: string | null = null;
      /** Past a limit the image is what costs too much: a refusal (413) rather than a server failure. */
      let overLimit = false;
      const kill = (reason: string, limit = false): void => {
        killedFor ??= reason;
        overLimit ||= limit;
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => kill(`decoding took longer than ${this.#timeoutMs} ms`, true), this.#timeoutMs);
      const watch = setInterval(() => {
        void readResidentBytes(child.pid).then((rss) => {
          if (rss !== null && rss > this.#memoryLimitBytes) kill(`decoding needed more than ${this.#memoryLimitBytes} bytes of memory`, true);
        });
      }, WATCH_INTERVAL_MS);
      child.once('message', (message: DecodeReply) => {
        reply = message;
      });
      child.once('error', (error) => kill(error.message));
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        clearInterval(watch);
        this.#children.delete(child);
        if (reply !== null && killedFor === null) resolve(reply);
        else if (overLimit) reject(new UploadRefusedError('decodeLimits', `the image cannot be decoded within the server's limits: ${killedFor}`, undefined, true));
        else {
          const why = killedFor ?? (signal !== null ? `it was killed by ${signal}` : `it exited with code ${code}`);
          reject(new UploadDecoderError(`the decoding process stopped: ${why}${stderr === '' ? '' : ` (${stderr.trim().split('\n').at(-1)})`}`));
        }
      });
      child.send(request);
    });
  }

  async #acquire(): Promise<void> {
    if (this.#running < this.#maxConcurrent) {
      this.#running++;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#running--;
  }
}

/** What the child may read: its code, the package.json that makes it ESM, and the modules folder holding sharp. */
function readablePaths(): string[] {
  const sharpEntry = fileURLToPath(import.meta.resolve('sharp'));
  const marker = `${path.sep}node_modules${path.sep}`;
  const modules = sharpEntry.slice(0, sharpEntry.lastIndexOf(marker) + marker.length - 1);
  return [codeRoot, path.join(projectRoot, 'package.json'), modules];
}

/** Resident set size from /proc (Linux); null where the platform has no /proc or the process is gone. */
async function readResidentBytes(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  const statm = await readFile(`/proc/${pid}/statm`, 'latin1').catch(() => null);
  const pages = statm === null ? NaN : Number(statm.split(' ')[1]);
  return Number.isFinite(pages) ? pages * 4096 : null;
}
