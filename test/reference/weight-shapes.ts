/**
 * Every checkpoint key, with its shape, that the reference forward passes read for a given config: the checkpoint
 * layout written down once, independently of the engine's detector and fixture generator, so each can be checked
 * against it. Shapes follow PyTorch parameter layouts (Linear [out, in], Conv2d [Cout, Cin, kh, kw]).
 */
import type { ClipTextConfig, UnetConfig, VaeConfig } from '../../src/engine/models/architecture.ts';

export type WeightShapes = Map<string, number[]>;

function put(shapes: WeightShapes, key: string, shape: number[]): void {
  if (shapes.has(key)) throw new Error(`weight shape listed twice: ${key}`);
  shapes.set(key, shape);
}

function putNorm(shapes: WeightShapes, prefix: string, channels: number): void {
  put(shapes, `${prefix}weight`, [channels]);
  put(shapes, `${prefix}bias`, [channels]);
}

function putLinear(shapes: WeightShapes, prefix: string, out: number, inp: number, bias = true): void {
  put(shapes, `${prefix}weight`, [out, inp]);
  if (bias) put(shapes, `${prefix}bias`, [out]);
}

function putConv(shapes: WeightShapes, prefix: string, out: number, inp: number, kernel: number): void {
  put(shapes, `${prefix}weight`, [out, inp, kernel, kernel]);
  put(shapes, `${prefix}bias`, [out]);
}

// ---- UNet ---------------------------------------------------------------------------------------------------

function putResBlock(shapes: WeightShapes, prefix: string, cin: number, cout: number, embedDim: number): void {
  putNorm(shapes, `${prefix}in_layers.0.`, cin);
  putConv(shapes, `${prefix}in_layers.2.`, cout, cin, 3);
  putLinear(shapes, `${prefix}emb_layers.1.`, cout, embedDim);
  putNorm(shapes, `${prefix}out_layers.0.`, cout);
  putConv(shapes, `${prefix}out_layers.3.`, cout, cout, 3);
  if (cin !== cout) putConv(shapes, `${prefix}skip_connection.`, cout, cin, 1);
}

/** A SpatialTransformer whose inner width equals its channel count (true of every SD UNet). */
function putSpatialTransformer(shapes: WeightShapes, prefix: string, c: number, depth: number, cfg: UnetConfig): void {
  const putProjection = (p: string): void => (cfg.linearProjection ? putLinear(shapes, p, c, c) : putConv(shapes, p, c, c, 1));
  putNorm(shapes, `${prefix}norm.`, c);
  putProjection(`${prefix}proj_in.`);
  for (let i = 0; i < depth; i++) {
    const b = `${prefix}transformer_blocks.${i}.`;
    putNorm(shapes, `${b}norm1.`, c);
    putLinear(shapes, `${b}attn1.to_q.`, c, c, false);
    putLinear(shapes, `${b}attn1.to_k.`, c, c, false);
    putLinear(shapes, `${b}attn1.to_v.`, c, c, false);
    putLinear(shapes, `${b}attn1.to_out.0.`, c, c);
    putNorm(shapes, `${b}norm2.`, c);
    putLinear(shapes, `${b}attn2.to_q.`, c, c, false);
    putLinear(shapes, `${b}attn2.to_k.`, c, cfg.contextDim, false);
    putLinear(shapes, `${b}attn2.to_v.`, c, cfg.contextDim, false);
    putLinear(shapes, `${b}attn2.to_out.0.`, c, c);
    putNorm(shapes, `${b}norm3.`, c);
    putLinear(shapes, `${b}ff.net.0.proj.`, 8 * c, c); // GEGLU: value and gate, inner = 4c each
    putLinear(shapes, `${b}ff.net.2.`, c, 4 * c);
  }
  putProjection(`${prefix}proj_out.`);
}

/** Keys and shapes of `UNetModel` for `cfg` (time embedding width 4 * modelChannels, as in openaimodel). */
export function unetWeightShapes(cfg: UnetConfig): WeightShapes {
  const shapes: WeightShapes = new Map();
  const p = cfg.prefix;
  const mc = cfg.modelChannels;
  const embedDim = 4 * mc;
  putLinear(shapes, `${p}time_embed.0.`, embedDim, mc);
  putLinear(shapes, `${p}time_embed.2.`, embedDim, embedDim);
  if (cfg.admInChannels !== null) {
    putLinear(shapes, `${p}label_emb.0.0.`, embedDim, cfg.admInChannels);
    putLinear(shapes, `${p}label_emb.0.2.`, embedDim, embedDim);
  }

  putConv(shapes, `${p}input_blocks.0.0.`, mc, cfg.inChannels, 3);
  const skipChannels = [mc];
  let ch = mc;
  let block = 0;
  const levels = cfg.channelMult.length;
  cfg.channelMult.forEach((mult, level) => {
    for (let r = 0; r < (cfg.numResBlocks[level] ?? 0); r++) {
      block += 1;
      putResBlock(shapes, `${p}input_blocks.${block}.0.`, ch, mult * mc, embedDim);
      ch = mult * mc;
      const depth = cfg.inputTransformerDepth[block] ?? 0;
      if (depth > 0) putSpatialTransformer(shapes, `${p}input_blocks.${block}.1.`, ch, depth, cfg);
      skipChannels.push(ch);
    }
    if (level !== levels - 1) {
      block += 1;
      putConv(shapes, `${p}input_blocks.${block}.0.op.`, ch, ch, 3);
      skipChannels.push(ch);
    }
  });

  putResBlock(shapes, `${p}middle_block.0.`, ch, ch, embedDim);
  let mid = 1;
  if (cfg.middleTransformerDepth > 0) {
    putSpatialTransformer(shapes, `${p}middle_block.1.`, ch, cfg.middleTransformerDepth, cfg);
    mid = 2;
  }
  putResBlock(shapes, `${p}middle_block.${mid}.`, ch, ch, embedDim);

  let out = 0;
  for (let level = levels - 1; level >= 0; level--) {
    const cout = (cfg.channelMult[level] ?? 0) * mc;
    const count = (cfg.numResBlocks[level] ?? 0) + 1;
    for (let i = 0; i < count; i++) {
      const skip = skipChannels.pop() ?? 0;
      putResBlock(shapes, `${p}output_blocks.${out}.0.`, ch + skip, cout, embedDim);
      ch = cout;
      let sub = 1;
      const depth = cfg.outputTransformerDepth[out] ?? 0;
      if (depth > 0) {
        putSpatialTransformer(shapes, `${p}output_blocks.${out}.1.`, ch, depth, cfg);
        sub = 2;
      }
      if (level > 0 && i === count - 1) putConv(shapes, `${p}output_blocks.${out}.${sub}.conv.`, ch, ch, 3);
      out += 1;
    }
  }

  putNorm(shapes, `${p}out.0.`, ch);
  putConv(shapes, `${p}out.2.`, cfg.outChannels, ch, 3);
  return shapes;
}

// ---- CLIP text ------------------------------------------------------------------------------------------------

/** Keys and shapes of a CLIP text tower in the layout `cfg.layout` (OpenAI HF or OpenCLIP). */
export function clipTextWeightShapes(cfg: ClipTextConfig): WeightShapes {
  const shapes: WeightShapes = new Map();
  const p = cfg.prefix;
  const W = cfg.width;
  const M = cfg.mlpWidth;
  if (cfg.layout === 'clip-l') {
    put(shapes, `${p}embeddings.token_embedding.weight`, [cfg.vocabSize, W]);
    put(shapes, `${p}embeddings.position_embedding.weight`, [cfg.maxPositions, W]);
    for (let i = 0; i < cfg.layers; i++) {
      const l = `${p}encoder.layers.${i}.`;
      putNorm(shapes, `${l}layer_norm1.`, W);
      for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) putLinear(shapes, `${l}self_attn.${proj}.`, W, W);
      putNorm(shapes, `${l}layer_norm2.`, W);
      putLinear(shapes, `${l}mlp.fc1.`, M, W);
      putLinear(shapes, `${l}mlp.fc2.`, W, M);
    }
    putNorm(shapes, `${p}final_layer_norm.`, W);
    return shapes;
  }
  put(shapes, `${p}token_embedding.weight`, [cfg.vocabSize, W]);
  put(shapes, `${p}positional_embedding`, [cfg.maxPositions, W]);
  for (let i = 0; i < cfg.layers; i++) {
    const l = `${p}transformer.resblocks.${i}.`;
    putNorm(shapes, `${l}ln_1.`, W);
    put(shapes, `${l}attn.in_proj_weight`, [3 * W, W]);
    put(shapes, `${l}attn.in_proj_bias`, [3 * W]);
    putLinear(shapes, `${l}attn.out_proj.`, W, W);
    putNorm(shapes, `${l}ln_2.`, W);
    putLinear(shapes, `${l}mlp.c_fc.`, M, W);
    putLinear(shapes, `${l}mlp.c_proj.`, W, M);
  }
  putNorm(shapes, `${p}ln_final.`, W);
  if (cfg.projectionDim !== null) put(shapes, `${p}text_projection`, [W, cfg.projectionDim]);
  return shapes;
}

// ---- VAE --------------------------------------------------------------------------------------------------------

function putVaeResnet(shapes: WeightShapes, prefix: string, cin: number, cout: number): void {
  putNorm(shapes, `${prefix}norm1.`, cin);
  putConv(shapes, `${prefix}conv1.`, cout, cin, 3);
  putNorm(shapes, `${prefix}norm2.`, cout);
  putConv(shapes, `${prefix}conv2.`, cout, cout, 3);
  if (cin !== cout) putConv(shapes, `${prefix}nin_shortcut.`, cout, cin, 1);
}

function putVaeMid(shapes: WeightShapes, prefix: string, c: number, asLinear: boolean): void {
  putVaeResnet(shapes, `${prefix}mid.block_1.`, c, c);
  const a = `${prefix}mid.attn_1.`;
  putNorm(shapes, `${a}norm.`, c);
  for (const name of ['q', 'k', 'v', 'proj_out']) {
    if (asLinear) putLinear(shapes, `${a}${name}.`, c, c);
    else putConv(shapes, `${a}${name}.`, c, c, 1);
  }
  putVaeResnet(shapes, `${prefix}mid.block_2.`, c, c);
}

/** Keys and shapes of `AutoencoderKL` (encoder and/or decoder as `cfg.hasEncoder` / `cfg.hasDecoder` say). */
export function vaeWeightShapes(cfg: VaeConfig): WeightShapes {
  const shapes: WeightShapes = new Map();
  const p = cfg.prefix;
  const L = cfg.latentChannels;
  const width = (level: number): number => cfg.baseChannels * (cfg.channelMult[level] ?? 0);
  const levels = cfg.channelMult.length;
  if (cfg.hasEncoder) {
    putConv(shapes, `${p}encoder.conv_in.`, cfg.baseChannels, cfg.imageChannels, 3);
    let ch = cfg.baseChannels;
    for (let level = 0; level < levels; level++) {
      for (let i = 0; i < cfg.numResBlocks; i++) {
        putVaeResnet(shapes, `${p}encoder.down.${level}.block.${i}.`, ch, width(level));
        ch = width(level);
      }
      if (level !== levels - 1) putConv(shapes, `${p}encoder.down.${level}.downsample.conv.`, ch, ch, 3);
    }
    putVaeMid(shapes, `${p}encoder.`, ch, cfg.attentionAsLinear);
    putNorm(shapes, `${p}encoder.norm_out.`, ch);
    putConv(shapes, `${p}encoder.conv_out.`, 2 * L, ch, 3);
    putConv(shapes, `${p}quant_conv.`, 2 * L, 2 * L, 1);
  }
  if (cfg.hasDecoder) {
    putConv(shapes, `${p}post_quant_conv.`, L, L, 1);
    let ch = width(levels - 1);
    putConv(shapes, `${p}decoder.conv_in.`, ch, L, 3);
    putVaeMid(shapes, `${p}decoder.`, ch, cfg.attentionAsLinear);
    for (let level = levels - 1; level >= 0; level--) {
      for (let i = 0; i < cfg.numResBlocks + 1; i++) {
        putVaeResnet(shapes, `${p}decoder.up.${level}.block.${i}.`, ch, width(level));
        ch = width(level);
      }
      if (level !== 0) putConv(shapes, `${p}decoder.up.${level}.upsample.conv.`, ch, ch, 3);
    }
    putNorm(shapes, `${p}decoder.norm_out.`, ch);
    putConv(shapes, `${p}decoder.conv_out.`, cfg.imageChannels, ch, 3);
  }
  return shapes;
}
