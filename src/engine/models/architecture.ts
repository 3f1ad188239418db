/**
 * Architecture descriptions inferred from a checkpoint's tensor shapes (see inspect.ts), consumed by the ONNX
 * graph builders and by the plain-TypeScript reference implementations in the tests. Every number here is either
 * read from a shape or is a constant of the published architecture (noted where so).
 */

export type ModelFamily = 'sd15' | 'sd2x' | 'sdxl' | 'sdxl-refiner';

/** Text encoder of the CLIP family. Both variants are pre-LayerNorm transformers with causal attention. */
export interface ClipTextConfig {
  /** `clip-l`: OpenAI CLIP ViT-L/14 text tower in Hugging Face layout. `open-clip`: OpenCLIP layout (ViT-bigG/14, ViT-H/14). */
  layout: 'clip-l' | 'open-clip';
  /** Key prefix ending in a dot, e.g. `cond_stage_model.transformer.text_model.` or `conditioner.embedders.1.model.`. */
  prefix: string;
  vocabSize: number; // token_embedding rows
  maxPositions: number; // position_embedding rows (77)
  width: number; // hidden size (768 CLIP-L, 1280 bigG)
  layers: number;
  /** Head dimension is 64 in every released CLIP text tower; heads = width / 64 (at least 1). */
  heads: number;
  mlpWidth: number; // fc1 rows (4 x width)
  /** `quick_gelu` (x * sigmoid(1.702 x)) for OpenAI CLIP, exact erf `gelu` for OpenCLIP. */
  activation: 'quick_gelu' | 'gelu';
  /** Output width of `text_projection` (OpenCLIP only), used for the pooled output. */
  projectionDim: number | null;
}

/** The diffusion UNet of the LDM / SGM codebases (`openaimodel.UNetModel`). */
export interface UnetConfig {
  prefix: string; // `model.diffusion_model.`
  inChannels: number; // 4, or 9 for inpaint models
  outChannels: number;
  modelChannels: number; // 320 SD1.5/SDXL, 384 SDXL refiner
  channelMult: number[]; // [1,2,4,4] SD1.5, [1,2,4] SDXL
  /** Residual blocks per level on the way down; the way up has one more per level. */
  numResBlocks: number[];
  /** Transformer depth of each input block (index = input_blocks index; 0 = no transformer). */
  inputTransformerDepth: number[];
  /** Transformer depth of the middle block (0 = no transformer). */
  middleTransformerDepth: number;
  /** Transformer depth of each output block (index = output_blocks index). */
  outputTransformerDepth: number[];
  /** Attention heads: a fixed head count (SD1.5: 8) or a fixed head width (SD2.x/SDXL: 64). Not in the weights. */
  attention: { numHeads: number } | { headChannels: number };
  contextDim: number; // cross-attention key width: 768, 1024, 2048, 1280
  /** Width of the `y` vector for `label_emb` (SDXL 2816, refiner 2560), or null. */
  admInChannels: number | null;
  /** `proj_in`/`proj_out` as Linear (SD2.x/SDXL) rather than 1x1 Conv (SD1.5). */
  linearProjection: boolean;
  /** GroupNorm groups: 32 in every SD UNet and VAE (architecture constant). */
  groups: number;
}

/** The KL autoencoder (`first_stage_model`). */
export interface VaeConfig {
  prefix: string; // `first_stage_model.`
  baseChannels: number; // 128
  channelMult: number[]; // [1,2,4,4]
  numResBlocks: number; // 2 (decoder has numResBlocks + 1 per level)
  latentChannels: number; // 4
  imageChannels: number; // 3
  /** Mid-block attention q/k/v/proj_out stored as 1x1 convs ([C,C,1,1]) or linears ([C,C]). */
  attentionAsLinear: boolean;
  groups: number;
  hasEncoder: boolean;
  hasDecoder: boolean;
}

/** What a checkpoint holds and how to run it. */
export interface CheckpointArchitecture {
  family: ModelFamily;
  inpaint: boolean;
  unet: UnetConfig | null;
  /** Text encoders in conditioning order: SD1.5 [CLIP-L]; SDXL [CLIP-L, bigG]; refiner [bigG]. */
  textEncoders: ClipTextConfig[];
  vae: VaeConfig | null;
}

/** Number of heads for a transformer with `channels` channels under a UNet's attention rule. */
export function attentionHeads(config: UnetConfig, channels: number): number {
  return 'numHeads' in config.attention ? config.attention.numHeads : Math.max(1, channels / config.attention.headChannels);
}
