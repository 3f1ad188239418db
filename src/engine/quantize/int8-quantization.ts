/**
 * Per-output-channel symmetric int8 quantization of linear and convolution weights (Jacob et al. 2018, with the
 * zero point fixed at 0): w ~= code * scale, scale = max|w_row| / 127, code = round(w / scale) in [-127, 127].
 * The codes are laid out as the right-hand [K, N] operand of an integer matrix multiply, which is how the int8
 * layers consume them (a linear layer as x W^T, a convolution as im2col(x) W^T).
 */

/** The quantized form of one weight: `codes` [K, N] row-major and `scales` [N], N the output channels. */
export interface Int8Weight {
  codes: Int8Array;
  scales: Float32Array;
  /** K: input features (a linear layer) or kernel taps x input channels (a convolution). */
  rows: number;
  /** N: output channels. */
  columns: number;
}

/** Largest code magnitude: -128 stays unused so the scheme is symmetric and negation-safe. */
const CODE_LIMIT = 127;

/**
 * Quantizes a weight stored PyTorch-style, output channel first: a linear [out, in] or a convolution
 * [out, in, kh, kw]. A convolution's K axis is ordered (kh, kw, in), matching the im2col the int8 convolution
 * builds (taps outer, channels inner). A row of zeros gets scale 0 and codes 0.
 */
export function quantizeWeightInt8(values: Float32Array, shape: readonly number[]): Int8Weight {
  if (shape.length !== 2 && shape.length !== 4) throw new RangeError(`quantizeWeightInt8: weight of rank ${shape.length}; linear [out, in] or conv [out, in, kh, kw] expected`);
  const columns = shape[0]!;
  const inputs = shape[1]!;
  const taps = shape.length === 4 ? shape[2]! * shape[3]! : 1;
  const rows = inputs * taps;
  if (values.length !== rows * columns) throw new RangeError(`quantizeWeightInt8: ${values.length} values for shape [${shape}]`);
  const codes = new Int8Array(rows * columns);
  const scales = new Float32Array(columns);
  for (let o = 0; o < columns; o++) {
    const base = o * rows;
    let max = 0;
    for (let i = 0; i < rows; i++) max = Math.max(max, Math.abs(values[base + i]!));
    const scale = max / CODE_LIMIT;
    scales[o] = scale;
    if (scale === 0) continue;
    // PyTorch order within a row is (in, kh, kw); the target row index is (tap, in).
    for (let c = 0; c < inputs; c++) {
      for (let t = 0; t < taps; t++) {
        const code = Math.round(values[base + c * taps + t]! / scale);
        codes[(t * inputs + c) * columns + o] = Math.max(-CODE_LIMIT, Math.min(CODE_LIMIT, code));
      }
    }
  }
  return { codes, scales, rows, columns };
}

/**
 * The weight the int8 maths actually uses, back in the PyTorch layout of `shape`: code * scale per element.
 * The reference against which int8 graphs are checked.
 */
export function dequantizeWeightInt8(weight: Int8Weight, shape: readonly number[]): Float32Array {
  const inputs = shape[1]!;
  const taps = shape.length === 4 ? shape[2]! * shape[3]! : 1;
  const out = new Float32Array(weight.rows * weight.columns);
  for (let o = 0; o < weight.columns; o++) {
    for (let c = 0; c < inputs; c++) {
      for (let t = 0; t < taps; t++) {
        out[o * weight.rows + c * taps + t] = weight.codes[(t * inputs + c) * weight.columns + o]! * weight.scales[o]!;
      }
    }
  }
  return out;
}

/**
 * ONNX `DynamicQuantizeLinear` of a whole tensor: asymmetric uint8 over [min(x, 0), max(x, 0)], as the int8
 * layers quantize activations at run time. Returns the codes with their scale and zero point.
 */
export function quantizeActivationsUint8(x: Float32Array): { codes: Uint8Array; scale: number; zeroPoint: number } {
  let min = 0;
  let max = 0;
  for (const v of x) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = Math.fround((max - min) / 255);
  if (scale === 0) return { codes: new Uint8Array(x.length), scale: 0, zeroPoint: 0 };
  const zeroPoint = Math.max(0, Math.min(255, roundHalfToEven(-min / scale)));
  const codes = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) codes[i] = Math.max(0, Math.min(255, roundHalfToEven(x[i]! / scale) + zeroPoint));
  return { codes, scale, zeroPoint };
}

function roundHalfToEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
