/**
 * Segment Anything benchmark in its own process. Prints one JSON line.
 *
 *   segment: a full-size random-weight SAM ViT-B (facebook/sam-vit-base's key layout and sizes) on a 1024x1024
 *            image with 3 boxes through `Segmenter.segmentBoxes`: load (graphs built, sessions opened), the image
 *            encoder once, then each box (prompt encoder, mask decoder, upsampling to the image, threshold), and
 *            the peak RSS. The weights file is written once into the cache by a child process, so its
 *            generation does not count in this process's peak RSS.
 *
 * Usage: node --import tsx bench/sam-case.ts segment <cacheDir>
 *        node --import tsx bench/sam-case.ts write <file>      (the child that writes the weights)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RgbImage } from '../src/engine/rgb-image.ts';
import { loadSegmenter } from '../src/engine/segment/segmenter.ts';
import { SAM_VIT_B, writeSamModel } from '../test/fixtures/sam-models.ts';
import { describeCpu } from './cpu-description.ts';

const [mode, target] = process.argv.slice(2) as ['segment' | 'write', string];

function ensureWeights(cacheDir: string): string {
  const file = path.join(cacheDir, 'sam-vit-base-random.safetensors');
  if (existsSync(file)) return file;
  const run = spawnSync(process.execPath, ['--import', 'tsx', import.meta.filename, 'write', file], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`writing ${file} failed (exit ${run.status})`);
  return file;
}

/** A 1024x1024 picture: a gradient with three filled shapes for the three boxes. */
function testImage(size: number): { image: RgbImage; boxes: [number, number, number, number][] } {
  const rgb = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) rgb.set([(x >> 2) & 255, (y >> 2) & 255, 96], (y * size + x) * 3);
  const boxes: [number, number, number, number][] = [
    [100, 120, 400, 380],
    [520, 200, 900, 520],
    [300, 620, 760, 960],
  ];
  boxes.forEach(([x1, y1, x2, y2], i) => {
    for (let y = y1 + 10; y < y2 - 10; y++) for (let x = x1 + 10; x < x2 - 10; x++) rgb.set([[230, 40, 40], [40, 200, 60], [250, 250, 250]][i]!, (y * size + x) * 3);
  });
  return { image: { width: size, height: size, rgb }, boxes };
}

if (mode === 'write') {
  await writeSamModel(path.dirname(target), SAM_VIT_B, path.basename(target));
} else {
  const file = ensureWeights(target);
  let t = performance.now();
  const segmenter = await loadSegmenter(file);
  const loadSeconds = (performance.now() - t) / 1000;
  const { image, boxes } = testImage(1024);
  t = performance.now();
  const embedded = await segmenter.encodeImage(image);
  const encoderSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const masks = await segmenter.segmentEmbedded(embedded, boxes);
  const perBoxSeconds = (performance.now() - t) / 1000 / boxes.length;
  // The same call end to end (encoder + 3 boxes), as Enhance makes it.
  t = performance.now();
  await segmenter.segmentBoxes(image, boxes);
  const totalSeconds = (performance.now() - t) / 1000;
  await segmenter.release();
  const covered = masks.map((m) => m.mask.reduce((a, b) => a + b, 0) / m.mask.length);
  console.log(
    JSON.stringify({
      family: 'sam',
      part: 'segment',
      shape: `ViT-B, 1024x1024, ${boxes.length} boxes`,
      loadSeconds,
      encoderSeconds,
      perBoxSeconds,
      totalSeconds,
      maskCoverage: covered,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      cpu: describeCpu(),
    }),
  );
}
