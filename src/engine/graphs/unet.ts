/**
 * The diffusion UNet of latent diffusion (Rombach et al. 2022, `openaimodel.UNetModel`) and its SDXL variant
 * (Podell et al. 2023: ADM size conditioning through `label_emb`, linear transformer projections), as an ONNX
 * graph named by checkpoint keys.
 *
 * Inputs:  x [B, Cin, h, w], timesteps [B] (float), context [B, T, ctx], y [B, adm] (SDXL only),
 *          inpaint_feature [B, model channels, h, w] (with `inpaintFeature`: Fooocus's inpaint head output, added
 *          to conv_in's output before the first skip is taken),
 *          with `imagePrompts`: ip_k.<i>, ip_v.<i> [B, prompts, image tokens, layer width] per cross-attention layer
 *          i (the IP-Adapter's order, ipAdapterLayerOrder) and ip_scale [layers, prompts] (decoupled-attention.ts)
 * Output:  out [B, Cout, h, w] (the model's epsilon / v prediction)
 */
import { attentionHeads, type UnetConfig } from '../models/architecture.ts';
import { attr, GraphBuilder, rejectUnusedSlots, type GraphBuilderOptions, type WeightPatch } from '../onnx/graph-builder.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import type { OnnxModel } from '../onnx/onnx-proto.ts';
import { attention, conv2d, fromTokens, fusedAttention, gelu, groupNorm, layerNorm, linear, projectLastAxis, silu, toTokens, upsampleNearest2x } from './layers.ts';
import { addImagePromptAttention, createImagePromptLayers, type ImagePromptLayers } from './decoupled-attention.ts';

export interface UnetGraphOptions {
  /** `fused`: ONNX Runtime's MultiHeadAttention kernel (default); `plain`: MatMul/Softmax, portable to any EP. */
  attention?: 'fused' | 'plain';
  /** Weight keys that get a LoRA slot (see `GraphBuilderOptions.lowRankSlots`). */
  lowRankSlots?: ReadonlySet<string>;
  /** Quantized deltas added to weights (Fooocus's inpaint patch) and the directory their files share with the checkpoint. */
  weightPatches?: ReadonlyMap<string, WeightPatch>;
  weightsRoot?: string;
  /** Adds the `inpaint_feature` input (Fooocus's inpaint head). */
  inpaintFeature?: boolean;
  /** Weights that run in int8, with the file holding their codes (see `GraphBuilderOptions.int8Weights`). */
  int8Weights?: GraphBuilderOptions['int8Weights'];
  /**
   * Adds a ControlNet's residuals as inputs: `control_<i>` is added to skip connection i before the up path reads
   * it, `control_middle` to the middle block's output (see control-net.ts for their shapes).
   */
  controlResiduals?: boolean;
  /** Adds image prompt keys and values to every cross-attention layer (IP-Adapter), as graph inputs. */
  imagePrompts?: boolean;
  /** `float16`: computed in float16 with float32 islands, inputs and outputs float32 (GPU providers). */
  precision?: GraphBuilderOptions['precision'];
}

const UNET_NORM_EPS = 1e-5;
const TRANSFORMER_NORM_EPS = 1e-6;

/** Sinusoidal timestep embedding of LDM's `timestep_embedding`: [cos(t f_i), sin(t f_i)], f_i = 10000^(-i/half). */
export function buildTimestepEmbedding(g: GraphBuilder, timesteps: string, dim: number): string {
  const half = dim / 2;
  const freqs = Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  // float32 even in a float16 graph: t f_i reaches ~1000 rad, where float16 steps by 0.5.
  return g.float32Island(() => {
    const t = g.op('Unsqueeze', [timesteps, g.constInt64([1])]); // [B, 1]
    const args = g.op('Mul', [t, g.constFloat(freqs, [1, half])]); // [B, half]
    return g.op('Concat', [g.op('Cos', [args]), g.op('Sin', [args])], { axis: attr.int(1) }); // [B, dim]
  });
}

/** What every UNet block builder needs besides its input: exported so tests can build single blocks. */
export interface UnetContext {
  g: GraphBuilder;
  cfg: UnetConfig;
  opts: Required<Pick<UnetGraphOptions, 'attention'>>;
  embSilu: string; // SiLU(time embedding) [B, 4*mc], shared by every res block
  context: string;
  /** With image prompts: the inputs of each cross-attention layer. */
  imagePrompts?: ImagePromptLayers;
}

/** ResBlock: GroupNorm-SiLU-Conv, add the projected embedding, GroupNorm-SiLU-Conv, plus a (projected) skip. */
export function buildResBlock(u: UnetContext, x: string, prefix: string): string {
  const { g, cfg } = u;
  let h = conv2d(g, silu(g, groupNorm(g, x, `${prefix}in_layers.0.`, cfg.groups, UNET_NORM_EPS)), `${prefix}in_layers.2.`);
  const emb = linear(g, u.embSilu, `${prefix}emb_layers.1.`); // [B, C]
  h = g.op('Add', [h, g.op('Unsqueeze', [emb, g.constInt64([2, 3])])]);
  h = conv2d(g, silu(g, groupNorm(g, h, `${prefix}out_layers.0.`, cfg.groups, UNET_NORM_EPS)), `${prefix}out_layers.3.`);
  const skip = g.has(`${prefix}skip_connection.weight`) ? conv2d(g, x, `${prefix}skip_connection.`) : x;
  return g.op('Add', [skip, h]);
}

function attentionLayer(u: UnetContext, x: string, context: string, prefix: string, heads: number): string {
  const { g } = u;
  const q = linear(g, x, `${prefix}to_q.`);
  const k = linear(g, context, `${prefix}to_k.`);
  const v = linear(g, context, `${prefix}to_v.`);
  const width = g.shapeOf(`${prefix}to_q.weight`)![0]!;
  let out = u.opts.attention === 'fused' ? fusedAttention(g, q, k, v, heads) : attention(g, q, k, v, heads, width / heads);
  if (u.imagePrompts !== undefined && context === u.context) out = addImagePromptAttention(g, u.imagePrompts, prefix, q, out, heads, width);
  return linear(g, out, `${prefix}to_out.0.`);
}

/**
 * GEGLU feed-forward (Shazeer 2020): proj to 2*inner, value * GELU(gate), project back. The projection runs as
 * two Gemms over the weight's value and gate rows (read in place from the checkpoint), which spares the
 * last-axis Split, a strided copy of the [B, T, 2*inner] activation (84 MB per SD 1.5 step at 64x64, 335 MB
 * for SDXL at 1024) that also kept both copies alive at once; a patched or LoRA-adapted projection keeps the one
 * Gemm and the Split.
 */
function feedForward(u: UnetContext, x: string, prefix: string): string {
  const { g } = u;
  const inner = g.shapeOf(`${prefix}net.2.weight`)![1]!;
  const key = `${prefix}net.0.proj.`;
  const [rows, width] = g.shapeOf(`${key}weight`)! as [number, number];
  if (rows !== 2 * inner) throw new Error(`${key}weight: ${rows} rows, expected 2 x ${inner} (value and gate)`);
  let value: string;
  let gate: string;
  if (!g.changesWhole(`${key}weight`) && !g.changesWhole(`${key}bias`)) {
    const bias = (start: number) => (g.has(`${key}bias`) ? g.weightRows(`${key}bias`, start, inner) : null);
    value = projectLastAxis(g, x, g.weightRows(`${key}weight`, 0, inner), bias(0), inner, width); // [B, T, inner]
    gate = projectLastAxis(g, x, g.weightRows(`${key}weight`, inner, inner), bias(inner), inner, width); // [B, T, inner]
  } else {
    const proj = linear(g, x, key); // [B, T, 2*inner]
    [value, gate] = g.opN('Split', [proj, g.constInt64([inner, inner])], 2, { axis: attr.int(-1) }) as [string, string];
  }
  return linear(g, g.op('Mul', [value, gelu(g, gate)]), `${prefix}net.2.`);
}

/** BasicTransformerBlock: self-attention, cross-attention on the context, GEGLU; each pre-norm and residual. */
export function buildTransformerBlock(u: UnetContext, x: string, prefix: string, heads: number): string {
  const { g } = u;
  let h = x;
  const n1 = layerNorm(g, h, `${prefix}norm1.`);
  h = g.op('Add', [attentionLayer(u, n1, n1, `${prefix}attn1.`, heads), h]);
  h = g.op('Add', [attentionLayer(u, layerNorm(g, h, `${prefix}norm2.`), u.context, `${prefix}attn2.`, heads), h]);
  return g.op('Add', [feedForward(u, layerNorm(g, h, `${prefix}norm3.`), `${prefix}ff.`), h]);
}

/** SpatialTransformer: GroupNorm, proj_in (1x1 conv or linear), `depth` transformer blocks, proj_out, residual. */
export function buildSpatialTransformer(u: UnetContext, x: string, prefix: string, depth: number, channels: number): string {
  const { g, cfg } = u;
  const heads = attentionHeads(cfg, channels);
  const normed = groupNorm(g, x, `${prefix}norm.`, cfg.groups, TRANSFORMER_NORM_EPS);
  let h = cfg.linearProjection ? linear(g, toTokens(g, normed), `${prefix}proj_in.`) : toTokens(g, conv2d(g, normed, `${prefix}proj_in.`));
  for (let i = 0; i < depth; i++) h = buildTransformerBlock(u, h, `${prefix}transformer_blocks.${i}.`, heads);
  const out = cfg.linearProjection ? fromTokens(g, linear(g, h, `${prefix}proj_out.`), x) : conv2d(g, fromTokens(g, h, x), `${prefix}proj_out.`);
  return g.op('Add', [out, x]);
}

/** The [B, 4*mc] embedding: time_embed of the sinusoidal timestep embedding, plus label_emb(y) for SDXL. */
export function buildEmbedding(g: GraphBuilder, cfg: UnetConfig, timesteps: string): string {
  const p = cfg.prefix;
  let emb = linear(g, silu(g, linear(g, buildTimestepEmbedding(g, timesteps, cfg.modelChannels), `${p}time_embed.0.`)), `${p}time_embed.2.`);
  if (cfg.admInChannels !== null) {
    const y = g.input('y', 'float32', ['batch', cfg.admInChannels]);
    emb = g.op('Add', [emb, linear(g, silu(g, linear(g, y, `${p}label_emb.0.0.`)), `${p}label_emb.0.2.`)]);
  }
  return emb;
}

/**
 * The down path from conv_in's output `h`: every input block's output is kept (the first is `h` itself), with
 * its channel count; the UNet's up path and a ControlNet's zero convs both read them.
 */
export function buildInputBlocks(u: UnetContext, first: string): { h: string; skips: string[]; skipChannels: number[]; channels: number } {
  const { g, cfg } = u;
  const p = cfg.prefix;
  const mc = cfg.modelChannels;
  let h = first;
  const skips: string[] = [h];
  const skipChannels: number[] = [mc];
  let block = 1;
  let ch = mc;
  cfg.channelMult.forEach((mult, level) => {
    for (let r = 0; r < cfg.numResBlocks[level]!; r++, block++) {
      h = buildResBlock(u, h, `${p}input_blocks.${block}.0.`);
      ch = mult * mc;
      const depth = cfg.inputTransformerDepth[block] ?? 0;
      if (depth > 0) h = buildSpatialTransformer(u, h, `${p}input_blocks.${block}.1.`, depth, ch);
      skips.push(h);
      skipChannels.push(ch);
    }
    if (level < cfg.channelMult.length - 1) {
      h = conv2d(g, h, `${p}input_blocks.${block}.0.op.`, { stride: 2, padding: 1 });
      skips.push(h);
      skipChannels.push(ch);
      block++;
    }
  });
  return { h, skips, skipChannels, channels: ch };
}

/** The middle block: ResBlock, SpatialTransformer (when it has one), ResBlock. */
export function buildMiddleBlock(u: UnetContext, x: string, channels: number): string {
  const p = u.cfg.prefix;
  let h = buildResBlock(u, x, `${p}middle_block.0.`);
  if (u.cfg.middleTransformerDepth > 0) {
    h = buildSpatialTransformer(u, h, `${p}middle_block.1.`, u.cfg.middleTransformerDepth, channels);
    return buildResBlock(u, h, `${p}middle_block.2.`);
  }
  return buildResBlock(u, h, `${p}middle_block.1.`);
}

/** Builds the UNet graph from a checkpoint whose architecture was inferred into `cfg`. */
export function buildUnetGraph(checkpoint: SafetensorsHeader, cfg: UnetConfig, options: UnetGraphOptions = {}): OnnxModel {
  const g = new GraphBuilder('unet', checkpoint, {
    ...(options.lowRankSlots ? { lowRankSlots: options.lowRankSlots } : {}),
    ...(options.weightPatches ? { weightPatches: options.weightPatches } : {}),
    ...(options.weightsRoot !== undefined ? { weightsRoot: options.weightsRoot } : {}),
    ...(options.int8Weights ? { int8Weights: options.int8Weights } : {}),
    ...(options.precision ? { precision: options.precision } : {}),
  });
  const p = cfg.prefix;
  const mc = cfg.modelChannels;
  const x = g.input('x', 'float32', ['batch', cfg.inChannels, 'height', 'width']);
  const timesteps = g.input('timesteps', 'float32', ['batch']);
  const context = g.input('context', 'float32', ['batch', 'tokens', cfg.contextDim]);

  // 1. time (and SDXL size/ADM) embedding
  const emb = buildEmbedding(g, cfg, timesteps);
  const u: UnetContext = { g, cfg, opts: { attention: options.attention ?? 'fused' }, embSilu: silu(g, emb), context };
  if (options.imagePrompts === true) u.imagePrompts = createImagePromptLayers(g, cfg);

  // 2. down path, keeping every block's output for the skip connections
  let h = conv2d(g, x, `${p}input_blocks.0.0.`);
  if (options.inpaintFeature === true) h = g.op('Add', [h, g.input('inpaint_feature', 'float32', ['batch', mc, 'height', 'width'])]);
  const down = buildInputBlocks(u, h);
  const skips = down.skips;

  // 3. middle
  h = buildMiddleBlock(u, down.h, down.channels);
  if (options.controlResiduals === true) {
    h = g.op('Add', [h, g.input('control_middle', 'float32', ['batch', down.channels, 'middle_height', 'middle_width'])]);
    skips.forEach((skip, i) => {
      skips[i] = g.op('Add', [skip, g.input(`control_${i}`, 'float32', ['batch', down.skipChannels[i]!, `control_${i}_height`, `control_${i}_width`])]);
    });
  }

  // 4. up path: each block consumes one skip; the last block of each level but the lowest upsamples
  let out = 0;
  for (let level = cfg.channelMult.length - 1; level >= 0; level--) {
    const blocks = cfg.numResBlocks[level]! + 1;
    for (let r = 0; r < blocks; r++, out++) {
      h = g.op('Concat', [h, skips.pop()!], { axis: attr.int(1) });
      h = buildResBlock(u, h, `${p}output_blocks.${out}.0.`);
      const ch = cfg.channelMult[level]! * mc;
      let sub = 1;
      const depth = cfg.outputTransformerDepth[out] ?? 0;
      if (depth > 0) h = buildSpatialTransformer(u, h, `${p}output_blocks.${out}.${sub++}.`, depth, ch);
      if (level > 0 && r === blocks - 1) h = conv2d(g, upsampleNearest2x(g, h), `${p}output_blocks.${out}.${sub}.conv.`);
    }
  }

  // 5. output head
  const result = conv2d(g, silu(g, groupNorm(g, h, `${p}out.0.`, cfg.groups, UNET_NORM_EPS)), `${p}out.2.`);
  g.output(result, 'out', 'float32', ['batch', cfg.outChannels, 'height', 'width']);
  rejectUnusedSlots(g);
  const unpatched = g.unusedPatches();
  if (unpatched.length > 0) throw new Error(`graph "unet": no layer reads ${unpatched.slice(0, 3).map((k) => `"${k}"`).join(', ')}, so the patch cannot be applied`);
  return g.build({ 'fooocus.graph': 'unet' });
}
