/**
 * The Art/Anime describer (WD14 tagger) in its own process, so the peak RSS is its own. Prints one JSON line.
 *
 * The network is a full-size stand-in for wd-v1-4-moat-tagger-v2 (test/fixtures/moat-tagger.ts: the published
 * architecture and sizes, random weights; speed does not depend on the values). A child process writes it once into
 * the cache as a self-contained .onnx, beside a 9,083-row tag list in the published CSV format and the FLOPs counted
 * from its graph, so generating it counts neither in the times nor in this process's peak RSS. It is then loaded
 * through the real loader (file checks, tag list, interface checks, session) and timed on a 1024x1024 image: the
 * whole describe (Lanczos to 448, BGR on white, the network, the tag selection), and the input preparation alone,
 * so the network's own rate is the counted FLOPs over the difference.
 *
 * Usage: node --import tsx bench/describe-anime-case.ts <cacheDir>
 *        node --import tsx bench/describe-anime-case.ts --write <cacheDir>   (the child that writes the files)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { detectCpuFeatures, loadWd14Tagger, prepareWd14Input, WD14_INPUT_SIZE, type RgbImage } from '../src/engine/index.ts';
import { writeFileAtomic } from '../src/engine/io/atomic-write.ts';
import { countGraphFlops } from '../src/engine/onnx/flop-count.ts';
import { MOAT_TAGGER_V2, writeMoatTagger } from '../test/fixtures/moat-tagger.ts';
import { describeCpu } from './cpu-description.ts';

/** Bumped when the generator changes what it writes, so an older cached file is rewritten. */
const GENERATOR_VERSION = 2;
const SIDE = 1024;
const REPEATS = 3;

interface NetworkFacts {
  generator: number;
  parameters: number;
  flops: number;
  fileBytes: number;
}

const args = process.argv.slice(2);
const writing = args[0] === '--write';
const cacheDir = writing ? args[1]! : args[0]!;
const stem = path.join(cacheDir, 'wd-v1-4-moat-tagger-v2-random');
const files = { model: `${stem}.onnx`, tags: `${stem}.csv` };
const factsFile = `${stem}.json`;

function readFacts(): NetworkFacts | null {
  if (!existsSync(files.model) || !existsSync(files.tags) || !existsSync(factsFile)) return null;
  const facts = JSON.parse(readFileSync(factsFile, 'utf8')) as NetworkFacts;
  return facts.generator === GENERATOR_VERSION ? facts : null;
}

/** The cached network, written first by a child process when absent or from an older generator. */
function ensureNetwork(): NetworkFacts {
  const cached = readFacts();
  if (cached !== null) return cached;
  const run = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--write', cacheDir], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) throw new Error(`writing ${files.model} failed (exit ${run.status})`);
  const written = readFacts();
  if (written === null) throw new Error(`${factsFile} is missing after writing the network`);
  return written;
}

/** A 1024x1024 picture with smooth gradients (the tagger's path does not depend on its content). */
function testImage(side: number): RgbImage {
  const rgb = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) rgb.set([(x >> 2) & 255, (y >> 2) & 255, ((x + y) >> 3) & 255], (y * side + x) * 3);
  return { width: side, height: side, rgb };
}

if (writing) {
  mkdirSync(cacheDir, { recursive: true });
  process.stderr.write(`bench: writing the full-size MOAT tagger into ${cacheDir} ...\n`);
  const { model, parameters } = await writeMoatTagger(files, MOAT_TAGGER_V2);
  const flops = countGraphFlops(model, { [model.graph.inputs[0]!.name]: [1, WD14_INPUT_SIZE, WD14_INPUT_SIZE, 3] }).total;
  const facts: NetworkFacts = { generator: GENERATOR_VERSION, parameters, flops, fileBytes: statSync(files.model).size };
  await writeFileAtomic(factsFile, `${JSON.stringify(facts)}\n`);
} else {
  const facts = ensureNetwork();
  const image = testImage(SIDE);

  let t = performance.now();
  const tagger = await loadWd14Tagger(files);
  const loadSeconds = (performance.now() - t) / 1000;
  await tagger.describe(image); // the first run also sizes ONNX Runtime's buffers
  t = performance.now();
  let kept = 0;
  for (let i = 0; i < REPEATS; i++) kept = (await tagger.describe(image)).tags!.length;
  const seconds = (performance.now() - t) / 1000 / REPEATS;
  await tagger.release();
  t = performance.now();
  for (let i = 0; i < REPEATS; i++) prepareWd14Input(image, WD14_INPUT_SIZE);
  const prepareSeconds = (performance.now() - t) / 1000 / REPEATS;

  const cpu = await detectCpuFeatures();
  console.log(
    JSON.stringify({
      family: 'describe',
      part: 'anime',
      shape: `${SIDE}x${SIDE} -> 448x448, MOAT full size (${(facts.parameters / 1e6).toFixed(1)}M parameters, random, ${(facts.fileBytes / 1e6).toFixed(0)} MB .onnx), ${MOAT_TAGGER_V2.tags} tags, ${kept} kept`,
      loadSeconds,
      seconds,
      prepareSeconds,
      flops: facts.flops,
      gflopsPerSecond: facts.flops / (seconds - prepareSeconds) / 1e9,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      cpu: { model: cpu.model, cores: cpu.cores, avx2: cpu.avx2, avx512: cpu.avx512, flags: describeCpu().flags },
    }),
  );
}
