/**
 * Super-resolution networks as ONNX graphs named by the upscaler file's own keys (layouts: upscaler-layout.ts).
 *
 * Input `image` [1, 3, H, W] in 0..1 -> output `upscaled` [1, 3, s*H, s*W] (about 0..1, not clamped).
 * RRDBNet (Wang et al. 2018, "ESRGAN"): H, W must be multiples of the pixel-unshuffle factor (the tiler pads).
 */
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { attr, GraphBuilder } from '../onnx/graph-builder.ts';
import type { OnnxModel } from '../onnx/onnx-proto.ts';
import type { RrdbLayout, SrvggLayout, UpscalerLayout } from '../upscale/upscaler-layout.ts';
import { conv2d, upsampleNearest2x } from './layers.ts';

/** ESRGAN's activation: LeakyReLU with slope 0.2. */
function leakyRelu(g: GraphBuilder, x: string): string {
  return g.op('LeakyRelu', [x], { alpha: attr.float(0.2) });
}

/** The residual scaling of ESRGAN's dense blocks: x + 0.2 * residual. */
function addScaled(g: GraphBuilder, x: string, residual: string): string {
  return g.op('Add', [x, g.op('Mul', [residual, g.constFloat([0.2], [])])]);
}

/** Residual dense block: five 3x3 convs, each reading the block input and every earlier output. */
function denseBlock(g: GraphBuilder, layout: RrdbLayout, x: string, block: number, rdb: number): string {
  const features = [x];
  for (let j = 1; j <= 4; j++) {
    const input = features.length === 1 ? x : g.op('Concat', [...features], { axis: attr.int(1) }); // [B, F + (j-1)G, h, w]
    features.push(leakyRelu(g, conv2d(g, input, layout.keys.dense(block, rdb, j))));
  }
  const out = conv2d(g, g.op('Concat', [...features], { axis: attr.int(1) }), layout.keys.dense(block, rdb, 5)); // [B, F, h, w]
  return addScaled(g, x, out);
}

/**
 * torch's pixel_unshuffle: [B, C, H, W] -> [B, C*r*r, H/r, W/r], channel c*r*r + i*r + j holding offset (i, j).
 * ONNX SpaceToDepth orders the channels offset-major ((i*r + j)*C + c), so a Gather reorders them.
 */
function pixelUnshuffle(g: GraphBuilder, x: string, channels: number, r: number): string {
  const s2d = g.op('SpaceToDepth', [x], { blocksize: attr.int(r) });
  const order: number[] = [];
  for (let c = 0; c < channels; c++) for (let offset = 0; offset < r * r; offset++) order.push(offset * channels + c);
  return g.op('Gather', [s2d, g.constInt64(order)], { axis: attr.int(1) });
}

function buildRrdb(g: GraphBuilder, layout: RrdbLayout, image: string): string {
  const { keys, blocks, features: f, growth: gc } = layout;
  const input = layout.unshuffle > 1 ? pixelUnshuffle(g, image, layout.channels, layout.unshuffle) : image;
  const cin = layout.channels * layout.unshuffle * layout.unshuffle;
  // Expected shapes checked by key, so a file with an odd tensor fails naming it.
  for (let b = 0; b < blocks; b++) {
    for (let k = 1; k <= 3; k++) for (let j = 1; j <= 5; j++) g.weight(`${keys.dense(b, k, j)}weight`, [j === 5 ? f : gc, f + (j - 1) * gc, 3, 3]);
  }
  g.weight(`${keys.first}weight`, [f, cin, 3, 3]);
  g.weight(`${keys.trunk}weight`, [f, f, 3, 3]);
  g.weight(`${keys.hr}weight`, [f, f, 3, 3]);
  g.weight(`${keys.last}weight`, [layout.channels, f, 3, 3]);
  const fea = conv2d(g, input, keys.first); // [B, F, h, w]
  let trunk = fea;
  for (let b = 0; b < blocks; b++) {
    let h = trunk;
    for (let k = 1; k <= 3; k++) h = denseBlock(g, layout, h, b, k);
    trunk = addScaled(g, trunk, h);
  }
  let x = g.op('Add', [fea, conv2d(g, trunk, keys.trunk)]);
  for (let u = 1; u <= layout.upsamples; u++) {
    g.weight(`${keys.up(u)}weight`, [f, f, 3, 3]);
    x = leakyRelu(g, conv2d(g, upsampleNearest2x(g, x), keys.up(u))); // [B, F, 2h, 2w]
  }
  return conv2d(g, leakyRelu(g, conv2d(g, x, keys.hr)), keys.last); // [B, 3, s*H, s*W]
}

/** SRVGGNetCompact (Real-ESRGAN): convs with per-channel PReLU, a pixel shuffle, plus the nearest-upsampled input. */
function buildSrvgg(g: GraphBuilder, layout: SrvggLayout, image: string): string {
  const { prefix, features: f, scale } = layout;
  const prelu = (x: string, index: number) => {
    const slope = g.weight(`${prefix}${index}.weight`, [f]);
    return g.op('PRelu', [x, g.op('Reshape', [slope, g.constInt64([f, 1, 1])])]);
  };
  g.weight(`${prefix}0.weight`, [f, layout.channels, 3, 3]);
  let x = prelu(conv2d(g, image, `${prefix}0.`), 1);
  for (let i = 1; i <= layout.convs; i++) {
    g.weight(`${prefix}${2 * i}.weight`, [f, f, 3, 3]);
    x = prelu(conv2d(g, x, `${prefix}${2 * i}.`), 2 * i + 1);
  }
  const lastIndex = 2 * layout.convs + 2;
  g.weight(`${prefix}${lastIndex}.weight`, [layout.channels * scale * scale, f, 3, 3]);
  const shuffled = g.op('DepthToSpace', [conv2d(g, x, `${prefix}${lastIndex}.`)], { blocksize: attr.int(scale), mode: attr.string('CRD') }); // [B, 3, sH, sW]
  const base = g.op('Resize', [image, '', g.constFloat([1, 1, scale, scale], [4])], {
    mode: attr.string('nearest'),
    coordinate_transformation_mode: attr.string('asymmetric'),
    nearest_mode: attr.string('floor'),
  });
  return g.op('Add', [shuffled, base]);
}

export function buildUpscalerGraph(checkpoint: SafetensorsHeader, layout: UpscalerLayout): OnnxModel {
  const g = new GraphBuilder('upscaler', checkpoint);
  const image = g.input('image', 'float32', [1, layout.channels, 'height', 'width']);
  const out = layout.kind === 'rrdb' ? buildRrdb(g, layout, image) : buildSrvgg(g, layout, image);
  g.output(out, 'upscaled', 'float32', [1, layout.channels, 'out_height', 'out_width']);
  return g.build({ 'fooocus.graph': `upscaler-${layout.kind}` });
}
