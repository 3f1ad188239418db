/**
 * GroundingDINO detection benchmark in its own process. Prints one JSON line.
 *
 *   grounding-dino: a full-size random-weight GroundingDINO in grounding-dino-tiny's layout (Swin-T, BERT-base,
 *                   6+6 layers, 900 queries; generated once into the cache directory) detecting "face. hand." on
 *                   a 1024x1024 image (800x800 model input): the first detection (graph build and session
 *                   creation included), then a second on the same size (the session reused), and the peak RSS.
 *                   The vocabulary is a stand-in (ids only): speed does not depend on which words the ids are.
 *
 * Usage: node --import tsx bench/detect-case.ts grounding-dino <cacheDir>
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadGroundingDino } from '../src/engine/detect/grounding-dino.ts';
import type { GroundingTokenizer } from '../src/engine/detect/grounding-dino-text.ts';
import { detectCpuFeatures } from '../src/engine/index.ts';
import { writeSafetensors } from '../src/engine/io/safetensors-writer.ts';
import { GROUNDING_DINO_TINY, groundingDinoTensors } from '../test/fixtures/grounding-dino.ts';

const [part, cacheDir] = process.argv.slice(2) as ['grounding-dino', string];
if (part !== 'grounding-dino') throw new Error(`unknown detect case "${part}"`);

/** bert-base-uncased's frame and delimiter ids; other words get fixed ids in the vocabulary's range. */
const IDS: Record<string, number> = { '[CLS]': 101, '[SEP]': 102, '.': 1012, '?': 1029, face: 2227, hand: 2192 };
const tokenizer: GroundingTokenizer = {
  encode: (text) => text.replaceAll('.', ' . ').split(/\s+/).filter((w) => w !== '').map((w) => IDS[w] ?? 1000 + w.length),
  decode: (ids) => ids.map((id) => Object.keys(IDS).find((k) => IDS[k] === id) ?? `#${id}`).join(' '),
  idOf: (token) => IDS[token],
};

async function ensureWeights(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'grounding-dino-tiny-random.safetensors');
  if (!existsSync(file)) await writeSafetensors(file, groundingDinoTensors(GROUNDING_DINO_TINY, 11));
  return file;
}

const file = await ensureWeights(cacheDir);
const size = 1024;
const image = { width: size, height: size, rgb: Uint8Array.from({ length: size * size * 3 }, (_, i) => (i * 2654435761) >>> 24) };
let t = performance.now();
const detector = await loadGroundingDino(file, tokenizer);
const loadSeconds = (performance.now() - t) / 1000;
t = performance.now();
const first = await detector.detect(image, 'face. hand.');
const firstSeconds = (performance.now() - t) / 1000;
t = performance.now();
await detector.detect(image, 'face. hand.');
const secondSeconds = (performance.now() - t) / 1000;
await detector.release();
const cpu = await detectCpuFeatures();
console.log(
  JSON.stringify({
    family: 'detect',
    part,
    shape: `${size}x${size} (model input 800x800), 900 queries`,
    loadSeconds,
    firstSeconds,
    secondSeconds,
    boxesFound: first.length,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    cpu: { model: cpu.model, cores: cpu.cores, avx2: cpu.avx2, avx512: cpu.avx512 },
  }),
);
