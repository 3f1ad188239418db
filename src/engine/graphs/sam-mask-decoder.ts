/**
 * SAM's prompt encoder for boxes and its mask decoder (Kirillov et al. 2023), as one graph named by transformers'
 * `prompt_encoder.*`, `mask_decoder.*` and `shared_image_embedding.*` keys:
 *
 * - a box is its two corners, each a random-Fourier position (Tancik et al. 2020) of the pixel centre in the
 *   padded input frame plus its corner embedding (`point_embed.2` top-left, `point_embed.3` bottom-right); with no
 *   mask prompt the dense embedding is `no_mask_embed` at every position;
 * - a two-way transformer lets the output tokens (IoU token, mask tokens) and the prompt tokens attend to the
 *   image embedding and back; transposed convs upscale the image side 4x; each mask token's hypernetwork MLP
 *   gives the weights that turn the upscaled map into that mask's logits; an MLP on the IoU token predicts each
 *   mask's quality.
 *
 * Inputs:  image_embeddings [1, 256, G, G] (the encoder's, computed once per image); boxes [N, 4] as x1, y1, x2,
 *          y2 in the encoder's input frame (pixels of the resized image, before padding)
 * Outputs: masks [N, M, 4G, 4G] logits of every mask token (M = 4: the single mask, then three multimask
 *          candidates); iou [N, M]
 */
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { attr, GraphBuilder } from '../onnx/graph-builder.ts';
import type { OnnxModel } from '../onnx/onnx-proto.ts';
import { SAM_DECODER, SAM_PROFILE, SAM_PROMPT, type SamDecoderLayout } from '../segment/sam-layout.ts';
import { attention, gelu, layerNorm, linear } from './layers.ts';
import { channelLayerNorm } from './sam-image-encoder.ts';

/** sin/cos of 2 pi (2c - 1) B for coordinates c in 0..1, B the [2, hidden / 2] Gaussian matrix: [..., hidden]. */
function encodePositions(g: GraphBuilder, coords: string, cfg: SamDecoderLayout): string {
  const centred = g.op('Sub', [g.op('Mul', [coords, g.constFloat([2], [])]), g.constFloat([1], [])]);
  const angles = g.op('Mul', [g.op('MatMul', [centred, g.weight(cfg.positionKey)]), g.constFloat([2 * Math.PI], [])]);
  return g.op('Concat', [g.op('Sin', [angles]), g.op('Cos', [angles])], { axis: attr.int(-1) });
}

/** Positions of the embedding grid's cell centres, x then y, each in 0..1: [G * G, 2] in row-major cell order. */
function gridCentres(grid: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < grid; y++) for (let x = 0; x < grid; x++) out.push((x + 0.5) / grid, (y + 0.5) / grid);
  return out;
}

/** SAM's attention: projections to `internal` width (hidden, or hidden / 2 across), heads, back to hidden. */
function samAttention(g: GraphBuilder, q: string, k: string, v: string, prefix: string, cfg: SamDecoderLayout): string {
  const internal = g.shapeOf(`${prefix}q_proj.weight`)![0]!;
  const heads = cfg.heads;
  const out = attention(g, linear(g, q, `${prefix}q_proj.`), linear(g, k, `${prefix}k_proj.`), linear(g, v, `${prefix}v_proj.`), heads, internal / heads);
  return linear(g, out, `${prefix}out_proj.`);
}

/**
 * One two-way block: token self-attention (without positions in block 0, whose output replaces the tokens),
 * tokens to image, MLP on tokens, image to tokens; each followed by a LayerNorm.
 */
function buildTwoWayBlock(g: GraphBuilder, queries: string, keys: string, queryPe: string, keyPe: string, layer: number, cfg: SamDecoderLayout): [string, string] {
  const p = `${SAM_DECODER}transformer.layers.${layer}.`;
  const eps = SAM_PROFILE.normEps;
  let q = queries;
  if (layer === 0) q = samAttention(g, q, q, q, `${p}self_attn.`, cfg);
  else {
    const withPe = g.op('Add', [q, queryPe]);
    q = g.op('Add', [q, samAttention(g, withPe, withPe, q, `${p}self_attn.`, cfg)]);
  }
  q = layerNorm(g, q, `${p}layer_norm1.`, eps);
  const keysPe = g.op('Add', [keys, keyPe]);
  q = layerNorm(g, g.op('Add', [q, samAttention(g, g.op('Add', [q, queryPe]), keysPe, keys, `${p}cross_attn_token_to_image.`, cfg)]), `${p}layer_norm2.`, eps);
  const mlp = linear(g, g.op('Relu', [linear(g, q, `${p}mlp.lin1.`)]), `${p}mlp.lin2.`);
  q = layerNorm(g, g.op('Add', [q, mlp]), `${p}layer_norm3.`, eps);
  const back = samAttention(g, keysPe, g.op('Add', [q, queryPe]), q, `${p}cross_attn_image_to_token.`, cfg);
  return [q, layerNorm(g, g.op('Add', [keys, back]), `${p}layer_norm4.`, eps)];
}

/** SamFeedForward: proj_in, hidden layers, proj_out, ReLU between them. */
function feedForward(g: GraphBuilder, x: string, prefix: string, depth: number): string {
  let h = g.op('Relu', [linear(g, x, `${prefix}proj_in.`)]);
  for (let i = 0; i < depth - 2; i++) h = g.op('Relu', [linear(g, h, `${prefix}layers.${i}.`)]);
  return linear(g, h, `${prefix}proj_out.`);
}

/** The tokens the decoder starts from: IoU token, mask tokens, then the two corner tokens of each box: [N, 3 + M, C]. */
function buildPromptTokens(g: GraphBuilder, boxes: string, cfg: SamDecoderLayout, imageSize: number): string {
  const count = g.op('Slice', [g.op('Shape', [boxes]), g.constInt64([0]), g.constInt64([1])]); // [N]
  const corners = g.op('Reshape', [g.op('Add', [boxes, g.constFloat([0.5], [])]), g.constInt64([-1, 2, 2])]); // pixel centres, [N, 2, 2]
  const cornerEmbeds = g.op('Concat', [g.weight(`${SAM_PROMPT}point_embed.2.weight`), g.weight(`${SAM_PROMPT}point_embed.3.weight`)], { axis: attr.int(0) }); // [2, C]
  const sparse = g.op('Add', [encodePositions(g, g.op('Div', [corners, g.constFloat([imageSize], [])]), cfg), cornerEmbeds]); // [N, 2, C]
  const output = g.op('Concat', [g.weight(`${SAM_DECODER}iou_token.weight`), g.weight(`${SAM_DECODER}mask_tokens.weight`)], { axis: attr.int(0) }); // [1 + M, C]
  const shape = g.op('Concat', [count, g.constInt64([1 + cfg.maskTokens, cfg.hidden])], { axis: attr.int(0) });
  return g.op('Concat', [g.op('Expand', [g.op('Unsqueeze', [output, g.constInt64([0])]), shape]), sparse], { axis: attr.int(1) });
}

export function buildSamMaskDecoderGraph(checkpoint: SafetensorsHeader, cfg: SamDecoderLayout, grid: number, imageSize: number): OnnxModel {
  const g = new GraphBuilder('sam-mask-decoder', checkpoint);
  const C = cfg.hidden;
  const M = cfg.maskTokens;
  const embeddings = g.input('image_embeddings', 'float32', [1, C, grid, grid]);
  const boxes = g.input('boxes', 'float32', ['boxes', 4]);
  // 1. prompt: tokens from the boxes, the dense no-mask embedding and the grid's positions
  const tokens = buildPromptTokens(g, boxes, cfg, imageSize); // [N, 7, C]
  const count = g.op('Slice', [g.op('Shape', [boxes]), g.constInt64([0]), g.constInt64([1])]);
  const image = g.op('Add', [g.op('Transpose', [g.op('Reshape', [embeddings, g.constInt64([1, C, grid * grid])])], { perm: attr.ints([0, 2, 1]) }), g.weight(`${SAM_PROMPT}no_mask_embed.weight`)]); // [1, G*G, C]
  const keysShape = g.op('Concat', [count, g.constInt64([grid * grid, C])], { axis: attr.int(0) });
  let keys = g.op('Expand', [image, keysShape]); // [N, G*G, C]
  const keyPe = g.op('Unsqueeze', [encodePositions(g, g.constFloat(gridCentres(grid), [grid * grid, 2]), cfg), g.constInt64([0])]); // [1, G*G, C]
  // 2. two-way transformer, then the tokens' last look at the image
  let queries = tokens;
  for (let i = 0; i < cfg.layers; i++) [queries, keys] = buildTwoWayBlock(g, queries, keys, tokens, keyPe, i, cfg);
  const f = `${SAM_DECODER}transformer.`;
  const last = samAttention(g, g.op('Add', [queries, tokens]), g.op('Add', [keys, keyPe]), keys, `${f}final_attn_token_to_image.`, cfg);
  queries = layerNorm(g, g.op('Add', [queries, last]), `${f}layer_norm_final_attn.`, SAM_PROFILE.finalNormEps); // [N, 7, C]
  // 3. upscale the image side 4x
  const map = g.op('Reshape', [g.op('Transpose', [keys], { perm: attr.ints([0, 2, 1]) }), g.constInt64([-1, C, grid, grid])]);
  const deconv = (x: string, key: string): string =>
    g.op('ConvTranspose', [x, g.weight(`${SAM_DECODER}${key}.weight`), g.weight(`${SAM_DECODER}${key}.bias`)], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) });
  const up1 = gelu(g, channelLayerNorm(g, deconv(map, 'upscale_conv1'), `${SAM_DECODER}upscale_layer_norm.`)); // [N, C/4, 2G, 2G]
  const upscaled = gelu(g, deconv(up1, 'upscale_conv2')); // [N, C/8, 4G, 4G]
  const lowChannels = g.shapeOf(`${SAM_DECODER}upscale_conv2.weight`)![1]!;
  // 4. one hypernetwork per mask token gives that mask's weights over the upscaled channels
  const tokenAt = (i: number): string => g.op('Gather', [queries, g.constInt64([i], [])], { axis: attr.int(1) }); // [N, C]
  const hyper = Array.from({ length: M }, (_, i) => g.op('Unsqueeze', [feedForward(g, tokenAt(1 + i), `${SAM_DECODER}output_hypernetworks_mlps.${i}.`, cfg.mlpDepth), g.constInt64([1])]));
  const weights = g.op('Concat', hyper, { axis: attr.int(1) }); // [N, M, C/8]
  const side = 4 * grid;
  const masks = g.op('MatMul', [weights, g.op('Reshape', [upscaled, g.constInt64([-1, lowChannels, side * side])])]); // [N, M, 16 G^2]
  g.output(g.op('Reshape', [masks, g.constInt64([-1, M, side, side])]), 'masks', 'float32', ['boxes', M, side, side]);
  // 5. predicted IoU of every mask
  g.output(feedForward(g, tokenAt(0), `${SAM_DECODER}iou_prediction_head.`, cfg.mlpDepth), 'iou', 'float32', ['boxes', M]);
  return g.build({ 'fooocus.graph': 'sam-mask-decoder' });
}
