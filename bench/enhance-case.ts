/**
 * Enhance benchmark in its own process. Prints one JSON line.
 *
 *   tab: one Enhance tab over a 1024x1024 input image through the app's image generator (the same path as the
 *        studio and `generate --input IMG --enhance`): the foreground mask found, then the region repainted by the
 *        inpaint at SD 1.5's working size (512) with the full-size random-weight SD 1.5 checkpoint, 20 steps, and
 *        the image saved. The detector is the tiny test foreground model (a 1x1 convolution at 320x320), so the
 *        figure is the inpaint's; a real U²-Net adds its own run once per tab. Reports seconds (total, and the
 *        part before sampling starts), the mask's coverage, and the peak RSS.
 *
 * Usage: node --import tsx bench/enhance-case.ts tab <cacheDir>
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { loadCreativeData } from '../src/app/creative/creative-data.ts';
import { createImageGenerator, prepareImageRequest } from '../src/app/generation/generate-images.ts';
import { GenerationService } from '../src/app/generation/generation-service.ts';
import { importModel } from '../src/app/models/import-model.ts';
import { openModelStore } from '../src/app/models/model-store.ts';
import { ClipTokenizer } from '../src/engine/text/clip-tokenizer.ts';
import { redSquarePicture, writeTinyForegroundModel } from '../test/fixtures/foreground-models.ts';
import { describeCpu } from './cpu-description.ts';
import { ensureFullCheckpoint } from './fixtures/full-checkpoints.ts';

const [, cacheDir] = process.argv.slice(2) as ['tab', string];
const SIZE = 1024;
const STEPS = 20;

const checkpoint = await ensureFullCheckpoint('sd15', cacheDir);
const dir = path.join(cacheDir, 'enhance-tab');
await rm(dir, { recursive: true, force: true });
for (const d of ['models', 'outputs', 'files']) await mkdir(path.join(dir, d), { recursive: true, mode: 0o750 });
const store = await openModelStore(path.join(dir, 'models'));
// A hard link: the cache and this folder share a filesystem.
const model = (await importModel(store, checkpoint, { kind: 'checkpoints', link: true })).name;
await importModel(store, await writeTinyForegroundModel(path.join(dir, 'files')), { kind: 'detection' });
const data = await loadCreativeData({ store, catalog: null });
const vocab = path.resolve(import.meta.dirname, '..', 'data', 'tokenizers', 'bpe_simple_vocab_16e6.txt.gz');
const tokenizer = await ClipTokenizer.fromGzipFile(vocab);
const service = new GenerationService({ runtime: {}, outputsDir: path.join(dir, 'outputs'), loadTokenizer: async () => tokenizer, software: 'Fooocus-TS bench' });

// A subject of about a tenth of the image, so the crop is the inpaint's usual square around it.
const picture = redSquarePicture(SIZE, SIZE, { x0: 384, x1: 704, y0: 320, y1: 640 });
const request = await prepareImageRequest(
  {
    prompt: 'a cinematic photo of a lighthouse at dusk',
    negative: '',
    model,
    steps: STEPS,
    sampler: 'dpmpp_2m_sde_gpu',
    scheduler: 'karras',
    seed: '1',
    input: { file: 'input.png', denoise: 1 },
    enhance: { tabs: [{ detectionPrompt: 'person', prompt: 'a knight in shining armour' }] },
  },
  { data, listing: await store.list() },
  { defaultModel: async () => model, readInput: async () => picture },
);
const generate = createImageGenerator({ store, data, service, inputDir: path.join(dir, 'outputs') });
let firstStepAt: number | null = null;
let regions = 0;
const started = performance.now();
await generate(request, 0, {
  input: picture,
  onProgress: (p) => {
    if (p.phase === 'sample' && firstStepAt === null) firstStepAt = performance.now();
    if (p.phase === 'enhance') {
      const found = /\((\d+) region/.exec(p.message);
      if (found !== null) regions = Number(found[1]);
    }
  },
});
const totalSeconds = (performance.now() - started) / 1000;
await service.close();
console.log(
  JSON.stringify({
    family: 'enhance',
    part: 'tab',
    shape: `SD 1.5 full-size random weights, ${SIZE}x${SIZE} input, 1 tab, ${STEPS} steps at 512`,
    regions,
    totalSeconds,
    beforeSamplingSeconds: firstStepAt === null ? null : (firstStepAt - started) / 1000,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    cpu: describeCpu(),
  }),
);
