/**
 * The whole GroundingDINO forward pass as one ONNX graph for one input size (Swin's windows and the two-stage
 * proposals depend on it), named by the checkpoint's keys.
 *
 * Inputs:  pixel_values [1, 3, H, W] (ImageNet-normalized), input_ids / position_ids [1, T] (int64),
 *          text_attention [1, T, T] (1 = may attend: the phrase blocks)
 * Outputs: logits [1, K, T] (query-token contrastive logits), boxes [1, K, 4] (cx, cy, w, h relative to H, W)
 */
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { attr, GraphBuilder } from '../onnx/graph-builder.ts';
import type { OnnxModel } from '../onnx/onnx-proto.ts';
import { additiveMask, buildBertText } from '../graphs/grounding-dino-bert.ts';
import { buildGroundingDecoder, selectQueries } from '../graphs/grounding-dino-decoder.ts';
import { flattenLevels, readLevelGeometry } from '../graphs/grounding-dino-deformable.ts';
import { buildGroundingEncoder, buildVisionNeck, textPositionEmbedding } from '../graphs/grounding-dino-encoder.ts';
import { linear } from '../graphs/layers.ts';
import { buildSwinBackbone, swinStageSize } from '../graphs/swin-backbone.ts';
import { buildEncoderReferencePoints, buildLevelPositions, buildProposals, listLevelSizes } from './grounding-dino-geometry.ts';
import { GROUNDING_TEXT_PREFIX, type GroundingDinoLayout } from './grounding-dino-layout.ts';

export function buildGroundingDinoGraph(header: SafetensorsHeader, layout: GroundingDinoLayout, height: number, width: number): OnnxModel {
  const g = new GraphBuilder('grounding-dino', header);
  const { transformer: shape, swin } = layout;
  const pixels = g.input('pixel_values', 'float32', [1, 3, height, width]);
  const ids = g.input('input_ids', 'int64', [1, 'tokens']);
  const positionIds = g.input('position_ids', 'int64', [1, 'tokens']);
  const textAttention = g.input('text_attention', 'float32', [1, 'tokens', 'tokens']);

  // 1. text features, and the phrase mask the encoder's text layers reuse
  const textMask = additiveMask(g, textAttention);
  const text = linear(g, buildBertText(g, GROUNDING_TEXT_PREFIX, ids, positionIds, textAttention, layout.bertLayers), 'model.text_projection.'); // [1, T, W]

  // 2. image levels: backbone stages through the neck, flattened, with their positions and reference points
  const stages = buildSwinBackbone(g, pixels, swin, height, width);
  const maps = buildVisionNeck(g, stages, shape.levels);
  const sizes = listLevelSizes(swin.outStages.map((s) => swinStageSize(height, width, swin, s)), shape.levels);
  const tokens = sizes.reduce((n, [h, w]) => n + h * w, 0);
  const geometry = readLevelGeometry(g, maps);
  const levelEmbed = g.weight('model.level_embed', [shape.levels, shape.width]);
  const levelOfToken = sizes.flatMap(([h, w], l) => new Array<number>(h * w).fill(l));
  const perTokenLevel = g.op('Gather', [levelEmbed, g.constInt64(levelOfToken)], { axis: attr.int(0) }); // [S, W]
  const visionPositions = g.op('Add', [g.constFloat(buildLevelPositions(sizes, shape.width), [1, tokens, shape.width]), perTokenLevel]);

  // 3. feature enhancer
  const [memory, enhancedText] = buildGroundingEncoder(
    g,
    {
      vision: flattenLevels(g, maps),
      visionPositions,
      reference: g.constFloat(buildEncoderReferencePoints(sizes), [1, tokens, shape.levels, 2]),
      geometry,
      text,
      textPositions: textPositionEmbedding(g, positionIds, shape.width),
      textMask,
    },
    shape,
  );

  // 4. language-guided query selection and the decoder
  const { reference, target } = selectQueries(g, { memory, text: enhancedText, proposals: buildProposals(sizes), queries: Math.min(layout.queries, tokens) });
  const { logits, boxes } = buildGroundingDecoder(g, { target, reference, memory, text: enhancedText, geometry }, shape);
  const queries = Math.min(layout.queries, tokens);
  g.output(logits, 'logits', 'float32', [1, queries, 'tokens']);
  g.output(boxes, 'boxes', 'float32', [1, queries, 4]);
  return g.build({ 'fooocus.graph': 'grounding-dino', 'fooocus.input_size': `${height}x${width}` });
}
