/**
 * One profile per model family: the constants that are not in the weights (latent scale, default size, head rule)
 * and the key prefixes the family's checkpoints use. Detection and pipelines read these instead of branching on
 * the family name.
 */
import type { ClipTextConfig, ModelFamily, UnetConfig } from './architecture.ts';

export interface TextEncoderSlot {
  /** Key prefix ending in a dot. */
  prefix: string;
  layout: ClipTextConfig['layout'];
}

export interface FamilyProfile {
  family: ModelFamily;
  /** How people name the family, for messages. */
  label: string;
  /** Multiplies VAE latents before diffusion (LDM `scale_factor`). */
  latentScale: number;
  /** Native training resolution (square side in pixels). */
  defaultImageSize: number;
  /** The size proposed when a request gives none (Fooocus's default for the family). */
  defaultResolution: { width: number; height: number };
  /** Channels of the VAE's latent: noise and latents are [B, latentChannels, H / vaeScaleFactor, W / vaeScaleFactor]. */
  latentChannels: number;
  /** Pixels per latent cell along each side. */
  vaeScaleFactor: number;
  /** The SD 1.x or SDXL latent space: picks the live preview's RGB factors and the Align Your Steps table. */
  latentSpace: 'sd15' | 'sdxl';
  /** What the UNet predicts; the denoiser (k-diffusion's eps wrapper) handles epsilon prediction only. */
  predictionType: 'epsilon';
  /** Whether the prompt's hidden state passes the encoder's final layer norm (SD 1.x/2.x do; SDXL takes it raw). */
  finalLayerNorm: boolean;
  /** Cross-attention context width of the released models (detection reads the real width from the weights). */
  contextDim: number;
  unetPrefix: string;
  vaePrefix: string;
  /** Text encoders in conditioning order. */
  textEncoders: readonly TextEncoderSlot[];
  /** Head rule of the UNet's attention (architecture constant, not stored in the weights). */
  unetAttention: UnetConfig['attention'];
  /**
   * Scalars embedded with Fourier features into the ADM vector `y` after the pooled text embedding: SDXL base
   * original size, crop offset, target size (6); refiner original size, crop offset, aesthetic score (5). Each gets
   * (admInChannels - pooled width) / count features (256 in the released models). Null without ADM.
   */
  admValueCount: number | null;
}

const UNET_PREFIX = 'model.diffusion_model.';
const VAE_PREFIX = 'first_stage_model.';

export const FAMILY_PROFILES: Readonly<Record<ModelFamily, FamilyProfile>> = {
  sd15: {
    family: 'sd15',
    label: 'SD 1.5',
    latentScale: 0.18215,
    defaultImageSize: 512,
    defaultResolution: { width: 512, height: 512 },
    latentChannels: 4,
    vaeScaleFactor: 8,
    latentSpace: 'sd15',
    predictionType: 'epsilon',
    finalLayerNorm: true,
    contextDim: 768,
    unetPrefix: UNET_PREFIX,
    vaePrefix: VAE_PREFIX,
    textEncoders: [{ prefix: 'cond_stage_model.transformer.text_model.', layout: 'clip-l' }],
    unetAttention: { numHeads: 8 },
    admValueCount: null,
  },
  sd2x: {
    family: 'sd2x',
    label: 'SD 2.x',
    latentScale: 0.18215,
    defaultImageSize: 768,
    defaultResolution: { width: 768, height: 768 },
    latentChannels: 4,
    vaeScaleFactor: 8,
    latentSpace: 'sd15',
    predictionType: 'epsilon',
    finalLayerNorm: true,
    contextDim: 1024,
    unetPrefix: UNET_PREFIX,
    vaePrefix: VAE_PREFIX,
    textEncoders: [{ prefix: 'cond_stage_model.model.', layout: 'open-clip' }],
    unetAttention: { headChannels: 64 },
    admValueCount: null,
  },
  sdxl: {
    family: 'sdxl',
    label: 'SDXL',
    latentScale: 0.13025,
    defaultImageSize: 1024,
    defaultResolution: { width: 1152, height: 896 },
    latentChannels: 4,
    vaeScaleFactor: 8,
    latentSpace: 'sdxl',
    predictionType: 'epsilon',
    finalLayerNorm: false,
    contextDim: 2048,
    unetPrefix: UNET_PREFIX,
    vaePrefix: VAE_PREFIX,
    textEncoders: [
      { prefix: 'conditioner.embedders.0.transformer.text_model.', layout: 'clip-l' },
      { prefix: 'conditioner.embedders.1.model.', layout: 'open-clip' },
    ],
    unetAttention: { headChannels: 64 },
    admValueCount: 6,
  },
  'sdxl-refiner': {
    family: 'sdxl-refiner',
    label: 'SDXL refiner',
    latentScale: 0.13025,
    defaultImageSize: 1024,
    defaultResolution: { width: 1152, height: 896 },
    latentChannels: 4,
    vaeScaleFactor: 8,
    latentSpace: 'sdxl',
    predictionType: 'epsilon',
    finalLayerNorm: false,
    contextDim: 1280,
    unetPrefix: UNET_PREFIX,
    vaePrefix: VAE_PREFIX,
    textEncoders: [{ prefix: 'conditioner.embedders.0.model.', layout: 'open-clip' }],
    unetAttention: { headChannels: 64 },
    admValueCount: 5,
  },
};

export function getFamilyProfile(family: ModelFamily): FamilyProfile {
  return FAMILY_PROFILES[family];
}
