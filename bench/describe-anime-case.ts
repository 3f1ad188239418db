/**
 * The Art/Anime describer (WD14 tagger path) in its own process, so the peak RSS is its own. Prints one JSON line.
 *
 * The model is the tiny test tagger (channel means, one linear layer, a sigmoid) widened to the published list's
 * 9,083 tags, not the MOAT network: what this measures is everything around the network on a 1024x1024 image (the
 * file checks, the tag-list parse, the Lanczos resize to 448 and BGR padding, the score selection). The network's
 * own time is the published file's, which this repository does not ship.
 * Usage: node --import tsx bench/describe-anime-case.ts <cacheDir>
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { detectCpuFeatures, loadWd14Tagger, type RgbImage } from '../src/engine/index.ts';
import { writeTinyTagger, type TinyTag } from '../test/fixtures/wd14-taggers.ts';

const PUBLISHED_TAGS = 9083;
const SIDE = 1024;
const REPEATS = 5;

const tags: TinyTag[] = Array.from({ length: PUBLISHED_TAGS }, (_, i) => ({
  name: `tag_${i}`,
  category: i < 4 ? 9 : i < 6_000 ? 0 : 4,
  weights: [Math.sin(i), Math.cos(i), Math.sin(i * 0.5)],
  bias: Math.sin(i * 0.37) * 2,
}));
const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-bench-wd14-'));
try {
  const files = writeTinyTagger(dir, 'wd-v1-4-moat-tagger-v2', { tags });
  const rgb = new Uint8Array(SIDE * SIDE * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = 128 + 100 * Math.sin(i * 0.0007);
  const image: RgbImage = { width: SIDE, height: SIDE, rgb };

  let t = performance.now();
  const tagger = await loadWd14Tagger(files);
  const loadSeconds = (performance.now() - t) / 1000;
  await tagger.describe(image);
  t = performance.now();
  let kept = 0;
  for (let i = 0; i < REPEATS; i++) kept = (await tagger.describe(image)).tags!.length;
  const seconds = (performance.now() - t) / 1000 / REPEATS;
  await tagger.release();
  const cpu = await detectCpuFeatures();
  console.log(
    JSON.stringify({
      family: 'describe',
      part: 'anime',
      shape: `${SIDE}x${SIDE} -> 448x448, ${PUBLISHED_TAGS} tags (tiny network), ${kept} kept`,
      loadSeconds,
      seconds,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      cpu: { model: cpu.model, cores: cpu.cores, avx2: cpu.avx2, avx512: cpu.avx512 },
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
