/**
 * The sampling settings a request ends up with after preset, user choices and performance mode are layered: the
 * part of the engine's GenerationRequest that is not prompt, size or seed, plus the models and LoRAs to load.
 */
import { GENERATION_DEFAULTS } from '../generation/generation-defaults.ts';
import type { LoraReference } from './lora-tokens.ts';

export interface GenerationSettings {
  /** Checkpoint: a catalog id or a file name in the model store; null when nothing chose one yet. */
  model: string | null;
  refiner: string | null;
  refinerSwitch: number;
  loras: LoraReference[];
  steps: number;
  cfg: number;
  sharpness: number;
  adaptiveCfg: number;
  sampler: string;
  scheduler: string;
  admScalers: { positive: number; negative: number; end: number };
}

export function createDefaultSettings(): GenerationSettings {
  const d = GENERATION_DEFAULTS;
  return {
    model: null,
    refiner: null,
    refinerSwitch: d.refinerSwitch,
    loras: [],
    steps: d.steps,
    cfg: d.cfg,
    sharpness: d.sharpness,
    adaptiveCfg: d.adaptiveCfg,
    sampler: d.sampler,
    scheduler: d.scheduler,
    admScalers: { ...d.admScalers },
  };
}
