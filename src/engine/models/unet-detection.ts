/**
 * Reads an `openaimodel.UNetModel` configuration (LDM / SGM) from tensor shapes: channel widths and multipliers,
 * residual blocks per level, transformer depth per block, context and ADM widths, projection kind. Walks the
 * blocks in the order the model builds them, checking each block's shapes against the running channel count, so a
 * truncated or foreign UNet fails with the first key that does not fit.
 */
import type { UnetConfig } from './architecture.ts';
import type { TensorShapes } from './tensor-shapes.ts';

/** GroupNorm groups of every SD UNet (architecture constant). */
const UNET_GROUPS = 32;

interface UnetWalk {
  shapes: TensorShapes;
  prefix: string;
  embedWidth: number;
  contextDim: number | null;
  linearProjection: boolean | null;
}

/** Checks a ResBlock taking `inputs` channels and returns its output width. */
function readResBlock(w: UnetWalk, prefix: string, inputs: number): number {
  const s = w.shapes;
  s.expect(`${prefix}in_layers.0.weight`, [inputs]);
  const [outputs] = s.shape(`${prefix}in_layers.2.weight`, 4);
  s.expect(`${prefix}in_layers.2.weight`, [outputs!, inputs, 3, 3]);
  s.expect(`${prefix}emb_layers.1.weight`, [outputs!, w.embedWidth]);
  s.expect(`${prefix}out_layers.0.weight`, [outputs!]);
  s.expect(`${prefix}out_layers.3.weight`, [outputs!, outputs!, 3, 3]);
  if (inputs !== outputs) s.expect(`${prefix}skip_connection.weight`, [outputs!, inputs, 1, 1]);
  return outputs!;
}

/** Depth of the SpatialTransformer at `prefix` over `channels` channels, or 0 when there is none. */
function readTransformerDepth(w: UnetWalk, prefix: string, channels: number): number {
  const s = w.shapes;
  if (!s.has(`${prefix}proj_in.weight`)) return 0;
  const linear = s.dims(`${prefix}proj_in.weight`).length === 2;
  w.linearProjection ??= linear;
  if (w.linearProjection !== linear) throw s.unsupported(`tensor "${prefix}proj_in.weight" mixes linear and conv projections`);
  const projection = linear ? [channels, channels] : [channels, channels, 1, 1];
  s.expect(`${prefix}norm.weight`, [channels]);
  s.expect(`${prefix}proj_in.weight`, projection);
  s.expect(`${prefix}proj_out.weight`, projection);

  const depth = s.countIndexed(`${prefix}transformer_blocks.`);
  for (let i = 0; i < Math.max(depth, 1); i++) {
    const b = `${prefix}transformer_blocks.${i}.`;
    w.contextDim ??= s.shape(`${b}attn2.to_k.weight`, 2)[1]!;
    for (const name of ['attn1.to_q', 'attn1.to_k', 'attn1.to_v', 'attn1.to_out.0', 'attn2.to_q', 'attn2.to_out.0']) {
      s.expect(`${b}${name}.weight`, [channels, channels]);
    }
    s.expect(`${b}attn2.to_k.weight`, [channels, w.contextDim]);
    s.expect(`${b}attn2.to_v.weight`, [channels, w.contextDim]);
    const [geglu, inputs] = s.shape(`${b}ff.net.0.proj.weight`, 2);
    if (inputs !== channels || geglu! % 2 !== 0) throw s.unsupported(`tensor "${b}ff.net.0.proj.weight" is not a GEGLU projection of ${channels} channels`);
    s.expect(`${b}ff.net.2.weight`, [channels, geglu! / 2]);
    for (const norm of ['norm1', 'norm2', 'norm3']) s.expect(`${b}${norm}.weight`, [channels]);
  }
  return depth;
}

/** Channel multiplier of a block of `width` channels. */
function readMultiplier(w: UnetWalk, name: string, width: number, modelChannels: number): number {
  if (width % modelChannels !== 0) throw w.shapes.unsupported(`tensor "${name}" has ${width} channels, not a multiple of ${modelChannels}`);
  return width / modelChannels;
}

/**
 * The UNet under `prefix`, or null when the checkpoint has none. `attention` is the family's head rule, which the
 * weights do not record.
 */
export function detectUnet(shapes: TensorShapes, prefix: string, attention: UnetConfig['attention']): UnetConfig | null {
  if (!shapes.hasPrefix(prefix)) return null;
  const p = prefix;
  const [modelChannels, inChannels] = shapes.shape(`${p}input_blocks.0.0.weight`, 4) as [number, number];
  const [embedWidth] = shapes.shape(`${p}time_embed.0.weight`, 2);
  shapes.expect(`${p}time_embed.0.weight`, [embedWidth!, modelChannels]);
  shapes.expect(`${p}time_embed.2.weight`, [embedWidth!, embedWidth!]);
  const w: UnetWalk = { shapes, prefix: p, embedWidth: embedWidth!, contextDim: null, linearProjection: null };
  let admInChannels: number | null = null;
  if (shapes.has(`${p}label_emb.0.0.weight`)) {
    admInChannels = shapes.shape(`${p}label_emb.0.0.weight`, 2)[1]!;
    shapes.expect(`${p}label_emb.0.0.weight`, [embedWidth!, admInChannels]);
    shapes.expect(`${p}label_emb.0.2.weight`, [embedWidth!, embedWidth!]);
  }

  // 1. down path: res blocks (each maybe followed by a transformer) until a downsample closes the level
  const channelMult: number[] = [];
  const numResBlocks: number[] = [];
  const inputTransformerDepth = [0];
  const skips = [modelChannels];
  let ch = modelChannels;
  let block = 1;
  for (;;) {
    let count = 0;
    let mult = 0;
    while (shapes.has(`${p}input_blocks.${block}.0.in_layers.0.weight`)) {
      const name = `${p}input_blocks.${block}.0.in_layers.2.weight`;
      ch = readResBlock(w, `${p}input_blocks.${block}.0.`, ch);
      const m = readMultiplier(w, name, ch, modelChannels);
      if (count > 0 && m !== mult) throw shapes.unsupported(`tensor "${name}" changes width inside a level`);
      mult = m;
      inputTransformerDepth.push(readTransformerDepth(w, `${p}input_blocks.${block}.1.`, ch));
      skips.push(ch);
      count++;
      block++;
    }
    if (count === 0) throw shapes.unsupported(`missing tensor "${p}input_blocks.${block}.0.in_layers.0.weight"`);
    channelMult.push(mult);
    numResBlocks.push(count);
    if (!shapes.has(`${p}input_blocks.${block}.0.op.weight`)) break;
    shapes.expect(`${p}input_blocks.${block}.0.op.weight`, [ch, ch, 3, 3]);
    inputTransformerDepth.push(0);
    skips.push(ch);
    block++;
  }

  // 2. middle: res, transformer, res; or two res blocks when it has no transformer
  readResBlock(w, `${p}middle_block.0.`, ch);
  let middleTransformerDepth = 0;
  if (shapes.has(`${p}middle_block.1.in_layers.0.weight`)) {
    readResBlock(w, `${p}middle_block.1.`, ch);
  } else {
    middleTransformerDepth = readTransformerDepth(w, `${p}middle_block.1.`, ch);
    if (middleTransformerDepth === 0) throw shapes.unsupported(`missing tensor "${p}middle_block.1.proj_in.weight"`);
    readResBlock(w, `${p}middle_block.2.`, ch);
  }

  // 3. up path: one more res block per level than on the way down, each consuming a skip
  const outputTransformerDepth: number[] = [];
  for (let level = channelMult.length - 1, out = 0; level >= 0; level--) {
    for (let r = 0; r <= numResBlocks[level]!; r++, out++) {
      const b = `${p}output_blocks.${out}.`;
      ch = readResBlock(w, `${b}0.`, ch + skips.pop()!);
      if (ch !== channelMult[level]! * modelChannels) throw shapes.unsupported(`tensor "${b}0.in_layers.2.weight" has ${ch} channels, expected ${channelMult[level]! * modelChannels}`);
      const depth = readTransformerDepth(w, `${b}1.`, ch);
      outputTransformerDepth.push(depth);
      if (level > 0 && r === numResBlocks[level]!) shapes.expect(`${b}${depth > 0 ? 2 : 1}.conv.weight`, [ch, ch, 3, 3]);
    }
  }
  shapes.expect(`${p}out.0.weight`, [ch]);
  const [outChannels] = shapes.shape(`${p}out.2.weight`, 4);
  shapes.expect(`${p}out.2.weight`, [outChannels!, ch, 3, 3]);
  if (w.contextDim === null) throw shapes.unsupported(`no cross-attention in the UNet (no "${p}*.attn2.to_k.weight")`);

  return {
    prefix: p,
    inChannels,
    outChannels: outChannels!,
    modelChannels,
    channelMult,
    numResBlocks,
    inputTransformerDepth,
    middleTransformerDepth,
    outputTransformerDepth,
    attention,
    contextDim: w.contextDim,
    admInChannels,
    linearProjection: w.linearProjection ?? false,
    groups: UNET_GROUPS,
  };
}
