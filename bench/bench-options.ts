/**
 * The bench's execution provider and precision (`--ep cpu|cuda|dml|coreml`, `--precision fp32|fp16|int8`), checked
 * before anything runs: an unknown value, or a provider this onnxruntime-node install cannot load, stops the
 * bench with the message that says what to install. The cases receive them as BENCH_EXECUTION_PROVIDER and
 * BENCH_PRECISION.
 */
import path from 'node:path';
import { sha256File } from '../src/engine/io/sha256.ts';
import { checkExecutionProvider, type ExecutionProvider } from '../src/engine/runtime/onnx-runtime.ts';

const PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'cuda', 'dml', 'coreml'];
const PRECISIONS = ['fp32', 'fp16', 'int8'] as const;
export type BenchPrecision = (typeof PRECISIONS)[number];

export interface BenchOptions {
  /** Case names and prefixes (the arguments that are neither options nor option values). */
  cases: string[];
  executionProvider: ExecutionProvider;
  precision: BenchPrecision;
}

/** Reads `--ep X` / `--ep=X` and `--precision X` / `--precision=X`; exits with status 2 on a bad value. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const values = new Map<string, string>();
  const cases: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = ['--ep', '--precision'].find((o) => arg === o || arg.startsWith(`${o}=`));
    if (name === undefined) {
      if (!arg.startsWith('--')) cases.push(arg);
      continue;
    }
    const value = arg === name ? argv[++i] : arg.slice(name.length + 1);
    if (value === undefined || value === '') fail(`${name} needs a value`);
    values.set(name, value);
  }
  const ep = values.get('--ep') ?? 'cpu';
  const precision = values.get('--precision') ?? 'fp32';
  if (!PROVIDERS.includes(ep as ExecutionProvider)) fail(`--ep: expected one of ${PROVIDERS.join(', ')}, got "${ep}"`);
  if (!(PRECISIONS as readonly string[]).includes(precision)) fail(`--precision: expected one of ${PRECISIONS.join(', ')}, got "${precision}"`);
  try {
    checkExecutionProvider(ep as ExecutionProvider);
  } catch (err) {
    fail(`--ep ${ep}: ${(err as Error).message}`);
  }
  return { cases, executionProvider: ep as ExecutionProvider, precision: precision as BenchPrecision };
}

export function benchRuntimeEnv(options: BenchOptions): Record<string, string> {
  return { BENCH_EXECUTION_PROVIDER: options.executionProvider, BENCH_PRECISION: options.precision };
}

/**
 * The provider and precision a case process was started with (cpu and fp32 when run by hand). `int8` is the
 * engine's `runtime.precision: "int8"`: the UNet in int8, everything else fp32.
 */
export function readBenchRuntime(): { executionProvider: ExecutionProvider; float16: boolean; int8: boolean } {
  const ep = (process.env.BENCH_EXECUTION_PROVIDER ?? 'cpu') as ExecutionProvider;
  if (!PROVIDERS.includes(ep)) throw new Error(`BENCH_EXECUTION_PROVIDER: unknown provider "${ep}"`);
  const precision = process.env.BENCH_PRECISION ?? 'fp32';
  if (!(PRECISIONS as readonly string[]).includes(precision)) throw new Error(`BENCH_PRECISION: unknown precision "${precision}"`);
  return { executionProvider: ep, float16: precision === 'fp16', int8: precision === 'int8' };
}

/**
 * loadCheckpoint's `int8` option for a case run with `--precision int8`: the quantized UNet weights cached under
 * <cacheDir>/int8-<family> (the first run quantizes, later runs read them back). Empty otherwise.
 */
export async function benchInt8Option(file: string, family: string, cacheDir: string): Promise<{ int8?: Int8CacheOption }> {
  return readBenchRuntime().int8 ? { int8: await describeInt8Cache(file, family, cacheDir) } : {};
}

export interface Int8CacheOption {
  cacheDir: string;
  sourceSha256: string;
}

/** Where a case keeps a checkpoint's quantized UNet weights: <cacheDir>/int8-<family>, keyed by the file's digest. */
export async function describeInt8Cache(file: string, family: string, cacheDir: string): Promise<Int8CacheOption> {
  return { cacheDir: path.join(cacheDir, `int8-${family}`), sourceSha256: await sha256File(file) };
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}
