/**
 * Per-phase times of an end-to-end upscale, read from the `--json` progress lines of the command as they arrive:
 * the upscaler's tiles, loading the checkpoint, prompt and input (VAE) encoding up to the first sampling step, each
 * sampling step, and decoding (with the save). Each phase is printed to stderr as it ends, so a run that is stopped
 * part way still tells where its time went.
 */
export interface UpscalePhases {
  upscalerSeconds?: number;
  /** From the upscaler's last tile to the first load event: the resample and the checkpoint's verification. */
  resampleAndVerifySeconds?: number;
  loadSeconds?: number;
  /** Text encoders, then the VAE encoder over the (tiled) input: the engine reports no event between the two. */
  promptAndVaeEncodeSeconds?: number;
  stepSeconds: number[];
  /** The VAE decoder (tiled) and writing the image. */
  vaeDecodeSeconds?: number;
}

interface ProgressLine {
  event?: string;
  phase?: string;
  /** Which component a `load` line builds: the upscaler's own load comes first and is part of its phase. */
  component?: string;
  done?: number;
  total?: number;
}

export class UpscalePhaseClock {
  readonly phases: UpscalePhases = { stepSeconds: [] };
  #started = performance.now();
  #marks = new Map<string, number>();
  #lastStep = 0;
  #partial = '';

  constructor(private readonly report: (line: string) => void) {}

  /** Feeds output of the command (any chunking); complete JSON lines are read, anything else is ignored. */
  feed(chunk: string): void {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        this.#observe(JSON.parse(line) as ProgressLine, performance.now());
      } catch {
        // A line that is not JSON is a human message: nothing to time.
      }
    }
  }

  /** The command returned: the decode phase (and the save) ends now. */
  finish(): UpscalePhases {
    const decode = this.#marks.get('decode');
    if (decode !== undefined) this.#end('vaeDecodeSeconds', 'VAE decode and save', performance.now() - decode);
    return this.phases;
  }

  #observe(line: ProgressLine, now: number): void {
    const first = (name: string) => {
      if (!this.#marks.has(name)) this.#marks.set(name, now);
      return this.#marks.get(name)!;
    };
    if (line.phase === 'upscale') {
      const start = first('upscale');
      if (line.done === line.total && this.phases.upscalerSeconds === undefined) {
        this.#marks.set('upscaled', now);
        this.#end('upscalerSeconds', `upscaler (${line.total} tiles)`, now - start);
      }
    } else if (line.phase === 'load' && line.component !== 'upscaler') {
      if (!this.#marks.has('load')) {
        const upscaled = this.#marks.get('upscaled');
        if (upscaled !== undefined) this.#end('resampleAndVerifySeconds', 'resample and model verification', now - upscaled);
      }
      first('load');
    } else if (line.phase === 'encode') {
      const load = this.#marks.get('load');
      if (load !== undefined && this.phases.loadSeconds === undefined) this.#end('loadSeconds', 'checkpoint load', now - load);
      first('encode');
    } else if (line.phase === 'sample') {
      const done = line.done ?? 0;
      if (done === 0) {
        const encode = this.#marks.get('encode');
        if (encode !== undefined) this.#end('promptAndVaeEncodeSeconds', 'prompt and VAE encode', now - encode);
        this.#lastStep = now;
      } else {
        const seconds = (now - this.#lastStep) / 1000;
        this.#lastStep = now;
        this.phases.stepSeconds.push(seconds);
        this.report(`step ${done}/${line.total}: ${seconds.toFixed(1)} s (at ${this.#at(now)})`);
      }
    } else if (line.phase === 'decode') {
      first('decode');
    }
  }

  #end(key: Exclude<keyof UpscalePhases, 'stepSeconds'>, label: string, ms: number): void {
    this.phases[key] = ms / 1000;
    this.report(`${label}: ${(ms / 1000).toFixed(1)} s (at ${this.#at(performance.now())})`);
  }

  #at(now: number): string {
    return `${((now - this.#started) / 1000).toFixed(1)} s`;
  }
}

/** One line: each phase's seconds, the steps as count, mean and range. */
export function formatUpscalePhases(p: UpscalePhases): string {
  const s = (v: number | undefined) => (v === undefined ? 'not reached' : `${v.toFixed(1)} s`);
  const steps = p.stepSeconds;
  const mean = steps.length === 0 ? 0 : steps.reduce((a, b) => a + b, 0) / steps.length;
  const stepText = steps.length === 0 ? 'none' : `${steps.length} x ${mean.toFixed(1)} s (${Math.min(...steps).toFixed(1)}..${Math.max(...steps).toFixed(1)})`;
  return `upscaler ${s(p.upscalerSeconds)}, resample and verify ${s(p.resampleAndVerifySeconds)}, load ${s(p.loadSeconds)}, prompt and VAE encode ${s(p.promptAndVaeEncodeSeconds)}, steps ${stepText}, VAE decode and save ${s(p.vaeDecodeSeconds)}`;
}
