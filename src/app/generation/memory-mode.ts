/**
 * `runtime.memory`: whether a job keeps every model component built at once (`resident`, fastest) or one phase's
 * at a time (`per-phase`: text encoders, then the UNet, then the VAE, each released before the next is built).
 * `auto` picks per-phase when the memory this process may still use is below what all of the job's components
 * take in fp32 plus room for the UNet's activations at the job's size and ONNX Runtime's buffers.
 */
import os from 'node:os';
import type { MemoryMode, ModelFamily } from '../../engine/index.ts';

export type MemorySetting = 'auto' | MemoryMode;

export const MEMORY_SETTINGS: readonly MemorySetting[] = ['auto', 'resident', 'per-phase'];

/**
 * Beyond the weights a job needs room for activations, the arena's buffers and the process itself. Measured with
 * `npm run bench -- memory:sd15-per-phase` (README, "Memory"): SD 1.5 at 512 peaks at about 1.1x its weights.
 */
const MARGIN_FRACTION = 0.25;
const MARGIN_BYTES = 512 * 2 ** 20;

/**
 * What the UNet's activations and ONNX Runtime's arena add to the weights, per latent pixel (an 8x8 block of the
 * image), with classifier-free guidance's batch of two. Measured as the peak RSS less the fp32 weights resident at
 * the time: SDXL from a full-size Upscale (2x) at 2048x2048 (about 8.8 GB over 13.7 GB of weights during sampling;
 * the 25 % margin alone let `auto` choose resident there, and the machine ran out of memory in the VAE decode);
 * SD 1.5 from a resident 512x512 image (1.88 GiB over its 3.84 GiB of weights; 1.63 GiB in a later run on an idle
 * machine). Scaled linearly with the pixels: attention grows faster than that, so for sizes far above the measured
 * ones this is a lower bound.
 */
const ACTIVATION_BYTES_PER_LATENT_PIXEL: Partial<Record<ModelFamily, number>> = {
  sdxl: 140 * 1024,
  sd15: 480 * 1024,
};

/** The UNet width the figures above were measured at (both families' released checkpoints). */
const MEASURED_MODEL_CHANNELS = 320;

/**
 * The UNet's activation bytes for a `width` x `height` image (0 for a family nothing was measured on). Every
 * feature map is a multiple of the UNet's base width, so a narrower or wider UNet (`modelChannels`: a small test
 * model's 32, the SDXL refiner's 384) scales the measured figure by its width.
 */
export function estimateActivationBytes(family: ModelFamily, width: number, height: number, modelChannels = MEASURED_MODEL_CHANNELS): number {
  const perPixel = (ACTIVATION_BYTES_PER_LATENT_PIXEL[family] ?? 0) * (modelChannels / MEASURED_MODEL_CHANNELS);
  return Math.round(perPixel * Math.ceil(width / 8) * Math.ceil(height / 8));
}

export interface MemoryChoice {
  mode: MemoryMode;
  setting: MemorySetting;
  /** fp32 bytes of every component the job runs, and what `auto` compared them (plus the margin) with. */
  neededBytes: number;
  /** The UNet's activations at the job's size (estimateActivationBytes), counted instead of the margin when larger. */
  activationBytes: number;
  availableBytes: number | null;
}

/**
 * Memory this process may still allocate: the lower of the machine's free memory and what its cgroup v2 limit
 * (`memory.max` less `memory.current`, read by libuv through `process.availableMemory`) leaves.
 */
export function measureAvailableMemory(): number {
  return Math.min(os.freemem(), process.availableMemory());
}

/**
 * Resolves the setting for a job whose components take `neededBytes` in fp32 and whose UNet's activations take
 * `activationBytes`, with `availableBytes` to spare: resident when the weights plus the larger of the margin and
 * the activations fit.
 */
export function chooseMemoryMode(setting: MemorySetting, neededBytes: number, availableBytes: () => number, activationBytes = 0): MemoryChoice {
  if (setting !== 'auto') return { mode: setting, setting, neededBytes, activationBytes, availableBytes: null };
  const available = availableBytes();
  const room = Math.max(neededBytes * MARGIN_FRACTION + MARGIN_BYTES, activationBytes);
  const mode = available < neededBytes + room ? 'per-phase' : 'resident';
  return { mode, setting, neededBytes, activationBytes, availableBytes: available };
}

/** One line for the job log and the CLI: which mode runs and, for `auto`, why. */
export function describeMemoryChoice(choice: MemoryChoice): string {
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  if (choice.availableBytes === null) return `memory: ${choice.mode} (as set), the job's components take ${gib(choice.neededBytes)} in fp32`;
  const margin = choice.activationBytes > choice.neededBytes * MARGIN_FRACTION + MARGIN_BYTES
    ? `plus ${gib(choice.activationBytes)} of activations at this size`
    : `plus a ${Math.round(MARGIN_FRACTION * 100)} % + ${MARGIN_BYTES / 2 ** 20} MiB margin`;
  return `memory: ${choice.mode} (auto: ${gib(choice.availableBytes)} available, the job's components take ${gib(choice.neededBytes)} in fp32 ${margin})`;
}
