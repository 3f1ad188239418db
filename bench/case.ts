/**
 * One benchmark case in its own process, so its peak RSS is its own. Prints one JSON line: the timings, the
 * FLOPs counted from the component's graph, the achieved GFLOP/s and, given the machine's limits (JSON in
 * BENCH_MACHINE_LIMITS, measured by machine-limits.ts), the fraction of them reached. With `--profile`, ONNX
 * Runtime's profiler runs too and its summary (time per operator type, slowest nodes) is printed to stderr
 * and added to the JSON; the profile file lives in a temp dir removed afterwards.
 * With BENCH_PRECISION=int8 (`npm run bench -- --precision int8`) the UNet runs in int8, its quantized weights
 * cached under <cacheDir>/int8-<family> (the first run quantizes), and its fraction is of the int8 limits.
 * Usage: node --import tsx bench/case.ts <sd15|sdxl> <unet|vae|text> <cacheDir> [repeats] [--profile]
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildClipTextGraph } from '../src/engine/graphs/clip-text.ts';
import { buildUnetGraph } from '../src/engine/graphs/unet.ts';
import { buildVaeDecoderGraph } from '../src/engine/graphs/vae.ts';
import { readSafetensorsHeader } from '../src/engine/io/safetensors-reader.ts';
import { countGraphFlops, type FlopCount } from '../src/engine/onnx/flop-count.ts';
import { readProfileSummary, type ProfileSummary } from '../src/engine/runtime/profile-summary.ts';
import { inspectHeader } from '../src/engine/models/inspect.ts';
import { loadCheckpoint, type CheckpointComponent } from '../src/engine/pipeline/load-checkpoint.ts';
import type { ModelSession } from '../src/engine/runtime/onnx-runtime.ts';
import { createTensor, type Int64Tensor, type Tensor } from '../src/engine/tensor.ts';
import { ensureFullCheckpoint } from './fixtures/full-checkpoints.ts';
import { createPatternTensor } from './fixtures/pattern-tensor.ts';
import { idealInt8Seconds, idealSeconds, type MachineLimits } from './machine-limits.ts';
import { benchInt8Option, readBenchRuntime } from './bench-options.ts';

const profile = process.argv.includes('--profile');
const [family, part, cacheDir, repeatArg] = process.argv.slice(2).filter((a) => !a.startsWith('--')) as ['sd15' | 'sdxl', 'unet' | 'vae' | 'text', string, string?];
const repeats = Number(repeatArg ?? 2);
const limits = process.env.BENCH_MACHINE_LIMITS === undefined ? null : (JSON.parse(process.env.BENCH_MACHINE_LIMITS) as MachineLimits);
const profileDir = profile ? mkdtempSync(path.join(os.tmpdir(), 'fooocus-bench-profile-')) : null;

/**
 * First and mean wall seconds of `repeats` runs, and the CPU seconds per run (all threads): on a machine shared
 * with other work, wall time grows while CPU time stays about the work done, so the two together show the load.
 */
async function timeRuns(session: ModelSession, feeds: Record<string, Tensor | Int64Tensor>): Promise<{ first: number; mean: number; cpu: number }> {
  let t = performance.now();
  await session.run(feeds);
  const first = (performance.now() - t) / 1000;
  t = performance.now();
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < repeats; i++) await session.run(feeds);
  const cpu = process.cpuUsage(cpuStart);
  return { first, mean: (performance.now() - t) / 1000 / repeats, cpu: (cpu.user + cpu.system) / 1e6 / repeats };
}

const file = await ensureFullCheckpoint(family, cacheDir);
const header = await readSafetensorsHeader(file);
const { architecture, parameterCounts } = inspectHeader(header);
const component: CheckpointComponent = part === 'unet' ? 'unet' : part === 'vae' ? 'vae-decoder' : 'text';
const runtime = readBenchRuntime();
// int8 is the UNet's precision; the text encoders and the VAE run fp32 in that mode as well.
const int8 = runtime.int8 && component === 'unet';
const loaded = await loadCheckpoint(header, architecture, {
  components: [component],
  runtime: { executionProvider: runtime.executionProvider, ...(profileDir === null ? {} : { profileFilePrefix: path.join(profileDir, 'profile') }) },
  ...(runtime.float16 ? { float16: true } : {}),
  ...(int8 ? await benchInt8Option(file, family, cacheDir) : {}),
});
const size = family === 'sd15' ? 512 : 1024;
let weightsFp32Bytes = 0;
let runs: { first: number; mean: number; cpu: number };
let shape: string;
let flops: FlopCount;
if (part === 'unet') {
  const unet = architecture.unet!;
  const feeds: Record<string, Tensor> = {
    x: createPatternTensor([2, unet.inChannels, size / 8, size / 8]),
    timesteps: createTensor([2], new Float32Array([999, 999])),
    context: createPatternTensor([2, 77, unet.contextDim]),
  };
  if (unet.admInChannels !== null) feeds.y = createPatternTensor([2, unet.admInChannels]);
  flops = countGraphFlops(buildUnetGraph(header, unet), Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.dims])));
  runs = await timeRuns(loaded.unet!, feeds);
  weightsFp32Bytes = parameterCounts.unet * 4;
  shape = `batch 2, ${size}x${size}`;
} else if (part === 'vae') {
  flops = countGraphFlops(buildVaeDecoderGraph(header, architecture.vae!), { latent: [1, 4, size / 8, size / 8] });
  runs = await timeRuns(loaded.vaeDecoder!, { latent: createPatternTensor([1, 4, size / 8, size / 8]) });
  weightsFp32Bytes = parameterCounts.vae * 4;
  shape = `1 image, ${size}x${size}`;
} else {
  runs = { first: 0, mean: 0, cpu: 0 };
  // Text encoders take int64 tokens; time all encoders of the family together.
  const ids = new BigInt64Array(77).fill(49407n);
  ids[0] = 49406n;
  flops = { gemm: 0, conv: 0, attention: 0, total: 0, outputs: {} };
  for (const cfg of architecture.textEncoders) {
    const f = countGraphFlops(buildClipTextGraph(header, cfg), { tokens: [1, 77] });
    flops = { ...flops, gemm: flops.gemm + f.gemm, attention: flops.attention + f.attention, total: flops.total + f.total };
  }
  for (const enc of loaded.textEncoders) {
    const r = await timeRuns(enc, { tokens: { dims: [1, 77], data: ids } });
    runs.first += r.first;
    runs.mean += r.mean;
    runs.cpu += r.cpu;
  }
  weightsFp32Bytes = parameterCounts.textEncoders.reduce((a, b) => a + b, 0) * 4;
  shape = `1 prompt, ${loaded.textEncoders.length} encoder(s)`;
}
const peakRssBytes = process.resourceUsage().maxRSS * 1024;
let profileSummary: ProfileSummary[] | null = null;
if (profileDir !== null) {
  try {
    const sessions = [loaded.unet, loaded.vaeDecoder, ...loaded.textEncoders].filter((s) => s !== null);
    for (const s of sessions) await s.endProfiling();
    const files = readdirSync(profileDir).filter((f) => f.endsWith('.json')).sort();
    // The first run of each session is its warm-up (allocation, weight pre-packing): left out.
    profileSummary = await Promise.all(files.map((f) => readProfileSummary(path.join(profileDir, f), { skipRuns: 1, top: 15 })));
    for (const summary of profileSummary) printProfile(`${family}:${part}`, summary);
  } finally {
    rmSync(profileDir, { recursive: true, force: true });
  }
}
const { outputs: _outputs, ...counted } = flops;
const ideal = limits === null ? null : int8 ? idealInt8Seconds(flops, limits) : idealSeconds(flops, limits);
const precisionLabel = runtime.float16 ? 'fp16' : int8 ? 'int8' : 'fp32';
console.log(
  JSON.stringify({
    family,
    part,
    shape: runtime.executionProvider === 'cpu' && precisionLabel === 'fp32' ? shape : `${shape}, ${runtime.executionProvider} ${precisionLabel}`,
    buildSeconds: loaded.buildSeconds[component],
    firstRunSeconds: runs.first,
    secondsPerRun: runs.mean,
    cpuSecondsPerRun: runs.cpu,
    peakRssBytes,
    weightsFp32Bytes,
    rssOverWeights: peakRssBytes / weightsFp32Bytes,
    flops: counted,
    gflops: flops.total / runs.mean / 1e9,
    limitGflops: ideal === null ? null : flops.total / ideal / 1e9,
    fractionOfLimit: ideal === null ? null : ideal / runs.mean,
    // The same per CPU-second: all threads' CPU time (spin-waiting included, so a lower bound) against one core's limits.
    gflopsPerCpuSecond: flops.total / runs.cpu / 1e9,
    // One core's limits are measured for fp32 only.
    fractionOfCoreLimit: limits === null || int8 ? null : idealSeconds(flops, limits.perCore) / runs.cpu,
    ...(profileSummary === null ? {} : { profile: profileSummary }),
  }),
);
await loaded.release();

/** Time per operator type and the slowest nodes, as a table on stderr (stdout carries the JSON line). */
function printProfile(name: string, s: ProfileSummary): void {
  const ms = (v: number) => (v * 1000).toFixed(1);
  const lines = [
    `profile of ${name}: ${s.runs} run(s) after the warm-up, ${ms(s.runSeconds)} ms per run, ${ms(s.kernelSeconds)} ms in kernels`,
    '| operator type | ms per run | share | nodes per run |',
    '|---|---|---|---|',
    ...s.byOpType.map((o) => `| ${o.opType} | ${ms(o.seconds)} | ${(o.share * 100).toFixed(1)} % | ${o.nodes} |`),
    '',
    '| slowest nodes | operator | ms per run | input shapes |',
    '|---|---|---|---|',
    ...s.topNodes.map((n) => `| ${n.node} | ${n.opType} | ${ms(n.seconds)} | ${n.inputShapes.map((d) => `[${d.join(',')}]`).join(' ')} |`),
    '',
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
}
