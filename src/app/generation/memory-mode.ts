/**
 * `runtime.memory`: whether a job keeps every model component built at once (`resident`, fastest) or one phase's
 * at a time (`per-phase`: text encoders, then the UNet, then the VAE, each released before the next is built).
 * `auto` picks per-phase when the memory this process may still use is below what all of the job's components
 * take in fp32 plus a margin for activations and ONNX Runtime's buffers.
 */
import os from 'node:os';
import type { MemoryMode } from '../../engine/index.ts';

export type MemorySetting = 'auto' | MemoryMode;

export const MEMORY_SETTINGS: readonly MemorySetting[] = ['auto', 'resident', 'per-phase'];

/**
 * Beyond the weights a job needs room for activations, the arena's buffers and the process itself. Measured with
 * `npm run bench -- sd15:memory` (README, "Memory"): SD 1.5 at 512 peaks at about 1.1x its weights.
 */
const MARGIN_FRACTION = 0.25;
const MARGIN_BYTES = 512 * 2 ** 20;

export interface MemoryChoice {
  mode: MemoryMode;
  setting: MemorySetting;
  /** fp32 bytes of every component the job runs, and what `auto` compared them (plus the margin) with. */
  neededBytes: number;
  availableBytes: number | null;
}

/**
 * Memory this process may still allocate: the lower of the machine's free memory and what its cgroup v2 limit
 * (`memory.max` less `memory.current`, read by libuv through `process.availableMemory`) leaves.
 */
export function measureAvailableMemory(): number {
  return Math.min(os.freemem(), process.availableMemory());
}

/** Resolves the setting for a job whose components take `neededBytes` in fp32, with `availableBytes` to spare. */
export function chooseMemoryMode(setting: MemorySetting, neededBytes: number, availableBytes: () => number): MemoryChoice {
  if (setting !== 'auto') return { mode: setting, setting, neededBytes, availableBytes: null };
  const available = availableBytes();
  const mode = available < neededBytes * (1 + MARGIN_FRACTION) + MARGIN_BYTES ? 'per-phase' : 'resident';
  return { mode, setting, neededBytes, availableBytes: available };
}

/** One line for the job log and the CLI: which mode runs and, for `auto`, why. */
export function describeMemoryChoice(choice: MemoryChoice): string {
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  if (choice.availableBytes === null) return `memory: ${choice.mode} (as set), the job's components take ${gib(choice.neededBytes)} in fp32`;
  return `memory: ${choice.mode} (auto: ${gib(choice.availableBytes)} available, the job's components take ${gib(choice.neededBytes)} in fp32 plus a ${Math.round(MARGIN_FRACTION * 100)} % + ${MARGIN_BYTES / 2 ** 20} MiB margin)`;
}
