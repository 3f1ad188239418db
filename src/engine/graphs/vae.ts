/**
 * The KL-regularized autoencoder of latent diffusion (Rombach et al. 2022, ldm `diffusionmodules/model.py`
 * Encoder/Decoder) as ONNX graphs named by checkpoint keys. Latent scaling is the pipeline's job.
 *
 * Decoder: latent [B, 4, h, w]   -> image [B, 3, 8h, 8w] (about -1..1)
 * Encoder: image [B, 3, H, W] (-1..1) -> latent [B, 4, H/8, W/8] (the posterior mean)
 */
import type { VaeConfig } from '../models/architecture.ts';
import { attr, GraphBuilder } from '../onnx/graph-builder.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import type { OnnxModel } from '../onnx/onnx-proto.ts';
import { attention, conv2d, fromTokens, groupNorm, projectLastAxis, silu, toTokens, upsampleNearest2x } from './layers.ts';

const VAE_NORM_EPS = 1e-6;

export function buildVaeResnetBlock(g: GraphBuilder, cfg: VaeConfig, x: string, prefix: string): string {
  let h = conv2d(g, silu(g, groupNorm(g, x, `${prefix}norm1.`, cfg.groups, VAE_NORM_EPS)), `${prefix}conv1.`);
  h = conv2d(g, silu(g, groupNorm(g, h, `${prefix}norm2.`, cfg.groups, VAE_NORM_EPS)), `${prefix}conv2.`);
  const skip = g.has(`${prefix}nin_shortcut.weight`) ? conv2d(g, x, `${prefix}nin_shortcut.`) : x;
  return g.op('Add', [skip, h]);
}

/** A 1x1 conv ([C, C, 1, 1]) or linear ([C, C]) projection applied to [B, HW, C] tokens. */
function pointwise(g: GraphBuilder, tokens: string, prefix: string): string {
  const shape = g.shapeOf(`${prefix}weight`)!;
  const w = g.op('Reshape', [g.weight(`${prefix}weight`), g.constInt64([shape[0]!, shape[1]!])]);
  return projectLastAxis(g, tokens, w, g.weight(`${prefix}bias`), shape[0]!, shape[1]!);
}

/** Single-head self-attention over all spatial positions (the mid-block `attn_1`). */
export function buildVaeAttentionBlock(g: GraphBuilder, cfg: VaeConfig, x: string, prefix: string): string {
  const channels = g.shapeOf(`${prefix}q.weight`)![0]!;
  const tokens = toTokens(g, groupNorm(g, x, `${prefix}norm.`, cfg.groups, VAE_NORM_EPS)); // [B, HW, C]
  const attended = attention(g, pointwise(g, tokens, `${prefix}q.`), pointwise(g, tokens, `${prefix}k.`), pointwise(g, tokens, `${prefix}v.`), 1, channels);
  return g.op('Add', [x, fromTokens(g, pointwise(g, attended, `${prefix}proj_out.`), x)]);
}

function midBlock(g: GraphBuilder, cfg: VaeConfig, x: string, prefix: string): string {
  const h = buildVaeAttentionBlock(g, cfg, buildVaeResnetBlock(g, cfg, x, `${prefix}mid.block_1.`), `${prefix}mid.attn_1.`);
  return buildVaeResnetBlock(g, cfg, h, `${prefix}mid.block_2.`);
}

export function buildVaeDecoderGraph(checkpoint: SafetensorsHeader, cfg: VaeConfig): OnnxModel {
  const g = new GraphBuilder('vae-decoder', checkpoint);
  const d = `${cfg.prefix}decoder.`;
  const z = g.input('latent', 'float32', ['batch', cfg.latentChannels, 'height', 'width']);
  let h = conv2d(g, conv2d(g, z, `${cfg.prefix}post_quant_conv.`), `${d}conv_in.`);
  h = midBlock(g, cfg, h, d);
  for (let level = cfg.channelMult.length - 1; level >= 0; level--) {
    for (let i = 0; i <= cfg.numResBlocks; i++) h = buildVaeResnetBlock(g, cfg, h, `${d}up.${level}.block.${i}.`);
    if (level > 0) h = conv2d(g, upsampleNearest2x(g, h), `${d}up.${level}.upsample.conv.`);
  }
  const image = conv2d(g, silu(g, groupNorm(g, h, `${d}norm_out.`, cfg.groups, VAE_NORM_EPS)), `${d}conv_out.`);
  g.output(image, 'image', 'float32', ['batch', cfg.imageChannels, 'image_height', 'image_width']);
  return g.build({ 'fooocus.graph': 'vae-decoder' });
}

export function buildVaeEncoderGraph(checkpoint: SafetensorsHeader, cfg: VaeConfig): OnnxModel {
  const g = new GraphBuilder('vae-encoder', checkpoint);
  const e = `${cfg.prefix}encoder.`;
  const image = g.input('image', 'float32', ['batch', cfg.imageChannels, 'image_height', 'image_width']);
  let h = conv2d(g, image, `${e}conv_in.`);
  for (let level = 0; level < cfg.channelMult.length; level++) {
    for (let i = 0; i < cfg.numResBlocks; i++) h = buildVaeResnetBlock(g, cfg, h, `${e}down.${level}.block.${i}.`);
    if (level < cfg.channelMult.length - 1) {
      // ldm pads right and bottom by one, then convolves with stride 2 and no padding.
      const padded = g.op('Pad', [h, g.constInt64([0, 0, 0, 0, 0, 0, 1, 1]), g.constFloat([0], [])]);
      h = conv2d(g, padded, `${e}down.${level}.downsample.conv.`, { stride: 2, padding: 0 });
    }
  }
  h = midBlock(g, cfg, h, e);
  h = conv2d(g, silu(g, groupNorm(g, h, `${e}norm_out.`, cfg.groups, VAE_NORM_EPS)), `${e}conv_out.`);
  const moments = conv2d(g, h, `${cfg.prefix}quant_conv.`); // [B, 2*latent, h, w]: mean ++ log-variance
  const [mean] = g.opN('Split', [moments, g.constInt64([cfg.latentChannels, cfg.latentChannels])], 2, { axis: attr.int(1) });
  g.output(mean!, 'latent', 'float32', ['batch', cfg.latentChannels, 'height', 'width']);
  return g.build({ 'fooocus.graph': 'vae-encoder' });
}
