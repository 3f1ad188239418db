/**
 * Enhance benchmark in its own process. Prints one JSON line, and each tab's phases on stderr.
 *
 * Both parts run one Enhance tab over a 1024x1024 input image through the app's image generator (the same path as
 * the studio and `generate --input IMG --enhance`): the region found, then repainted by the inpaint at SD 1.5's
 * working size (512) with the full-size random-weight SD 1.5 checkpoint, 20 steps, and the image saved.
 *
 *   tab:        detection prompt "person", found by the tiny test foreground model (a 1x1 convolution at 320x320),
 *               so the figure is the inpaint's; a real U²-Net adds its own run once per tab.
 *   tab-detect: detection prompt "face", found by GroundingDINO (full size: grounding-dino-tiny's layout) then SAM
 *               (ViT-B), both random weights, built on first use as a job builds them. Random weights place boxes
 *               arbitrarily, so the tab keeps at most 3 (its max-detections setting). The thresholds are the
 *               defaults (box 0.3, text 0.25); if those find nothing, that is printed and the tab is run again at
 *               box/text 0.05, the detector already built (the JSON says which thresholds the figure is from).
 *
 * Reports seconds (total, and per phase: file checks, detection, inpaint preparation up to the first sampling step,
 * sampling, decode, save), the regions found, the mask's coverage, the peak RSS and the CPU. The services' calls
 * are timed by a subclass that wraps them; the work is the app's own. Weights are written once into the cache
 * folder by child processes (SAM by sam-case.ts, GroundingDINO by this file, the same files those cases time), so
 * their generation does not count in this process's peak RSS.
 *
 * Usage: node --import tsx bench/enhance-case.ts tab|tab-detect <cacheDir>
 *        node --import tsx bench/enhance-case.ts write-grounding-dino <file>   (the child that writes the weights)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadCreativeData } from '../src/app/creative/creative-data.ts';
import { ENHANCE_DETECTION_DEFAULTS } from '../src/app/enhance/enhance-choice.ts';
import { TEXT_DETECTOR_FILES } from '../src/app/enhance/text-detector-files.ts';
import { createImageGenerator, prepareImageRequest } from '../src/app/generation/generate-images.ts';
import { GenerationService } from '../src/app/generation/generation-service.ts';
import type { EnhanceTab } from '../src/app/generation/image-request.ts';
import { importModel } from '../src/app/models/import-model.ts';
import { openModelStore } from '../src/app/models/model-store.ts';
import type { RegionDetection } from '../src/engine/index.ts';
import { writeSafetensors } from '../src/engine/io/safetensors-writer.ts';
import { ClipTokenizer } from '../src/engine/text/clip-tokenizer.ts';
import { redSquarePicture, writeTinyForegroundModel } from '../test/fixtures/foreground-models.ts';
import { GROUNDING_DINO_TINY, groundingDinoTensors } from '../test/fixtures/grounding-dino.ts';
import { describeCpu } from './cpu-description.ts';
import { EnhancePhaseClock, type EnhancePhases } from './enhance-phases.ts';
import { ensureFullCheckpoint } from './fixtures/full-checkpoints.ts';

type Part = 'tab' | 'tab-detect';

const SIZE = 1024;
const STEPS = 20;
const MAX_DETECTIONS = 3;
const LOW_THRESHOLDS = { boxThreshold: 0.05, textThreshold: 0.05 };
/** detect-case.ts's file and seed, so both cases share it. */
const GROUNDING_DINO_FILE = 'grounding-dino-tiny-random.safetensors';
const GROUNDING_DINO_SEED = 11;

/** The app's generation service with its detector, render and save calls timed, and each detection kept. */
class TimedGenerationService extends GenerationService {
  clock: EnhancePhaseClock | null = null;
  readonly detections: RegionDetection[] = [];

  override async detectText(...args: Parameters<GenerationService['detectText']>): Promise<RegionDetection> {
    return this.timeDetection(() => super.detectText(...args));
  }

  override async detectForeground(...args: Parameters<GenerationService['detectForeground']>): Promise<RegionDetection> {
    return this.timeDetection(() => super.detectForeground(...args));
  }

  override async render(...args: Parameters<GenerationService['render']>): ReturnType<GenerationService['render']> {
    this.clock?.mark('render-start');
    const rendered = await super.render(...args);
    this.clock?.mark('render-end');
    return rendered;
  }

  override async saveResult(...args: Parameters<GenerationService['saveResult']>): ReturnType<GenerationService['saveResult']> {
    this.clock?.mark('save-start');
    const saved = await super.saveResult(...args);
    this.clock?.mark('save-end');
    return saved;
  }

  private async timeDetection(detect: () => Promise<RegionDetection>): Promise<RegionDetection> {
    this.clock?.mark('detect-start');
    const found = await detect();
    this.clock?.mark('detect-end');
    this.detections.push(found);
    return found;
  }
}

/** Writes `file` in a child process (this file's or sam-case.ts's writer) unless the cache has it. */
function ensureWeights(file: string, script: string, mode: string): string {
  if (existsSync(file)) return file;
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, script), mode, file], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`writing ${file} failed (exit ${run.status})`);
  return file;
}

/** bert-base-uncased's layout ([UNK] 100, [CLS] 101, [SEP] 102, "." 1012, "?" 1029, "hand" 2192, "face" 2227): ids only. */
function formatStandInVocabulary(): string {
  const entries = ['[PAD]', ...Array.from({ length: 99 }, (_, i) => `[unused${i}]`), '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const placed = new Map([[1012, '.'], [1029, '?'], [2192, 'hand'], [2227, 'face']]);
  while (entries.length < GROUNDING_DINO_TINY.bert.vocab) entries.push(placed.get(entries.length) ?? `word${entries.length}`);
  return `${entries.join('\n')}\n`;
}

function measureCoverage(found: RegionDetection | undefined): number | null {
  if (found === undefined) return null;
  let covered = 0;
  for (const v of found.mask.data) if (v !== 0) covered++;
  return covered / found.mask.data.length;
}

function formatPhases(label: string, p: EnhancePhases): string {
  const s = (v: number | null): string => (v === null ? 'skipped' : `${v.toFixed(1)} s`);
  return `${label}: file checks ${s(p.beforeDetectionSeconds)}, detection ${s(p.detectionSeconds)}, inpaint preparation ${s(p.inpaintPrepareSeconds)}, sampling ${s(p.samplingSeconds)}, decode ${s(p.decodeSeconds)}, save ${s(p.saveSeconds)}; total ${s(p.totalSeconds)}\n`;
}

async function runBench(part: Part, cacheDir: string): Promise<void> {
  const checkpoint = await ensureFullCheckpoint('sd15', cacheDir);
  const dir = path.join(cacheDir, `enhance-${part}`);
  await rm(dir, { recursive: true, force: true });
  for (const d of ['models', 'outputs', 'files']) await mkdir(path.join(dir, d), { recursive: true, mode: 0o750 });
  const store = await openModelStore(path.join(dir, 'models'));
  // Hard links: the cache and this folder share a filesystem.
  const model = (await importModel(store, checkpoint, { kind: 'checkpoints', link: true })).name;
  if (part === 'tab') {
    await importModel(store, await writeTinyForegroundModel(path.join(dir, 'files')), { kind: 'detection' });
  } else {
    const { detector, vocabulary, segmenter } = TEXT_DETECTOR_FILES;
    const dino = ensureWeights(path.join(cacheDir, GROUNDING_DINO_FILE), 'enhance-case.ts', 'write-grounding-dino');
    const sam = ensureWeights(path.join(cacheDir, 'sam-vit-base-random.safetensors'), 'sam-case.ts', 'write');
    const vocab = path.join(dir, 'files', vocabulary.name);
    await writeFile(vocab, formatStandInVocabulary());
    await importModel(store, dino, { kind: detector.kind, name: detector.name, link: true });
    await importModel(store, vocab, { kind: vocabulary.kind });
    await importModel(store, sam, { kind: segmenter.kind, name: segmenter.name, link: true });
  }
  const data = await loadCreativeData({ store, catalog: null });
  const clipVocab = path.resolve(import.meta.dirname, '..', 'data', 'tokenizers', 'bpe_simple_vocab_16e6.txt.gz');
  const tokenizer = await ClipTokenizer.fromGzipFile(clipVocab);
  const service = new TimedGenerationService({ runtime: {}, outputsDir: path.join(dir, 'outputs'), loadTokenizer: async () => tokenizer, software: 'Fooocus-TS bench' });
  const generate = createImageGenerator({ store, data, service, inputDir: path.join(dir, 'outputs') });
  // A subject of about a tenth of the image, so the foreground crop is the inpaint's usual square around it.
  const picture = redSquarePicture(SIZE, SIZE, { x0: 384, x1: 704, y0: 320, y1: 640 });

  /** One generate call with the tab; its phases, what it found and whether it repainted. */
  const runTab = async (tab: EnhanceTab) => {
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
        enhance: { tabs: [tab] },
      },
      { data, listing: await store.list() },
      { defaultModel: async () => model, readInput: async () => picture },
    );
    const clock = new EnhancePhaseClock(performance.now());
    service.clock = clock;
    let skipped = false;
    await generate(request, 0, {
      input: picture,
      onProgress: (p) => {
        if (p.phase === 'sample') clock.mark('sample-start');
        if (p.phase === 'decode') clock.mark('decode-start');
        if (p.phase === 'enhance' && p.message.endsWith('tab skipped')) skipped = true;
      },
    });
    const phases = clock.summarize();
    service.clock = null;
    const found = service.detections.at(-1);
    return { phases, skipped, regions: found?.regions ?? 0, maskCoverage: measureCoverage(found) };
  };

  const label = `enhance:${part}`;
  let thresholds: { boxThreshold: number; textThreshold: number } = { boxThreshold: ENHANCE_DETECTION_DEFAULTS.boxThreshold, textThreshold: ENHANCE_DETECTION_DEFAULTS.textThreshold };
  const tab: EnhanceTab = part === 'tab' ? { detectionPrompt: 'person', prompt: 'a knight in shining armour' } : { detectionPrompt: 'face', prompt: 'a portrait, detailed face', maxDetections: MAX_DETECTIONS, ...thresholds };
  let run = await runTab(tab);
  process.stderr.write(formatPhases(label, run.phases));
  let skippedAtDefaults: EnhancePhases | null = null;
  if (part === 'tab-detect' && run.skipped) {
    process.stderr.write(`${label}: the default thresholds (box ${thresholds.boxThreshold}, text ${thresholds.textThreshold}) found nothing with random weights; again at box ${LOW_THRESHOLDS.boxThreshold}, text ${LOW_THRESHOLDS.textThreshold}\n`);
    skippedAtDefaults = run.phases;
    thresholds = LOW_THRESHOLDS;
    run = await runTab({ ...tab, ...thresholds });
    process.stderr.write(formatPhases(`${label} (low thresholds, detector already built)`, run.phases));
  }
  await service.close();
  const detector =
    part === 'tab'
      ? 'tiny foreground model'
      : `"face" by GroundingDINO-tiny + SAM ViT-B (random weights), box ${thresholds.boxThreshold} / text ${thresholds.textThreshold}${skippedAtDefaults === null ? ' (defaults)' : ' (defaults found nothing)'}, at most ${MAX_DETECTIONS}`;
  console.log(
    JSON.stringify({
      family: 'enhance',
      part,
      shape: `SD 1.5 full-size random weights, ${SIZE}x${SIZE} input, 1 tab (${detector}), ${STEPS} steps at 512`,
      regions: run.regions,
      repainted: !run.skipped,
      maskCoverage: run.maskCoverage,
      totalSeconds: run.phases.totalSeconds,
      // From the start to the first sampling step, as the table has shown it since the first version of this case.
      beforeSamplingSeconds: run.phases.inpaintPrepareSeconds === null ? null : run.phases.beforeDetectionSeconds + run.phases.detectionSeconds + run.phases.inpaintPrepareSeconds,
      phases: run.phases,
      ...(part === 'tab-detect' ? { thresholds: { ...thresholds, maxDetections: MAX_DETECTIONS }, defaultThresholdsFoundNothing: skippedAtDefaults !== null } : {}),
      ...(skippedAtDefaults === null ? {} : { skippedRunAtDefaults: skippedAtDefaults }),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      cpu: describeCpu(),
    }),
  );
}

const [mode, target] = process.argv.slice(2) as [Part | 'write-grounding-dino', string];
if (mode === 'write-grounding-dino') {
  await writeSafetensors(target, groundingDinoTensors(GROUNDING_DINO_TINY, GROUNDING_DINO_SEED));
} else if (mode === 'tab' || mode === 'tab-detect') {
  await runBench(mode, target);
} else {
  throw new Error(`unknown enhance case "${String(mode)}" (tab, tab-detect)`);
}
