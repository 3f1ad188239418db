/**
 * Describe benchmarks in their own process (so the peak RSS is the describer's). Prints one JSON line.
 *
 *   photo: the BLIP captioner at BLIP-base's full size (ViT-B/16 at 384, 12 layers of 768; BERT-base decoder, 12
 *          layers, 30,524 token ids), random weights, on a 1024x1024 image: load seconds, then one greedy caption
 *          run to the 75-token limit (random weights rarely end early) with the key/value cache, then the same
 *          caption re-running the decoder over the whole sequence per token, for the ratio between the two.
 *
 * The random model and its synthetic bert-base-uncased-layout vocabulary are written once to the cache folder,
 * one tensor at a time, so generating them adds nothing to this process's peak memory beyond one tensor.
 * `layers` (default 12, BLIP-base's) sets the depth of both towers, for a quick look at the same code path.
 * Usage: node --import tsx bench/describe-case.ts photo <cacheDir> [layers]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BlipCaptioner } from '../src/engine/describe/blip-captioner.ts';
import { detectCpuFeatures } from '../src/engine/index.ts';
import { writeFileStreamAtomic } from '../src/engine/io/atomic-write.ts';
import { encodeSafetensorsHeader } from '../src/engine/io/safetensors-writer.ts';
import { createUniformRandom, deriveSeed } from '../src/engine/random/seeded-normal.ts';
import type { RgbImage } from '../src/engine/rgb-image.ts';
import { listBlipTensors, type BlipSizes } from '../test/fixtures/blip-models.ts';

const [part, cacheDir, layersArg] = process.argv.slice(2) as ['photo', string, string?];
if (part !== 'photo') throw new Error(`unknown describe case "${part}"`);
const layers = Number(layersArg ?? 12);

const BLIP_BASE: BlipSizes = {
  vision: { width: 768, layers, patch: 16, imageSize: 384, mlpWidth: 3072 },
  text: { width: 768, layers, intermediate: 3072, maxPositions: 512 },
  vocabRows: 30524,
};

/** Weights at the scale trained ones have (uniform, variance 1/fan-in), so activations stay finite. */
async function ensureRandomBlip(file: string): Promise<void> {
  if (existsSync(file)) return;
  const specs = listBlipTensors(BLIP_BASE);
  await writeFileStreamAtomic(file, async (write) => {
    await write(encodeSafetensorsHeader(specs.map(([name, shape]) => ({ name, dtype: 'F32', shape }))));
    for (const [name, shape, init] of specs) {
      const uniform = createUniformRandom(deriveSeed(5, name));
      const fanIn = shape.length > 1 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      const spread = init === 'weight' ? Math.sqrt(3 / fanIn) : 0.1;
      for (let i = 0; i < data.length; i++) data[i] = (init === 'norm' ? 1 : 0) + spread * (2 * uniform() - 1);
      await write(new Uint8Array(data.buffer));
    }
  });
}

/** bert-base-uncased's layout: [PAD], [unused0..98], [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103, then words. */
function ensureVocabulary(file: string): void {
  if (existsSync(file)) return;
  const entries = ['[PAD]', ...Array.from({ length: 99 }, (_, i) => `[unused${i}]`), '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'picture', 'of'];
  while (entries.length < 30522) entries.push(`word${entries.length}`);
  writeFileSync(file, `${entries.join('\n')}\n`);
}

function testPicture(size: number): RgbImage {
  const rgb = new Uint8Array(size * size * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 2654435761) >>> 24;
  return { width: size, height: size, rgb };
}

mkdirSync(cacheDir, { recursive: true });
const stem = layers === 12 ? 'blip-base-random' : `blip-base-random-${layers}-layers`;
const files = { model: path.join(cacheDir, `${stem}.safetensors`), vocabulary: path.join(cacheDir, 'blip-base-random-vocab.txt') };
await ensureRandomBlip(files.model);
ensureVocabulary(files.vocabulary);

let started = performance.now();
const captioner = await BlipCaptioner.load(files);
const loadSeconds = (performance.now() - started) / 1000;
const image = testPicture(1024);
let tokens = 0;
const count = (p: { phase: string; step: number }): void => {
  if (p.phase === 'decode') tokens = p.step;
};
started = performance.now();
const caption = await captioner.caption(image, { onProgress: count });
const seconds = (performance.now() - started) / 1000;
const cachedTokens = tokens;
started = performance.now();
const recomputed = await captioner.caption(image, { recompute: true, onProgress: count });
const recomputeSeconds = (performance.now() - started) / 1000;
await captioner.release();
if (recomputed !== caption) throw new Error('the caption with and without the key/value cache differ');
const cpu = await detectCpuFeatures();
console.log(
  JSON.stringify({
    family: 'describe',
    part: 'photo',
    shape: `BLIP-base${layers === 12 ? '' : ` cut to ${layers} layers per tower`} (random weights), 1024x1024 -> 384x384, greedy, ${cachedTokens} decoder steps`,
    loadSeconds,
    seconds,
    recomputeSeconds,
    cacheSpeedup: recomputeSeconds / seconds,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    cpu: { model: cpu.model, cores: cpu.cores, avx2: cpu.avx2, avx512: cpu.avx512, avx512Bf16: cpu.avx512Bf16, amx: cpu.amx },
  }),
);
