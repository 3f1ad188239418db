/**
 * `npm run bench`: engine benchmarks on full-size random-weight checkpoints (generated once into
 * .cache/bench; speed does not depend on the weight values). Each case runs in its own process so its peak
 * RSS is its own. Prints a table; `--json` prints the raw results.
 *
 *   npm run bench                        # all cases
 *   npm run bench -- sd15                # only SD1.5 cases
 *   npm run bench -- sd15:unet sdxl:vae  # chosen cases
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const ALL = ['sd15:text', 'sd15:unet', 'sd15:vae', 'sdxl:text', 'sdxl:unet', 'sdxl:vae'];
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const json = process.argv.includes('--json');
const cases = args.length === 0 ? ALL : ALL.filter((c) => args.some((a) => c === a || c.startsWith(`${a}:`)));
const cacheDir = path.resolve(process.env.FOOOCUS_BENCH_CACHE ?? '.cache/bench');
mkdirSync(cacheDir, { recursive: true });

interface CaseResult {
  family: string;
  part: string;
  shape: string;
  buildSeconds: number;
  firstRunSeconds: number;
  secondsPerRun: number;
  peakRssBytes: number;
  weightsFp32Bytes: number;
  rssOverWeights: number;
}

const results: CaseResult[] = [];
for (const c of cases) {
  const [family, part] = c.split(':') as [string, string];
  process.stderr.write(`bench: ${c} ...\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'case.ts'), family, part, cacheDir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !line.startsWith('{')) {
    process.stderr.write(`bench: ${c} failed (exit ${run.status})\n`);
    process.exitCode = 1;
    continue;
  }
  results.push(JSON.parse(line) as CaseResult);
}

if (json) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const gib = (b: number) => (b / 2 ** 30).toFixed(2);
  console.log('| model | part | shape | session build s | first run s | s per run | peak RSS GiB | fp32 weights GiB | RSS / weights |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.family} | ${r.part} | ${r.shape} | ${r.buildSeconds.toFixed(1)} | ${r.firstRunSeconds.toFixed(2)} | ${r.secondsPerRun.toFixed(2)} | ${gib(r.peakRssBytes)} | ${gib(r.weightsFp32Bytes)} | ${r.rssOverWeights.toFixed(2)} |`,
    );
  }
}
