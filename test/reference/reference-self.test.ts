/**
 * Sanity checks of the reference implementations themselves: hand-computed ops, published function values, and
 * whole tiny models whose every checkpoint key (from weight-shapes.ts) is read exactly as listed.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ClipTextConfig, UnetConfig, VaeConfig } from '../../src/engine/models/architecture.ts';
import { clipTextReference } from './clip.ts';
import {
  attention,
  conv2d,
  erf,
  gelu,
  groupNorm,
  layerNorm,
  quickGelu,
  slice,
  softmax,
  timestepEmbedding,
  upsampleNearest2x,
} from './ops.ts';
import { fromValues, numel, zeros, type RefTensor, type WeightSource } from './tensor.ts';
import { unetReference } from './unet.ts';
import { vaeDecodeReference, vaeDownsampleReference, vaeEncodeReference } from './vae.ts';
import { clipTextWeightShapes, unetWeightShapes, vaeWeightShapes, type WeightShapes } from './weight-shapes.ts';

/** mulberry32: a tiny seeded PRNG, so every run sees the same "random" tensors. */
function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomTensor(shape: number[], next: () => number, scale = 1, offset = 0): RefTensor {
  const t = zeros(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = offset + scale * (2 * next() - 1);
  return t;
}

/** Random weights for every listed key: fan-in-scaled matrices, norm gains near 1, small biases. */
function randomWeights(shapes: WeightShapes, seed: number): Map<string, RefTensor> {
  const next = seededUniform(seed);
  const weights = new Map<string, RefTensor>();
  for (const [key, shape] of shapes) {
    if (shape.length === 1) {
      const gain = key.endsWith('.weight');
      weights.set(key, randomTensor(shape, next, 0.1, gain ? 1 : 0));
    } else {
      weights.set(key, randomTensor(shape, next, 1 / Math.sqrt(numel(shape.slice(1)))));
    }
  }
  return weights;
}

/** A WeightSource that records which keys were read and checks them against the listed shapes. */
function recordingSource(weights: Map<string, RefTensor>): { source: WeightSource; read: Set<string> } {
  const read = new Set<string>();
  const source: WeightSource = (name) => {
    const t = weights.get(name);
    if (t === undefined) throw new Error(`missing weight: ${name}`);
    read.add(name);
    return t;
  };
  return { source, read };
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    assert.ok(Math.abs(a - e) <= tol, `${what}[${i}]: ${a} vs ${e} (tol ${tol})`);
  }
}

function assertFinite(t: RefTensor): void {
  assert.ok(t.data.every(Number.isFinite), 'every element is finite');
}

function assertAllKeysRead(shapes: WeightShapes, read: Set<string>): void {
  const unread = [...shapes.keys()].filter((k) => !read.has(k));
  const unlisted = [...read].filter((k) => !shapes.has(k));
  assert.deepEqual(unread, [], 'listed keys the forward pass never read');
  assert.deepEqual(unlisted, [], 'keys read that weight-shapes does not list');
}

const SOBEL_X = [1, 0, -1, 2, 0, -2, 1, 0, -1];
const ONE_TO_NINE = [1, 2, 3, 4, 5, 6, 7, 8, 9];

describe('reference ops', () => {
  it('conv2d matches a hand-computed 3x3 Sobel filter with padding, stride and bias', () => {
    const x = fromValues([1, 1, 3, 3], ONE_TO_NINE);
    const w = fromValues([1, 1, 3, 3], SOBEL_X);
    const b = fromValues([1], [0.5]);
    // out[i][j] = V(i, j-1) - V(i, j+1), with V the [1, 2, 1] vertical sum of the zero-padded input
    const full = [-9, -6, 9, -20, -8, 20, -21, -6, 21].map((v) => v + 0.5);
    assertClose(conv2d(x, w, b, { padding: 1 }).data, full, 0);
    assert.deepEqual(conv2d(x, w, b).shape, [1, 1, 1, 1]);
    assertClose(conv2d(x, w, b).data, [-8 + 0.5], 0);
    const strided = conv2d(x, w, b, { stride: 2, padding: 1 });
    assert.deepEqual(strided.shape, [1, 1, 2, 2]);
    assertClose(strided.data, [-9, 9, -21, 21].map((v) => v + 0.5), 0);
  });

  it('conv2d sums over input channels per output channel', () => {
    const x = fromValues([1, 2, 3, 3], [...ONE_TO_NINE, ...ONE_TO_NINE]);
    const w = fromValues([2, 2, 3, 3], [...SOBEL_X, ...SOBEL_X, ...SOBEL_X, ...Array<number>(9).fill(0)]);
    const out = conv2d(x, w, null, { padding: 1 });
    const single = [-9, -6, 9, -20, -8, 20, -21, -6, 21];
    assertClose(out.data, [...single.map((v) => 2 * v), ...single], 0);
  });

  it('groupNorm gives each group mean 0 and variance 1, then applies the per-channel affine', () => {
    const next = seededUniform(1);
    const x = randomTensor([2, 8, 3, 3], next, 3, 1.5);
    const ones = fromValues([8], Array<number>(8).fill(1));
    const zero = fromValues([8], Array<number>(8).fill(0));
    const y = groupNorm(x, 4, ones, zero);
    for (let n = 0; n < 2; n++) {
      for (let g = 0; g < 4; g++) {
        const group = y.data.subarray((n * 8 + g * 2) * 9, (n * 8 + g * 2 + 2) * 9);
        const mean = group.reduce((s, v) => s + v, 0) / group.length;
        const variance = group.reduce((s, v) => s + (v - mean) ** 2, 0) / group.length;
        assert.ok(Math.abs(mean) < 1e-6, `mean ${mean}`);
        assert.ok(Math.abs(variance - 1) < 1e-4, `variance ${variance}`);
      }
    }
    const affine = groupNorm(x, 4, fromValues([8], Array<number>(8).fill(2)), fromValues([8], Array<number>(8).fill(3)));
    assertClose(affine.data, Array.from(y.data, (v) => 2 * v + 3), 1e-5);
  });

  it('layerNorm normalises the last axis', () => {
    const x = fromValues([2, 4], [1, 2, 3, 4, 10, 10, 10, 10]);
    const y = layerNorm(x, fromValues([4], [1, 1, 1, 1]), fromValues([4], [0, 0, 0, 1]));
    const inv = 1 / Math.sqrt(1.25 + 1e-5);
    assertClose(y.data, [-1.5 * inv, -0.5 * inv, 0.5 * inv, 1.5 * inv + 1, 0, 0, 0, 1], 1e-6);
  });

  it('erf matches published values to float64 precision', () => {
    const known: [number, number][] = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [-0.5, -0.5204998778130465],
      [1, 0.8427007929497149],
      [1.5, 0.9661051464753108],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [5.5, 0.9999999999999927],
      [7, 1],
    ];
    for (const [x, expected] of known) assert.ok(Math.abs(erf(x) - expected) < 1e-14, `erf(${x}) = ${erf(x)}`);
  });

  it('gelu is exact (erf) and quickGelu is x * sigmoid(1.702 x)', () => {
    const x = fromValues([3], [1, 0, -1]);
    assertClose(gelu(x).data, [0.8413447460685429, 0, -(1 - 0.8413447460685429)], 1e-7);
    assertClose(quickGelu(x).data, [1 / (1 + Math.exp(-1.702)), 0, -1 / (1 + Math.exp(1.702))], 1e-7);
  });

  it('softmax rows sum to one and are shift-invariant', () => {
    const y = softmax(fromValues([2, 3], [1, 2, 3, 1001, 1002, 1003]));
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const s = e[0]! + e[1]! + e[2]!;
    assertClose(y.data, [...e, ...e].map((v) => v / s), 1e-7);
  });

  it('attention over identical keys returns the mean of the values, per head', () => {
    const next = seededUniform(2);
    const q = randomTensor([1, 3, 4], next);
    const key = [0.3, -0.2, 0.5, 0.1];
    const k = fromValues([1, 5, 4], Array.from({ length: 5 }, () => key).flat());
    const v = randomTensor([1, 5, 4], next);
    const out = attention(q, k, v, 2);
    const mean = [0, 1, 2, 3].map((c) => [0, 1, 2, 3, 4].reduce((s, j) => s + v.data[j * 4 + c]!, 0) / 5);
    for (let i = 0; i < 3; i++) assertClose(out.data.subarray(i * 4, i * 4 + 4), mean, 1e-6, `query ${i}`);
  });

  it('attention scales scores by 1/sqrt(head width)', () => {
    // one query, two keys with scores 4 and 0 at head width 4: weights softmax([2, 0])
    const q = fromValues([1, 1, 4], [1, 1, 1, 1]);
    const k = fromValues([1, 2, 4], [1, 1, 1, 1, 0, 0, 0, 0]);
    const v = fromValues([1, 2, 1], [1, 0]);
    assertClose(attention(q, k, v, 1).data, [Math.exp(2) / (Math.exp(2) + 1)], 1e-7);
  });

  it('causal attention: token 0 sees only itself, and no token sees later ones', () => {
    const next = seededUniform(3);
    const q = randomTensor([1, 4, 4], next);
    const k = randomTensor([1, 4, 4], next);
    const v = randomTensor([1, 4, 4], next);
    const out = attention(q, k, v, 2, { causal: true });
    assertClose(out.data.subarray(0, 4), v.data.subarray(0, 4), 1e-7, 'token 0');
    const k2 = { shape: k.shape, data: Float32Array.from(k.data) };
    const v2 = { shape: v.shape, data: Float32Array.from(v.data) };
    for (let c = 0; c < 4; c++) {
      k2.data[12 + c] = 9;
      v2.data[12 + c] = -9;
    }
    const changed = attention(q, k2, v2, 2, { causal: true });
    assertClose(changed.data.subarray(0, 12), out.data.subarray(0, 12), 0, 'tokens before the change');
  });

  it('upsampleNearest2x repeats each pixel into a 2x2 block', () => {
    const y = upsampleNearest2x(fromValues([1, 1, 2, 2], [1, 2, 3, 4]));
    assert.deepEqual(y.shape, [1, 1, 4, 4]);
    assert.deepEqual(Array.from(y.data), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it('timestepEmbedding: cosines first, then sines, geometric frequencies from 1 down to 10000^(-(half-1)/half)', () => {
    assert.deepEqual(Array.from(timestepEmbedding([0], 8).data), [1, 1, 1, 1, 0, 0, 0, 0]);
    const e = timestepEmbedding([1, 500], 4); // half 2: freqs [1, 0.01]
    assertClose(e.data, [Math.cos(1), Math.cos(0.01), Math.sin(1), Math.sin(0.01), Math.cos(500), Math.cos(5), Math.sin(500), Math.sin(5)], 1e-7);
    assert.deepEqual(Array.from(timestepEmbedding([0], 5).data), [1, 1, 0, 0, 0], 'odd width pads one zero');
  });

  it('VAE downsample pads only right and bottom before its stride-2 conv', () => {
    const x = fromValues([1, 1, 4, 4], Array.from({ length: 16 }, (_, i) => i + 1));
    const pick = (ky: number, kx: number): WeightSource => (name) => {
      const t = name.endsWith('bias') ? zeros([1]) : zeros([1, 1, 3, 3]);
      if (!name.endsWith('bias')) t.data[ky * 3 + kx] = 1;
      return t;
    };
    // top-left tap reads x[2i][2j]; bottom-right tap reads x[2i+2][2j+2], zero past the right/bottom edge
    assert.deepEqual(Array.from(vaeDownsampleReference(pick(0, 0), '', x).data), [1, 3, 9, 11]);
    assert.deepEqual(Array.from(vaeDownsampleReference(pick(2, 2), '', x).data), [11, 0, 0, 0]);
  });
});

const sd15Tiny: UnetConfig = {
  prefix: 'model.diffusion_model.',
  inChannels: 4,
  outChannels: 4,
  modelChannels: 32,
  channelMult: [1, 2, 2],
  numResBlocks: [1, 1, 1],
  inputTransformerDepth: [0, 1, 0, 1, 0, 0],
  middleTransformerDepth: 1,
  outputTransformerDepth: [0, 0, 1, 1, 1, 1],
  attention: { numHeads: 2 },
  contextDim: 24,
  admInChannels: null,
  linearProjection: false,
  groups: 8,
};

const sdxlTiny: UnetConfig = {
  prefix: 'model.diffusion_model.',
  inChannels: 4,
  outChannels: 4,
  modelChannels: 32,
  channelMult: [1, 2],
  numResBlocks: [2, 2],
  inputTransformerDepth: [0, 0, 0, 0, 2, 2],
  middleTransformerDepth: 2,
  outputTransformerDepth: [2, 2, 2, 0, 0, 0],
  attention: { headChannels: 16 },
  contextDim: 40,
  admInChannels: 24,
  linearProjection: true,
  groups: 8,
};

function unetInputs(cfg: UnetConfig, batch: number, seed: number): { x: RefTensor; context: RefTensor; y: RefTensor | null } {
  const next = seededUniform(seed);
  return {
    x: randomTensor([batch, cfg.inChannels, 8, 8], next),
    context: randomTensor([batch, 6, cfg.contextDim], next),
    y: cfg.admInChannels === null ? null : randomTensor([batch, cfg.admInChannels], next),
  };
}

describe('reference UNet', () => {
  for (const [name, cfg] of [
    ['SD1.5-like (conv projections, fixed heads)', sd15Tiny],
    ['SDXL-like (linear projections, head width, label_emb)', sdxlTiny],
  ] as const) {
    it(`${name}: reads exactly the listed keys and keeps the latent shape`, () => {
      const shapes = unetWeightShapes(cfg);
      const { source, read } = recordingSource(randomWeights(shapes, 10));
      const { x, context, y } = unetInputs(cfg, 2, 11);
      const out = unetReference(source, cfg, x, [999, 10], context, y);
      assert.deepEqual(out.shape, [2, cfg.outChannels, 8, 8]);
      assertFinite(out);
      assertAllKeysRead(shapes, read);
    });
  }

  it('rows of a batch are independent, and timestep, context and y all reach the output', () => {
    const cfg = sdxlTiny;
    const weights = recordingSource(randomWeights(unetWeightShapes(cfg), 12)).source;
    const { x, context, y } = unetInputs(cfg, 2, 13);
    const both = unetReference(weights, cfg, x, [999, 10], context, y);
    const row = (t: RefTensor): RefTensor => slice(t, 0, 1, 2);
    const second = unetReference(weights, cfg, row(x), [10], row(context), y === null ? null : row(y));
    assertClose(second.data, row(both).data, 1e-5, 'batch row 1 alone');

    const differs = (a: RefTensor, b: RefTensor): boolean => a.data.some((v, i) => Math.abs(v - b.data[i]!) > 1e-4);
    assert.ok(differs(second, unetReference(weights, cfg, row(x), [500], row(context), y === null ? null : row(y))), 'timestep');
    assert.ok(differs(second, unetReference(weights, cfg, row(x), [10], slice(context, 0, 0, 1), y === null ? null : row(y))), 'context');
    assert.ok(differs(second, unetReference(weights, cfg, row(x), [10], row(context), y === null ? null : slice(y, 0, 0, 1))), 'y');
  });

  it('rejects a missing ADM vector and names a missing key', () => {
    const { x, context } = unetInputs(sdxlTiny, 1, 14);
    const weights = recordingSource(randomWeights(unetWeightShapes(sdxlTiny), 15)).source;
    assert.throws(() => unetReference(weights, sdxlTiny, x, [1], context, null), /needs the ADM vector/);
    const withoutOut: WeightSource = (name) => {
      if (name.endsWith('out.2.weight')) throw new Error(`missing weight: ${name}`);
      return weights(name);
    };
    const y = randomTensor([1, 24], seededUniform(16));
    assert.throws(() => unetReference(withoutOut, sdxlTiny, x, [1], context, y), /missing weight: model\.diffusion_model\.out\.2\.weight/);
  });
});

const clipLTiny: ClipTextConfig = {
  layout: 'clip-l',
  prefix: 'cond_stage_model.transformer.text_model.',
  vocabSize: 50,
  maxPositions: 77,
  width: 32,
  layers: 3,
  heads: 2,
  mlpWidth: 128,
  activation: 'quick_gelu',
  projectionDim: null,
};

const openClipTiny: ClipTextConfig = {
  layout: 'open-clip',
  prefix: 'conditioner.embedders.1.model.',
  vocabSize: 50,
  maxPositions: 77,
  width: 32,
  layers: 3,
  heads: 2,
  mlpWidth: 128,
  activation: 'gelu',
  projectionDim: 24,
};

/** Start token 48, a few words, end token 49 (the largest id), padding 0, 77 positions. */
function tokenRows(words: number[][]): number[][] {
  return words.map((w) => [48, ...w, 49, ...Array<number>(76 - w.length - 1).fill(0)]);
}

describe('reference CLIP text encoders', () => {
  for (const cfg of [clipLTiny, openClipTiny]) {
    it(`${cfg.layout}: reads exactly the listed keys, hidden [B, 77, W], pooled only with a projection`, () => {
      const shapes = clipTextWeightShapes(cfg);
      const { source, read } = recordingSource(randomWeights(shapes, 20));
      const out = clipTextReference(source, cfg, tokenRows([[5, 6, 7], [8]]), { outputLayer: 'last', finalLayerNorm: true });
      assert.deepEqual(out.hidden.shape, [2, 77, 32]);
      assertFinite(out.hidden);
      if (cfg.projectionDim === null) assert.equal(out.pooled, null);
      else assert.deepEqual(out.pooled?.shape, [2, cfg.projectionDim]);
      assertAllKeysRead(shapes, read);
    });

    it(`${cfg.layout}: causal, and penultimate equals the output of a tower one layer shorter`, () => {
      const weights = recordingSource(randomWeights(clipTextWeightShapes(cfg), 21)).source;
      const a = clipTextReference(weights, cfg, tokenRows([[5, 6, 7]]), { outputLayer: 'penultimate', finalLayerNorm: false });
      const b = clipTextReference(weights, cfg, tokenRows([[5, 6, 8]]), { outputLayer: 'penultimate', finalLayerNorm: false });
      assertClose(b.hidden.data.subarray(0, 3 * 32), a.hidden.data.subarray(0, 3 * 32), 0, 'positions before the changed token');
      assert.ok(b.hidden.data.subarray(3 * 32).some((v, i) => v !== a.hidden.data[3 * 32 + i]), 'later positions change');

      const shorter = clipTextReference(weights, { ...cfg, layers: cfg.layers - 1, projectionDim: null }, tokenRows([[5, 6, 7]]), {
        outputLayer: 'last',
        finalLayerNorm: false,
      });
      assertClose(a.hidden.data, shorter.hidden.data, 0, 'penultimate');
    });
  }

  it('open-clip pooled = ln_final(last layer) at the EOS token times text_projection', () => {
    const cfg = openClipTiny;
    const weights = recordingSource(randomWeights(clipTextWeightShapes(cfg), 22)).source;
    const tokens = tokenRows([[5, 6, 7]]);
    const out = clipTextReference(weights, cfg, tokens, { outputLayer: 'penultimate', finalLayerNorm: false });
    const last = clipTextReference(weights, cfg, tokens, { outputLayer: 'last', finalLayerNorm: true }).hidden;
    const projection = weights(`${cfg.prefix}text_projection`);
    const eos = 4;
    const expected = Array.from({ length: 24 }, (_, j) => {
      let s = 0;
      for (let i = 0; i < 32; i++) s += last.data[eos * 32 + i]! * projection.data[i * 24 + j]!;
      return s;
    });
    assertClose(out.pooled?.data ?? [], expected, 1e-6, 'pooled');
  });
});

const vaeTiny: VaeConfig = {
  prefix: 'first_stage_model.',
  baseChannels: 16,
  channelMult: [1, 2],
  numResBlocks: 1,
  latentChannels: 4,
  imageChannels: 3,
  attentionAsLinear: false,
  groups: 8,
  hasEncoder: true,
  hasDecoder: true,
};

describe('reference VAE', () => {
  for (const asLinear of [false, true]) {
    it(`encodes [B, 3, 16, 16] to [B, 4, 8, 8] and decodes back, reading exactly the listed keys (attention as ${asLinear ? 'linear' : 'conv'})`, () => {
      const cfg = { ...vaeTiny, attentionAsLinear: asLinear };
      const shapes = vaeWeightShapes(cfg);
      const { source, read } = recordingSource(randomWeights(shapes, 30));
      const next = seededUniform(31);
      const mean = vaeEncodeReference(source, cfg, randomTensor([2, 3, 16, 16], next));
      assert.deepEqual(mean.shape, [2, 4, 8, 8]);
      const image = vaeDecodeReference(source, cfg, randomTensor([2, 4, 8, 8], next));
      assert.deepEqual(image.shape, [2, 3, 16, 16]);
      assertFinite(mean);
      assertFinite(image);
      assertAllKeysRead(shapes, read);
    });
  }
});
