/**
 * Upscaler benchmarks in their own process. Prints one JSON line.
 *
 *   rrdb:  a full-size random-weight RRDBNet x4 (23 blocks, 64 features, 32 growth channels: ESRGAN's and Fooocus's
 *          size) on a 512x512 image through the tiled upscaler (default tiles), with the network's achieved GFLOP/s
 *          (2 x multiply-accumulates over every tile pixel run) beside the machine's fp32 3x3 convolution
 *          throughput measured here (one 64 -> 64 conv on 1x64x256x256 through ONNX Runtime), and the CPU flags.
 *   image: Upscale (2x) of a 1024x1024 image end to end through `fooocus upscale` (that RRDBNet x4, or with
 *          `srvgg` a full-size SRVGGNetCompact x4 (32 convs, 64 features: Real-ESRGAN's general-x4v3 size), then
 *          image-to-image with the tiny SDXL fixture at Speed's 18 steps, or `steps` when given) with the tiled VAE.
 *
 * Usage: node --import tsx bench/upscale-case.ts <rrdb|image> <cacheDir> [steps] [rrdb|srvgg]
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../src/cli/cli.ts';
import { importModel } from '../src/app/models/import-model.ts';
import { openModelStore } from '../src/app/models/model-store.ts';
import { detectCpuFeatures, encodePng } from '../src/engine/index.ts';
import { readSafetensorsHeader } from '../src/engine/io/safetensors-reader.ts';
import type { TensorToWrite } from '../src/engine/io/safetensors-types.ts';
import { writeSafetensors } from '../src/engine/io/safetensors-writer.ts';
import { attr, GraphBuilder } from '../src/engine/onnx/graph-builder.ts';
import { encodeOnnxModel } from '../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../src/engine/runtime/onnx-runtime.ts';
import { loadUpscaler } from '../src/engine/upscale/load-upscaler.ts';
import { DEFAULT_UPSCALE_OVERLAP, DEFAULT_UPSCALE_TILE, tileStarts, upscaleImage } from '../src/engine/upscale/tiled-upscale.ts';
import { countUpscalerMacs } from '../src/engine/upscale/upscaler-layout.ts';
import { writeTinyCheckpoint } from '../test/fixtures/checkpoints.ts';

const [part, cacheDir, stepsArg, upscalerArg] = process.argv.slice(2) as ['rrdb' | 'image', string, string?, ('rrdb' | 'srvgg')?];

/** ESRGAN x4 in BasicSR's key names with seeded small random weights (speed does not depend on their values). */
async function ensureFullRrdb(dir: string): Promise<string> {
  const file = path.join(dir, 'rrdbnet-x4-23x64.safetensors');
  if (existsSync(file)) return file;
  let state = 12345;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.02;
  const tensors: TensorToWrite[] = [];
  const conv = (name: string, cout: number, cin: number) => {
    tensors.push({ name: `${name}.weight`, dtype: 'F32', shape: [cout, cin, 3, 3], data: Float32Array.from({ length: cout * cin * 9 }, random) });
    tensors.push({ name: `${name}.bias`, dtype: 'F32', shape: [cout], data: new Float32Array(cout) });
  };
  conv('conv_first', 64, 3);
  for (let b = 0; b < 23; b++) for (let k = 1; k <= 3; k++) for (let j = 1; j <= 5; j++) conv(`body.${b}.rdb${k}.conv${j}`, j === 5 ? 64 : 32, 64 + (j - 1) * 32);
  for (const name of ['conv_body', 'conv_up1', 'conv_up2', 'conv_hr']) conv(name, 64, 64);
  conv('conv_last', 3, 64);
  await writeSafetensors(file, tensors);
  return file;
}

/** Real-ESRGAN's compact x4 (general-x4v3 size), `body.N` keys, PReLU slopes 0.25. */
async function ensureFullSrvgg(dir: string): Promise<string> {
  const file = path.join(dir, 'srvgg-x4-32x64.safetensors');
  if (existsSync(file)) return file;
  let state = 777;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.02;
  const tensors: TensorToWrite[] = [];
  const conv = (index: number, cout: number, cin: number) => {
    tensors.push({ name: `body.${index}.weight`, dtype: 'F32', shape: [cout, cin, 3, 3], data: Float32Array.from({ length: cout * cin * 9 }, random) });
    tensors.push({ name: `body.${index}.bias`, dtype: 'F32', shape: [cout], data: new Float32Array(cout) });
  };
  conv(0, 64, 3);
  for (let i = 0; i <= 32; i++) {
    if (i > 0) conv(2 * i, 64, 64);
    tensors.push({ name: `body.${2 * i + 1}.weight`, dtype: 'F32', shape: [64], data: new Float32Array(64).fill(0.25) });
  }
  conv(66, 48, 64);
  await writeSafetensors(file, tensors);
  return file;
}

function testPicture(size: number) {
  const rgb = new Uint8Array(size * size * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = 128 + 100 * Math.sin(i * 0.0037);
  return { width: size, height: size, rgb };
}

/**
 * fp32 3x3 convolution throughput of this machine through ONNX Runtime: a chain of eight 64 -> 64 convs on
 * 1x64x128x128 (the shape of the network's work, in one session so the layout transforms apply as they do for
 * the network), best of 6 runs, GFLOP/s.
 */
async function measureConvGflops(): Promise<number> {
  const side = 128;
  const layers = 8;
  const g = new GraphBuilder('conv-microbench', null);
  let y = g.input('x', 'float32', [1, 64, side, side]);
  for (let l = 0; l < layers; l++) {
    const w = g.constFloat(Float32Array.from({ length: 64 * 64 * 9 }, (_, i) => Math.sin(i + l) * 0.02), [64, 64, 3, 3]);
    y = g.op('Conv', [y, w], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) });
  }
  g.output(y, 'y', 'float32', [1, 64, side, side]);
  const session = await createModelSession(encodeOnnxModel(g.build()), null);
  const feed = { x: { dims: [1, 64, side, side], data: Float32Array.from({ length: 64 * side * side }, (_, i) => Math.cos(i)) } };
  let best = Infinity;
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    await session.run(feed);
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  await session.release();
  return (2 * 64 * 64 * 9 * side * side * layers) / best / 1e9;
}

async function benchRrdb() {
  const file = await ensureFullRrdb(cacheDir);
  // Measured before and after the network's run (this machine is shared), the better of the two kept.
  const convBefore = await measureConvGflops();
  const loadStarted = performance.now();
  const upscaler = await loadUpscaler(await readSafetensorsHeader(file));
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const size = 512;
  const started = performance.now();
  const out = await upscaleImage(upscaler, testPicture(size));
  const seconds = (performance.now() - started) / 1000;
  // Pixels the network ran on: every tile, overlaps included.
  const tile = Math.min(DEFAULT_UPSCALE_TILE, size);
  const tiles = tileStarts(size, DEFAULT_UPSCALE_TILE, DEFAULT_UPSCALE_OVERLAP).length ** 2;
  const gflop = (2 * countUpscalerMacs(upscaler.layout) * tiles * tile * tile) / 1e9;
  await upscaler.release();
  const convGflops = Math.max(convBefore, await measureConvGflops());
  const cpu = await detectCpuFeatures();
  return {
    part: 'rrdb',
    shape: `RRDBNet x4, 23 blocks, 64 features; ${size}x${size} -> ${out.width}x${out.height}; ${tiles} tiles of ${tile} (overlap ${DEFAULT_UPSCALE_OVERLAP})`,
    loadSeconds,
    seconds,
    gflop,
    gflops: gflop / seconds,
    convGflops,
    percentOfConv: (gflop / seconds / convGflops) * 100,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    cpu: { model: cpu.model, cores: cpu.cores, avx2: cpu.avx2, avx512: cpu.avx512, avx512Bf16: cpu.avx512Bf16, amx: cpu.amx },
  };
}

async function benchImage() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-bench-upscale-'));
  try {
    const models = path.join(dir, 'models');
    mkdirSync(models);
    const store = await openModelStore(models);
    const model = (await importModel(store, await writeTinyCheckpoint(dir, 'sdxl'), { kind: 'checkpoints' })).name;
    const compact = upscalerArg === 'srvgg';
    await importModel(store, compact ? await ensureFullSrvgg(cacheDir) : await ensureFullRrdb(cacheDir), { kind: 'upscalers' });
    const input = path.join(dir, 'input.png');
    const image = testPicture(1024);
    writeFileSync(input, encodePng(image.rgb, 1024, 1024));
    const steps = stepsArg ?? '18';
    let log = '';
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => ((log += chunk.toString()), done()) });
    const started = performance.now();
    const code = await main(['upscale', input, '--mode', '2x', '--models', models, '--model', model, '--out', path.join(dir, 'out'), '--json', '--steps', steps, '--seed', '1'], {
      stdout: sink,
      stderr: sink,
      signal: new AbortController().signal,
    });
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`upscale failed (${code}): ${log.slice(-2000)}`);
    const network = compact ? 'SRVGGNetCompact x4 (32 convs, 64 features)' : 'RRDBNet x4 (23 blocks, 64 features)';
    return { part: 'image', shape: `Upscale (2x) 1024x1024 -> 2048x2048: ${network}, full size, random weights, then the tiny SDXL fixture, ${steps} steps, tiled VAE`, seconds, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(JSON.stringify({ family: 'upscaler', ...(part === 'rrdb' ? await benchRrdb() : await benchImage()) }));
