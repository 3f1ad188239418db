/**
 * `npm run bench`: engine benchmarks on full-size random-weight checkpoints (generated once into
 * .cache/bench; speed does not depend on the weight values). Each case runs in its own process so its peak
 * RSS is its own. Before the model cases it measures this machine's limits (fp32 GEMM and 3x3-conv, int8 GEMM
 * and conv throughput through ONNX Runtime, with the CPU flags: machine-limits.ts); each model case prints the
 * FLOPs counted from its graph, the GFLOP/s reached and the fraction of the limits. Prints tables; `--json`
 * prints the raw results (the limits first, as family "machine").
 *
 *   npm run bench -- --profile sd15:unet # ONNX Runtime's profile of a case: time per operator type, slowest nodes
 *   npm run bench                        # all cases
 *   npm run bench -- sd15                # only SD1.5 cases
 *   npm run bench -- sd15:unet sdxl:vae  # chosen cases
 *   npm run bench -- sdxl:lora           # LoRA switch time and per-step overhead on SDXL
 *   npm run bench -- sd15:control        # ControlNet (control-LoRA) per-step overhead; FOOOCUS_BENCH_CONTROL_SIZE=256 for a smaller image
 *   npm run bench -- sdxl:image-prompt   # IP-Adapter Plus on SDXL 1024: encode per image prompt, step overhead of 1 and 4 prompts
 *                                        # (control and image-prompt: FOOOCUS_BENCH_STEP_RUNS=1 times one step per variant, not two)
 *   npm run bench -- server              # HTTP API latency/throughput under load and queue overhead
 *   npm run bench -- sdxl:cancel         # cancel latency of a running SDXL 1024 job (sd15:cancel: 512)
 *   npm run bench -- upscaler            # RRDBNet x4 on 512x512 (GFLOP/s beside a conv microbench), Upscale (2x) of 1024x1024
 *   npm run bench -- upscaler:image-small  # the Upscale (2x) path on a 256x256 input and the tiny SDXL fixture (minutes, not hours)
 *   npm run bench -- queue               # local vs Redis queue: added latency per job, jobs/s with 1 and 2 workers
 *   npm run bench -- metadata            # metadata read time of a 20 MB PNG with a 64 KiB parameters chunk
 *   npm run bench -- memory              # SD 1.5 text-to-image peak RSS, resident vs per-phase (memory-case.ts)
 *   npm run bench -- arena               # SD 1.5 UNet and VAE with each ONNX Runtime arena setting
 *   npm run bench -- int8                # int8 vs fp32 UNet (SD1.5 512 and the tiny fixture): speed-up, error, PSNR, cache
 *   npm run bench -- describe:anime      # the WD14 tagger on a 1024x1024 image (full-size MOAT, random weights, 9,083 tags): s, GFLOP/s, peak RSS
 *   npm run bench -- enhance:tab         # One Enhance tab on a 1024x1024 input: SD 1.5 full-size inpaint at 512, 20 steps: s, peak RSS
 *   npm run bench -- enhance:tab-detect  # The same with a "face" tab found by GroundingDINO + SAM (full-size random weights): s per phase, peak RSS
 *   npm run bench -- describe:photo      # BLIP-base captioner (random weights) on a 1024x1024 image, with and without its cache
 *   npm run bench -- int8:conv           # int8 3x3 conv kernels (our im2col + MatMulInteger vs QLinearConv) at SD1.5 shapes
 *   npm run bench -- --ep cuda --precision fp16 sdxl:image  # on a GPU provider (cuda, dml, coreml): SDXL 1024, 30 steps
 *                                        # (--ep and --precision reach the sd15/sdxl unet, vae, text and image cases)
 *   npm run bench -- sam:segment         # Segment Anything ViT-B: 1024x1024 image, 3 boxes: encoder s, s per box, peak RSS
 *   npm run bench -- detect:grounding-dino  # GroundingDINO (full-size random weights) on a 1024x1024 image: seconds, peak RSS
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { printImagePromptResults, type ImagePromptResult } from './image-prompt-report.ts';
import { printInt8ConvResults, printInt8Results, type Int8ConvResult, type Int8Result } from './int8-report.ts';
import { formatLimits, type MachineLimits } from './machine-limits.ts';
import { formatUpscalePhases, type UpscalePhases } from './upscale-phases.ts';
import { benchRuntimeEnv, parseBenchOptions } from './bench-options.ts';

/** Arena settings: on with the memory pattern (ONNX Runtime's default), on without it, off (the pattern needs the arena). */
const ARENA_CASES = ['unet', 'vae'].flatMap((p) => ['on-on', 'on-off', 'off-off'].map((a) => `arena:sd15-${p}-${a}`));
const ALL = ['sd15:text', 'sd15:unet', 'sd15:vae', 'sd15:image', 'sd15:lora', 'sd15:control', 'sd15:cancel', 'sdxl:text', 'sdxl:unet', 'sdxl:vae', 'sdxl:image', 'sdxl:lora', 'sdxl:control', 'sdxl:image-prompt', 'sdxl:cancel', 'server:api', 'queue:backends', 'metadata:read', 'upscaler:rrdb', 'upscaler:image', 'upscaler:image-small', 'memory:sd15-resident', 'memory:sd15-per-phase', ...ARENA_CASES, 'int8:sd15', 'int8:tiny', 'int8:conv', 'sam:segment', 'describe:photo', 'describe:anime', 'detect:grounding-dino', 'enhance:tab', 'enhance:tab-detect'];
const options = parseBenchOptions(process.argv.slice(2));
const args = options.cases;
const json = process.argv.includes('--json');
const profile = process.argv.includes('--profile');
const cases = args.length === 0 ? ALL : ALL.filter((c) => args.some((a) => c === a || c.startsWith(`${a}:`)));
const cacheDir = path.resolve(process.env.FOOOCUS_BENCH_CACHE ?? '.cache/bench');
mkdirSync(cacheDir, { recursive: true });

interface DetectResult {
  family: 'detect';
  part: string;
  shape: string;
  loadSeconds: number;
  firstSeconds: number;
  secondSeconds: number;
  peakRssBytes: number;
  cpu: { model: string; cores: number; avx2: boolean; avx512: boolean };
}

interface ImageResult {
  family: string;
  part: 'image';
  shape: string;
  loadSeconds: number;
  encodeSeconds: number;
  sampleSeconds: number;
  decodeSeconds: number;
  totalSeconds: number;
  modelSeconds: number;
  unetEvaluations: number;
  overheadPercent: number;
  peakRssBytes: number;
}

interface ControlResult {
  family: string;
  part: 'control';
  shape: string;
  plainStepSeconds: number;
  controlNetStepSeconds: number;
  controlledUnetStepSeconds: number;
  hintEncoderSeconds: number;
  stepOverheadPercent: number;
  peakRssBytes: number;
}

interface LoraResult {
  family: string;
  part: 'lora';
  shape: string;
  baseStepSeconds: number;
  loraStepSeconds: number;
  twoLoraStepSeconds: number;
  stepOverheadPercent: number;
  firstApplySeconds: number;
  switchSeconds: number;
  switchTwoSeconds: number;
  switchNoneSeconds: number;
  peakRssBytes: number;
}

interface LoadFigures {
  completed: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  requestsPerSecond: number;
}

interface ServerResult {
  family: 'server';
  part: 'api';
  read: LoadFigures;
  submit: LoadFigures;
  queueStartedMs: number;
  queueFirstStepMs: number;
}

interface QueueFigures {
  toFirstStepMs: number;
  toHistoryMs: number;
  jobsPerSecond: number;
  largeJobsPerSecond: number;
}

interface QueueResult {
  family: 'queue';
  part: 'backends';
  batch: number;
  local: QueueFigures;
  redisOne: QueueFigures;
  redisTwo: QueueFigures;
  addedLatencyMs: number;
  largeJob: { width: number; height: number; steps: number };
  twoWorkerSpeedup: number;
  twoWorkerSpeedupSmall: number;
}

interface CancelResult {
  family: string;
  part: 'cancel';
  shape: string;
  trials: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  unetStepSeconds: number;
  submitToFirstStepSeconds: number;
  cpu: { model: string; flags: string[] };
}

interface DescribeResult {
  family: 'describe';
  part: string;
  shape: string;
  loadSeconds: number;
  seconds: number;
  /** photo only (the captioner's decoder with and without its cache). */
  recomputeSeconds?: number;
  cacheSpeedup?: number;
  /** anime only: input preparation alone, the network's counted FLOPs and its rate. */
  prepareSeconds?: number;
  flops?: number;
  gflopsPerSecond?: number;
  peakRssBytes: number;
  cpu: { model: string; cores: number; avx2: boolean; avx512: boolean; flags?: string[] };
}

interface UpscalerResult {
  family: 'upscaler';
  part: 'rrdb' | 'image' | 'image-small';
  shape: string;
  seconds: number;
  peakRssBytes: number;
  phases?: UpscalePhases;
  gflops?: number;
  convGflops?: number;
  percentOfConv?: number;
  cpu?: { model: string; cores: number; avx2: boolean | null; avx512: boolean | null };
}

interface SamResult {
  family: 'sam';
  part: 'segment';
  shape: string;
  loadSeconds: number;
  encoderSeconds: number;
  perBoxSeconds: number;
  totalSeconds: number;
  peakRssBytes: number;
  cpu: { model: string; flags: string[] };
}

interface EnhanceResult {
  family: 'enhance';
  part: 'tab' | 'tab-detect';
  shape: string;
  regions: number;
  totalSeconds: number;
  beforeSamplingSeconds: number | null;
  peakRssBytes: number;
  cpu: { model: string; flags: string[] };
}

interface MetadataTiming {
  medianMs: number;
  p90Ms: number;
}

interface MetadataResult {
  family: 'metadata';
  part: 'read';
  fileBytes: number;
  parametersBytes: number;
  withText: MetadataTiming;
  withoutText: MetadataTiming;
}

interface MemoryResult {
  family: string;
  part: 'memory';
  shape: string;
  mode: string;
  totalSeconds: number;
  sampleSecondsPerStep: number;
  buildSeconds: number;
  peakRssBytes: number;
  residentFp32Bytes: number;
  rssOverResident: number;
}

interface ArenaResult {
  family: string;
  part: 'arena';
  shape: string;
  arena: boolean;
  pattern: boolean;
  buildSeconds: number;
  firstRunSeconds: number;
  secondsPerRun: number;
  peakRssBytes: number;
  weightsFp32Bytes: number;
  rssOverWeights: number;
}

interface CaseResult {
  family: string;
  part: string;
  shape: string;
  buildSeconds: number;
  firstRunSeconds: number;
  secondsPerRun: number;
  cpuSecondsPerRun: number;
  peakRssBytes: number;
  weightsFp32Bytes: number;
  rssOverWeights: number;
  flops: { gemm: number; conv: number; attention: number; total: number };
  gflops: number;
  limitGflops: number | null;
  fractionOfLimit: number | null;
  gflopsPerCpuSecond: number;
  fractionOfCoreLimit: number | null;
}

/** Runs a bench script in its own process; its last stdout line is its JSON result (null when it failed). */
function runScript(label: string, script: string[], env: NodeJS.ProcessEnv = process.env): unknown {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, script[0]!), ...script.slice(1)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
    env,
  });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !line.startsWith('{')) {
    process.stderr.write(`bench: ${label} failed (exit ${run.status})\n`);
    process.exitCode = 1;
    return null;
  }
  return JSON.parse(line);
}

// The machine's limits first, for every case that runs a model: a case's fraction is measured against them.
const MODEL_FAMILIES = new Set(['sd15', 'sdxl', 'upscaler']);
let limits: (MachineLimits & { family: 'machine'; part: 'limits' }) | null = null;
// The limits are the CPU's: on a GPU provider they say nothing about the cases, so they are not measured.
if (options.executionProvider === 'cpu' && cases.some((c) => MODEL_FAMILIES.has(c.split(':')[0]!))) {
  process.stderr.write('bench: machine:limits ...\n');
  limits = runScript('machine:limits', ['machine-limits.ts']) as typeof limits;
}
// The bench's own FOOOCUS_BENCH_* settings are read here; cases that run the CLI would refuse them as unknown
// FOOOCUS_* settings, so the cases do not inherit them.
const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FOOOCUS_BENCH_')));
const runtimeEnv = { ...inherited, ...benchRuntimeEnv(options) };
const caseEnv = limits === null ? runtimeEnv : { ...runtimeEnv, BENCH_MACHINE_LIMITS: JSON.stringify(limits) };

const results: CaseResult[] = [];
const images: ImageResult[] = [];
const loras: LoraResult[] = [];
const controls: ControlResult[] = [];
const servers: ServerResult[] = [];
const cancels: CancelResult[] = [];
const upscalers: UpscalerResult[] = [];
const metadataReads: MetadataResult[] = [];
const queues: QueueResult[] = [];
const memories: MemoryResult[] = [];
const arenas: ArenaResult[] = [];
const int8s: Int8Result[] = [];
const describes: DescribeResult[] = [];
const int8Convs: Int8ConvResult[] = [];
const imagePrompts: ImagePromptResult[] = [];
const stepRuns = process.env.FOOOCUS_BENCH_STEP_RUNS ?? '2';
const sams: SamResult[] = [];
const detections: DetectResult[] = [];
const enhances: EnhanceResult[] = [];
for (const c of cases) {
  const [family, part] = c.split(':') as [string, string];
  process.stderr.write(`bench: ${c} ...\n`);
  const [model, variant, arena, pattern] = part.split('-') as [string, string, string?, string?];
  const script =
    family === 'memory'
      ? ['memory-case.ts', model, 'image', cacheDir, part.slice(model.length + 1)]
      : family === 'arena'
        ? ['memory-case.ts', model, variant, cacheDir, 'resident', arena!, pattern!]
        : family === 'server'
      ? ['server-case.ts', cacheDir]
      : family === 'queue'
        ? ['queue-case.ts', cacheDir]
        : family === 'metadata'
          ? ['metadata-case.ts']
          : family === 'upscaler'
            ? ['upscale-case.ts', part, cacheDir]
            : family === 'describe'
              ? part === 'anime' ? ['describe-anime-case.ts', cacheDir] : ['describe-case.ts', part, cacheDir]
            : family === 'int8'
              ? part === 'conv' ? ['int8-conv-case.ts'] : ['int8-case.ts', part, cacheDir]
            : family === 'sam'
              ? ['sam-case.ts', part, cacheDir]
            : family === 'detect'
              ? ['detect-case.ts', part, cacheDir]
            : family === 'enhance'
              ? ['enhance-case.ts', part, cacheDir]
            : part === 'image'
              ? ['image-case.ts', family, cacheDir]
              : part === 'lora'
                ? ['lora-case.ts', family, cacheDir]
                : part === 'control'
                ? ['control-case.ts', family, cacheDir, process.env.FOOOCUS_BENCH_CONTROL_SIZE ?? 'default', stepRuns]
                : part === 'image-prompt'
                ? ['image-prompt-case.ts', cacheDir, stepRuns]
                : part === 'cancel'
                  ? ['cancel-case.ts', family, cacheDir]
                  : ['case.ts', family, part, cacheDir, ...(profile ? ['2', '--profile'] : [])];
  const result = runScript(c, script, caseEnv);
  if (result === null) continue;
  const parsed = result as CaseResult | ImageResult | LoraResult | ServerResult | CancelResult | MetadataResult | UpscalerResult | QueueResult;
  if ((parsed as { family: string }).family === 'detect') detections.push(parsed as unknown as DetectResult);
  else if ((parsed as { part: string }).part === 'memory') memories.push(parsed as unknown as MemoryResult);
  else if ((parsed as { part: string }).part === 'arena') arenas.push(parsed as unknown as ArenaResult);
  else if ((parsed as { part: string }).part === 'int8') int8s.push(parsed as unknown as Int8Result);
  else if ((parsed as { family: string }).family === 'describe') describes.push(parsed as unknown as DescribeResult);
  else if ((parsed as { family: string; part: string }).family === 'int8') int8Convs.push(parsed as unknown as Int8ConvResult);
  else if ((parsed as { family: string }).family === 'sam') sams.push(parsed as unknown as SamResult);
  else if ((parsed as { family: string }).family === 'enhance') enhances.push(parsed as unknown as EnhanceResult);
  else if (parsed.family === 'queue') queues.push(parsed as QueueResult);
  else if (parsed.family === 'metadata') metadataReads.push(parsed as MetadataResult);
  else if (parsed.family === 'upscaler') upscalers.push(parsed as UpscalerResult);
  else if (parsed.family === 'server') servers.push(parsed as ServerResult);
  else if (parsed.part === 'cancel') cancels.push(parsed as CancelResult);
  else if (parsed.part === 'image') images.push(parsed as ImageResult);
  else if (parsed.part === 'lora') loras.push(parsed as LoraResult);
  else if ((parsed as { part: string }).part === 'control') controls.push(parsed as unknown as ControlResult);
  else if ((parsed as { part: string }).part === 'image-prompt') imagePrompts.push(parsed as unknown as ImagePromptResult);
  else results.push(parsed as CaseResult);
}

if (json) {
  console.log(JSON.stringify([...(limits === null ? [] : [limits]), ...results, ...images, ...loras, ...servers, ...cancels, ...metadataReads, ...upscalers, ...queues, ...memories, ...arenas, ...int8s, ...int8Convs, ...sams, ...describes, ...controls, ...imagePrompts, ...detections, ...enhances], null, 2));
} else {
  if (limits !== null) console.log(formatLimits(limits));
  if (results.length > 0) {
    const gib = (b: number) => (b / 2 ** 30).toFixed(2);
    console.log('');
    console.log('| model | part | shape | session build s | first run s | s per run | CPU s per run | GFLOP (graph) | GFLOP/s | limit GFLOP/s | of limit | GFLOP per CPU s | of the one-core limit, per CPU s | peak RSS GiB | fp32 weights GiB | RSS / weights |');
    console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of results) {
      const limit = r.limitGflops === null ? '' : r.limitGflops.toFixed(1);
      const fraction = r.fractionOfLimit === null ? '' : `${(r.fractionOfLimit * 100).toFixed(0)} %`;
      const coreFraction = r.fractionOfCoreLimit === null ? '' : `${(r.fractionOfCoreLimit * 100).toFixed(0)} %`;
      console.log(
        `| ${r.family} | ${r.part} | ${r.shape} | ${r.buildSeconds.toFixed(1)} | ${r.firstRunSeconds.toFixed(2)} | ${r.secondsPerRun.toFixed(2)} | ${r.cpuSecondsPerRun.toFixed(2)} | ${(r.flops.total / 1e9).toFixed(0)} | ${r.gflops.toFixed(1)} | ${limit} | ${fraction} | ${r.gflopsPerCpuSecond.toFixed(1)} | ${coreFraction} | ${gib(r.peakRssBytes)} | ${gib(r.weightsFp32Bytes)} | ${r.rssOverWeights.toFixed(2)} |`,
      );
    }
  }
}
if (!json && images.length > 0) {
  const gib = (b: number) => (b / 2 ** 30).toFixed(2);
  console.log('');
  console.log('| model | image | load s | text s | sampling s | decode s | total s | inside ONNX Runtime s | pipeline overhead | peak RSS GiB |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of images) {
    console.log(
      `| ${r.family} | ${r.shape} | ${r.loadSeconds.toFixed(1)} | ${r.encodeSeconds.toFixed(2)} | ${r.sampleSeconds.toFixed(1)} | ${r.decodeSeconds.toFixed(1)} | ${r.totalSeconds.toFixed(1)} | ${r.modelSeconds.toFixed(1)} | ${r.overheadPercent.toFixed(2)}% | ${gib(r.peakRssBytes)} |`,
    );
  }
}
if (!json && loras.length > 0) {
  console.log('');
  console.log('| model | LoRAs | UNet step s, no LoRA | with 1 LoRA | with 2 LoRAs | step overhead | first LoRA (build with slots) s | switch to another s | switch to 2 LoRAs s | switch to none s | peak RSS GiB |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of loras) {
    console.log(
      `| ${r.family} | ${r.shape} | ${r.baseStepSeconds.toFixed(2)} | ${r.loraStepSeconds.toFixed(2)} | ${r.twoLoraStepSeconds.toFixed(2)} | ${r.stepOverheadPercent.toFixed(1)}% | ${r.firstApplySeconds.toFixed(1)} | ${r.switchSeconds.toFixed(2)} | ${r.switchTwoSeconds.toFixed(2)} | ${r.switchNoneSeconds.toFixed(2)} | ${(r.peakRssBytes / 2 ** 30).toFixed(2)} |`,
    );
  }
}
if (!json && controls.length > 0) {
  console.log('');
  console.log('| model | shape | hint encoder s, once per job | UNet step s, plain | ControlNet s | UNet with residuals s | step overhead (aim <= 60%) | peak RSS GiB |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of controls) {
    console.log(
      `| ${r.family} | ${r.shape} | ${r.hintEncoderSeconds.toFixed(2)} | ${r.plainStepSeconds.toFixed(2)} | ${r.controlNetStepSeconds.toFixed(2)} | ${r.controlledUnetStepSeconds.toFixed(2)} | ${r.stepOverheadPercent.toFixed(1)}% | ${(r.peakRssBytes / 2 ** 30).toFixed(2)} |`,
    );
  }
}
if (!json) printImagePromptResults(imagePrompts);
if (!json && servers.length > 0) {
  console.log('');
  console.log('| server (127.0.0.1, load from a second process) | requests | non-2xx | p50 ms | p99 ms | requests/s |');
  console.log('|---|---|---|---|---|---|');
  for (const r of servers) {
    for (const [name, f] of [['GET /api/v1/styles, 16 connections', r.read], ['POST /api/v1/generate, 8 connections', r.submit]] as const) {
      console.log(`| ${name} | ${f.completed} | ${f.failed} | ${f.p50Ms.toFixed(2)} | ${f.p99Ms.toFixed(2)} | ${f.requestsPerSecond.toFixed(0)} |`);
    }
    console.log('');
    console.log(`Queue overhead per job (demo model, idle queue, median of 10): submit to started ${r.queueStartedMs.toFixed(1)} ms, submit to first sampling step ${r.queueFirstStepMs.toFixed(1)} ms`);
  }
}
if (!json && cancels.length > 0) {
  console.log('');
  console.log('| model | image | cancels | p50 ms | p99 ms | max ms | UNet step s (what a cancel used to wait for) | next job: submit to first step s | CPU | SIMD flags |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of cancels) {
    console.log(
      `| ${r.family} | ${r.shape} | ${r.trials} | ${r.p50Ms.toFixed(0)} | ${r.p99Ms.toFixed(0)} | ${r.maxMs.toFixed(0)} | ${r.unetStepSeconds.toFixed(2)} | ${r.submitToFirstStepSeconds.toFixed(1)} | ${r.cpu.model} | ${r.cpu.flags.join(' ')} |`,
    );
  }
}
if (!json && upscalers.length > 0) {
  console.log('');
  console.log('| upscaler | shape | s | GFLOP/s | fp32 conv GFLOP/s (same run) | of conv | peak RSS GiB | CPU |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of upscalers) {
    const cpu = r.cpu === undefined ? '' : `${r.cpu.model}, ${r.cpu.cores} cores${r.cpu.avx512 ? ', AVX-512' : r.cpu.avx2 ? ', AVX2' : ''}`;
    const figure = (v: number | undefined, digits: number) => (v === undefined ? '' : v.toFixed(digits));
    console.log(`| ${r.part} | ${r.shape} | ${r.seconds.toFixed(1)} | ${figure(r.gflops, 1)} | ${figure(r.convGflops, 1)} | ${r.percentOfConv === undefined ? '' : `${r.percentOfConv.toFixed(0)} %`} | ${(r.peakRssBytes / 2 ** 30).toFixed(2)} | ${cpu} |`);
  }
  for (const r of upscalers.filter((u) => u.phases !== undefined)) console.log(`\n${r.part} phases: ${formatUpscalePhases(r.phases!)}`);
}
if (!json && describes.length > 0) {
  console.log('');
  console.log('| describe | shape | load s | s | s re-running the decoder per token | cache speed-up | peak RSS GiB | CPU |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of describes) {
    const cpu = `${r.cpu.model}, ${r.cpu.cores} cores${r.cpu.avx512 ? ', AVX-512' : r.cpu.avx2 ? ', AVX2' : ''}`;
    console.log(`| ${r.part} | ${r.shape} | ${r.loadSeconds.toFixed(1)} | ${r.seconds.toFixed(r.part === 'anime' ? 3 : 1)} | ${r.recomputeSeconds?.toFixed(1) ?? ''} | ${r.cacheSpeedup === undefined ? '' : `${r.cacheSpeedup.toFixed(2)}x`} | ${(r.peakRssBytes / 2 ** 30).toFixed(2)} | ${cpu} |`);
  }
  for (const r of describes.filter((d) => d.flops !== undefined)) {
    console.log(`\n${r.part} network: ${(r.flops! / 1e9).toFixed(1)} GFLOP per describe (counted from the graph), ${r.gflopsPerSecond!.toFixed(1)} GFLOP/s over the describe less its input preparation (${r.prepareSeconds!.toFixed(3)} s); CPU flags: ${r.cpu.flags?.join(' ') ?? ''}`);
  }
}
if (!json && enhances.length > 0) {
  console.log('');
  console.log('| Enhance | shape | regions | s | s before sampling | peak RSS GiB | CPU | SIMD flags |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of enhances) {
    console.log(`| ${r.part} | ${r.shape} | ${r.regions} | ${r.totalSeconds.toFixed(1)} | ${r.beforeSamplingSeconds?.toFixed(1) ?? ''} | ${(r.peakRssBytes / 2 ** 30).toFixed(2)} | ${r.cpu.model} | ${r.cpu.flags.join(' ')} |`);
  }
}
if (!json && sams.length > 0) {
  console.log('');
  console.log('| Segment Anything | load s | image encoder s | s per box | encoder + boxes s | peak RSS GiB | CPU | SIMD flags |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of sams) {
    console.log(`| ${r.shape} | ${r.loadSeconds.toFixed(1)} | ${r.encoderSeconds.toFixed(2)} | ${r.perBoxSeconds.toFixed(3)} | ${r.totalSeconds.toFixed(2)} | ${(r.peakRssBytes / 2 ** 30).toFixed(2)} | ${r.cpu.model} | ${r.cpu.flags.join(' ')} |`);
  }
}
if (!json && metadataReads.length > 0) {
  console.log('');
  console.log('| metadata read (readImageMetadataReport) | file MB | median ms | p90 ms |');
  console.log('|---|---|---|---|');
  for (const r of metadataReads) {
    const mb = (r.fileBytes / 1e6).toFixed(1);
    console.log(`| PNG with a ${(r.parametersBytes / 1024).toFixed(0)} KiB parameters chunk | ${mb} | ${r.withText.medianMs.toFixed(1)} | ${r.withText.p90Ms.toFixed(1)} |`);
    console.log(`| the same pixels without text (stealth probe) | ${mb} | ${r.withoutText.medianMs.toFixed(1)} | ${r.withoutText.p90Ms.toFixed(1)} |`);
  }
}
if (!json && queues.length > 0) {
  console.log('');
  const large = queues[0]?.largeJob;
  const largeLabel = large === undefined ? 'large' : `${large.width}x${large.height}, ${large.steps} steps`;
  console.log(`| queue (demo model, 1 thread per worker) | submit to first step ms (64x64, 2 steps) | last step to history ms | jobs/s 64x64 | jobs/s ${largeLabel} |`);
  console.log('|---|---|---|---|---|');
  for (const r of queues) {
    for (const [name, f] of [['local (SQLite, in-process worker)', r.local], ['Redis, 1 worker process', r.redisOne], ['Redis, 2 worker processes', r.redisTwo]] as const) {
      console.log(`| ${name} | ${f.toFirstStepMs.toFixed(1)} | ${f.toHistoryMs.toFixed(1)} | ${f.jobsPerSecond.toFixed(2)} | ${f.largeJobsPerSecond.toFixed(2)} |`);
    }
    console.log('');
    console.log(`Redis adds ${r.addedLatencyMs.toFixed(1)} ms per job (medians of single jobs); 2 workers run ${r.twoWorkerSpeedup.toFixed(2)}x the jobs/s of 1 on ${largeLabel} jobs and ${r.twoWorkerSpeedupSmall.toFixed(2)}x on 64x64 ones (batches of ${r.batch}).`);
  }
}
if (!json && memories.length > 0) {
  const gib = (b: number) => (b / 2 ** 30).toFixed(2);
  console.log('');
  console.log('| model | image | runtime.memory | total s | s per step | session builds s | peak RSS GiB | fp32 weights resident at once GiB | peak / resident |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of memories) {
    console.log(`| ${r.family} | ${r.shape} | ${r.mode} | ${r.totalSeconds.toFixed(1)} | ${r.sampleSecondsPerStep.toFixed(2)} | ${r.buildSeconds.toFixed(1)} | ${gib(r.peakRssBytes)} | ${gib(r.residentFp32Bytes)} | ${r.rssOverResident.toFixed(2)} |`);
  }
}
if (!json && arenas.length > 0) {
  const gib = (b: number) => (b / 2 ** 30).toFixed(2);
  console.log('');
  console.log('| model | part | CPU arena | memory pattern | session build s | first run s | s per run | peak RSS GiB | RSS / fp32 weights |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of arenas) {
    console.log(`| ${r.family} | ${r.shape} | ${r.arena ? 'on' : 'off'} | ${r.pattern ? 'on' : 'off'} | ${r.buildSeconds.toFixed(1)} | ${r.firstRunSeconds.toFixed(2)} | ${r.secondsPerRun.toFixed(2)} | ${gib(r.peakRssBytes)} | ${r.rssOverWeights.toFixed(2)} |`);
  }
}
if (!json && int8s.length > 0) printInt8Results(int8s);
if (!json && int8Convs.length > 0) printInt8ConvResults(int8Convs);
if (!json && detections.length > 0) {
  console.log('\n| detector | shape | load s | first detection s (graph + session) | next detection s | peak RSS GiB | CPU |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of detections) {
    const flags = [r.cpu.avx2 ? 'avx2' : '', r.cpu.avx512 ? 'avx512' : ''].filter((f) => f !== '').join(' ');
    console.log(`| ${r.part} | ${r.shape} | ${r.loadSeconds.toFixed(2)} | ${r.firstSeconds.toFixed(1)} | ${r.secondSeconds.toFixed(1)} | ${(r.peakRssBytes / 2 ** 30).toFixed(2)} | ${r.cpu.model}, ${r.cpu.cores} cores, ${flags} |`);
  }
}
