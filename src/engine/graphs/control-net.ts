/**
 * ControlNet (Zhang, Rao & Agrawala 2023, `cldm.ControlNet`) as an ONNX graph: a copy of the UNet's embedding,
 * down path and middle block, whose first block also receives the control image through the hint encoder, and
 * whose block outputs leave through 1x1 "zero convolutions" as residuals for the UNet's skip connections and
 * middle block. A control-LoRA (Stability) ships only the hint encoder, the zero convs, the norms and biases and
 * low-rank deltas; the rest is the base UNet's weights, so the graph reads each key from whichever file holds it
 * (see control-lora.ts), with no rebuild per image: the hint is an input.
 *
 * Two graphs, because the hint encoder's output depends on the control image alone: the hint encoder runs once
 * per control image, and the per-step graph takes its output as an input.
 * Hint encoder: hint [B, Ch, 8h, 8w] -> hint_features [B, model channels, h, w]
 * Per step:     x [B, 4, h, w], timesteps [B], context [B, T, ctx], y [B, adm] (SDXL), hint_features [1 or B,
 *               model channels, h, w] (one row is added to every row), strength [1] (each residual is scaled by it)
 *               -> control_<i> [B, C_i, h_i, w_i] for each input block (the UNet's skip i), control_middle
 */
import type { UnetConfig } from '../models/architecture.ts';
import { GraphBuilder, type GraphBuilderOptions } from '../onnx/graph-builder.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import type { OnnxModel } from '../onnx/onnx-proto.ts';
import { conv2d, silu } from './layers.ts';
import { buildEmbedding, buildInputBlocks, buildMiddleBlock, type UnetContext } from './unet.ts';

/** Prefix of the ControlNet-only weights: the hint encoder, zero convs and middle block out. */
export interface ControlNetGraphOptions extends Pick<GraphBuilderOptions, 'tensorSources' | 'lowRankDeltas' | 'weightsRoot'> {
  attention?: 'fused' | 'plain';
  /** Graph key prefix of the ControlNet-only weights (`input_hint_block.`, `zero_convs.`, `middle_block_out.`). */
  controlPrefix?: string;
}

/** Indices of the hint encoder's convolutions (SiLU between each); those at 4, 8 and 12 halve the size. */
export const HINT_ENCODER_CONVS: readonly number[] = [0, 2, 4, 6, 8, 10, 12, 14];
const HINT_STRIDED = new Set([4, 8, 12]);

/** Names the graph's outputs use, in skip order: one per UNet input block, then the middle. */
export function controlOutputNames(skips: number): string[] {
  return [...Array.from({ length: skips }, (_, i) => `control_${i}`), 'control_middle'];
}

export const HINT_INPUT = 'hint';
export const HINT_FEATURES = 'hint_features';

/** The hint encoder: 3x3 convs with SiLU between, three of them strided, ending at the model's channel count. */
export function buildHintEncoder(g: GraphBuilder, hint: string, prefix: string): string {
  let h = hint;
  HINT_ENCODER_CONVS.forEach((index, i) => {
    if (i > 0) h = silu(g, h);
    h = conv2d(g, h, `${prefix}input_hint_block.${index}.`, HINT_STRIDED.has(index) ? { stride: 2, padding: 1 } : {});
  });
  return h;
}

function createControlGraphBuilder(name: string, checkpoint: SafetensorsHeader, options: ControlNetGraphOptions): GraphBuilder {
  return new GraphBuilder(name, checkpoint, {
    ...(options.tensorSources ? { tensorSources: options.tensorSources } : {}),
    ...(options.lowRankDeltas ? { lowRankDeltas: options.lowRankDeltas } : {}),
    ...(options.weightsRoot !== undefined ? { weightsRoot: options.weightsRoot } : {}),
  });
}

/** The hint encoder alone, over the same key sources as the per-step graph: run once per control image. */
export function buildHintEncoderGraph(checkpoint: SafetensorsHeader, cfg: UnetConfig, hintChannels: number, options: ControlNetGraphOptions = {}): OnnxModel {
  const g = createControlGraphBuilder('controlnet-hint', checkpoint, options);
  const hint = g.input(HINT_INPUT, 'float32', ['batch', hintChannels, 'hint_height', 'hint_width']);
  g.output(buildHintEncoder(g, hint, options.controlPrefix ?? cfg.prefix), HINT_FEATURES, 'float32', ['batch', cfg.modelChannels, 'height', 'width']);
  return g.build({ 'fooocus.graph': 'controlnet-hint' });
}

/**
 * Adds the per-step ControlNet to `g` (its inputs x, timesteps, context, y, strength and its outputs), with the
 * encoded hint `features` [1 or B, model channels, h, w] added after the first convolution.
 */
export function addControlNetStep(g: GraphBuilder, cfg: UnetConfig, features: string, options: ControlNetGraphOptions = {}): void {
  const p = cfg.prefix;
  const cp = options.controlPrefix ?? p;
  const x = g.input('x', 'float32', ['batch', cfg.inChannels, 'height', 'width']);
  const timesteps = g.input('timesteps', 'float32', ['batch']);
  const context = g.input('context', 'float32', ['batch', 'tokens', cfg.contextDim]);
  const emb = buildEmbedding(g, cfg, timesteps);
  const strength = g.input('strength', 'float32', [1]);
  const u: UnetContext = { g, cfg, opts: { attention: options.attention ?? 'fused' }, embSilu: silu(g, emb), context };

  // 1. the first block sees the latent and the encoded hint
  const first = g.op('Add', [conv2d(g, x, `${p}input_blocks.0.0.`), features]);
  // 2. the down path and middle block as in the UNet, each output through its zero conv
  const down = buildInputBlocks(u, first);
  const middle = buildMiddleBlock(u, down.h, down.channels);
  const names = controlOutputNames(down.skips.length);
  down.skips.forEach((skip, i) => {
    const residual = g.op('Mul', [conv2d(g, skip, `${cp}zero_convs.${i}.0.`), strength]);
    g.output(residual, names[i]!, 'float32', ['batch', down.skipChannels[i]!, `control_${i}_height`, `control_${i}_width`]);
  });
  const mid = g.op('Mul', [conv2d(g, middle, `${cp}middle_block_out.0.`), strength]);
  g.output(mid, 'control_middle', 'float32', ['batch', down.channels, 'middle_height', 'middle_width']);
}

/** The per-step ControlNet graph over `checkpoint` (the base UNet's file) with the given key sources. */
export function buildControlNetGraph(checkpoint: SafetensorsHeader, cfg: UnetConfig, options: ControlNetGraphOptions = {}): OnnxModel {
  const g = createControlGraphBuilder('controlnet', checkpoint, options);
  const features = g.input(HINT_FEATURES, 'float32', ['hint_batch', cfg.modelChannels, 'height', 'width']);
  addControlNetStep(g, cfg, features, options);
  return g.build({ 'fooocus.graph': 'controlnet' });
}
