/**
 * CLIP text encoders (Radford et al. 2021) as ONNX graphs: OpenAI ViT-L/14 in the Hugging Face layout that SD
 * checkpoints embed, and OpenCLIP towers (ViT-bigG/14 for SDXL) with packed attention projections.
 *
 * Input:   tokens [B, 77] (int64; framed BOS ... EOS, padded)
 * Outputs: hidden [B, 77, width] (the selected layer), pooled [B, projectionDim or width] (final layer at EOS)
 */
import type { ClipTextConfig } from '../models/architecture.ts';
import { attr, GraphBuilder, rejectUnusedSlots, type GraphBuilderOptions } from '../onnx/graph-builder.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import type { OnnxModel } from '../onnx/onnx-proto.ts';
import { attention, gelu, layerNorm, linear, projectLastAxis, quickGelu } from './layers.ts';

export interface ClipTextGraphOptions {
  /** 1 = the last layer's output, 2 = the penultimate layer's ("CLIP skip 2"), and so on. */
  clipSkip?: number;
  /** Apply the final LayerNorm to `hidden` (SD1.x does; SDXL's penultimate states are used raw). */
  finalLayerNorm?: boolean;
  /** Weight keys that get a LoRA slot (see `GraphBuilderOptions.lowRankSlots`). */
  lowRankSlots?: ReadonlySet<string>;
  /** `float16`: computed in float16 with float32 islands, inputs and outputs as before (GPU providers). */
  precision?: GraphBuilderOptions['precision'];
}

/** Key names of one family's layout, so the graph code below reads the same for both. */
interface ClipKeys {
  tokenEmbedding: string;
  positionEmbedding: string;
  layer(i: number): string;
  ln1: string;
  ln2: string;
  fc1: string;
  fc2: string;
  finalNorm: string;
}

function keysFor(cfg: ClipTextConfig): ClipKeys {
  const p = cfg.prefix;
  return cfg.layout === 'clip-l'
    ? {
        tokenEmbedding: `${p}embeddings.token_embedding.weight`,
        positionEmbedding: `${p}embeddings.position_embedding.weight`,
        layer: (i) => `${p}encoder.layers.${i}.`,
        ln1: 'layer_norm1.',
        ln2: 'layer_norm2.',
        fc1: 'mlp.fc1.',
        fc2: 'mlp.fc2.',
        finalNorm: `${p}final_layer_norm.`,
      }
    : {
        tokenEmbedding: `${p}token_embedding.weight`,
        positionEmbedding: `${p}positional_embedding`,
        layer: (i) => `${p}transformer.resblocks.${i}.`,
        ln1: 'ln_1.',
        ln2: 'ln_2.',
        fc1: 'mlp.c_fc.',
        fc2: 'mlp.c_proj.',
        finalNorm: `${p}ln_final.`,
      };
}

/** Causal mask: 0 on and below the diagonal, -inf above, so token i attends to tokens 0..i only. */
function causalMask(g: GraphBuilder, n: number): string {
  const mask = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) mask[i * n + j] = -Infinity;
  return g.constFloat(mask, [n, n]);
}

/** Causal self-attention of one layer (input already layer-normed). */
function selfAttention(g: GraphBuilder, cfg: ClipTextConfig, x: string, layer: string, mask: string): string {
  const headDim = cfg.width / cfg.heads;
  if (cfg.layout === 'clip-l') {
    const q = linear(g, x, `${layer}self_attn.q_proj.`);
    const k = linear(g, x, `${layer}self_attn.k_proj.`);
    const v = linear(g, x, `${layer}self_attn.v_proj.`);
    return linear(g, attention(g, q, k, v, cfg.heads, headDim, mask), `${layer}self_attn.out_proj.`);
  }
  // OpenCLIP packs q, k and v into one [3W, W] projection (nn.MultiheadAttention's in_proj).
  const w = g.weight(`${layer}attn.in_proj_weight`, [3 * cfg.width, cfg.width]);
  const packed = projectLastAxis(g, x, w, g.weight(`${layer}attn.in_proj_bias`), 3 * cfg.width, cfg.width, `${layer}attn.in_proj_weight`);
  const [q, k, v] = g.opN('Split', [packed, g.constInt64([cfg.width, cfg.width, cfg.width])], 3, { axis: attr.int(-1) });
  return linear(g, attention(g, q!, k!, v!, cfg.heads, headDim, mask), `${layer}attn.out_proj.`);
}

export function buildClipTextGraph(checkpoint: SafetensorsHeader, cfg: ClipTextConfig, options: ClipTextGraphOptions = {}): OnnxModel {
  const clipSkip = options.clipSkip ?? 1;
  if (!Number.isInteger(clipSkip) || clipSkip < 1 || clipSkip > cfg.layers) throw new RangeError(`clipSkip must be an integer in 1..${cfg.layers}, got ${clipSkip}`);
  const g = new GraphBuilder(`clip-text-${cfg.layout}`, checkpoint, { lowRankSlots: options.lowRankSlots, ...(options.precision ? { precision: options.precision } : {}) });
  const k = keysFor(cfg);
  const n = cfg.maxPositions;
  const tokens = g.input('tokens', 'int64', ['batch', n]);
  const mask = causalMask(g, n);

  // 1. token + position embeddings
  let x = g.op('Add', [g.op('Gather', [g.weight(k.tokenEmbedding, [cfg.vocabSize, cfg.width]), tokens]), g.weight(k.positionEmbedding, [n, cfg.width])]); // [B, 77, W]

  // 2. pre-norm transformer layers, keeping the output the caller selected
  const activation = cfg.activation === 'quick_gelu' ? quickGelu : gelu;
  let selected = x;
  for (let i = 0; i < cfg.layers; i++) {
    const layer = k.layer(i);
    x = g.op('Add', [x, selfAttention(g, cfg, layerNorm(g, x, `${layer}${k.ln1}`), layer, mask)]);
    x = g.op('Add', [x, linear(g, activation(g, linear(g, layerNorm(g, x, `${layer}${k.ln2}`), `${layer}${k.fc1}`)), `${layer}${k.fc2}`)]);
    if (i === cfg.layers - clipSkip) selected = x;
  }
  const final = layerNorm(g, x, k.finalNorm);
  const normalize = options.finalLayerNorm ?? true;
  const hidden = !normalize ? selected : clipSkip === 1 ? final : layerNorm(g, selected, k.finalNorm);
  g.output(hidden, 'hidden', 'float32', ['batch', n, cfg.width]);

  // 3. pooled: the final state at the EOS token (the largest id in the row, first occurrence), projected
  const eos = g.op('ArgMax', [g.op('Cast', [tokens], { to: attr.int(1) })], { axis: attr.int(1), keepdims: attr.int(1) }); // [B, 1]
  let pooled = g.op('GatherND', [final, eos], { batch_dims: attr.int(1) }); // [B, W]
  if (cfg.projectionDim !== null) pooled = g.op('MatMul', [pooled, g.weight(`${cfg.prefix}text_projection`, [cfg.width, cfg.projectionDim])]);
  g.output(pooled, 'pooled', 'float32', ['batch', cfg.projectionDim ?? cfg.width]);
  rejectUnusedSlots(g);
  return g.build({ 'fooocus.graph': 'clip-text', 'fooocus.clip_skip': String(clipSkip) });
}
