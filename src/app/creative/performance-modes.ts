/**
 * Performance modes as data. Quality and Speed only set the step count. The fast modes run a distilled model: they
 * add their LoRA and override everything that assumes classic guidance, exactly as Fooocus does (its
 * `set_lcm_defaults`, `set_lightning_defaults`, `set_hyper_sd_defaults`): CFG 1, sharpness 0, adaptive CFG 1,
 * ADM scalers 1/1 ending at 0, no refiner (switch 1), and the sampler/scheduler pair the distillation expects.
 */
import { MissingPerformanceLoraError, UnknownPerformanceModeError } from './creative-errors.ts';
import type { GenerationSettings } from './generation-settings.ts';

export interface PerformanceLora {
  file: string;
  weight: number;
  /** Catalog id for `fooocus models pull`. */
  catalogId: string;
  /** The model family the LoRA was distilled for; the mode cannot run on another. */
  family: 'sdxl';
}

export interface PerformanceMode {
  name: string;
  steps: number;
  /** Steps for upscale / vary passes, which start from an image (Fooocus's StepsUOV). */
  imageToImageSteps: number;
  lora?: PerformanceLora;
  /** Settings forced by the mode, whatever the preset or the user chose. */
  overrides?: Partial<Omit<GenerationSettings, 'loras' | 'model' | 'steps'>>;
}

const DISTILLED_OVERRIDES = {
  cfg: 1,
  sharpness: 0,
  adaptiveCfg: 1,
  refiner: null,
  refinerSwitch: 1,
  admScalers: { positive: 1, negative: 1, end: 0 },
} as const;

export const PERFORMANCE_MODES: readonly PerformanceMode[] = [
  { name: 'Quality', steps: 60, imageToImageSteps: 36 },
  { name: 'Speed', steps: 30, imageToImageSteps: 18 },
  {
    name: 'Extreme Speed',
    steps: 8,
    imageToImageSteps: 8,
    lora: { file: 'sdxl_lcm_lora.safetensors', weight: 1, catalogId: 'sdxl-lcm-lora', family: 'sdxl' },
    overrides: { ...DISTILLED_OVERRIDES, sampler: 'lcm', scheduler: 'lcm' },
  },
  {
    name: 'Lightning',
    steps: 4,
    imageToImageSteps: 4,
    lora: { file: 'sdxl_lightning_4step_lora.safetensors', weight: 1, catalogId: 'sdxl-lightning-4step-lora', family: 'sdxl' },
    overrides: { ...DISTILLED_OVERRIDES, sampler: 'euler', scheduler: 'sgm_uniform' },
  },
  {
    name: 'Hyper-SD',
    steps: 4,
    imageToImageSteps: 4,
    lora: { file: 'sdxl_hyper_sd_4step_lora.safetensors', weight: 0.8, catalogId: 'sdxl-hyper-sd-4step-lora', family: 'sdxl' },
    overrides: { ...DISTILLED_OVERRIDES, sampler: 'dpmpp_sde_gpu', scheduler: 'karras' },
  },
];

export const PERFORMANCE_MODE_NAMES: readonly string[] = PERFORMANCE_MODES.map((m) => m.name);

export function getPerformanceMode(name: string): PerformanceMode {
  const mode = PERFORMANCE_MODES.find((m) => m.name === name);
  if (mode === undefined) throw new UnknownPerformanceModeError(name, PERFORMANCE_MODE_NAMES);
  return mode;
}

export interface PerformanceModeContext {
  /** Whether the model store holds (and trusts) this LoRA file. */
  loraAvailable(file: string): boolean;
}

/** New settings with the mode applied; the mode's LoRA goes last, after the preset's and the prompt's. */
export function applyPerformanceMode(settings: GenerationSettings, modeName: string, context: PerformanceModeContext): GenerationSettings {
  const mode = getPerformanceMode(modeName);
  const next: GenerationSettings = { ...settings, admScalers: { ...settings.admScalers }, loras: [...settings.loras], steps: mode.steps };
  if (mode.lora !== undefined) {
    if (!context.loraAvailable(mode.lora.file)) throw new MissingPerformanceLoraError(mode.name, mode.lora.file, mode.lora.catalogId);
    const { file, weight } = mode.lora;
    next.loras = [...next.loras.filter((l) => l.name !== file), { name: file, weight }];
  }
  if (mode.overrides !== undefined) {
    const { admScalers, ...rest } = mode.overrides;
    Object.assign(next, rest);
    if (admScalers !== undefined) next.admScalers = { ...admScalers };
  }
  return next;
}
