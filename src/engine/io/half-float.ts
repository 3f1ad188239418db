/**
 * IEEE 754 binary16 ("half", safetensors F16) conversions. Kept as plain functions rather than Float16Array so
 * they behave the same on every supported Node version and can build lookup tables.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Decodes half-float bits (0..0xffff) to the number they represent; every result is exact in float32. */
export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/**
 * Encodes `x`, first rounded to float32, as half-float bits with round-to-nearest-even (IEEE 754 default).
 * Overflow gives ±Infinity, underflow gives ±0 or a subnormal; NaN stays a quiet NaN with its sign.
 */
export function float32ToFloat16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;

  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200 | (mantissa >>> 13));
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Below half the smallest subnormal (2^-25) everything rounds to zero; exactly 2^-25 ties to even, also zero.
    if (halfExponent < -10) return sign;
    return sign | roundShiftRightEven(mantissa | 0x800000, 14 - halfExponent);
  }
  // A carry out of the mantissa correctly bumps the exponent, and from the largest finite value reaches Infinity.
  return sign | roundShiftRightEven((halfExponent << 23) | mantissa, 13);
}

/** `value >> shift` rounded to nearest, ties to even. `shift` is 1..24 and `value` below 2^31. */
function roundShiftRightEven(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}
