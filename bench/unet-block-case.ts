/**
 * One res block and spatial transformer of the SD 1.5 UNet's 64x64 level (input_blocks.1, batch 2 as for
 * classifier-free guidance at 512x512) on the full-size random-weight checkpoint, run on one thread and timed in
 * CPU seconds: a graph change can be measured on a machine busy with other work, where wall time is noise. Prints
 * one JSON line (FLOPs counted from the graph, CPU seconds per run, GFLOP per CPU-second); with `--profile`, ONNX
 * Runtime's time per operator type and slowest nodes on stderr.
 *
 * Usage: node --import tsx bench/unet-block-case.ts <cacheDir> [runs] [--profile]
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildResBlock, buildSpatialTransformer, type UnetContext } from '../src/engine/graphs/unet.ts';
import { readSafetensorsHeader } from '../src/engine/io/safetensors-reader.ts';
import { inspectHeader } from '../src/engine/models/inspect.ts';
import { countGraphFlops } from '../src/engine/onnx/flop-count.ts';
import { GraphBuilder } from '../src/engine/onnx/graph-builder.ts';
import { encodeOnnxModel } from '../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../src/engine/runtime/onnx-runtime.ts';
import { readProfileSummary } from '../src/engine/runtime/profile-summary.ts';
import { ensureFullCheckpoint } from './fixtures/full-checkpoints.ts';

const profile = process.argv.includes('--profile');
const [cacheDir, runsArg] = process.argv.slice(2).filter((a) => !a.startsWith('--')) as [string, string?];
const runs = Number(runsArg ?? 3);
const file = await ensureFullCheckpoint('sd15', cacheDir);
const header = await readSafetensorsHeader(file);
const cfg = inspectHeader(header).architecture.unet!;
const dims = { x: [2, cfg.modelChannels, 64, 64], context: [2, 77, cfg.contextDim], emb: [2, 4 * cfg.modelChannels] };
const g = new GraphBuilder('unet-block', header);
const u: UnetContext = { g, cfg, opts: { attention: 'fused' }, embSilu: g.input('emb', 'float32', dims.emb), context: g.input('context', 'float32', dims.context) };
const h = buildResBlock(u, g.input('x', 'float32', dims.x), `${cfg.prefix}input_blocks.1.0.`);
g.output(buildSpatialTransformer(u, h, `${cfg.prefix}input_blocks.1.1.`, 1, cfg.modelChannels), 'y', 'float32', dims.x);
const model = g.build();
const flops = countGraphFlops(model, dims);
const profileDir = profile ? mkdtempSync(path.join(os.tmpdir(), 'fooocus-bench-profile-')) : null;
try {
  const session = await createModelSession(encodeOnnxModel(model), path.dirname(file), {
    threads: 1,
    optimization: 'extended', // the UNet's level (load-checkpoint.ts)
    ...(profileDir === null ? {} : { profileFilePrefix: path.join(profileDir, 'block') }),
  });
  const feeds = Object.fromEntries(Object.entries(dims).map(([name, d], j) => [name, { dims: d, data: Float32Array.from({ length: d.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 12.9898 + j) * 0.5) }]));
  await session.run(feeds);
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const started = process.cpuUsage();
    await session.run(feeds);
    const used = process.cpuUsage(started);
    best = Math.min(best, (used.user + used.system) / 1e6);
  }
  if (profileDir !== null) {
    await session.endProfiling();
    const summary = await readProfileSummary(path.join(profileDir, readdirSync(profileDir).find((f) => f.endsWith('.json'))!), { skipRuns: 1 });
    const ms = (v: number) => (v * 1000).toFixed(1);
    for (const o of summary.byOpType) process.stderr.write(`${o.opType.padEnd(28)} ${ms(o.seconds).padStart(9)} ms ${(o.share * 100).toFixed(1).padStart(5)} %\n`);
    for (const n of summary.topNodes) process.stderr.write(`  ${n.node.padEnd(28)} ${n.opType.padEnd(20)} ${ms(n.seconds).padStart(9)} ms ${JSON.stringify(n.inputShapes)}\n`);
  }
  await session.release();
  const { outputs: _outputs, ...counted } = flops;
  console.log(JSON.stringify({ family: 'sd15', part: 'unet-block', shape: 'input_blocks.1 (res block + transformer), batch 2, 64x64', flops: counted, cpuSecondsPerRun: best, gflopsPerCpuSecond: flops.total / best / 1e9 }));
} finally {
  if (profileDir !== null) rmSync(profileDir, { recursive: true, force: true });
}
