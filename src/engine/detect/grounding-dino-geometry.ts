/**
 * What depends only on the input size, computed once per size and baked into the graph as constants: the feature
 * levels' sizes, their sine position embeddings (DETR's, normalized, temperature 20), the encoder's reference
 * points (cell centres) and the two-stage proposals (cell centres, sides 0.05 * 2^level). One image and no
 * padding, so every valid ratio is 1 and nothing is masked.
 */

/** Levels' (height, width): the backbone's output stages, then one more stride-2 level per extra projection. */
export function listLevelSizes(stageSizes: readonly [number, number][], levels: number): [number, number][] {
  const sizes = stageSizes.slice(0, levels).map(([h, w]) => [h, w] as [number, number]);
  while (sizes.length < levels) {
    const [h, w] = sizes[sizes.length - 1]!;
    // 3x3 convolution, stride 2, padding 1
    sizes.push([Math.floor((h - 1) / 2) + 1, Math.floor((w - 1) / 2) + 1]);
  }
  return sizes;
}

/** Interleaved sin/cos of value / temperature^(2 floor(k/2) / features), k = 0..features-1. */
function sineFeatures(value: number, features: number, temperature: number, out: Float32Array, at: number): void {
  for (let k = 0; k < features; k++) {
    const angle = value / temperature ** ((2 * Math.floor(k / 2)) / features);
    out[at + k] = k % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
  }
}

/**
 * [S, width] position embeddings of the flattened levels: y then x halves, each of (index + 1) / (size + 1e-6) * 2pi
 * (DETR's normalized sine embedding at temperature 20, GroundingDINO's setting).
 */
export function buildLevelPositions(sizes: readonly [number, number][], width: number, temperature = 20): Float32Array {
  const half = width / 2;
  const total = sizes.reduce((n, [h, w]) => n + h * w, 0);
  const out = new Float32Array(total * width);
  let row = 0;
  for (const [h, w] of sizes) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++, row++) {
        sineFeatures(((y + 1) / (h + 1e-6)) * 2 * Math.PI, half, temperature, out, row * width);
        sineFeatures(((x + 1) / (w + 1e-6)) * 2 * Math.PI, half, temperature, out, row * width + half);
      }
    }
  }
  return out;
}

/** [S, levels, 2]: each cell's centre (x, y) in [0, 1], the same for every level it samples. */
export function buildEncoderReferencePoints(sizes: readonly [number, number][]): Float32Array {
  const levels = sizes.length;
  const total = sizes.reduce((n, [h, w]) => n + h * w, 0);
  const out = new Float32Array(total * levels * 2);
  let row = 0;
  for (const [h, w] of sizes) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++, row++) {
        for (let l = 0; l < levels; l++) {
          out[(row * levels + l) * 2] = (x + 0.5) / w;
          out[(row * levels + l) * 2 + 1] = (y + 0.5) / h;
        }
      }
    }
  }
  return out;
}

/**
 * Two-stage proposals: [S, 4] inverse-sigmoid boxes (cx, cy, w, h) of each cell, +Infinity where a coordinate is
 * outside (0.01, 0.99), and [S] 1/0 validity (an invalid cell's features are zeroed before the proposal head).
 */
export function buildProposals(sizes: readonly [number, number][]): { logits: Float32Array; valid: Float32Array } {
  const total = sizes.reduce((n, [h, w]) => n + h * w, 0);
  const logits = new Float32Array(total * 4);
  const valid = new Float32Array(total);
  let row = 0;
  sizes.forEach(([h, w], level) => {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++, row++) {
        const box = [(x + 0.5) / w, (y + 0.5) / h, 0.05 * 2 ** level, 0.05 * 2 ** level];
        const ok = box.every((v) => v > 0.01 && v < 0.99);
        valid[row] = ok ? 1 : 0;
        box.forEach((v, i) => (logits[row * 4 + i] = ok ? Math.log(v / (1 - v)) : Infinity));
      }
    }
  });
  return { logits, valid };
}
