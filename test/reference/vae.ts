/**
 * Reference forward passes of the KL autoencoder, a literal transcription of `Encoder` / `Decoder` in the CompVis
 * LDM `ldm/modules/diffusionmodules/model.py` (no time embedding, no attention outside the middle block: SD's VAE has
 * `attn_resolutions=[]`), plus `quant_conv` / `post_quant_conv` from `AutoencoderKL`. All GroupNorms use eps 1e-6
 * (`Normalize`). The latent scale factor is not applied here; the pipeline owns it.
 */
import type { VaeConfig } from '../../src/engine/models/architecture.ts';
import { add, attention, conv2d, groupNorm, imageToTokens, pad2d, silu, slice, tokensToImage } from './ops.ts';
import { dim, expectShape, reshape, type RefTensor, type WeightSource } from './tensor.ts';
import { upsampleReference } from './unet.ts';

const VAE_NORM_EPS = 1e-6;

/**
 * ldm `ResnetBlock` with temb_channels=0: norm1, swish, conv1, norm2, swish, dropout, conv2, and `nin_shortcut`
 * (1x1) on the input when the channel count changes. x [B, Cin, H, W] -> [B, Cout, H, W].
 */
export function vaeResnetBlockReference(weights: WeightSource, prefix: string, x: RefTensor, groups: number): RefTensor {
  const w = (name: string): RefTensor => weights(prefix + name);
  const conv1 = w('conv1.weight'); // [Cout, Cin, 3, 3]
  let h = groupNorm(x, groups, w('norm1.weight'), w('norm1.bias'), VAE_NORM_EPS);
  h = conv2d(silu(h), conv1, w('conv1.bias'), { padding: 1 });
  h = groupNorm(h, groups, w('norm2.weight'), w('norm2.bias'), VAE_NORM_EPS);
  h = conv2d(silu(h), w('conv2.weight'), w('conv2.bias'), { padding: 1 });
  const skip = dim(x, 1) === dim(conv1, 0) ? x : conv2d(x, w('nin_shortcut.weight'), w('nin_shortcut.bias'));
  return add(skip, h);
}

export interface VaeAttentionOptions {
  /** q/k/v/proj_out stored as [C, C] linears (diffusers-converted checkpoints) instead of [C, C, 1, 1] convs. */
  asLinear: boolean;
  groups: number;
}

/** A 1x1 conv; a [C, C] linear weight is the same map and is accepted when `asLinear`. */
function pointwise(weights: WeightSource, prefix: string, x: RefTensor, asLinear: boolean): RefTensor {
  const C = dim(x, 1);
  const w = weights(`${prefix}weight`);
  expectShape(w, asLinear ? [C, C] : [C, C, 1, 1], `${prefix}weight`);
  return conv2d(x, reshape(w, [C, C, 1, 1]), weights(`${prefix}bias`));
}

/**
 * ldm `AttnBlock`: GroupNorm, q/k/v as 1x1 maps, single-head attention over the H*W positions with scale C^-0.5
 * (`w_ * int(c)**(-0.5)`, softmax over keys), proj_out, plus the input. x [B, C, H, W] -> [B, C, H, W].
 */
export function vaeAttentionReference(weights: WeightSource, prefix: string, x: RefTensor, opts: VaeAttentionOptions): RefTensor {
  const [, , H, W] = x.shape as [number, number, number, number];
  const h = groupNorm(x, opts.groups, weights(`${prefix}norm.weight`), weights(`${prefix}norm.bias`), VAE_NORM_EPS);
  const q = imageToTokens(pointwise(weights, `${prefix}q.`, h, opts.asLinear)); // [B, HW, C]
  const k = imageToTokens(pointwise(weights, `${prefix}k.`, h, opts.asLinear));
  const v = imageToTokens(pointwise(weights, `${prefix}v.`, h, opts.asLinear));
  const attended = tokensToImage(attention(q, k, v, 1), H, W); // one head of width C: scale C^-0.5
  return add(x, pointwise(weights, `${prefix}proj_out.`, attended, opts.asLinear));
}

/** ldm encoder `Downsample` with conv: zero pad (left 0, right 1, top 0, bottom 1), then 3x3 stride 2 padding 0. */
export function vaeDownsampleReference(weights: WeightSource, prefix: string, x: RefTensor): RefTensor {
  return conv2d(pad2d(x, [0, 1, 0, 1]), weights(`${prefix}conv.weight`), weights(`${prefix}conv.bias`), { stride: 2 });
}

/** `mid.block_1`, `mid.attn_1`, `mid.block_2` under `prefix` (`encoder.` or `decoder.`). */
function vaeMidReference(weights: WeightSource, cfg: VaeConfig, prefix: string, x: RefTensor): RefTensor {
  let h = vaeResnetBlockReference(weights, `${prefix}mid.block_1.`, x, cfg.groups);
  h = vaeAttentionReference(weights, `${prefix}mid.attn_1.`, h, { asLinear: cfg.attentionAsLinear, groups: cfg.groups });
  return vaeResnetBlockReference(weights, `${prefix}mid.block_2.`, h, cfg.groups);
}

/** norm_out, swish, conv_out (3x3) under `prefix`. */
function vaeOutReference(weights: WeightSource, cfg: VaeConfig, prefix: string, x: RefTensor): RefTensor {
  const h = groupNorm(x, cfg.groups, weights(`${prefix}norm_out.weight`), weights(`${prefix}norm_out.bias`), VAE_NORM_EPS);
  return conv2d(silu(h), weights(`${prefix}conv_out.weight`), weights(`${prefix}conv_out.bias`), { padding: 1 });
}

/**
 * `AutoencoderKL.decode`: post_quant_conv (1x1), decoder conv_in, mid, then levels from the highest down, each
 * `numResBlocks + 1` ResnetBlocks (`decoder.up.{level}.block.{i}`) and, above level 0, `decoder.up.{level}.upsample`;
 * norm_out, swish, conv_out. z [B, latentChannels, h, w] -> [B, imageChannels, h * 2^(levels-1), ...] (8x for SD).
 */
export function vaeDecodeReference(weights: WeightSource, cfg: VaeConfig, z: RefTensor): RefTensor {
  const p = cfg.prefix;
  expectShape(z, [dim(z, 0), cfg.latentChannels, dim(z, 2), dim(z, 3)], 'vaeDecodeReference z');
  let h = conv2d(z, weights(`${p}post_quant_conv.weight`), weights(`${p}post_quant_conv.bias`));
  h = conv2d(h, weights(`${p}decoder.conv_in.weight`), weights(`${p}decoder.conv_in.bias`), { padding: 1 });
  h = vaeMidReference(weights, cfg, `${p}decoder.`, h);
  for (let level = cfg.channelMult.length - 1; level >= 0; level--) {
    for (let i = 0; i < cfg.numResBlocks + 1; i++) {
      h = vaeResnetBlockReference(weights, `${p}decoder.up.${level}.block.${i}.`, h, cfg.groups);
    }
    if (level !== 0) h = upsampleReference(weights, `${p}decoder.up.${level}.upsample.`, h);
  }
  return vaeOutReference(weights, cfg, `${p}decoder.`, h);
}

/**
 * `AutoencoderKL.encode(x).mean`: encoder conv_in, per level `numResBlocks` ResnetBlocks (`encoder.down.{level}.block.{i}`)
 * and, below the last level, `encoder.down.{level}.downsample`; mid; norm_out, swish, conv_out (2 * latentChannels:
 * mean and log-variance); quant_conv (1x1); the posterior mean is the first latentChannels channels
 * (`DiagonalGaussianDistribution`: `mean, logvar = torch.chunk(parameters, 2, dim=1)`). img [B, imageChannels, H, W].
 */
export function vaeEncodeReference(weights: WeightSource, cfg: VaeConfig, img: RefTensor): RefTensor {
  const p = cfg.prefix;
  expectShape(img, [dim(img, 0), cfg.imageChannels, dim(img, 2), dim(img, 3)], 'vaeEncodeReference img');
  let h = conv2d(img, weights(`${p}encoder.conv_in.weight`), weights(`${p}encoder.conv_in.bias`), { padding: 1 });
  const levels = cfg.channelMult.length;
  for (let level = 0; level < levels; level++) {
    for (let i = 0; i < cfg.numResBlocks; i++) {
      h = vaeResnetBlockReference(weights, `${p}encoder.down.${level}.block.${i}.`, h, cfg.groups);
    }
    if (level !== levels - 1) h = vaeDownsampleReference(weights, `${p}encoder.down.${level}.downsample.`, h);
  }
  h = vaeMidReference(weights, cfg, `${p}encoder.`, h);
  h = vaeOutReference(weights, cfg, `${p}encoder.`, h); // [B, 2 * latentChannels, h, w]
  const moments = conv2d(h, weights(`${p}quant_conv.weight`), weights(`${p}quant_conv.bias`));
  return slice(moments, 1, 0, cfg.latentChannels);
}
