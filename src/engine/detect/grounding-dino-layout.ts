/**
 * Recognizes a GroundingDINO checkpoint (transformers' `GroundingDinoForObjectDetection` keys, as
 * IDEA-Research/grounding-dino-tiny's model.safetensors) and reads its sizes from the tensor shapes. Head counts
 * are the family's fixed head widths (32 in the detector, 64 in BERT), the one thing shapes do not say.
 */
import path from 'node:path';
import { FooocusError } from '../errors/fooocus-error.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { countBertLayers } from '../graphs/grounding-dino-bert.ts';
import type { GroundingDinoTransformerShape } from '../graphs/grounding-dino-encoder.ts';
import { detectSwinConfig, type SwinConfig } from '../graphs/swin-backbone.ts';

export const GROUNDING_BACKBONE_PREFIX = 'model.backbone.conv_encoder.model.';
export const GROUNDING_TEXT_PREFIX = 'model.text_backbone.';
/** Detector head width: grounding-dino-tiny has 8 heads over 256 channels. */
const DETECTOR_HEAD_DIM = 32;

/** The file is not a GroundingDINO checkpoint of the supported layout. */
export class GroundingDinoLayoutError extends FooocusError {
  constructor(file: string, detail: string) {
    super('invalid', `${path.basename(file)} is not a GroundingDINO checkpoint (transformers GroundingDinoForObjectDetection keys): ${detail}`, { file });
  }
}

export interface GroundingDinoLayout {
  swin: SwinConfig;
  transformer: GroundingDinoTransformerShape;
  bertLayers: number;
  queries: number;
}

/** Keys whose absence means another family, each named in the refusal. */
const REQUIRED_KEYS = [
  `${GROUNDING_BACKBONE_PREFIX}embeddings.patch_embeddings.projection.weight`,
  `${GROUNDING_TEXT_PREFIX}embeddings.word_embeddings.weight`,
  'model.text_projection.weight',
  'model.level_embed',
  'model.query_position_embeddings.weight',
  'model.encoder.layers.0.deformable_layer.self_attn.value_proj.weight',
  'model.decoder.layers.0.encoder_attn.attention_weights.weight',
  'model.enc_output.weight',
];

export function detectGroundingDinoLayout(header: SafetensorsHeader): GroundingDinoLayout {
  const shapeOf = (key: string): number[] | null => header.tensors.get(key)?.shape ?? null;
  const missing = REQUIRED_KEYS.filter((k) => shapeOf(k) === null);
  if (missing.length > 0) throw new GroundingDinoLayoutError(header.file, `missing ${missing.map((k) => `"${k}"`).join(', ')}`);
  const swin = detectSwinConfig(shapeOf, GROUNDING_BACKBONE_PREFIX);
  if (swin === null) throw new GroundingDinoLayoutError(header.file, 'its backbone is not a Swin Transformer with per-stage output norms');
  const [levels, width] = shapeOf('model.level_embed') as [number, number];
  let encoderLayers = 0;
  while (shapeOf(`model.encoder.layers.${encoderLayers}.deformable_layer.self_attn.value_proj.weight`) !== null) encoderLayers++;
  let decoderLayers = 0;
  while (shapeOf(`model.decoder.layers.${decoderLayers}.encoder_attn.value_proj.weight`) !== null) decoderLayers++;
  const heads = width / DETECTOR_HEAD_DIM;
  const weightRows = shapeOf('model.encoder.layers.0.deformable_layer.self_attn.attention_weights.weight')![0]!;
  const points = weightRows / (heads * levels);
  if (!Number.isInteger(heads) || heads < 2 || !Number.isInteger(points) || points < 1) {
    throw new GroundingDinoLayoutError(header.file, `width ${width} with ${weightRows} attention weights does not make ${DETECTOR_HEAD_DIM}-wide heads over ${levels} levels`);
  }
  if (swin.outStages.length > levels) throw new GroundingDinoLayoutError(header.file, `${swin.outStages.length} backbone outputs for ${levels} levels`);
  const queries = shapeOf('model.query_position_embeddings.weight')![0]!;
  return {
    swin,
    transformer: { width, heads, levels, points, encoderLayers, decoderLayers },
    bertLayers: countBertLayers((k) => shapeOf(k) !== null, GROUNDING_TEXT_PREFIX),
    queries,
  };
}
