/**
 * int8 3x3 convolutions at the SD 1.5 UNet's conv shapes (batch 2 at 512x512: 320/640/1280 channels at 64/32/16),
 * three ways, each layer on its own with float32 in and out as the UNet runs it:
 *   fp32:    Conv (the better of the `extended` and `all` optimization levels)
 *   im2col:  the engine's int8 path (graphs/int8-layers.ts: DynamicQuantizeLinear, uint8 im2col, MatMulInteger)
 *   qlinear: DynamicQuantizeLinear -> QLinearConv (per-channel int8 weights) -> DequantizeLinear; QLinearConv needs
 *            an output scale, here the input's runtime scale times a constant, so the timing is the kernel's but
 *            the result would clip without a calibrated constant (see the README's int8 section)
 * Timed two ways, interleaved run by run: wall time with every core, and CPU time with one thread (the work
 * itself, which stays put while other processes load the machine). Prints one JSON line.
 * Usage: node --import tsx bench/int8-conv-case.ts
 */
import { int8Conv2d } from '../src/engine/graphs/int8-layers.ts';
import { attr, GraphBuilder } from '../src/engine/onnx/graph-builder.ts';
import { encodeOnnxModel, type OnnxModel } from '../src/engine/onnx/onnx-proto.ts';
import { quantizeWeightInt8, type Int8Weight } from '../src/engine/quantize/int8-quantization.ts';
import { createModelSession, type ModelSession, type RuntimeOptions } from '../src/engine/runtime/onnx-runtime.ts';
import { describeCpu } from './cpu-description.ts';

const SHAPES = [
  { channels: 320, side: 64 },
  { channels: 640, side: 32 },
  { channels: 1280, side: 16 },
];
const BATCH = 2;
const RUNS = 6;
const GEOMETRY = { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) };
const VARIANTS = ['fp32', 'fp32-all', 'im2col', 'qlinear'] as const;
type Variant = (typeof VARIANTS)[number];

const sample = (count: number, seed: number, scale: number) => Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.7 + seed) * scale);

function addInt8(model: OnnxModel, name: string, dtype: 'int8' | 'uint8', dims: number[], bytes: Uint8Array): void {
  model.graph.initializers.push({ name, dtype, dims, data: { kind: 'raw', bytes } });
}

function buildFp32(dims: number[], weight: Float32Array, channels: number): OnnxModel {
  const g = new GraphBuilder('conv-fp32', null);
  g.output(g.op('Conv', [g.input('x', 'float32', dims), g.constFloat(weight, [channels, channels, 3, 3])], GEOMETRY), 'y', 'float32', dims);
  return g.build();
}

function buildIm2col(dims: number[], q: Int8Weight): OnnxModel {
  const g = new GraphBuilder('conv-im2col', null);
  const w = { codes: 'codes', scales: g.constFloat(q.scales, [q.columns]), rows: q.rows, columns: q.columns };
  g.output(int8Conv2d(g, g.input('x', 'float32', dims), w, null, { kernel: 3, stride: 1, padding: 1 }), 'y', 'float32', dims);
  const model = g.build();
  addInt8(model, 'codes', 'int8', [q.rows, q.columns], new Uint8Array(q.codes.buffer));
  return model;
}

function buildQLinear(dims: number[], q: Int8Weight, channels: number): OnnxModel {
  // QLinearConv takes the weight as [Cout, Cin, 3, 3]; the codes are stored [(tap, Cin), Cout].
  const codes = new Int8Array(channels * channels * 9);
  for (let o = 0; o < channels; o++) for (let i = 0; i < channels; i++) for (let t = 0; t < 9; t++) codes[(o * channels + i) * 9 + t] = q.codes[(t * channels + i) * channels + o]!;
  const g = new GraphBuilder('conv-qlinear', null);
  const [xq, xScale, xZero] = g.opN('DynamicQuantizeLinear', [g.input('x', 'float32', dims)], 3) as [string, string, string];
  const yScale = g.op('Mul', [xScale, g.constFloat([8], [])]);
  const y = g.op('QLinearConv', [xq, xScale, xZero, 'w', g.constFloat(q.scales, [channels]), 'w_zero', yScale, 'y_zero'], GEOMETRY);
  g.output(g.op('DequantizeLinear', [y, yScale, 'y_zero']), 'y', 'float32', dims);
  const model = g.build();
  addInt8(model, 'w', 'int8', [channels, channels, 3, 3], new Uint8Array(codes.buffer));
  addInt8(model, 'w_zero', 'int8', [channels], new Uint8Array(channels));
  addInt8(model, 'y_zero', 'uint8', [], Uint8Array.from([128]));
  return model;
}

interface Timing {
  wallMs: number;
  oneThreadCpuMs: number;
}

/** Best wall time (all cores) and best one-thread CPU time of RUNS runs per variant, the variants interleaved. */
async function timeVariants(models: Record<Variant, OnnxModel>, dims: number[]): Promise<Record<Variant, Timing>> {
  const feed = { x: { dims, data: sample(dims.reduce((a, b) => a * b, 1), 1, 1) } };
  const open = async (variant: Variant, threads?: number): Promise<ModelSession> => {
    const options: RuntimeOptions = { optimization: variant === 'fp32-all' ? 'all' : 'extended', ...(threads === undefined ? {} : { threads }) };
    const session = await createModelSession(encodeOnnxModel(models[variant]), null, options);
    await session.run(feed);
    return session;
  };
  const best = Object.fromEntries(VARIANTS.map((v) => [v, { wallMs: Infinity, oneThreadCpuMs: Infinity }])) as Record<Variant, Timing>;
  for (const clock of ['wall', 'cpu'] as const) {
    const sessions = new Map<Variant, ModelSession>();
    for (const v of VARIANTS) sessions.set(v, await open(v, clock === 'cpu' ? 1 : undefined));
    for (let r = 0; r < RUNS; r++) {
      for (const [v, session] of sessions) {
        const wall = performance.now();
        const cpu = process.cpuUsage();
        await session.run(feed);
        const used = process.cpuUsage(cpu);
        if (clock === 'wall') best[v].wallMs = Math.min(best[v].wallMs, performance.now() - wall);
        else best[v].oneThreadCpuMs = Math.min(best[v].oneThreadCpuMs, (used.user + used.system) / 1000);
      }
    }
    for (const session of sessions.values()) await session.release();
  }
  return best;
}

const layers = [];
for (const { channels, side } of SHAPES) {
  const dims = [BATCH, channels, side, side];
  const weight = sample(channels * channels * 9, 3, 0.02);
  const q = quantizeWeightInt8(weight, [channels, channels, 3, 3]);
  const models: Record<Variant, OnnxModel> = { fp32: buildFp32(dims, weight, channels), 'fp32-all': buildFp32(dims, weight, channels), im2col: buildIm2col(dims, q), qlinear: buildQLinear(dims, q, channels) };
  const timings = await timeVariants(models, dims);
  layers.push({ shape: `3x3 ${channels}->${channels} at ${side}x${side}, batch ${BATCH}`, gop: (2 * BATCH * side * side * channels * channels * 9) / 1e9, timings });
}
console.log(JSON.stringify({ family: 'int8', part: 'conv', layers, cpu: describeCpu() }));
