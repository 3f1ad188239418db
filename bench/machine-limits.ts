/**
 * What this machine's ONNX Runtime can do at the shapes Stable Diffusion runs: fp32 GEMM and 3x3-convolution
 * throughput, and int8 GEMM / convolution throughput with the quantized kernels ONNX Runtime's CPU build has.
 * Each figure comes from a tiny graph built with our own graph builder (weights are constants in the model),
 * run in one session: one warm-up run, then the best of `runs`. Model cases divide their counted FLOPs by these.
 *
 * Shapes (SD 1.5 at 512x512, batch 2 for classifier-free guidance, the first UNet level):
 *   GEMM: [8192, 320] x [320, 1280] and back ([8192, 1280] x [1280, 320]), as the feed-forward's linears
 *   conv: [2, 320, 64, 64] -> 320 channels, 3x3, padding 1, as the res blocks' convs
 */
import { detectCpuFeatures, type CpuFeatures } from '../src/engine/runtime/cpu-features.ts';
import { attr, GraphBuilder } from '../src/engine/onnx/graph-builder.ts';
import { encodeOnnxModel, type OnnxDtype, type OnnxModel } from '../src/engine/onnx/onnx-proto.ts';
import { createModelSession, type RuntimeOptions } from '../src/engine/runtime/onnx-runtime.ts';

export const LIMIT_SHAPES = {
  gemm: { m: 8192, k: 320, n: 1280 },
  conv: { batch: 2, channels: 320, side: 64 },
} as const;

export interface MachineLimits {
  cpu: CpuFeatures;
  /** fp32 Gemm (transB, as our linears) GFLOP/s. */
  fp32GemmGflops: number;
  /** fp32 3x3 Conv GFLOP/s (the better of ONNX Runtime's `extended` and `all` levels: `all` adds NCHWc layouts). */
  fp32ConvGflops: number;
  /**
   * The same two limits as GFLOP per CPU-second of one thread: the kernels' speed per core, which the machine's
   * other work does not change. Model cases compare their FLOPs per CPU-second with these.
   */
  perCore: { fp32GemmGflops: number; fp32ConvGflops: number };
  /** int8 figures in GOP/s (2 x multiply-accumulates per second); null where ONNX Runtime's CPU build lacks the kernel. */
  int8: Int8Limits;
  shapes: { gemm: string; conv: string };
}

export interface Int8Limits {
  /** DynamicQuantizeLinear -> MatMulInteger (uint8 x int8) -> Cast -> scale: the standard-ONNX dynamic path. */
  matMulInteger: number | null;
  /** com.microsoft DynamicQuantizeMatMul: the same in one fused kernel (float in, float out). */
  dynamicQuantizeMatMul: number | null;
  /** DynamicQuantizeLinear -> ConvInteger (uint8 x uint8) -> Cast -> scale. */
  convInteger: number | null;
  /** QLinearConv chained in uint8 (int8 weights), quantized once before and dequantized once after. */
  qlinearConv: number | null;
}

const sample = (count: number, seed: number, scale: number) => Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.7 + seed) * scale);

/** Adds an int8/uint8 initializer (the graph builder makes float and int64 constants only). */
function addIntTensor(model: OnnxModel, name: string, dtype: OnnxDtype & ('int8' | 'uint8'), dims: number[], values: ArrayLike<number>): void {
  const bytes = dtype === 'int8' ? new Uint8Array(Int8Array.from(values).buffer) : Uint8Array.from(values);
  model.graph.initializers.push({ name, dtype, dims, data: { kind: 'raw', bytes } });
}

/**
 * Seconds of the fastest of `runs` runs of `model` on input `x` (after one warm-up), or null when ONNX Runtime
 * refuses the graph (a kernel its CPU build does not have).
 */
async function timeModel(model: OnnxModel, dims: number[], runs: number, optimization: RuntimeOptions['optimization'] = 'extended', clock: Clock = WALL): Promise<number | null> {
  let session;
  try {
    session = await createModelSession(encodeOnnxModel(model), null, { optimization, ...(clock.threads === undefined ? {} : { threads: clock.threads }) });
  } catch {
    return null;
  }
  try {
    const feed = { x: { dims, data: sample(dims.reduce((a, b) => a * b, 1), 1, 1) } };
    await session.run(feed);
    let best = Infinity;
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const cpu = process.cpuUsage();
      await session.run(feed);
      const used = process.cpuUsage(cpu);
      best = Math.min(best, clock.kind === 'wall' ? (performance.now() - started) / 1000 : (used.user + used.system) / 1e6);
    }
    return best;
  } catch {
    return null;
  } finally {
    await session.release();
  }
}

/**
 * Wall seconds with every core (what a user waits), or CPU seconds of one thread: the work itself, which stays
 * put when other processes share the machine (wall time then grows with the load).
 */
interface Clock {
  kind: 'wall' | 'cpu';
  threads?: number;
}
const WALL: Clock = { kind: 'wall' };
const ONE_THREAD_CPU: Clock = { kind: 'cpu', threads: 1 };

type GemmLayer = (g: GraphBuilder, x: string, inputs: number, outputs: number, index: number) => string;

/**
 * A chain of `layers` projections alternating k -> n -> k on [m, k] input, built by `layer`; returns the
 * throughput in G(FL)OP/s counting 2 x m x k x n per layer, or null when the kernel is missing.
 */
async function measureGemmChain(layer: GemmLayer, deferred: (model: OnnxModel) => void, layers: number, runs: number, clock: Clock = WALL): Promise<number | null> {
  const { m, k, n } = LIMIT_SHAPES.gemm;
  const g = new GraphBuilder('gemm-limit', null);
  let y = g.input('x', 'float32', [m, k]);
  for (let l = 0; l < layers; l++) y = l % 2 === 0 ? layer(g, y, k, n, l) : layer(g, y, n, k, l);
  g.output(y, 'y', 'float32', [m, layers % 2 === 0 ? k : n]);
  const model = g.build();
  deferred(model);
  const seconds = await timeModel(model, [m, k], runs, 'extended', clock);
  return seconds === null ? null : (2 * m * k * n * layers) / seconds / 1e9;
}

/** fp32 GEMM GFLOP/s at the feed-forward's shapes, as our linears run it (Gemm with transB). */
export async function measureFp32GemmGflops(runs = 5, clock: Clock = WALL): Promise<number> {
  const layer: GemmLayer = (g, x, inputs, outputs, index) => g.op('Gemm', [x, g.constFloat(sample(inputs * outputs, index, 0.05), [outputs, inputs])], { transB: attr.int(1) });
  const result = await measureGemmChain(layer, () => undefined, 4, runs, clock);
  if (result === null) throw new Error('ONNX Runtime could not run an fp32 Gemm');
  return result;
}

/**
 * int8 GEMM GOP/s at the same shapes, with activations quantized dynamically per run: `matMulInteger` (standard
 * ONNX ops) and `dynamicQuantizeMatMul` (ONNX Runtime's fused contrib kernel). Null for a path whose kernel is
 * missing. Exported for the int8 precision work, which quantizes linears the same way.
 */
export async function measureInt8GemmGops(runs = 5): Promise<Pick<Int8Limits, 'matMulInteger' | 'dynamicQuantizeMatMul'>> {
  const weights: { name: string; dims: number[]; values: Int8Array }[] = [];
  const int8Weight = (index: number, inputs: number, outputs: number) => {
    const name = `w_int8_${index}`;
    weights.push({ name, dims: [inputs, outputs], values: Int8Array.from(sample(inputs * outputs, index, 127)) });
    return name;
  };
  const attach = (model: OnnxModel) => {
    for (const w of weights.splice(0)) addIntTensor(model, w.name, 'int8', w.dims, w.values);
  };
  const scale = 0.01;
  const viaMatMulInteger: GemmLayer = (g, x, inputs, outputs, index) => {
    const [q, qScale, qZero] = g.opN('DynamicQuantizeLinear', [x], 3);
    const acc = g.op('MatMulInteger', [q!, int8Weight(index, inputs, outputs), qZero!]); // [m, outputs] int32
    return g.op('Mul', [g.op('Cast', [acc], { to: attr.int(1) }), g.op('Mul', [qScale!, g.constFloat([scale], [])])]);
  };
  const fused: GemmLayer = (g, x, inputs, outputs, index) =>
    g.op('DynamicQuantizeMatMul', [x, int8Weight(index, inputs, outputs), g.constFloat([scale], [1])], {}, 'com.microsoft');
  return {
    matMulInteger: await measureGemmChain(viaMatMulInteger, attach, 4, runs),
    dynamicQuantizeMatMul: await measureGemmChain(fused, attach, 4, runs),
  };
}

type ConvLayer = (g: GraphBuilder, x: string, index: number) => string;

/** A chain of `layers` 320 -> 320 3x3 convs on the limit shape, built by `layer`; G(FL)OP/s or null. */
async function measureConvChain(layer: ConvLayer, finish: (model: OnnxModel) => void, layers: number, runs: number, optimization: RuntimeOptions['optimization'], clock: Clock = WALL): Promise<number | null> {
  const { batch, channels, side } = LIMIT_SHAPES.conv;
  const dims = [batch, channels, side, side];
  const g = new GraphBuilder('conv-limit', null);
  let y = g.input('x', 'float32', dims);
  for (let l = 0; l < layers; l++) y = layer(g, y, l);
  g.output(y, 'y', 'float32', dims);
  const model = g.build();
  finish(model);
  const seconds = await timeModel(model, dims, runs, optimization, clock);
  return seconds === null ? null : (2 * batch * side * side * channels * channels * 9 * layers) / seconds / 1e9;
}

const CONV_GEOMETRY = { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) };

/** fp32 3x3 conv GFLOP/s on [2, 320, 64, 64]: the better of the `extended` and `all` (NCHWc) levels. */
export async function measureFp32ConvGflops(runs = 4, clock: Clock = WALL): Promise<number> {
  const { channels } = LIMIT_SHAPES.conv;
  const layer: ConvLayer = (g, x, l) => g.op('Conv', [x, g.constFloat(sample(channels * channels * 9, l, 0.02), [channels, channels, 3, 3])], CONV_GEOMETRY);
  const plain = await measureConvChain(layer, () => undefined, 3, runs, 'extended', clock);
  const nchwc = await measureConvChain(layer, () => undefined, 3, runs, 'all', clock);
  const best = Math.max(plain ?? 0, nchwc ?? 0);
  if (best === 0) throw new Error('ONNX Runtime could not run an fp32 Conv');
  return best;
}

/** int8 3x3 conv GOP/s on the same shape through ConvInteger and QLinearConv; null where a kernel is missing. */
export async function measureInt8ConvGops(runs = 4): Promise<Pick<Int8Limits, 'convInteger' | 'qlinearConv'>> {
  const { channels } = LIMIT_SHAPES.conv;
  const count = channels * channels * 9;
  const wDims = [channels, channels, 3, 3];
  const pending: { name: string; dtype: 'int8' | 'uint8'; dims: number[]; values: ArrayLike<number> }[] = [];
  const attach = (model: OnnxModel) => {
    for (const w of pending.splice(0)) addIntTensor(model, w.name, w.dtype, w.dims, w.values);
  };
  const convInteger: ConvLayer = (g, x, l) => {
    const name = `w_u8_${l}`;
    pending.push({ name, dtype: 'uint8', dims: wDims, values: Uint8Array.from(sample(count, l, 100), (v) => 128 + v) });
    if (l === 0) pending.push({ name: 'w_zero_u8', dtype: 'uint8', dims: [], values: [128] });
    const [q, qScale, qZero] = g.opN('DynamicQuantizeLinear', [x], 3);
    const acc = g.op('ConvInteger', [q!, name, qZero!, 'w_zero_u8'], CONV_GEOMETRY);
    return g.op('Mul', [g.op('Cast', [acc], { to: attr.int(1) }), g.op('Mul', [qScale!, g.constFloat([0.001], [])])]);
  };
  const integer = await measureConvChain(convInteger, attach, 3, runs, 'extended');

  const layers = 3;
  const qlinear: ConvLayer = (g, x, l) => {
    const name = `w_s8_${l}`;
    pending.push({ name, dtype: 'int8', dims: wDims, values: Int8Array.from(sample(count, l, 100)) });
    const zeroU8 = 'zero_u8';
    const zeroS8 = 'zero_s8';
    if (l === 0) {
      pending.push({ name: zeroU8, dtype: 'uint8', dims: [], values: [128] });
      pending.push({ name: zeroS8, dtype: 'int8', dims: [], values: [0] });
    }
    const scale = g.constFloat([0.05], []);
    const input = l === 0 ? g.op('QuantizeLinear', [x, scale, zeroU8]) : x;
    const y = g.op('QLinearConv', [input, scale, zeroU8, name, g.constFloat([0.001], []), zeroS8, scale, zeroU8], CONV_GEOMETRY);
    return l === layers - 1 ? g.op('DequantizeLinear', [y, scale, zeroU8]) : y;
  };
  const linearQ = await measureConvChain(qlinear, attach, layers, runs, 'extended');
  return { convInteger: integer, qlinearConv: linearQ };
}

/** Every limit, with the CPU flags they were measured under. */
export async function measureMachineLimits(): Promise<MachineLimits> {
  const { m, k, n } = LIMIT_SHAPES.gemm;
  const { batch, channels, side } = LIMIT_SHAPES.conv;
  return {
    cpu: await detectCpuFeatures(),
    fp32GemmGflops: await measureFp32GemmGflops(),
    fp32ConvGflops: await measureFp32ConvGflops(),
    perCore: { fp32GemmGflops: await measureFp32GemmGflops(4, ONE_THREAD_CPU), fp32ConvGflops: await measureFp32ConvGflops(3, ONE_THREAD_CPU) },
    int8: { ...(await measureInt8GemmGops()), ...(await measureInt8ConvGops()) },
    shapes: {
      gemm: `[${m}, ${k}] x [${k}, ${n}] and [${m}, ${n}] x [${n}, ${k}], 4 chained`,
      conv: `[${batch}, ${channels}, ${side}, ${side}] 3x3 pad 1 -> ${channels}, 3 chained`,
    },
  };
}

/** Ideal seconds for a counted workload at these limits (attention products run at GEMM speed). */
export function idealSeconds(flops: { gemm: number; conv: number; attention: number }, limits: Pick<MachineLimits, 'fp32GemmGflops' | 'fp32ConvGflops'>): number {
  return (flops.gemm + flops.attention) / (limits.fp32GemmGflops * 1e9) + flops.conv / (limits.fp32ConvGflops * 1e9);
}

/**
 * Ideal seconds for an int8 UNet (`runtime.precision: "int8"`): its linear layers at the fused
 * DynamicQuantizeMatMul limit, its convolutions at the MatMulInteger limit (they run as uint8 im2col +
 * MatMulInteger), attention in fp32 at the GEMM limit. Null where ONNX Runtime lacks either int8 kernel.
 */
export function idealInt8Seconds(flops: { gemm: number; conv: number; attention: number }, limits: Pick<MachineLimits, 'fp32GemmGflops' | 'int8'>): number | null {
  const { dynamicQuantizeMatMul, matMulInteger } = limits.int8;
  if (dynamicQuantizeMatMul === null || matMulInteger === null) return null;
  return flops.gemm / (dynamicQuantizeMatMul * 1e9) + flops.conv / (matMulInteger * 1e9) + flops.attention / (limits.fp32GemmGflops * 1e9);
}

/** The limits as a table, with the CPU and its flags (every figure is only meaningful next to them). */
export function formatLimits(l: MachineLimits): string {
  const c = l.cpu;
  const flags = [c.avx2 && 'AVX2', c.avx512 && 'AVX-512', c.avx512Bf16 && 'AVX512-BF16', c.avx512Vnni && 'AVX512-VNNI', c.avxVnni && 'AVX-VNNI', c.amx && 'AMX'].filter(Boolean).join(', ');
  const figure = (v: number | null) => (v === null ? 'not in this ONNX Runtime build' : v.toFixed(1));
  return [
    `Machine: ${c.model}, ${c.cores} cores; flags: ${flags === '' ? (c.source === 'unavailable' ? 'not exposed on this platform' : 'none of AVX2/AVX-512/VNNI/AMX') : flags}`,
    '',
    '| limit (ONNX Runtime, this machine) | shape | G(FL)OP/s |',
    '|---|---|---|',
    `| fp32 GEMM (Gemm, transB) | ${l.shapes.gemm} | ${figure(l.fp32GemmGflops)} |`,
    `| fp32 3x3 conv | ${l.shapes.conv} | ${figure(l.fp32ConvGflops)} |`,
    `| fp32 GEMM per CPU-second of one thread | ${l.shapes.gemm} | ${figure(l.perCore.fp32GemmGflops)} |`,
    `| fp32 3x3 conv per CPU-second of one thread | ${l.shapes.conv} | ${figure(l.perCore.fp32ConvGflops)} |`,
    `| int8 GEMM: DynamicQuantizeLinear + MatMulInteger | ${l.shapes.gemm} | ${figure(l.int8.matMulInteger)} |`,
    `| int8 GEMM: DynamicQuantizeMatMul (com.microsoft) | ${l.shapes.gemm} | ${figure(l.int8.dynamicQuantizeMatMul)} |`,
    `| int8 3x3 conv: DynamicQuantizeLinear + ConvInteger | ${l.shapes.conv} | ${figure(l.int8.convInteger)} |`,
    `| int8 3x3 conv: QLinearConv (uint8 x int8) | ${l.shapes.conv} | ${figure(l.int8.qlinearConv)} |`,
  ].join('\n');
}

if (process.argv[1]?.endsWith('machine-limits.ts') === true) {
  console.log(JSON.stringify({ family: 'machine', part: 'limits', ...(await measureMachineLimits()) }));
}
