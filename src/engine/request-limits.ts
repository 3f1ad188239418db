/**
 * Numeric bounds of a generation request: the engine checks them (validateGenerationRequest), the HTTP schema
 * states them (and so the OpenAPI document and the page's controls), the metadata readers use the seed and step
 * bounds. Kept in a module with no imports so the metadata readers, which the browser page also runs, do not pull
 * the sampling code in with them.
 */

/** Seeds are 63-bit, as Fooocus's `random.randint(0, 2**63 - 1)`. */
export const MAX_SEED = (1n << 63n) - 1n;

/** Longest schedule the samplers build. */
export const MAX_STEPS = 1000;

/** How the refiner takes over from the base model (see pipeline/refiner-switch.ts); Fooocus's names. */
export const REFINER_SWITCH_METHODS = ['joint', 'separate', 'vae'] as const;
export type RefinerSwitchMethod = (typeof REFINER_SWITCH_METHODS)[number];

/** Bounds of the sampling settings, inclusive. ADM guidance is Fooocus's (positive scale, negative scale, end). */
export const SETTING_LIMITS = {
  cfg: { min: 1, max: 30 },
  sharpness: { min: 0, max: 30 },
  adaptiveCfg: { min: 1, max: 30 },
  clipSkip: { min: 1, max: 12 },
  refinerSwitch: { min: 0.1, max: 1 },
  admPositive: { min: 0.1, max: 3 },
  admNegative: { min: 0.1, max: 3 },
  admEnd: { min: 0, max: 1 },
} as const;

/**
 * Bounds of the Input Image choices. Mask erode/dilate and the respective field follow Fooocus's sliders (-64..64
 * pixels, 0..1); the custom upscale factor and the outpaint padding go past Fooocus, bounded so a result stays
 * within the image size limits of one side.
 */
export const INPUT_IMAGE_LIMITS = {
  upscaleFactor: { min: 1, max: 4 },
  inpaintStrength: { min: 0, max: 1 },
  respectiveField: { min: 0, max: 1 },
  maskErode: { min: -64, max: 64 },
  outpaintPixels: { min: 8, max: 2048 },
  outpaintPercent: { min: 1, max: 100 },
} as const;

/**
 * Bounds of the Image Prompt choices (Fooocus's sliders): at most four image prompts per request, "stop at" a
 * fraction of the steps in 0..1, weight 0..2.
 */
export const IMAGE_PROMPT_LIMITS = {
  count: { min: 0, max: 4 },
  stopAt: { min: 0, max: 1 },
  weight: { min: 0, max: 2 },
} as const;
