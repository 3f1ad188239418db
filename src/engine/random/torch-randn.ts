/**
 * `torch.manual_seed(seed); torch.randn(shape)` on the CPU, reproduced value for value in float32, so a seed
 * typed into this app gives the same initial latent as in Fooocus and ComfyUI (which draw their noise on the CPU).
 *
 * PyTorch's CPU normal kernel (`aten/src/ATen/native/cpu/DistributionTemplates.h`, `normal_kernel`) has two paths
 * and the observable values depend on which one runs:
 *  - numel >= 16 (contiguous float32): `normal_fill` draws one float uniform per element into the output, then
 *    applies Box-Muller (Box & Muller 1958) in place over blocks of 16 (`normal_fill_16`: element i pairs with
 *    i + 8). When numel % 16 != 0 the last 16 slots are re-drawn with fresh uniforms and transformed again, so they
 *    overwrite part of the last full block.
 *  - numel < 16: one `at::normal_distribution<double>` sample per element: Box-Muller on two 53-bit double
 *    uniforms, whose sine half is cached in the generator and returned by the next scalar draw.
 * The float path here follows the portable scalar `normal_fill_16` (float32 arithmetic, theta computed in double
 * and narrowed); x86 builds with the AVX2 kernel use vectorised log/sincos approximations and may differ from it in
 * the last bit of a value, never more than float32 rounding.
 */
import { Mt19937 } from './mt19937.ts';

const SEED_LIMIT = 1n << 64n;
const UINT24_MASK = 0xffffff;
const TWO_POW_MINUS_24 = 2 ** -24;
const TWO_POW_32 = 2 ** 32;
const TWO_POW_MINUS_53 = 2 ** -53;
const UINT21_MASK = 0x1fffff;
/** `2.0f * c10::pi<double>`: a double, so theta is computed in double before being stored as float. */
const TWO_PI = 2 * Math.PI;
/** Below this many elements PyTorch takes the scalar double-precision path. */
const VECTOR_PATH_MIN_NUMEL = 16;

/**
 * Validate a user seed and reduce it to the 32 bits PyTorch's MT19937 is seeded with. Accepts 0..2^64-1 (the range
 * of `torch.manual_seed`); a number must be a safe integer (pass a bigint beyond 2^53).
 */
export function parseTorchSeed(seed: bigint | number): { seed: bigint; seed32: number } {
  let big: bigint;
  if (typeof seed === 'bigint') {
    big = seed;
  } else {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`seed must be an integer in 0..2^64-1 (a bigint beyond 2^53), got ${seed}`);
    }
    big = BigInt(seed);
  }
  if (big < 0n || big >= SEED_LIMIT) throw new RangeError(`seed must be an integer in 0..2^64-1, got ${big}`);
  return { seed: big, seed32: Number(BigInt.asUintN(32, big)) };
}

/** A fresh seed in 0..2^63-1 from the platform CSPRNG (fits every consumer of signed 64-bit seeds). */
export function randomSeed(): bigint {
  const words = globalThis.crypto.getRandomValues(new BigUint64Array(1));
  return BigInt.asUintN(63, words[0]!);
}

function countElements(shape: readonly number[]): number {
  let numel = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new RangeError(`shape must hold non-negative integers, got [${shape.join(', ')}]`);
    }
    numel *= dim;
  }
  if (numel > 2 ** 31) throw new RangeError(`shape [${shape.join(', ')}] has too many elements (${numel})`);
  return numel;
}

/**
 * A CPU generator with PyTorch's state: the MT19937 engine plus the cached second value of the double-precision
 * Box-Muller pair. Consecutive `randn` calls match consecutive `torch.randn(..., generator=g)` calls on one
 * generator created with `torch.Generator().manual_seed(seed)`.
 */
export class TorchGenerator {
  readonly seed: bigint;
  private readonly engine: Mt19937;
  /** `next_double_normal_sample_`: the unused sine half of the last scalar Box-Muller pair. */
  private cachedNormal: number | null = null;

  constructor(seed: bigint | number) {
    const parsed = parseTorchSeed(seed);
    this.seed = parsed.seed;
    this.engine = new Mt19937(parsed.seed32);
  }

  /** Standard-normal float32 values for a tensor of this shape (row-major), like `torch.randn(shape)`. */
  randn(shape: readonly number[]): Float32Array {
    const out = new Float32Array(countElements(shape));
    if (out.length >= VECTOR_PATH_MIN_NUMEL) {
      this.fillNormalBlocks(out);
    } else {
      for (let i = 0; i < out.length; i++) out[i] = this.nextNormalDouble();
    }
    return out;
  }

  /** `normal_fill`: uniforms for every slot first, Box-Muller per 16-block, then the re-drawn tail block. */
  private fillNormalBlocks(data: Float32Array): void {
    const n = data.length;
    for (let i = 0; i < n; i++) data[i] = this.uniformFloat();
    for (let j = 0; j + 16 <= n; j += 16) transformBlock16(data, j);
    if (n % 16 !== 0) {
      const start = n - 16;
      for (let i = 0; i < 16; i++) data[start + i] = this.uniformFloat();
      transformBlock16(data, start);
    }
  }

  /** `uniform_real_distribution<float>(0, 1)`: the low 24 bits of one draw, times 2^-24 (exact in float32). */
  private uniformFloat(): number {
    return (this.engine.nextUint32() & UINT24_MASK) * TWO_POW_MINUS_24;
  }

  /** `uniform_real_distribution<double>(0, 1)`: `random64()` = (first << 32 | second), low 53 bits, times 2^-53. */
  private uniformDouble(): number {
    const hi = this.engine.nextUint32();
    const lo = this.engine.nextUint32();
    return ((hi & UINT21_MASK) * TWO_POW_32 + lo) * TWO_POW_MINUS_53;
  }

  /** `normal_distribution<double>`: Box-Muller in double, returning the cosine half and caching the sine half. */
  private nextNormalDouble(): number {
    if (this.cachedNormal !== null) {
      const cached = this.cachedNormal;
      this.cachedNormal = null;
      return cached;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    const radius = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = TWO_PI * u1;
    this.cachedNormal = radius * Math.sin(theta);
    return radius * Math.cos(theta);
  }
}

/**
 * `normal_fill_16` in float32: for i in 0..7, u1 = 1 - data[i] (so log never sees 0), u2 = data[i + 8],
 * data[i] = r cos(theta), data[i + 8] = r sin(theta) with r = sqrt(-2 ln u1), theta = 2 pi u2.
 */
function transformBlock16(data: Float32Array, offset: number): void {
  const f = Math.fround;
  for (let i = 0; i < 8; i++) {
    const u1 = f(1 - data[offset + i]!);
    const u2 = data[offset + 8 + i]!;
    const radius = f(Math.sqrt(f(-2 * f(Math.log(u1)))));
    const theta = f(TWO_PI * u2);
    // `* std + mean` with std = 1, mean = 0: the `+ 0` turns a -0 product into +0 as the C++ does.
    data[offset + i] = f(radius * f(Math.cos(theta))) + 0;
    data[offset + 8 + i] = f(radius * f(Math.sin(theta))) + 0;
  }
}

/** `torch.manual_seed(seed); torch.randn(shape)` on the CPU, as float32 in row-major order. */
export function torchRandn(seed: bigint | number, shape: readonly number[]): Float32Array {
  return new TorchGenerator(seed).randn(shape);
}
