/**
 * `npm run bench`: engine benchmarks on full-size random-weight checkpoints (generated once into
 * .cache/bench; speed does not depend on the weight values). Each case runs in its own process so its peak
 * RSS is its own; the cases, their scripts and their tables are listed in bench-cases.ts. Before the model cases it
 * measures this machine's limits (fp32 GEMM and 3x3-conv, int8 GEMM and conv throughput through ONNX Runtime, with
 * the CPU flags: machine-limits.ts); each model case prints the FLOPs counted from its graph, the GFLOP/s reached
 * and the fraction of the limits. Prints tables; `--json` prints the raw results (the limits first, as family
 * "machine").
 *
 *   npm run bench -- --list              # every case with what it measures
 *   npm run bench -- --profile sd15:unet # ONNX Runtime's profile of a case: time per operator type, slowest nodes
 *   npm run bench                        # all cases
 *   npm run bench -- sd15                # only SD1.5 cases
 *   npm run bench -- sd15:unet sdxl:vae  # chosen cases
 *   npm run bench -- --ep cuda --precision fp16 sdxl:image  # on a GPU provider (cuda, dml, coreml): SDXL 1024, 30 steps
 *                                        # (--ep and --precision reach the sd15/sdxl unet, vae, text and image cases)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { BENCH_CASES, type BenchCase, type CaseRun, type PrintResults } from './bench-cases.ts';
import { formatLimits, type MachineLimits } from './machine-limits.ts';
import { benchRuntimeEnv, parseBenchOptions } from './bench-options.ts';

const options = parseBenchOptions(process.argv.slice(2));
const args = options.cases;
const json = process.argv.includes('--json');
const profile = process.argv.includes('--profile');
if (process.argv.includes('--list')) {
  const width = Math.max(...BENCH_CASES.map((c) => c.name.length));
  for (const c of BENCH_CASES) console.log(`${c.name.padEnd(width)}  ${c.about}`);
  process.exit(0);
}
const cases = args.length === 0 ? BENCH_CASES : BENCH_CASES.filter((c) => args.some((a) => c.name === a || c.name.startsWith(`${a}:`)));
const cacheDir = path.resolve(process.env.FOOOCUS_BENCH_CACHE ?? '.cache/bench');
mkdirSync(cacheDir, { recursive: true });

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
const MODEL_FAMILIES = new Set(['sd15', 'sdxl', 'upscaler', 'int8']);
let limits: (MachineLimits & { family: 'machine'; part: 'limits' }) | null = null;
// The limits are the CPU's: on a GPU provider they say nothing about the cases, so they are not measured.
if (options.executionProvider === 'cpu' && cases.some((c) => MODEL_FAMILIES.has(c.name.split(':')[0]!))) {
  process.stderr.write('bench: machine:limits ...\n');
  limits = runScript('machine:limits', ['machine-limits.ts']) as typeof limits;
}
// The bench's own FOOOCUS_BENCH_* settings are read here; cases that run the CLI would refuse them as unknown
// FOOOCUS_* settings, so the cases do not inherit them.
const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FOOOCUS_BENCH_')));
const runtimeEnv = { ...inherited, ...benchRuntimeEnv(options) };
const caseEnv = limits === null ? runtimeEnv : { ...runtimeEnv, BENCH_MACHINE_LIMITS: JSON.stringify(limits) };

const caseRun: CaseRun = {
  cacheDir,
  profile,
  stepRuns: process.env.FOOOCUS_BENCH_STEP_RUNS ?? '2',
  controlSize: process.env.FOOOCUS_BENCH_CONTROL_SIZE ?? 'default',
};
const results: { benchCase: BenchCase; result: unknown }[] = [];
for (const c of cases) {
  process.stderr.write(`bench: ${c.name} ...\n`);
  const result = runScript(c.name, c.script(caseRun), caseEnv);
  if (result !== null) results.push({ benchCase: c, result });
}

if (json) {
  console.log(JSON.stringify([...(limits === null ? [] : [limits]), ...results.map((r) => r.result)], null, 2));
} else {
  if (limits !== null) console.log(formatLimits(limits));
  // One table per printer, in the order the printers first ran (bench-cases.ts keeps a printer's cases together).
  const tables = new Map<PrintResults, unknown[]>();
  for (const { benchCase, result } of results) tables.set(benchCase.print, [...(tables.get(benchCase.print) ?? []), result]);
  for (const [print, rows] of tables) print(rows as never[]);
}
