/**
 * Reference forward passes of the super-resolution networks, written from the papers' descriptions with the naive
 * ops: RRDBNet (ESRGAN, Wang et al. 2018; Real-ESRGAN's pixel-unshuffled input, Wang et al. 2021) and
 * SRVGGNetCompact (Real-ESRGAN). Weights use one canonical naming (test/fixtures/upscalers.ts).
 */
import { add, concat, conv2d, upsampleNearest2x } from './ops.ts';
import { zeros, type RefTensor } from './tensor.ts';

type Weights = ReadonlyMap<string, RefTensor>;

function w(weights: Weights, key: string): RefTensor {
  const t = weights.get(key);
  if (t === undefined) throw new Error(`reference: no weight "${key}"`);
  return t;
}

function conv(weights: Weights, x: RefTensor, name: string): RefTensor {
  return conv2d(x, w(weights, `${name}.weight`), w(weights, `${name}.bias`), { padding: 1 });
}

function map(x: RefTensor, fn: (v: number, i: number) => number): RefTensor {
  return { shape: [...x.shape], data: x.data.map(fn) };
}

function leaky(x: RefTensor): RefTensor {
  return map(x, (v) => (v >= 0 ? v : 0.2 * v));
}

function scaledResidual(x: RefTensor, r: RefTensor): RefTensor {
  return map(x, (v, i) => v + 0.2 * r.data[i]!);
}

/** torch.pixel_unshuffle: channel c * r^2 + i * r + j holds pixel (r*y + i, r*x + j) of channel c. */
export function pixelUnshuffle(x: RefTensor, r: number): RefTensor {
  const [, C, H, W] = x.shape as [number, number, number, number];
  const out = zeros([1, C * r * r, H / r, W / r]);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        const oc = c * r * r + i * r + j;
        for (let y = 0; y < H / r; y++) for (let xx = 0; xx < W / r; xx++) out.data[(oc * (H / r) + y) * (W / r) + xx] = x.data[(c * H + r * y + i) * W + r * xx + j]!;
      }
    }
  }
  return out;
}

/** torch.pixel_shuffle: the inverse of pixelUnshuffle. */
export function pixelShuffle(x: RefTensor, r: number): RefTensor {
  const [, CR, H, W] = x.shape as [number, number, number, number];
  const C = CR / (r * r);
  const out = zeros([1, C, H * r, W * r]);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        const ic = c * r * r + i * r + j;
        for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) out.data[(c * H * r + r * y + i) * W * r + r * xx + j] = x.data[(ic * H + y) * W + xx]!;
      }
    }
  }
  return out;
}

/** RRDBNet on x [1, 3, H, W] in 0..1; `unshuffle` 1, 2 or 4. */
export function referenceRrdb(weights: Weights, x: RefTensor, opts: { blocks: number; upsamples: number; unshuffle: number }): RefTensor {
  const input = opts.unshuffle > 1 ? pixelUnshuffle(x, opts.unshuffle) : x;
  const fea = conv(weights, input, 'conv_first');
  let trunk = fea;
  for (let b = 0; b < opts.blocks; b++) {
    let h = trunk;
    for (let k = 1; k <= 3; k++) {
      const outs = [h];
      for (let j = 1; j <= 4; j++) outs.push(leaky(conv(weights, concat(outs, 1), `body.${b}.rdb${k}.conv${j}`)));
      h = scaledResidual(h, conv(weights, concat(outs, 1), `body.${b}.rdb${k}.conv5`));
    }
    trunk = scaledResidual(trunk, h);
  }
  let y = add(fea, conv(weights, trunk, 'conv_body'));
  for (let u = 1; u <= opts.upsamples; u++) y = leaky(conv(weights, upsampleNearest2x(y), `conv_up${u}`));
  return conv(weights, leaky(conv(weights, y, 'conv_hr')), 'conv_last');
}

function prelu(x: RefTensor, slope: RefTensor): RefTensor {
  const [, C, H, W] = x.shape as [number, number, number, number];
  return map(x, (v, i) => (v >= 0 ? v : slope.data[Math.floor(i / (H * W)) % C]! * v));
}

/** SRVGGNetCompact on x [1, 3, H, W]: conv/PReLU body, pixel shuffle, plus the nearest-upsampled input. */
export function referenceSrvgg(weights: Weights, x: RefTensor, opts: { convs: number; scale: number }): RefTensor {
  let h = prelu(conv(weights, x, 'body.0'), w(weights, 'body.1.weight'));
  for (let i = 1; i <= opts.convs; i++) h = prelu(conv(weights, h, `body.${2 * i}`), w(weights, `body.${2 * i + 1}.weight`));
  const out = pixelShuffle(conv(weights, h, `body.${2 * opts.convs + 2}`), opts.scale);
  const [, , H, W] = x.shape as [number, number, number, number];
  const s = opts.scale;
  return map(out, (v, i) => {
    const xx = i % (W * s);
    const y = Math.floor(i / (W * s)) % (H * s);
    const c = Math.floor(i / (W * s * H * s));
    return v + x.data[(c * H + Math.floor(y / s)) * W + Math.floor(xx / s)]!;
  });
}
