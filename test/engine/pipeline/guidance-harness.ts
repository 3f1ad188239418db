/**
 * What the image prompt and control tests on tiny SDXL share: the IP-Adapter layers' widths, tiny image prompt
 * and control-LoRA models written beside the checkpoint, seeded conditioning for one denoiser step, and a count
 * of a session's runs (which graph served a step is the point of several of them).
 */
import path from 'node:path';
import { ipAdapterLayerOrder } from '../../../src/engine/graphs/decoupled-attention.ts';
import { buildUnetGraph, type UnetGraphOptions } from '../../../src/engine/graphs/unet.ts';
import type { SafetensorsHeader } from '../../../src/engine/io/safetensors-types.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { encodeOnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { loadImagePromptEncoder } from '../../../src/engine/ip-adapter/image-prompt-encoder.ts';
import type { UnetConfig } from '../../../src/engine/models/architecture.ts';
import { loadControlNet, type ControlNetModel } from '../../../src/engine/pipeline/control-lora-model.ts';
import type { ImagePromptEmbedding } from '../../../src/engine/pipeline/image-guidance.ts';
import { createUnetDenoiser, type DenoiserStage } from '../../../src/engine/pipeline/unet-denoiser.ts';
import { loadCheckpoint, type LoadedCheckpoint } from '../../../src/engine/pipeline/load-checkpoint.ts';
import { createModelSession, type ModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import type { Tensor } from '../../../src/engine/tensor.ts';
import { generateTinyControlLora } from '../../fixtures/control-loras.ts';
import { generateTinyIpAdapter, generateTinyIpNegative, generateTinyVisionEncoder, TINY_VISION, writeTinyModel } from '../../fixtures/image-prompt-models.ts';
import { fromRef, sampleInput, type TinyFixture } from '../graphs/graph-harness.ts';
import type { LoadedTinyModel } from './pipeline-harness.ts';

/** Counts the session's runs from now on (wraps its `run`). */
export function countRuns(session: ModelSession): { calls: number } {
  const counter = { calls: 0 };
  const run = session.run.bind(session);
  session.run = (feeds, signal) => {
    counter.calls++;
    return run(feeds, signal);
  };
  return counter;
}

/** The query width of each cross-attention layer an IP-Adapter feeds, in the adapter's layer order. */
export function ipLayerWidths(header: SafetensorsHeader, cfg: UnetConfig): number[] {
  return ipAdapterLayerOrder(cfg).map((prefix) => header.tensors.get(`${prefix}to_q.weight`)!.shape[0]!);
}

/**
 * Loads the tiny vision encoder, IP-Adapter and negative features (written into `dir`) for the UNet of `header`,
 * and encodes a fixed 32x32 image with them.
 */
export async function encodeTinyImagePrompt(dir: string, header: SafetensorsHeader, cfg: UnetConfig, options: { stopAt: number; weight: number }): Promise<ImagePromptEmbedding> {
  const widths = ipLayerWidths(header, cfg);
  const encoder = await loadImagePromptEncoder(
    {
      visionEncoder: await writeTinyModel(dir, 'vision.safetensors', generateTinyVisionEncoder()),
      adapter: await writeTinyModel(dir, 'adapter.safetensors', generateTinyIpAdapter(widths, cfg.contextDim)),
      negative: await writeTinyModel(dir, 'negative.safetensors', generateTinyIpNegative()),
    },
    cfg,
    widths,
    { visionOverrides: { heads: TINY_VISION.heads, activation: 'gelu' }, runtime: { threads: 2 } },
  );
  try {
    return await encoder.encode({ width: 32, height: 32, rgb: new Uint8Array(32 * 32 * 3).map((_, i) => (i * 29) % 256) }, 'ImagePrompt', options);
  } finally {
    await encoder.release();
  }
}

/** Writes a tiny control-LoRA for the UNet of `header` into `dir` and loads it as a ControlNet. */
export async function loadTinyControlNet(dir: string, header: SafetensorsHeader, cfg: UnetConfig, fileName = 'control.safetensors'): Promise<ControlNetModel> {
  const file = path.join(dir, fileName);
  await writeSafetensors(file, generateTinyControlLora(cfg));
  return loadControlNet(file, header, cfg, { threads: 2 });
}

/** A one-thread session of the fixture's UNet graph built with `options` (the denoiser tests' plain and guided graphs). */
export function createTinyUnetSession(fx: TinyFixture, options: UnetGraphOptions = {}): Promise<ModelSession> {
  return createModelSession(encodeOnnxModel(buildUnetGraph(fx.header, fx.architecture.unet!, options)), path.dirname(fx.file), { threads: 1 });
}

/** The loaded tiny checkpoint's UNet alone, built again with `options` (image prompt and/or control inputs). */
export function loadTinyUnetVariant(tiny: LoadedTinyModel, options: UnetGraphOptions): Promise<LoadedCheckpoint> {
  return loadCheckpoint(tiny.header, tiny.loaded.architecture, { components: ['unet'], unet: options, runtime: { threads: 2 } });
}

/** Seeded positive and negative conditioning (context and ADM vector) for one denoiser stage. */
export function sampleStageConditioning(cfg: UnetConfig): Omit<DenoiserStage, 'unet'> {
  const cond = (seed: number) => ({ context: fromRef(sampleInput([1, 5, cfg.contextDim], seed)), adm: { kind: 'fixed' as const, y: sampleInput([1, cfg.admInChannels!], seed + 1).data } });
  return { positive: cond(1), negative: cond(3) };
}

/** One denoiser call, at `step` of the stage's schedule, on a seeded 8x8 latent at sigma 2.5 (cfg 4). */
export function denoiseSampleAt(base: DenoiserStage, step: number): Promise<Tensor> {
  const denoise = createUnetDenoiser({ base, guidance: { cfg: 4, sharpness: 2, adaptiveCfg: 7 }, currentStep: () => step });
  return denoise(fromRef(sampleInput([1, 4, 8, 8], 7)), 2.5);
}
