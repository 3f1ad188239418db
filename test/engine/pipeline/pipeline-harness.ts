/** Tiny fixture models loaded as pipeline models, for the end-to-end pipeline tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { sha256File } from '../../../src/engine/io/sha256.ts';
import { inspectHeader } from '../../../src/engine/models/inspect.ts';
import type { SafetensorsHeader } from '../../../src/engine/io/safetensors-types.ts';
import { loadCheckpoint, type CheckpointComponent, type LoadedCheckpoint } from '../../../src/engine/pipeline/load-checkpoint.ts';
import { preparePipelineModel, type PipelineModel } from '../../../src/engine/pipeline/generate.ts';
import type { GenerationRequest } from '../../../src/engine/pipeline/generation-request.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { writeTinyCheckpoint, type TinyFamily } from '../../fixtures/checkpoints.ts';

export interface LoadedTinyModel {
  model: PipelineModel;
  loaded: LoadedCheckpoint;
  header: SafetensorsHeader;
  /** The temporary folder holding the checkpoint (removed by `release`), where a test may write models beside it. */
  dir: string;
  release(): Promise<void>;
}

/**
 * Loads a tiny checkpoint with every component, using the byte-level tokenizer (its ids fit the tiny vocabulary).
 * `int8`: the UNet runs in int8, its weights cached in that folder (keyed by the checkpoint's SHA-256);
 * `float16`: the UNet and text encoders run as float16 graphs; `components`: those built at once (default: all four).
 */
export async function loadTinyPipelineModel(
  family: TinyFamily,
  clipSkip = 1,
  options: { int8CacheDir?: string; float16?: boolean; components?: readonly CheckpointComponent[] } = {},
): Promise<LoadedTinyModel> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fooocus-pipe-${family}-`));
  const file = await writeTinyCheckpoint(dir, family);
  const header = await readSafetensorsHeader(file);
  const { architecture } = inspectHeader(header);
  const finalLayerNorm = family === 'sd15';
  const int8 = options.int8CacheDir === undefined ? {} : { int8: { cacheDir: options.int8CacheDir, sourceSha256: await sha256File(file) } };
  const loaded: LoadedCheckpoint = await loadCheckpoint(header, architecture, {
    components: options.components ?? ['unet', 'text', 'vae-decoder', 'vae-encoder'],
    text: architecture.textEncoders.map(() => ({ clipSkip, finalLayerNorm })),
    runtime: { threads: 2 },
    ...int8,
    ...(options.float16 === true ? { float16: true } : {}),
  });
  return {
    loaded,
    header,
    dir,
    model: preparePipelineModel(family, loaded, ClipTokenizer.byteLevel()),
    release: async () => {
      await loaded.release();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function tinyRequest(overrides: Partial<GenerationRequest> = {}): GenerationRequest {
  return {
    prompt: ['a photo of a (cat:1.2)'],
    negativePrompt: ['blurry'],
    width: 64,
    height: 64,
    steps: 4,
    cfg: 4,
    sharpness: 2,
    adaptiveCfg: 7,
    sampler: 'dpmpp_2m_sde_gpu',
    scheduler: 'karras',
    seed: 12345n,
    imageCount: 1,
    clipSkip: 1,
    admScalers: { positive: 1.5, negative: 0.8, end: 0.3 },
    refinerSwitch: 1,
    ...overrides,
  };
}

/**
 * Per-channel means over `block` x `block` pixel blocks, to 0.1: a drift fingerprint that tolerates the last-bit
 * differences between CPUs' kernels (which an exact hash would not).
 */
export function blockMeans(rgb: Uint8Array, width: number, height: number, block = 16): number[] {
  const out: number[] = [];
  for (let by = 0; by < height; by += block) {
    for (let bx = 0; bx < width; bx += block) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let y = by; y < by + block; y++) for (let x = bx; x < bx + block; x++) sum += rgb[(y * width + x) * 3 + c]!;
        out.push(Math.round((sum / (block * block)) * 10) / 10);
      }
    }
  }
  return out;
}
