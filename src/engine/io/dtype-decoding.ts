import { float16ToFloat32 } from './half-float.ts';
import { SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype } from './safetensors-types.ts';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let f16Table: Float32Array | undefined;
let e4m3Table: Float32Array | undefined;
let e5m2Table: Float32Array | undefined;

/**
 * Converts little-endian safetensors element bytes to float32 values. Integers convert by value (64-bit ones
 * round to the nearest float32), BOOL gives 0 or 1. `bytes` must own an aligned buffer (offset 0, as a fresh
 * `new Uint8Array(n)` does) and may be byte-swapped in place on a big-endian host.
 */
export function decodeAsFloat32(dtype: SafetensorsDtype, bytes: Uint8Array): Float32Array {
  const size = SAFETENSORS_DTYPE_BYTES[dtype];
  if (bytes.byteOffset % 8 !== 0 || bytes.byteLength % size !== 0) {
    throw new RangeError(`decodeAsFloat32: ${bytes.byteLength} bytes at offset ${bytes.byteOffset} do not hold whole ${dtype} elements`);
  }
  if (!LITTLE_ENDIAN_HOST) swapBytes(bytes, size);
  const { buffer, byteOffset } = bytes;
  const count = bytes.byteLength / size;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buffer, byteOffset, count);
    case 'F64':
      return Float32Array.from(new Float64Array(buffer, byteOffset, count));
    case 'F16':
      return mapThroughTable(new Uint16Array(buffer, byteOffset, count), (f16Table ??= buildTable(0x10000, float16ToFloat32)));
    case 'BF16': {
      // bfloat16 is the upper half of a float32, so widening is a shift.
      const halves = new Uint16Array(buffer, byteOffset, count);
      const out = new Float32Array(count);
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) outBits[i] = halves[i]! << 16;
      return out;
    }
    case 'F8_E5M2':
      // E5M2 is the upper byte of a float16, so it shares the float16 table.
      return mapThroughTable(bytes, (e5m2Table ??= buildTable(0x100, (b) => float16ToFloat32(b << 8))));
    case 'F8_E4M3':
      return mapThroughTable(bytes, (e4m3Table ??= buildTable(0x100, decodeFloat8E4M3)));
    case 'BOOL':
      return Float32Array.from(bytes, (b) => (b === 0 ? 0 : 1));
    case 'U8':
      return Float32Array.from(bytes);
    case 'I8':
      return Float32Array.from(new Int8Array(buffer, byteOffset, count));
    case 'I16':
      return Float32Array.from(new Int16Array(buffer, byteOffset, count));
    case 'U16':
      return Float32Array.from(new Uint16Array(buffer, byteOffset, count));
    case 'I32':
      return Float32Array.from(new Int32Array(buffer, byteOffset, count));
    case 'U32':
      return Float32Array.from(new Uint32Array(buffer, byteOffset, count));
    case 'I64':
      return Float32Array.from(new BigInt64Array(buffer, byteOffset, count), Number);
    case 'U64':
      return Float32Array.from(new BigUint64Array(buffer, byteOffset, count), Number);
  }
}

/** float8 E4M3 "FN" variant (OCP FP8 spec, used by PyTorch's float8_e4m3fn): bias 7, no infinities, S.1111.111 is NaN. */
function decodeFloat8E4M3(bits: number): number {
  const sign = bits & 0x80 ? -1 : 1;
  const exponent = (bits >>> 3) & 0xf;
  const mantissa = bits & 0x7;
  if (exponent === 0xf && mantissa === 0x7) return NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -9;
  return sign * (8 + mantissa) * 2 ** (exponent - 10);
}

function buildTable(size: number, decode: (bits: number) => number): Float32Array {
  const table = new Float32Array(size);
  for (let bits = 0; bits < size; bits++) table[bits] = decode(bits);
  return table;
}

function mapThroughTable(codes: Uint8Array | Uint16Array, table: Float32Array): Float32Array {
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = table[codes[i]!]!;
  return out;
}

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}
