/**
 * RetinaFace (Deng et al. 2019) with a ResNet-50 body (He et al. 2016) as an ONNX graph named by the checkpoint's
 * keys (layout: retinaface-layout.ts).
 *
 * Input `image` [1, 3, H, W]: BGR pixel values 0..255 minus the means (104, 117, 123), as the detector was
 * trained. Outputs over all anchors of the three pyramid levels (strides 8, 16, 32; two anchors per position,
 * row-major, anchor innermost): `boxes` [1, N, 4] box offsets, `scores` [1, N, 2] softmax (index 1 = face),
 * `landmarks` [1, N, 10] five landmark offsets. Decoding against the prior boxes is face-detection.ts's.
 */
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { attr, GraphBuilder } from '../onnx/graph-builder.ts';
import type { OnnxModel } from '../onnx/onnx-proto.ts';
import { conv2d } from '../graphs/layers.ts';
import type { RetinaFaceLayout } from './retinaface-layout.ts';

/** BatchNorm's epsilon in torchvision and facexlib (PyTorch's default). */
const BN_EPS = 1e-5;

/** `nn.BatchNorm2d` in eval mode from its four tensors; ONNX Runtime folds it into the conv before it. */
function batchNorm(g: GraphBuilder, x: string, prefix: string): string {
  const [scale, bias, mean, variance] = ['weight', 'bias', 'running_mean', 'running_var'].map((k) => g.weight(`${prefix}${k}`));
  return g.op('BatchNormalization', [x, scale!, bias!, mean!, variance!], { epsilon: attr.float(BN_EPS) });
}

function activate(g: GraphBuilder, x: string, leaky: number): string {
  return leaky === 0 ? g.op('Relu', [x]) : g.op('LeakyRelu', [x], { alpha: attr.float(leaky) });
}

/** facexlib's `conv_bn*` blocks: `<prefix>.0` conv without bias, `<prefix>.1` BatchNorm, then the activation. */
function convBn(g: GraphBuilder, x: string, prefix: string, leaky: number | null, stride = 1): string {
  const y = batchNorm(g, conv2d(g, x, `${prefix}.0.`, { stride }), `${prefix}.1.`);
  return leaky === null ? y : activate(g, y, leaky);
}

/** torchvision's Bottleneck (stride on the 3x3 conv): 1x1 -> 3x3 -> 1x1, plus the identity or a 1x1 projection. */
function bottleneck(g: GraphBuilder, x: string, prefix: string, stride: number): string {
  let y = g.op('Relu', [batchNorm(g, conv2d(g, x, `${prefix}conv1.`), `${prefix}bn1.`)]);
  y = g.op('Relu', [batchNorm(g, conv2d(g, y, `${prefix}conv2.`, { stride }), `${prefix}bn2.`)]);
  y = batchNorm(g, conv2d(g, y, `${prefix}conv3.`), `${prefix}bn3.`);
  const shortcut = g.has(`${prefix}downsample.0.weight`) ? batchNorm(g, conv2d(g, x, `${prefix}downsample.0.`, { stride }), `${prefix}downsample.1.`) : x;
  return g.op('Relu', [g.op('Add', [y, shortcut])]);
}

/** ResNet body; returns the outputs of layer2, layer3 and layer4 (strides 8, 16, 32). */
function resnetBody(g: GraphBuilder, image: string, layout: RetinaFaceLayout): string[] {
  const p = `${layout.prefix}body.`;
  let x = g.op('Relu', [batchNorm(g, conv2d(g, image, `${p}conv1.`, { stride: 2, padding: 3 }), `${p}bn1.`)]); // [1, C, H/2, W/2]
  x = g.op('MaxPool', [x], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) }); // [1, C, H/4, W/4]
  const levels: string[] = [];
  layout.blocks.forEach((count, i) => {
    for (let b = 0; b < count; b++) x = bottleneck(g, x, `${p}layer${i + 1}.${b}.`, b === 0 && i > 0 ? 2 : 1);
    if (i > 0) levels.push(x);
  });
  return levels;
}

/** Nearest resize of `x` to the spatial size of `like`, as `F.interpolate(size=…, mode="nearest")`. */
function resizeNearestTo(g: GraphBuilder, x: string, like: string): string {
  const batchChannels = g.op('Slice', [g.op('Shape', [x]), g.constInt64([0]), g.constInt64([2])]);
  const spatial = g.op('Slice', [g.op('Shape', [like]), g.constInt64([2]), g.constInt64([4])]);
  const sizes = g.op('Concat', [batchChannels, spatial], { axis: attr.int(0) });
  return g.op('Resize', [x, '', '', sizes], {
    mode: attr.string('nearest'),
    coordinate_transformation_mode: attr.string('asymmetric'),
    nearest_mode: attr.string('floor'),
  });
}

/** Feature pyramid: lateral 1x1 convs, top-down nearest upsampling and 3x3 merges. */
function featurePyramid(g: GraphBuilder, levels: string[], layout: RetinaFaceLayout): string[] {
  const p = `${layout.prefix}fpn.`;
  const [o1, o2, o3] = [1, 2, 3].map((i) => convBn(g, levels[i - 1]!, `${p}output${i}`, layout.leaky, 1)) as [string, string, string];
  const m2 = convBn(g, g.op('Add', [o2, resizeNearestTo(g, o3, o2)]), `${p}merge2`, layout.leaky);
  const m1 = convBn(g, g.op('Add', [o1, resizeNearestTo(g, m2, o1)]), `${p}merge1`, layout.leaky);
  return [m1, m2, o3];
}

/** SSH context module (Najibi et al. 2017): 3x3, 5x5 and 7x7 receptive fields from stacked 3x3 convs. */
function contextModule(g: GraphBuilder, x: string, prefix: string, layout: RetinaFaceLayout): string {
  const c3 = convBn(g, x, `${prefix}conv3X3`, null);
  const c5a = convBn(g, x, `${prefix}conv5X5_1`, layout.leaky);
  const c5 = convBn(g, c5a, `${prefix}conv5X5_2`, null);
  const c7 = convBn(g, convBn(g, c5a, `${prefix}conv7X7_2`, layout.leaky), `${prefix}conv7x7_3`, null);
  return g.op('Relu', [g.op('Concat', [c3, c5, c7], { axis: attr.int(1) })]); // [1, channels, h, w]
}

/** One head over the three levels: 1x1 conv, NCHW -> [1, h*w*anchors, values], levels concatenated. */
function head(g: GraphBuilder, features: string[], name: string, values: number, layout: RetinaFaceLayout): string {
  const parts = features.map((f, i) => {
    const y = conv2d(g, f, `${layout.prefix}${name}.${i}.conv1x1.`);
    return g.op('Reshape', [g.op('Transpose', [y], { perm: attr.ints([0, 2, 3, 1]) }), g.constInt64([0, -1, values])]);
  });
  return g.op('Concat', parts, { axis: attr.int(1) });
}

export function buildRetinaFaceGraph(checkpoint: SafetensorsHeader, layout: RetinaFaceLayout): OnnxModel {
  const g = new GraphBuilder('retinaface', checkpoint);
  const image = g.input('image', 'float32', [1, 3, 'height', 'width']);
  const pyramid = featurePyramid(g, resnetBody(g, image, layout), layout);
  const features = pyramid.map((x, i) => contextModule(g, x, `${layout.prefix}ssh${i + 1}.`, layout));
  g.output(head(g, features, 'BboxHead', 4, layout), 'boxes', 'float32', [1, 'anchors', 4]);
  g.output(g.op('Softmax', [head(g, features, 'ClassHead', 2, layout)], { axis: attr.int(-1) }), 'scores', 'float32', [1, 'anchors', 2]);
  g.output(head(g, features, 'LandmarkHead', 10, layout), 'landmarks', 'float32', [1, 'anchors', 10]);
  return g.build({ 'fooocus.graph': 'retinaface' });
}
