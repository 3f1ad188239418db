/**
 * Every benchmark case: its name, what it measures, the script that runs it in its own process (so its peak RSS is
 * its own) and the printer of its table. A new case is one row here, plus its script and, when none of the
 * tables fits its result, a printer module (`*-report.ts`).
 *
 * The rows run in this order, and the tables print in the order their printers first appear, so cases that share
 * a printer sit together: one table each, its rows in run order.
 */
import { printCancelResults } from './cancel-report.ts';
import { printControlResults } from './control-report.ts';
import { printDescribeResults } from './describe-report.ts';
import { printDetectResults } from './detect-report.ts';
import { printEnhanceResults } from './enhance-report.ts';
import { printImagePromptResults } from './image-prompt-report.ts';
import { printImageResults } from './image-report.ts';
import { printInt8ConvResults, printInt8Results } from './int8-report.ts';
import { printLoraResults } from './lora-report.ts';
import { printArenaResults, printMemoryResults, printSessionMemoryResults } from './memory-report.ts';
import { printMetadataResults } from './metadata-report.ts';
import { printModelPartResults } from './model-part-report.ts';
import { printQueueResults } from './queue-report.ts';
import { printSamResults } from './sam-report.ts';
import { printServerResults } from './server-report.ts';
import { printUpscalerResults } from './upscale-report.ts';

/** What the runner gives each case's script: the bench's options and settings. */
export interface CaseRun {
  /** Where the generated full-size checkpoints and other inputs are kept between runs. */
  cacheDir: string;
  /** `--profile`: the model part cases add ONNX Runtime's profile. */
  profile: boolean;
  /** FOOOCUS_BENCH_STEP_RUNS: timed runs per variant of the control and image prompt cases. */
  stepRuns: string;
  /** FOOOCUS_BENCH_CONTROL_SIZE: the control case's image side, or `default` for its family's. */
  controlSize: string;
}

/**
 * Prints the table of a printer's results (each the JSON line of one of its cases' scripts). Typed loosely so one
 * table holds printers of different result types: each case's script writes the shape its printer reads.
 */
export type PrintResults = (results: never[]) => void;

export interface BenchCase {
  /** `family:part`; `npm run bench -- <name>` runs it, `npm run bench -- <family>` every case of the family. */
  name: string;
  /** What it measures, for `npm run bench -- --list`. */
  about: string;
  /** The script in bench/ and its arguments. */
  script: (run: CaseRun) => string[];
  print: PrintResults;
}

/** One component of a full-size random-weight checkpoint, timed and measured against the machine's limits. */
function modelPart(name: string, about: string): BenchCase {
  const [family, part] = name.split(':') as [string, string];
  return { name, about, script: ({ cacheDir, profile }) => ['case.ts', family, part, cacheDir, ...(profile ? ['2', '--profile'] : [])], print: printModelPartResults };
}

/** The ONNX Runtime settings session-memory-case.ts compares (its variant names). */
const SESSION_MEMORY_VARIANTS = [
  'default',
  'pattern-on',
  'pattern-off',
  'device-allocator-initializers',
  'device-allocator-pattern-off',
  'arena-off',
  'prepacking',
  'no-prepacking',
  'no-prepacking-device-allocator',
  'no-constant-folding',
] as const;

/** SD 1.5's UNet or VAE with one ONNX Runtime arena setting: `arena:sd15-<unet|vae>-<arena on|off>-<pattern on|off>`. */
function arenaCase(component: 'unet' | 'vae', arena: 'on' | 'off', pattern: 'on' | 'off'): BenchCase {
  return {
    name: `arena:sd15-${component}-${arena}-${pattern}`,
    about: `SD 1.5 ${component === 'unet' ? 'UNet' : 'VAE'}, ONNX Runtime CPU arena ${arena}, memory pattern ${pattern}: s per run, peak RSS`,
    script: ({ cacheDir }) => ['memory-case.ts', 'sd15', component, cacheDir, 'resident', arena, pattern],
    print: printArenaResults,
  };
}

export const BENCH_CASES: readonly BenchCase[] = [
  modelPart('sd15:text', 'SD 1.5 text encoder: s per run, GFLOP/s against the machine limits, peak RSS'),
  modelPart('sd15:unet', 'SD 1.5 UNet at 512x512, batch 2: s per run, GFLOP/s against the machine limits, peak RSS'),
  modelPart('sd15:vae', 'SD 1.5 VAE decoder at 512x512: s per run, GFLOP/s, peak RSS'),
  modelPart('sdxl:text', 'SDXL text encoders: s per run, GFLOP/s against the machine limits, peak RSS'),
  modelPart('sdxl:unet', 'SDXL UNet at 1024x1024, batch 2: s per run, GFLOP/s against the machine limits, peak RSS'),
  modelPart('sdxl:vae', 'SDXL VAE decoder at 1024x1024: s per run, GFLOP/s, peak RSS'),
  { name: 'sd15:image', about: 'SD 1.5 512x512 text-to-image, 20 steps: s per phase, pipeline overhead, peak RSS', script: ({ cacheDir }) => ['image-case.ts', 'sd15', cacheDir], print: printImageResults },
  { name: 'sdxl:image', about: 'SDXL 1024x1024 text-to-image (4 steps on CPU, 30 on a GPU provider): s per phase, peak RSS', script: ({ cacheDir }) => ['image-case.ts', 'sdxl', cacheDir], print: printImageResults },
  { name: 'sd15:lora', about: 'SD 1.5 LoRA: per-step overhead, first application, switch times, peak RSS', script: ({ cacheDir }) => ['lora-case.ts', 'sd15', cacheDir], print: printLoraResults },
  { name: 'sdxl:lora', about: 'SDXL LoRA: per-step overhead, first application, switch times, peak RSS', script: ({ cacheDir }) => ['lora-case.ts', 'sdxl', cacheDir], print: printLoraResults },
  {
    name: 'sd15:control',
    about: 'SD 1.5 ControlNet (control-LoRA) per-step overhead; FOOOCUS_BENCH_CONTROL_SIZE=256 for a smaller image',
    script: ({ cacheDir, controlSize, stepRuns }) => ['control-case.ts', 'sd15', cacheDir, controlSize, stepRuns],
    print: printControlResults,
  },
  {
    name: 'sdxl:control',
    about: 'SDXL ControlNet (control-LoRA) per-step overhead; FOOOCUS_BENCH_CONTROL_SIZE=256 for a smaller image',
    script: ({ cacheDir, controlSize, stepRuns }) => ['control-case.ts', 'sdxl', cacheDir, controlSize, stepRuns],
    print: printControlResults,
  },
  {
    name: 'sdxl:image-prompt',
    about: 'IP-Adapter Plus on SDXL 1024: encode per image prompt, step overhead of 1 and 4 prompts (FOOOCUS_BENCH_STEP_RUNS=1: one timed step per variant)',
    script: ({ cacheDir, stepRuns }) => ['image-prompt-case.ts', cacheDir, stepRuns],
    print: printImagePromptResults,
  },
  { name: 'server:api', about: 'HTTP API latency and throughput under load, queue overhead per job', script: ({ cacheDir }) => ['server-case.ts', cacheDir], print: printServerResults },
  { name: 'sd15:cancel', about: 'cancel latency of a running SD 1.5 512x512 job', script: ({ cacheDir }) => ['cancel-case.ts', 'sd15', cacheDir], print: printCancelResults },
  { name: 'sdxl:cancel', about: 'cancel latency of a running SDXL 1024x1024 job', script: ({ cacheDir }) => ['cancel-case.ts', 'sdxl', cacheDir], print: printCancelResults },
  { name: 'upscaler:rrdb', about: 'RRDBNet x4 on 512x512: s, GFLOP/s beside a conv microbenchmark', script: ({ cacheDir }) => ['upscale-case.ts', 'rrdb', cacheDir], print: printUpscalerResults },
  { name: 'upscaler:image', about: 'Upscale (2x) of 1024x1024 end to end with full-size SDXL (hours on 2 cores): s per phase', script: ({ cacheDir }) => ['upscale-case.ts', 'image', cacheDir], print: printUpscalerResults },
  {
    name: 'upscaler:image-small',
    about: 'the Upscale (2x) path on a 256x256 input and the tiny SDXL fixture (minutes, not hours)',
    script: ({ cacheDir }) => ['upscale-case.ts', 'image-small', cacheDir],
    print: printUpscalerResults,
  },
  { name: 'describe:photo', about: 'BLIP-base captioner (random weights) on a 1024x1024 image, with and without its cache', script: ({ cacheDir }) => ['describe-case.ts', 'photo', cacheDir], print: printDescribeResults },
  {
    name: 'describe:anime',
    about: 'the WD14 tagger on a 1024x1024 image (full-size MOAT, random weights, 9,083 tags): s, GFLOP/s, peak RSS',
    script: ({ cacheDir }) => ['describe-anime-case.ts', cacheDir],
    print: printDescribeResults,
  },
  {
    name: 'enhance:tab',
    about: 'one Enhance tab on a 1024x1024 input: SD 1.5 full-size inpaint at 512, 20 steps: s, peak RSS',
    script: ({ cacheDir }) => ['enhance-case.ts', 'tab', cacheDir],
    print: printEnhanceResults,
  },
  {
    name: 'enhance:tab-detect',
    about: 'the same with a "face" tab found by GroundingDINO + SAM (full-size random weights): s per phase, regions, peak RSS',
    script: ({ cacheDir }) => ['enhance-case.ts', 'tab-detect', cacheDir],
    print: printEnhanceResults,
  },
  { name: 'sam:segment', about: 'Segment Anything ViT-B: 1024x1024 image, 3 boxes: encoder s, s per box, peak RSS', script: ({ cacheDir }) => ['sam-case.ts', 'segment', cacheDir], print: printSamResults },
  { name: 'metadata:read', about: 'metadata read time of a 20 MB PNG with a 64 KiB parameters chunk', script: () => ['metadata-case.ts'], print: printMetadataResults },
  { name: 'queue:backends', about: 'local vs Redis queue: added latency per job, jobs/s with 1 and 2 workers', script: ({ cacheDir }) => ['queue-case.ts', cacheDir], print: printQueueResults },
  {
    name: 'memory:sd15-resident',
    about: 'SD 1.5 text-to-image with runtime.memory resident: s, peak RSS against the fp32 weights',
    script: ({ cacheDir }) => ['memory-case.ts', 'sd15', 'image', cacheDir, 'resident'],
    print: printMemoryResults,
  },
  {
    name: 'memory:sd15-per-phase',
    about: 'SD 1.5 text-to-image with runtime.memory per-phase: s, peak RSS against the largest phase',
    script: ({ cacheDir }) => ['memory-case.ts', 'sd15', 'image', cacheDir, 'per-phase'],
    print: printMemoryResults,
  },
  ...(['unet', 'vae'] as const).flatMap((component) => [arenaCase(component, 'on', 'on'), arenaCase(component, 'on', 'off'), arenaCase(component, 'off', 'off')]),
  ...SESSION_MEMORY_VARIANTS.map(
    (variant): BenchCase => ({
      name: `memory:sd15-unet-${variant}`,
      about: `SD 1.5 UNet build and two runs with ONNX Runtime settings "${variant}": peak RSS per phase, s, output hash`,
      script: ({ cacheDir }) => ['session-memory-case.ts', 'sd15', cacheDir, variant],
      print: printSessionMemoryResults,
    }),
  ),
  { name: 'int8:sd15', about: 'int8 vs fp32 UNet on SD 1.5 512: speed-up, error, PSNR, cache', script: ({ cacheDir }) => ['int8-case.ts', 'sd15', cacheDir], print: printInt8Results },
  { name: 'int8:tiny', about: 'int8 vs fp32 UNet on the tiny fixture: speed-up, error, PSNR, cache', script: ({ cacheDir }) => ['int8-case.ts', 'tiny', cacheDir], print: printInt8Results },
  { name: 'int8:conv', about: 'int8 3x3 conv kernels (im2col + MatMulInteger vs QLinearConv) at SD 1.5 shapes', script: () => ['int8-conv-case.ts'], print: printInt8ConvResults },
  {
    name: 'detect:grounding-dino',
    about: 'GroundingDINO (full-size random weights) on a 1024x1024 image: seconds, peak RSS',
    script: ({ cacheDir }) => ['detect-case.ts', 'grounding-dino', cacheDir],
    print: printDetectResults,
  },
];
