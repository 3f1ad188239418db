/**
 * Reference forward pass of the diffusion UNet, a literal transcription of `UNetModel` in the CompVis LDM /
 * Stability SGM `openaimodel.py` and of `SpatialTransformer` / `BasicTransformerBlock` / `CrossAttention` in
 * `attention.py`, addressed by the checkpoint's own key names. Dropout is identity (inference).
 */
import type { UnetConfig } from '../../src/engine/models/architecture.ts';
import {
  add,
  addPerChannel,
  attention,
  concat,
  conv2d,
  gelu,
  groupNorm,
  imageToTokens,
  layerNorm,
  linear,
  mul,
  silu,
  slice,
  timestepEmbedding,
  tokensToImage,
  upsampleNearest2x,
} from './ops.ts';
import { dim, expectShape, type RefTensor, type WeightSource } from './tensor.ts';

/** GroupNorm eps of `normalization()` (GroupNorm32) in openaimodel ResBlocks and the output head: torch's default. */
const UNET_NORM_EPS = 1e-5;
/** GroupNorm eps of `SpatialTransformer.norm` (`Normalize` in attention.py). */
const TRANSFORMER_NORM_EPS = 1e-6;

/**
 * Heads of a transformer with `channels` channels: ldm's `num_heads` (head width = channels / heads) or
 * `num_head_channels` (heads = channels / head width, at least one, as the engine's `attentionHeads`).
 */
export function unetHeads(cfg: UnetConfig, channels: number): number {
  if ('numHeads' in cfg.attention) return cfg.attention.numHeads;
  const heads = Math.max(1, channels / cfg.attention.headChannels);
  if (!Number.isInteger(heads)) throw new Error(`${channels} channels do not split into heads of ${cfg.attention.headChannels}`);
  return heads;
}

/**
 * openaimodel `ResBlock` without scale-shift norm: in_layers (GroupNorm, SiLU, conv3x3), plus
 * emb_layers (SiLU, Linear) broadcast over H and W, out_layers (GroupNorm, SiLU, dropout, conv3x3), and a 1x1
 * `skip_connection` when the channel count changes. x [B, Cin, H, W], emb [B, timeEmbedDim] -> [B, Cout, H, W].
 */
export function resBlockReference(weights: WeightSource, prefix: string, x: RefTensor, emb: RefTensor, groups: number): RefTensor {
  const w = (name: string): RefTensor => weights(prefix + name);
  const inConv = w('in_layers.2.weight'); // [Cout, Cin, 3, 3]
  const cin = dim(x, 1);
  const cout = dim(inConv, 0);
  let h = groupNorm(x, groups, w('in_layers.0.weight'), w('in_layers.0.bias'), UNET_NORM_EPS);
  h = conv2d(silu(h), inConv, w('in_layers.2.bias'), { padding: 1 });
  const e = linear(silu(emb), w('emb_layers.1.weight'), w('emb_layers.1.bias')); // [B, Cout]
  h = addPerChannel(h, e);
  h = groupNorm(h, groups, w('out_layers.0.weight'), w('out_layers.0.bias'), UNET_NORM_EPS);
  h = conv2d(silu(h), w('out_layers.3.weight'), w('out_layers.3.bias'), { padding: 1 });
  const skip = cin === cout ? x : conv2d(x, w('skip_connection.weight'), w('skip_connection.bias'));
  return add(skip, h);
}

/** Extra attention output a cross-attention layer adds before its output projection (IP-Adapter), from its queries. */
export type CrossAttentionExtra = (prefix: string, q: RefTensor, heads: number) => RefTensor;

/** ldm `CrossAttention`: to_q/to_k/to_v without bias, keys and values from `context` (self-attention when null). */
function crossAttentionReference(
  weights: WeightSource,
  prefix: string,
  x: RefTensor,
  context: RefTensor | null,
  heads: number,
  extra?: CrossAttentionExtra,
): RefTensor {
  const source = context ?? x;
  const q = linear(x, weights(`${prefix}to_q.weight`), null); // [B, T, inner]
  const k = linear(source, weights(`${prefix}to_k.weight`), null); // [B, S, inner]
  const v = linear(source, weights(`${prefix}to_v.weight`), null); // [B, S, inner]
  const o = attention(q, k, v, heads);
  const withExtra = extra === undefined ? o : add(o, extra(prefix, q, heads));
  return linear(withExtra, weights(`${prefix}to_out.0.weight`), weights(`${prefix}to_out.0.bias`));
}

/** ldm `FeedForward` with GEGLU: proj to 2*inner, split into (value, gate), value * gelu(gate), then net.2. */
function feedForwardReference(weights: WeightSource, prefix: string, x: RefTensor): RefTensor {
  const projected = linear(x, weights(`${prefix}net.0.proj.weight`), weights(`${prefix}net.0.proj.bias`)); // [B, T, 2*inner]
  const inner = dim(projected, -1) / 2;
  const value = slice(projected, -1, 0, inner);
  const gate = slice(projected, -1, inner, 2 * inner);
  return linear(mul(value, gelu(gate)), weights(`${prefix}net.2.weight`), weights(`${prefix}net.2.bias`));
}

/**
 * ldm `BasicTransformerBlock` (pre-LayerNorm, eps 1e-5): self-attention, cross-attention on `context`, GEGLU
 * feed-forward, each added back to its input. x [B, T, C], context [B, S, contextDim] -> [B, T, C].
 */
export function basicTransformerBlockReference(
  weights: WeightSource,
  prefix: string,
  x: RefTensor,
  context: RefTensor,
  heads: number,
  extra?: CrossAttentionExtra,
): RefTensor {
  const norm = (name: string, t: RefTensor): RefTensor => layerNorm(t, weights(`${prefix}${name}.weight`), weights(`${prefix}${name}.bias`));
  let h = add(x, crossAttentionReference(weights, `${prefix}attn1.`, norm('norm1', x), null, heads));
  h = add(h, crossAttentionReference(weights, `${prefix}attn2.`, norm('norm2', h), context, heads, extra));
  return add(h, feedForwardReference(weights, `${prefix}ff.`, norm('norm3', h)));
}

export interface SpatialTransformerOptions {
  heads: number;
  depth: number;
  /** proj_in/proj_out as Linear applied after flattening to tokens (SD2.x/SDXL), else 1x1 conv before it (SD1.5). */
  linearProjection: boolean;
  groups: number;
  /** Added to every cross-attention layer (attn2) before its output projection. */
  extra?: CrossAttentionExtra;
}

/**
 * ldm/sgm `SpatialTransformer`: GroupNorm (eps 1e-6), proj_in, `depth` BasicTransformerBlocks over the H*W
 * tokens, proj_out, plus the input. x [B, C, H, W], context [B, S, contextDim] -> [B, C, H, W].
 */
export function spatialTransformerReference(
  weights: WeightSource,
  prefix: string,
  x: RefTensor,
  context: RefTensor,
  opts: SpatialTransformerOptions,
): RefTensor {
  const w = (name: string): RefTensor => weights(prefix + name);
  const [, , H, W] = x.shape as [number, number, number, number];
  const normed = groupNorm(x, opts.groups, w('norm.weight'), w('norm.bias'), TRANSFORMER_NORM_EPS);
  let tokens = opts.linearProjection
    ? linear(imageToTokens(normed), w('proj_in.weight'), w('proj_in.bias'))
    : imageToTokens(conv2d(normed, w('proj_in.weight'), w('proj_in.bias'))); // [B, H*W, inner]
  for (let i = 0; i < opts.depth; i++) {
    tokens = basicTransformerBlockReference(weights, `${prefix}transformer_blocks.${i}.`, tokens, context, opts.heads, opts.extra);
  }
  const h = opts.linearProjection
    ? tokensToImage(linear(tokens, w('proj_out.weight'), w('proj_out.bias')), H, W)
    : conv2d(tokensToImage(tokens, H, W), w('proj_out.weight'), w('proj_out.bias'));
  return add(h, x);
}

/** openaimodel `Downsample` with conv: `op`, 3x3, stride 2, padding 1. */
export function downsampleReference(weights: WeightSource, prefix: string, x: RefTensor): RefTensor {
  return conv2d(x, weights(`${prefix}op.weight`), weights(`${prefix}op.bias`), { stride: 2, padding: 1 });
}

/** openaimodel / ldm `Upsample` with conv: nearest 2x, then `conv` 3x3 padding 1 (same keys in UNet and VAE). */
export function upsampleReference(weights: WeightSource, prefix: string, x: RefTensor): RefTensor {
  return conv2d(upsampleNearest2x(x), weights(`${prefix}conv.weight`), weights(`${prefix}conv.bias`), { padding: 1 });
}

/** The [B, 4*modelChannels] embedding: time_embed(timestep_embedding(t)) plus label_emb(y) for SDXL. */
function timeEmbeddingReference(weights: WeightSource, cfg: UnetConfig, timesteps: readonly number[], y: RefTensor | null): RefTensor {
  const p = cfg.prefix;
  const mlp = (base: string, second: string, v: RefTensor): RefTensor =>
    linear(silu(linear(v, weights(`${p}${base}.weight`), weights(`${p}${base}.bias`))), weights(`${p}${second}.weight`), weights(`${p}${second}.bias`));
  const emb = mlp('time_embed.0', 'time_embed.2', timestepEmbedding(timesteps, cfg.modelChannels));
  if (cfg.admInChannels === null) {
    if (y !== null) throw new Error('unetReference: y given to a UNet without label_emb');
    return emb;
  }
  if (y === null) throw new Error('unetReference: this UNet needs the ADM vector y');
  expectShape(y, [timesteps.length, cfg.admInChannels], 'unetReference y');
  return add(emb, mlp('label_emb.0.0', 'label_emb.0.2', y));
}

/**
 * `UNetModel.forward(x, timesteps, context, y, control)`: x [B, inChannels, H, W], one timestep per batch row,
 * context [B, S, contextDim], y [B, admInChannels] or null, optional ControlNet residuals -> [B, outChannels, H, W].
 *
 * Block indices as in `UNetModel.__init__`: input_blocks.0 is conv_in; then per level `numResBlocks[level]`
 * blocks of (ResBlock, SpatialTransformer if its depth > 0), and a Downsample block after every level but the last.
 * middle_block is ResBlock, SpatialTransformer (when its depth > 0), ResBlock. Output blocks run the levels in
 * reverse, `numResBlocks[level] + 1` each, every one a ResBlock on concat(h, skip), its transformer, and after the
 * level's last block (but not on level 0) an Upsample as the block's last sub-module.
 */
export function unetReference(
  weights: WeightSource,
  cfg: UnetConfig,
  x: RefTensor,
  timesteps: readonly number[],
  context: RefTensor,
  y: RefTensor | null,
  extra?: CrossAttentionExtra,
  control?: { skips: readonly RefTensor[]; middle: RefTensor },
): RefTensor {
  const p = cfg.prefix;
  const B = dim(x, 0);
  expectShape(x, [B, cfg.inChannels, dim(x, 2), dim(x, 3)], 'unetReference x');
  if (timesteps.length !== B) throw new Error(`unetReference: ${timesteps.length} timesteps for a batch of ${B}`);
  expectShape(context, [B, dim(context, 1), cfg.contextDim], 'unetReference context');
  const emb = timeEmbeddingReference(weights, cfg, timesteps, y); // [B, 4*modelChannels]
  const transformer = (prefix: string, h: RefTensor, depth: number): RefTensor =>
    spatialTransformerReference(weights, prefix, h, context, {
      heads: unetHeads(cfg, dim(h, 1)),
      depth,
      linearProjection: cfg.linearProjection,
      groups: cfg.groups,
      ...(extra === undefined ? {} : { extra }),
    });

  // 1. input blocks, keeping every block's output as a skip
  let h = conv2d(x, weights(`${p}input_blocks.0.0.weight`), weights(`${p}input_blocks.0.0.bias`), { padding: 1 });
  const skips: RefTensor[] = [h];
  let block = 0;
  const levels = cfg.channelMult.length;
  for (let level = 0; level < levels; level++) {
    for (let r = 0; r < levelResBlocks(cfg, level); r++) {
      block += 1;
      h = resBlockReference(weights, `${p}input_blocks.${block}.0.`, h, emb, cfg.groups);
      const depth = cfg.inputTransformerDepth[block] ?? 0;
      if (depth > 0) h = transformer(`${p}input_blocks.${block}.1.`, h, depth);
      skips.push(h);
    }
    if (level !== levels - 1) {
      block += 1;
      h = downsampleReference(weights, `${p}input_blocks.${block}.0.`, h);
      skips.push(h);
    }
  }

  // 2. middle block
  h = resBlockReference(weights, `${p}middle_block.0.`, h, emb, cfg.groups);
  let mid = 1;
  if (cfg.middleTransformerDepth > 0) {
    h = transformer(`${p}middle_block.1.`, h, cfg.middleTransformerDepth);
    mid = 2;
  }
  h = resBlockReference(weights, `${p}middle_block.${mid}.`, h, emb, cfg.groups);
  if (control !== undefined) {
    // a ControlNet's residuals: one per skip connection, one for the middle block's output
    h = add(h, control.middle);
    skips.forEach((skip, i) => (skips[i] = add(skip, control.skips[i]!)));
  }

  // 3. output blocks, consuming the skips last-in first-out
  let out = 0;
  for (let level = levels - 1; level >= 0; level--) {
    const count = levelResBlocks(cfg, level) + 1;
    for (let i = 0; i < count; i++) {
      const skip = skips.pop();
      if (skip === undefined) throw new Error('unetReference: ran out of skip connections');
      h = resBlockReference(weights, `${p}output_blocks.${out}.0.`, concat([h, skip], 1), emb, cfg.groups);
      let sub = 1;
      const depth = cfg.outputTransformerDepth[out] ?? 0;
      if (depth > 0) {
        h = transformer(`${p}output_blocks.${out}.1.`, h, depth);
        sub = 2;
      }
      if (level > 0 && i === count - 1) h = upsampleReference(weights, `${p}output_blocks.${out}.${sub}.`, h);
      out += 1;
    }
  }

  // 4. output head: GroupNorm, SiLU, conv3x3
  h = groupNorm(h, cfg.groups, weights(`${p}out.0.weight`), weights(`${p}out.0.bias`), UNET_NORM_EPS);
  return conv2d(silu(h), weights(`${p}out.2.weight`), weights(`${p}out.2.bias`), { padding: 1 });
}

export function levelResBlocks(cfg: UnetConfig, level: number): number {
  const n = cfg.numResBlocks[level];
  if (n === undefined) throw new Error(`UnetConfig.numResBlocks has no entry for level ${level}`);
  return n;
}
