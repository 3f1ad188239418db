/**
 * Reads the KL autoencoder's configuration (LDM `AutoencoderKL`: encoder, decoder, quant convs) from tensor
 * shapes. Either half may be absent (decoder-only files exist); when both are present they must agree.
 */
import type { VaeConfig } from './architecture.ts';
import type { TensorShapes } from './tensor-shapes.ts';

/** GroupNorm groups of the SD autoencoder (architecture constant). */
const VAE_GROUPS = 32;

interface VaeHalf {
  baseChannels: number;
  channelMult: number[];
  numResBlocks: number;
  latentChannels: number;
  imageChannels: number;
  attentionAsLinear: boolean;
}

/** Checks a ResnetBlock taking `inputs` channels and returns its output width. */
function readResBlock(shapes: TensorShapes, prefix: string, inputs: number): number {
  shapes.expect(`${prefix}norm1.weight`, [inputs]);
  const [outputs] = shapes.shape(`${prefix}conv1.weight`, 4);
  shapes.expect(`${prefix}conv1.weight`, [outputs!, inputs, 3, 3]);
  shapes.expect(`${prefix}norm2.weight`, [outputs!]);
  shapes.expect(`${prefix}conv2.weight`, [outputs!, outputs!, 3, 3]);
  if (inputs !== outputs) shapes.expect(`${prefix}nin_shortcut.weight`, [outputs!, inputs, 1, 1]);
  return outputs!;
}

/** Checks the mid block (res, single-head attention, res) and tells whether q/k/v/proj_out are linears. */
function readMid(shapes: TensorShapes, prefix: string, channels: number): boolean {
  readResBlock(shapes, `${prefix}block_1.`, channels);
  shapes.expect(`${prefix}attn_1.norm.weight`, [channels]);
  const linear = shapes.dims(`${prefix}attn_1.q.weight`).length === 2;
  const shape = linear ? [channels, channels] : [channels, channels, 1, 1];
  for (const proj of ['q', 'k', 'v', 'proj_out']) shapes.expect(`${prefix}attn_1.${proj}.weight`, shape);
  readResBlock(shapes, `${prefix}block_2.`, channels);
  return linear;
}

function readMultiplier(shapes: TensorShapes, name: string, width: number, base: number): number {
  if (width % base !== 0) throw shapes.unsupported(`tensor "${name}" has ${width} channels, not a multiple of ${base}`);
  return width / base;
}

function readEncoder(shapes: TensorShapes, p: string): VaeHalf {
  const [baseChannels, imageChannels] = shapes.shape(`${p}encoder.conv_in.weight`, 4) as [number, number];
  const levels = shapes.countIndexed(`${p}encoder.down.`);
  const numResBlocks = shapes.countIndexed(`${p}encoder.down.0.block.`);
  if (levels === 0 || numResBlocks === 0) throw shapes.unsupported(`missing tensor "${p}encoder.down.0.block.0.conv1.weight"`);
  const channelMult: number[] = [];
  let ch = baseChannels;
  for (let level = 0; level < levels; level++) {
    for (let r = 0; r < numResBlocks; r++) ch = readResBlock(shapes, `${p}encoder.down.${level}.block.${r}.`, ch);
    channelMult.push(readMultiplier(shapes, `${p}encoder.down.${level}.block.0.conv1.weight`, ch, baseChannels));
    if (level < levels - 1) shapes.expect(`${p}encoder.down.${level}.downsample.conv.weight`, [ch, ch, 3, 3]);
  }
  const attentionAsLinear = readMid(shapes, `${p}encoder.mid.`, ch);
  shapes.expect(`${p}encoder.norm_out.weight`, [ch]);
  const [moments] = shapes.shape(`${p}encoder.conv_out.weight`, 4); // mean and log-variance
  shapes.expect(`${p}encoder.conv_out.weight`, [moments!, ch, 3, 3]);
  shapes.expect(`${p}quant_conv.weight`, [moments!, moments!, 1, 1]);
  return { baseChannels, channelMult, numResBlocks, latentChannels: moments! / 2, imageChannels, attentionAsLinear };
}

function readDecoder(shapes: TensorShapes, p: string): VaeHalf {
  const [top, latentChannels] = shapes.shape(`${p}decoder.conv_in.weight`, 4) as [number, number];
  shapes.expect(`${p}post_quant_conv.weight`, [latentChannels, latentChannels, 1, 1]);
  const attentionAsLinear = readMid(shapes, `${p}decoder.mid.`, top);
  const levels = shapes.countIndexed(`${p}decoder.up.`);
  const blocks = shapes.countIndexed(`${p}decoder.up.0.block.`);
  if (levels === 0 || blocks < 2) throw shapes.unsupported(`missing tensor "${p}decoder.up.0.block.${blocks}.conv1.weight"`);
  const [imageChannels, baseChannels] = shapes.shape(`${p}decoder.conv_out.weight`, 4) as [number, number];
  const channelMult = new Array<number>(levels).fill(0);
  let ch = top;
  for (let level = levels - 1; level >= 0; level--) {
    for (let r = 0; r < blocks; r++) ch = readResBlock(shapes, `${p}decoder.up.${level}.block.${r}.`, ch);
    channelMult[level] = readMultiplier(shapes, `${p}decoder.up.${level}.block.0.conv1.weight`, ch, baseChannels);
    if (level > 0) shapes.expect(`${p}decoder.up.${level}.upsample.conv.weight`, [ch, ch, 3, 3]);
  }
  shapes.expect(`${p}decoder.norm_out.weight`, [ch]);
  shapes.expect(`${p}decoder.conv_out.weight`, [imageChannels, ch, 3, 3]);
  return { baseChannels, channelMult, numResBlocks: blocks - 1, latentChannels, imageChannels, attentionAsLinear };
}

/** The autoencoder under `prefix`, or null when the checkpoint has none. */
export function detectVae(shapes: TensorShapes, prefix: string): VaeConfig | null {
  if (!shapes.hasPrefix(prefix)) return null;
  const hasEncoder = shapes.has(`${prefix}encoder.conv_in.weight`);
  const hasDecoder = shapes.has(`${prefix}decoder.conv_in.weight`) || !hasEncoder; // neither: report the decoder key
  const encoder = hasEncoder ? readEncoder(shapes, prefix) : null;
  const decoder = hasDecoder ? readDecoder(shapes, prefix) : null;
  if (encoder !== null && decoder !== null && JSON.stringify(encoder) !== JSON.stringify(decoder)) {
    throw shapes.unsupported(`the VAE encoder and decoder under "${prefix}" describe different architectures`);
  }
  const half = (decoder ?? encoder)!;
  return { prefix, ...half, groups: VAE_GROUPS, hasEncoder, hasDecoder };
}
