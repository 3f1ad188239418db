/**
 * The CLIP vision tower's configuration, read from a checkpoint in transformers' layout (`vision_model.*`, as
 * Fooocus's float16 `clip_vision_vit_h.safetensors` and the IP-Adapter publisher's float32
 * `models/image_encoder/model.safetensors`; keys the tower does not use, such as the `position_ids` buffer older
 * transformers versions saved, are left alone): width, depth, patch and image size come from tensor shapes; the
 * head count and the MLP activation, which shapes do not carry, from the width of the published towers.
 */
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { ImagePromptModelError } from './image-prompt-model-error.ts';

export interface VisionEncoderConfig {
  width: number;
  layers: number;
  heads: number;
  patch: number;
  imageSize: number;
  /** Patches plus the class token. */
  tokens: number;
  mlpWidth: number;
  /** OpenAI's towers use quick_gelu; OpenCLIP's (ViT-H/14, bigG) exact GELU. */
  activation: 'gelu' | 'quick_gelu';
}

export const VISION_PREFIX = 'vision_model.';

/** Published towers by width: ViT-B/16 and /32, OpenAI ViT-L/14, OpenCLIP ViT-H/14, ViT-bigG/14. */
const KNOWN_TOWERS: Record<number, { heads: number; activation: VisionEncoderConfig['activation'] }> = {
  768: { heads: 12, activation: 'quick_gelu' },
  1024: { heads: 16, activation: 'quick_gelu' },
  1280: { heads: 16, activation: 'gelu' },
  1664: { heads: 16, activation: 'gelu' },
};

/** `overrides` give the head count and activation of a tower of unpublished width (test fixtures). */
export function detectVisionEncoder(header: SafetensorsHeader, overrides: Partial<Pick<VisionEncoderConfig, 'heads' | 'activation'>> = {}): VisionEncoderConfig {
  const shape = (key: string): number[] => {
    const s = header.tensors.get(VISION_PREFIX + key)?.shape;
    if (s === undefined) throw new ImagePromptModelError(header.file, `"${VISION_PREFIX}${key}" is missing: not a CLIP vision encoder in transformers' layout`);
    return s;
  };
  const patchShape = shape('embeddings.patch_embedding.weight'); // [W, 3, p, p]
  const [width, channels, patch] = patchShape as [number, number, number];
  if (patchShape.length !== 4 || channels !== 3 || patchShape[3] !== patch) {
    throw new ImagePromptModelError(header.file, `"${VISION_PREFIX}embeddings.patch_embedding.weight" has shape [${patchShape}], expected [width, 3, p, p]`);
  }
  const [tokens, positionWidth] = shape('embeddings.position_embedding.weight') as [number, number];
  const side = Math.round(Math.sqrt(tokens - 1));
  if (positionWidth !== width || side * side !== tokens - 1) {
    throw new ImagePromptModelError(header.file, `"${VISION_PREFIX}embeddings.position_embedding.weight" does not fit ${width}-wide patch embeddings`);
  }
  let layers = 0;
  while (header.tensors.has(`${VISION_PREFIX}encoder.layers.${layers}.self_attn.q_proj.weight`)) layers++;
  if (layers < 2) throw new ImagePromptModelError(header.file, `a vision encoder needs at least 2 layers, found ${layers}`);
  const mlpWidth = shape('encoder.layers.0.mlp.fc1.weight')[0]!;
  const known = KNOWN_TOWERS[width];
  const heads = overrides.heads ?? known?.heads;
  const activation = overrides.activation ?? known?.activation;
  if (heads === undefined || activation === undefined) throw new ImagePromptModelError(header.file, `no published CLIP vision tower is ${width} wide`);
  if (width % heads !== 0) throw new ImagePromptModelError(header.file, `width ${width} does not split into ${heads} heads`);
  return { width, layers, heads, patch, imageSize: side * patch, tokens, mlpWidth, activation };
}
