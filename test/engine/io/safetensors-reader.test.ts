import { strict as assert } from 'node:assert';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  float16ToFloat32,
  float32ToFloat16Bits,
  InvalidSafetensorsError,
  MissingTensorError,
  parseSafetensorsHeader,
  readSafetensorsHeader,
  readTensorAsFloat32,
  writeSafetensors,
  type TensorToWrite,
} from '../../../src/engine/index.ts';

/** Node 24 ships Float16Array, an independent implementation of the same IEEE 754 conversions. */
type Float16ArrayLike = new (values: number[]) => { buffer: ArrayBuffer };
const Float16ArrayRef = (globalThis as { Float16Array?: Float16ArrayLike }).Float16Array;

function isNaNBits(bits: number): boolean {
  return (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
}

describe('safetensors reader', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-safetensors-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips a file written by writeSafetensors: dtypes, metadata, empty and scalar tensors', async () => {
    const file = path.join(dir, 'round-trip.safetensors');
    const tensors: TensorToWrite[] = [
      { name: 'unet.conv.weight', dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-8, -0]) },
      { name: 'unet.conv.bias', dtype: 'F16', shape: [3], data: new Uint16Array([0x3c00, 0xc000, 0x7bff]) },
      { name: 'empty', dtype: 'F32', shape: [0], data: new Float32Array(0) },
      { name: 'zero-dim', dtype: 'BF16', shape: [4, 0, 2], data: new Uint16Array(0) },
      { name: 'scalar', dtype: 'F64', shape: [], data: new Float64Array([Math.PI]) },
      { name: 'ids', dtype: 'I32', shape: [2, 2], data: new Int32Array([-1, 2, 77, 2 ** 24]) },
      { name: 'steps', dtype: 'I64', shape: [2], data: new BigInt64Array([-5n, 1000n]) },
      { name: 'mask', dtype: 'U8', shape: [3], data: new Uint8Array([0, 1, 255]) },
    ];
    await writeSafetensors(file, tensors, { format: 'pt', 'modelspec.title': 'tiny' });

    const header = await readSafetensorsHeader(file);
    assert.equal(header.file, file);
    assert.deepEqual(header.metadata, { format: 'pt', 'modelspec.title': 'tiny' });
    assert.deepEqual([...header.tensors.keys()].sort(), tensors.map((t) => t.name).sort());
    for (const t of tensors) {
      const info = header.tensors.get(t.name)!;
      assert.equal(info.dtype, t.dtype);
      assert.deepEqual(info.shape, t.shape);
      assert.equal(info.end - info.begin, t.data.byteLength);
    }
    const last = [...header.tensors.values()].at(-1)!;
    assert.equal(header.dataOffset + last.end, header.fileSize);

    assert.deepEqual(await readTensorAsFloat32(header, 'unet.conv.weight'), new Float32Array([1, -2, 3.5, 0, 1e-8, -0]));
    assert.deepEqual(await readTensorAsFloat32(header, 'unet.conv.bias'), new Float32Array([1, -2, 65504]));
    assert.deepEqual(await readTensorAsFloat32(header, 'empty'), new Float32Array(0));
    assert.deepEqual(await readTensorAsFloat32(header, 'zero-dim'), new Float32Array(0));
    assert.deepEqual(await readTensorAsFloat32(header, 'scalar'), new Float32Array([Math.fround(Math.PI)]));
    assert.deepEqual(await readTensorAsFloat32(header, 'ids'), new Float32Array([-1, 2, 77, 2 ** 24]));
    assert.deepEqual(await readTensorAsFloat32(header, 'steps'), new Float32Array([-5, 1000]));
    assert.deepEqual(await readTensorAsFloat32(header, 'mask'), new Float32Array([0, 1, 255]));
  });

  it('round-trips a file with no tensors and no metadata', async () => {
    const file = path.join(dir, 'empty.safetensors');
    await writeSafetensors(file, []);
    const header = await readSafetensorsHeader(file);
    assert.equal(header.tensors.size, 0);
    assert.deepEqual(header.metadata, {});
  });

  it('converts F16 and BF16 bit patterns, including subnormals, infinities and NaN', async () => {
    const file = path.join(dir, 'halves.safetensors');
    const f16 = [0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3555, 0x7c00, 0xfc00, 0x7e00];
    const bf16 = [0x3f80, 0xbf80, 0x4049, 0x0001, 0x7f80, 0xff80, 0x7fc0, 0x8000];
    await writeSafetensors(file, [
      { name: 'h', dtype: 'F16', shape: [f16.length], data: new Uint16Array(f16) },
      { name: 'b', dtype: 'BF16', shape: [bf16.length], data: new Uint16Array(bf16) },
    ]);
    const header = await readSafetensorsHeader(file);

    const h = await readTensorAsFloat32(header, 'h');
    const expectedH = [0, -0, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 0.333251953125, Infinity, -Infinity, NaN];
    assert.deepEqual([...h], expectedH);
    assert.ok(Object.is(h[1], -0));

    const b = await readTensorAsFloat32(header, 'b');
    const bits = new Uint32Array(b.buffer, b.byteOffset, b.length);
    assert.deepEqual([...bits], bf16.map((x) => (x << 16) >>> 0));
    assert.deepEqual([...b].slice(0, 3), [1, -1, 3.140625]);
  });

  it('reads F32 values at an offset without touching other tensors', async () => {
    const file = path.join(dir, 'offset.safetensors');
    const big = Float32Array.from({ length: 1000 }, (_, i) => i * 0.5 - 7);
    await writeSafetensors(file, [
      { name: 'first', dtype: 'U8', shape: [3], data: new Uint8Array([9, 9, 9]) },
      { name: 'second', dtype: 'F32', shape: [10, 100], data: big },
    ]);
    const header = await readSafetensorsHeader(file);
    assert.equal(header.tensors.get('second')!.begin, 3);
    assert.deepEqual(await readTensorAsFloat32(header, 'second'), big);
  });

  it('converts the remaining integer, boolean and float8 dtypes by value', async () => {
    const file = path.join(dir, 'ints.safetensors');
    const le = (values: number[], bytes: number) => {
      const out = new Uint8Array(values.length * bytes);
      values.forEach((v, i) => {
        for (let b = 0; b < bytes; b++) out[i * bytes + b] = Number((BigInt.asUintN(64, BigInt(v)) >> BigInt(8 * b)) & 0xffn);
      });
      return out;
    };
    await writeSafetensors(file, [
      { name: 'i8', dtype: 'I8', shape: [3], data: le([-128, -1, 127], 1) },
      { name: 'i16', dtype: 'I16', shape: [2], data: le([-32768, 300], 2) },
      { name: 'u16', dtype: 'U16', shape: [2], data: le([65535, 1], 2) },
      { name: 'u32', dtype: 'U32', shape: [1], data: le([4294967295], 4) },
      { name: 'u64', dtype: 'U64', shape: [1], data: le([2 ** 40], 8) },
      { name: 'bool', dtype: 'BOOL', shape: [3], data: new Uint8Array([0, 1, 2]) },
      // E4M3FN: 0x38 = 1, 0xc0 = -2, 0x7e = 448 (largest), 0x01 = 2^-9, 0x7f = NaN.
      { name: 'e4m3', dtype: 'F8_E4M3', shape: [5], data: new Uint8Array([0x38, 0xc0, 0x7e, 0x01, 0x7f]) },
      // E5M2: 0x3c = 1, 0x7b = 57344 (largest), 0x7c = inf, 0x01 = 2^-16.
      { name: 'e5m2', dtype: 'F8_E5M2', shape: [4], data: new Uint8Array([0x3c, 0x7b, 0x7c, 0x01]) },
    ]);
    const header = await readSafetensorsHeader(file);
    const read = async (name: string) => [...(await readTensorAsFloat32(header, name))];
    assert.deepEqual(await read('i8'), [-128, -1, 127]);
    assert.deepEqual(await read('i16'), [-32768, 300]);
    assert.deepEqual(await read('u16'), [65535, 1]);
    assert.deepEqual(await read('u32'), [4294967296]); // nearest float32
    assert.deepEqual(await read('u64'), [2 ** 40]);
    assert.deepEqual(await read('bool'), [0, 1, 1]);
    assert.deepEqual(await read('e4m3'), [1, -2, 448, 2 ** -9, NaN]);
    assert.deepEqual(await read('e5m2'), [1, 57344, Infinity, 2 ** -16]);
  });

  it('refuses to read a tensor once the file has changed size', async () => {
    const file = path.join(dir, 'changed.safetensors');
    await writeSafetensors(file, [{ name: 'w', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]);
    const header = await readSafetensorsHeader(file);
    await appendFile(file, 'extra');
    await assert.rejects(readTensorAsFloat32(header, 'w'), (err: unknown) => {
      assert.ok(err instanceof InvalidSafetensorsError);
      assert.equal(err.rule, 'data-size-mismatch');
      assert.equal(err.tensor, 'w');
      return true;
    });
  });

  it('rejects absurd claimed sizes from the 8-byte prefix alone, without allocating for them', () => {
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, 2n ** 63n, true);
    assert.throws(() => parseSafetensorsHeader(prefix, Number.MAX_SAFE_INTEGER, 'huge.safetensors'), {
      name: 'InvalidSafetensorsError',
      rule: 'header-length-bounds',
    });
    // A prefix shorter than the header it claims is the caller's mistake, not the file's.
    new DataView(prefix.buffer).setBigUint64(0, 1000n, true);
    assert.throws(() => parseSafetensorsHeader(prefix, 5000, 'short.safetensors'), RangeError);
  });

  it('names the tensor when it is missing', async () => {
    const file = path.join(dir, 'missing.safetensors');
    await writeSafetensors(file, [{ name: 'a', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]);
    const header = await readSafetensorsHeader(file);
    await assert.rejects(readTensorAsFloat32(header, 'model.b'), (err) => {
      assert.ok(err instanceof MissingTensorError);
      assert.equal(err.tensor, 'model.b');
      assert.match(err.message, /"model\.b"/);
      return true;
    });
  });
});

describe('half-float conversion', () => {
  it('round-trips all 65536 float16 bit patterns (NaNs stay NaN)', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = float16ToFloat32(bits);
      assert.equal(value, Math.fround(value), `0x${bits.toString(16)} decodes to a float32`);
      const back = float32ToFloat16Bits(value);
      if (isNaNBits(bits)) {
        assert.ok(isNaNBits(back), `NaN 0x${bits.toString(16)} stays NaN`);
      } else {
        assert.equal(back, bits, `0x${bits.toString(16)} -> ${value} -> 0x${back.toString(16)}`);
      }
    }
  });

  it('rounds to nearest even at ties, overflows to infinity and underflows through subnormals', () => {
    assert.equal(float32ToFloat16Bits(1 + 2 ** -11), 0x3c00); // tie, keeps the even mantissa
    assert.equal(float32ToFloat16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie, rounds up to even
    assert.equal(float32ToFloat16Bits(1 + 2 ** -11 + 2 ** -20), 0x3c01); // just above the tie
    assert.equal(float32ToFloat16Bits(65504), 0x7bff);
    assert.equal(float32ToFloat16Bits(65520), 0x7c00); // halfway to 2^16 rounds to even: infinity
    assert.equal(float32ToFloat16Bits(65519.99), 0x7bff);
    assert.equal(float32ToFloat16Bits(-1e9), 0xfc00);
    assert.equal(float32ToFloat16Bits(2 ** -25), 0x0000); // half the smallest subnormal ties to zero
    assert.equal(float32ToFloat16Bits(2 ** -25 * 1.0001), 0x0001);
    assert.equal(float32ToFloat16Bits(3 * 2 ** -25), 0x0002);
    assert.equal(float32ToFloat16Bits(-(2 ** -30)), 0x8000);
    assert.equal(float32ToFloat16Bits(2 ** -14 - 2 ** -25), 0x0400); // largest subnormal rounds up into the normals
    assert.ok(isNaNBits(float32ToFloat16Bits(NaN)));
    assert.equal(float32ToFloat16Bits(-Infinity), 0xfc00);
  });

  it('agrees with Float16Array on random float32 values', { skip: Float16ArrayRef === undefined }, () => {
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    let seed = 12345;
    for (let i = 0; i < 200_000; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      // Half the samples land in and around float16's exponent range, where rounding is interesting.
      u32[0] = i % 2 === 0 ? seed : (seed & 0x807fffff) | ((100 + ((seed >>> 7) % 46)) << 23);
      const x = f32[0]!;
      if (Number.isNaN(x)) continue;
      const reference = new Uint16Array(new Float16ArrayRef!([x]).buffer)[0];
      assert.equal(float32ToFloat16Bits(x), reference, `float32 bits 0x${seed.toString(16)}`);
    }
  });
});
