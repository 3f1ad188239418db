/**
 * Upscaler benchmarks in their own process. Prints one JSON line.
 *
 *   rrdb:        a full-size random-weight RRDBNet x4 (23 blocks, 64 features, 32 growth channels: ESRGAN's and
 *                Fooocus's size) on a 512x512 image through the tiled upscaler (default tiles), with the network's
 *                achieved GFLOP/s (the FLOPs of one tile counted from the network's graph, times the tiles run)
 *                beside the machine's fp32 3x3-convolution limit (machine-limits.ts: measured once by
 *                `npm run bench`, or here when run alone), and the CPU flags.
 *   image:       Upscale (2x) of a 1024x1024 image end to end through `fooocus upscale`, all at full size: that
 *                RRDBNet x4, then image-to-image on the full-size random-weight SDXL checkpoint at Speed's 18
 *                steps (or `steps`) with the tiled VAE, 2048x2048 out. Hours on a 2-core machine.
 *   image-small: the same path for quick runs: the RRDBNet x4 on a 256x256 input (one tile), then the tiny SDXL
 *                fixture at 2 steps (or `steps`) at the native 1024x1024.
 *
 * Both image parts take the upscaler as their last argument (`srvgg`: a full-size SRVGGNetCompact x4, 32 convs,
 * 64 features, Real-ESRGAN's general-x4v3 size) and print per-phase times to stderr as each ends (upscale-phases.ts).
 *
 * Usage: node --import tsx bench/upscale-case.ts <rrdb|image|image-small> <cacheDir> [steps] [rrdb|srvgg]
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { main } from '../src/cli/cli.ts';
import { importModel } from '../src/app/models/import-model.ts';
import { openModelStore } from '../src/app/models/model-store.ts';
import { detectCpuFeatures, encodePng } from '../src/engine/index.ts';
import { readSafetensorsHeader } from '../src/engine/io/safetensors-reader.ts';
import type { TensorToWrite } from '../src/engine/io/safetensors-types.ts';
import { writeSafetensors } from '../src/engine/io/safetensors-writer.ts';
import { buildUpscalerGraph } from '../src/engine/graphs/upscaler.ts';
import { countGraphFlops } from '../src/engine/onnx/flop-count.ts';
import { loadUpscaler } from '../src/engine/upscale/load-upscaler.ts';
import { DEFAULT_UPSCALE_OVERLAP, DEFAULT_UPSCALE_TILE, tileStarts, upscaleImage } from '../src/engine/upscale/tiled-upscale.ts';
import { writeTinyCheckpoint } from '../test/fixtures/checkpoints.ts';
import { ensureFullCheckpoint } from './fixtures/full-checkpoints.ts';
import { measureFp32ConvGflops, type MachineLimits } from './machine-limits.ts';
import { UpscalePhaseClock } from './upscale-phases.ts';

const [part, cacheDir, stepsArg, upscalerArg] = process.argv.slice(2) as ['rrdb' | 'image' | 'image-small', string, string?, ('rrdb' | 'srvgg')?];

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

/** The machine's fp32 3x3-conv limit: the one `npm run bench` measured first, or measured here when run alone. */
async function convLimitGflops(): Promise<number> {
  const shared = process.env.BENCH_MACHINE_LIMITS;
  return shared === undefined ? measureFp32ConvGflops() : (JSON.parse(shared) as MachineLimits).fp32ConvGflops;
}

async function benchRrdb() {
  const file = await ensureFullRrdb(cacheDir);
  const loadStarted = performance.now();
  const header = await readSafetensorsHeader(file);
  const upscaler = await loadUpscaler(header);
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const size = 512;
  const started = performance.now();
  const out = await upscaleImage(upscaler, testPicture(size));
  const seconds = (performance.now() - started) / 1000;
  // Pixels the network ran on: every tile, overlaps included.
  const tile = Math.min(DEFAULT_UPSCALE_TILE, size);
  const tiles = tileStarts(size, DEFAULT_UPSCALE_TILE, DEFAULT_UPSCALE_OVERLAP).length ** 2;
  const tileFlops = countGraphFlops(buildUpscalerGraph(header, upscaler.layout), { image: [1, upscaler.layout.channels, tile, tile] });
  const gflop = (tileFlops.total * tiles) / 1e9;
  await upscaler.release();
  const convGflops = await convLimitGflops();
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

/** The two end-to-end variants: the full-size case and a quick one on the same code path. */
const IMAGE_VARIANTS = {
  image: { inputSize: 1024, steps: '18', checkpoint: 'full-size random-weight SDXL' },
  'image-small': { inputSize: 256, steps: '2', checkpoint: 'the tiny SDXL fixture' },
} as const;

async function benchImage(variant: keyof typeof IMAGE_VARIANTS) {
  const { inputSize, checkpoint } = IMAGE_VARIANTS[variant];
  // Inside the cache folder, so the full-size checkpoint is hard-linked into the store rather than copied.
  const dir = mkdtempSync(path.join(cacheDir, 'upscale-store-'));
  try {
    const models = path.join(dir, 'models');
    mkdirSync(models);
    const store = await openModelStore(models);
    const importStarted = performance.now();
    const source = variant === 'image' ? await ensureFullCheckpoint('sdxl', cacheDir) : await writeTinyCheckpoint(dir, 'sdxl');
    const model = (await importModel(store, source, { kind: 'checkpoints', link: true })).name;
    process.stderr.write(`bench: upscaler:${variant} checkpoint ready and hashed: ${((performance.now() - importStarted) / 1000).toFixed(1)} s\n`);
    const compact = upscalerArg === 'srvgg';
    await importModel(store, compact ? await ensureFullSrvgg(cacheDir) : await ensureFullRrdb(cacheDir), { kind: 'upscalers', link: true });
    const input = path.join(dir, 'input.png');
    const image = testPicture(inputSize);
    writeFileSync(input, encodePng(image.rgb, inputSize, inputSize));
    const steps = stepsArg ?? IMAGE_VARIANTS[variant].steps;
    let log = '';
    const clock = new UpscalePhaseClock((line) => process.stderr.write(`bench: upscaler:${variant} ${line}\n`));
    const sink = new Writable({
      write: (chunk: Buffer, _e, done) => {
        log = (log + chunk.toString()).slice(-4000);
        clock.feed(chunk.toString());
        done();
      },
    });
    const started = performance.now();
    const code = await main(['upscale', input, '--mode', '2x', '--models', models, '--model', model, '--out', path.join(dir, 'out'), '--json', '--steps', steps, '--seed', '1'], {
      stdout: sink,
      stderr: sink,
      signal: new AbortController().signal,
    });
    const seconds = (performance.now() - started) / 1000;
    const phases = clock.finish();
    if (code !== 0) throw new Error(`upscale failed (${code}): ${log.slice(-2000)}`);
    const network = compact ? 'SRVGGNetCompact x4 (32 convs, 64 features)' : 'RRDBNet x4 (23 blocks, 64 features)';
    const out = variant === 'image' ? '2048x2048' : '1024x1024 (the native size)';
    return {
      part: variant,
      shape: `Upscale (2x) ${inputSize}x${inputSize} -> ${out}: ${network}, full size, random weights, then ${checkpoint}, ${steps} steps, tiled VAE`,
      seconds,
      phases,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (part !== 'rrdb' && !(part in IMAGE_VARIANTS)) throw new Error(`unknown part "${part}": rrdb, ${Object.keys(IMAGE_VARIANTS).join(', ')}`);
console.log(JSON.stringify({ family: 'upscaler', ...(part === 'rrdb' ? await benchRrdb() : await benchImage(part)) }));
