/**
 * Fooocus's defaults (its `config.py` and default preset), as data: what a request gets for every knob the user
 * leaves alone.
 */
export const GENERATION_DEFAULTS = {
  steps: 30, // performance "Speed"
  cfg: 4,
  sharpness: 2,
  adaptiveCfg: 7,
  sampler: 'dpmpp_2m_sde_gpu',
  scheduler: 'karras',
  clipSkip: 2,
  admScalers: { positive: 1.5, negative: 0.8, end: 0.3 },
  refinerSwitch: 0.8,
  /** Fooocus makes 2 images per run; on a CPU one is the friendlier default. */
  imageCount: 1,
  denoise: 0.5, // Vary (Subtle)
  format: 'png',
  scheme: 'fooocus',
} as const;
