/**
 * Plain-TypeScript RetinaFace forward pass (ResNet body, FPN, SSH, heads) for checking the ONNX graph, written
 * from the architecture's description with the naive ops in ops.ts. Slow; for tiny fixture weights only.
 */
import { concat, conv2d, softmax } from './ops.ts';
import { reshape, zeros, type RefTensor, type WeightSource } from './tensor.ts';

function mapData(x: RefTensor, f: (v: number) => number): RefTensor {
  return { shape: [...x.shape], data: x.data.map(f) };
}

function add(a: RefTensor, b: RefTensor): RefTensor {
  return { shape: [...a.shape], data: a.data.map((v, i) => v + b.data[i]!) };
}

function batchNorm(x: RefTensor, w: WeightSource, p: string): RefTensor {
  const [gamma, beta, mean, variance] = ['weight', 'bias', 'running_mean', 'running_var'].map((k) => w(`${p}${k}`).data);
  const [, C, H, W] = x.shape as [number, number, number, number];
  const out = zeros(x.shape);
  for (let c = 0; c < C; c++) {
    const scale = gamma![c]! / Math.sqrt(variance![c]! + 1e-5);
    for (let i = 0; i < H * W; i++) out.data[c * H * W + i] = (x.data[c * H * W + i]! - mean![c]!) * scale + beta![c]!;
  }
  return out;
}

const relu = (x: RefTensor): RefTensor => mapData(x, (v) => Math.max(0, v));
const leakyRelu = (x: RefTensor, slope: number): RefTensor => mapData(x, (v) => (v >= 0 ? v : v * slope));

function conv(x: RefTensor, w: WeightSource, p: string, stride = 1): RefTensor {
  const weight = w(`${p}weight`);
  const k = weight.shape[2]!;
  let bias: RefTensor | null = null;
  try {
    bias = w(`${p}bias`);
  } catch {
    bias = null;
  }
  return conv2d(x, weight, bias, { stride, padding: (k - 1) / 2 });
}

function maxPool3x3s2(x: RefTensor): RefTensor {
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const OH = Math.floor((H + 2 - 3) / 2) + 1;
  const OW = Math.floor((W + 2 - 3) / 2) + 1;
  const out = zeros([B, C, OH, OW]);
  for (let c = 0; c < B * C; c++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let m = -Infinity;
        for (let ky = 0; ky < 3; ky++) {
          for (let kx = 0; kx < 3; kx++) {
            const iy = oy * 2 - 1 + ky;
            const ix = ox * 2 - 1 + kx;
            if (iy >= 0 && iy < H && ix >= 0 && ix < W) m = Math.max(m, x.data[(c * H + iy) * W + ix]!);
          }
        }
        out.data[(c * OH + oy) * OW + ox] = m;
      }
    }
  }
  return out;
}

/** `F.interpolate(x, size=[h, w], mode="nearest")`: source index floor(dst * in / out). */
function resizeNearest(x: RefTensor, h: number, w: number): RefTensor {
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const out = zeros([B, C, h, w]);
  for (let c = 0; c < B * C; c++) {
    for (let y = 0; y < h; y++) {
      for (let xi = 0; xi < w; xi++) out.data[(c * h + y) * w + xi] = x.data[(c * H + Math.floor((y * H) / h)) * W + Math.floor((xi * W) / w)]!;
    }
  }
  return out;
}

export interface RetinaFaceReferenceConfig {
  prefix: string;
  blocks: readonly number[];
  leaky: number;
}

export function retinaFaceReference(w: WeightSource, cfg: RetinaFaceReferenceConfig, image: RefTensor): { boxes: RefTensor; scores: RefTensor; landmarks: RefTensor } {
  const p = cfg.prefix;
  const act = (x: RefTensor): RefTensor => (cfg.leaky === 0 ? relu(x) : leakyRelu(x, cfg.leaky));
  const convBn = (x: RefTensor, name: string, activate: boolean): RefTensor => {
    const y = batchNorm(conv(x, w, `${name}.0.`), w, `${name}.1.`);
    return activate ? act(y) : y;
  };
  let x = maxPool3x3s2(relu(batchNorm(conv(image, w, `${p}body.conv1.`, 2), w, `${p}body.bn1.`)));
  const levels: RefTensor[] = [];
  cfg.blocks.forEach((count, i) => {
    for (let b = 0; b < count; b++) {
      const q = `${p}body.layer${i + 1}.${b}.`;
      const stride = b === 0 && i > 0 ? 2 : 1;
      let y = relu(batchNorm(conv(x, w, `${q}conv1.`), w, `${q}bn1.`));
      y = relu(batchNorm(conv(y, w, `${q}conv2.`, stride), w, `${q}bn2.`));
      y = batchNorm(conv(y, w, `${q}conv3.`), w, `${q}bn3.`);
      const shortcut = b === 0 ? batchNorm(conv(x, w, `${q}downsample.0.`, stride), w, `${q}downsample.1.`) : x;
      x = relu(add(y, shortcut));
    }
    if (i > 0) levels.push(x);
  });
  const o1 = convBn(levels[0]!, `${p}fpn.output1`, true);
  const o2 = convBn(levels[1]!, `${p}fpn.output2`, true);
  const o3 = convBn(levels[2]!, `${p}fpn.output3`, true);
  const m2 = convBn(add(o2, resizeNearest(o3, o2.shape[2]!, o2.shape[3]!)), `${p}fpn.merge2`, true);
  const m1 = convBn(add(o1, resizeNearest(m2, o1.shape[2]!, o1.shape[3]!)), `${p}fpn.merge1`, true);
  const features = [m1, m2, o3].map((f, i) => {
    const s = `${p}ssh${i + 1}.`;
    const c3 = convBn(f, `${s}conv3X3`, false);
    const c5a = convBn(f, `${s}conv5X5_1`, true);
    const c5 = convBn(c5a, `${s}conv5X5_2`, false);
    const c7 = convBn(convBn(c5a, `${s}conv7X7_2`, true), `${s}conv7x7_3`, false);
    return relu(concat([c3, c5, c7], 1));
  });
  const head = (name: string, values: number): RefTensor =>
    concat(
      features.map((f, i) => {
        const y = conv(f, w, `${p}${name}.${i}.conv1x1.`);
        const [, C, H, W] = y.shape as [number, number, number, number];
        const nhwc = zeros([1, H, W, C]);
        for (let c = 0; c < C; c++) for (let j = 0; j < H * W; j++) nhwc.data[j * C + c] = y.data[c * H * W + j]!;
        return reshape(nhwc, [1, (H * W * C) / values, values]);
      }),
      1,
    );
  return { boxes: head('BboxHead', 4), scores: softmax(head('ClassHead', 2)), landmarks: head('LandmarkHead', 10) };
}
