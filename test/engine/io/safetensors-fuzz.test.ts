import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  InvalidSafetensorsError,
  parseSafetensorsHeader,
  SAFETENSORS_DTYPE_BYTES,
  type SafetensorsHeader,
} from '../../../src/engine/index.ts';
import { type JsonValue, parseStrictJson } from '../../../src/engine/io/strict-json.ts';

const DTYPES = Object.keys(SAFETENSORS_DTYPE_BYTES) as (keyof typeof SAFETENSORS_DTYPE_BYTES)[];
/** Fixed seed: a failure reproduces; fast-check prints the seed and path to replay it. */
const SEED = 20240917;

function fileBytes(json: string, dataBytes: number, claimedLength?: bigint): Uint8Array {
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + text.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, claimedLength ?? BigInt(text.length), true);
  out.set(text, 8);
  return out;
}

/** What every accepted header must promise, checked independently of the parser's own code. */
function assertHeaderInvariants(header: SafetensorsHeader, bytes: Uint8Array): void {
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  assert.equal(header.fileSize, bytes.length);
  assert.equal(BigInt(header.dataOffset), 8n + headerLength);
  assert.equal(bytes[8], 0x7b, "header JSON starts with '{'");
  for (const value of Object.values(header.metadata)) assert.equal(typeof value, 'string');
  let cursor = 0;
  for (const [name, t] of header.tensors) {
    assert.equal(t.name, name);
    assert.ok(name.length > 0 && name !== '__metadata__');
    assert.ok(Object.hasOwn(SAFETENSORS_DTYPE_BYTES, t.dtype));
    assert.ok(t.shape.length <= 8 && t.shape.every((d) => Number.isSafeInteger(d) && d >= 0));
    assert.equal(t.begin, cursor, `${name} starts where the previous tensor ended`);
    const elements = t.shape.reduce((a, b) => a * BigInt(b), 1n);
    assert.equal(BigInt(t.end - t.begin), elements * BigInt(SAFETENSORS_DTYPE_BYTES[t.dtype]));
    cursor = t.end;
  }
  assert.equal(header.dataOffset + cursor, header.fileSize, 'tensors cover the data buffer exactly');
}

/** Parses `bytes` as a whole file: it must either satisfy the invariants or fail with InvalidSafetensorsError. */
function checkFile(bytes: Uint8Array): 'accepted' | 'rejected' {
  let header: SafetensorsHeader;
  try {
    header = parseSafetensorsHeader(bytes, bytes.length, 'fuzz.safetensors');
  } catch (err) {
    if (err instanceof InvalidSafetensorsError) return 'rejected';
    throw err;
  }
  assertHeaderInvariants(header, bytes);
  return 'accepted';
}

const odd = <T>(common: fc.Arbitrary<T>, rare: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 9, arbitrary: common }, { weight: 1, arbitrary: rare });

const tensorSpec = fc.record({
  name: odd(
    fc.nat(999).map((i) => `model.layer${i}.weight`),
    fc.oneof(fc.constantFrom('a', '__metadata__', ''), fc.string({ maxLength: 4, unit: 'binary' })),
  ),
  dtype: odd(fc.constantFrom<unknown>(...DTYPES), fc.constantFrom<unknown>('F4', 'f32', '', 'toString', 4, null)),
  shape: odd<unknown>(
    fc.array(fc.nat(5), { maxLength: 4 }),
    fc.oneof(
      fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.double(), fc.constantFrom(2 ** 31, 2 ** 40, 2 ** 53, '2')), { maxLength: 10 }),
      fc.array(fc.constantFrom(0, 2 ** 20, 2 ** 31, 2 ** 40), { minLength: 2, maxLength: 4 }),
      fc.constantFrom(null, 4, 'shape', {}),
    ),
  ),
  beginShift: odd(fc.constant(0), fc.integer({ min: -4, max: 4 })),
  endShift: odd(fc.constant(0), fc.integer({ min: -4, max: 4 })),
  extraField: odd(fc.constant(undefined), fc.constantFrom<unknown>(0, 'x', [])),
});

const headerSpec = fc.record({
  tensors: fc.array(tensorSpec, { maxLength: 5 }),
  metadata: fc.option(
    odd<unknown>(
      fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3 }),
      fc.oneof(fc.dictionary(fc.string({ maxLength: 2 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }), fc.jsonValue({ maxDepth: 1 })),
    ),
  ),
  padding: fc.nat(8),
  extraData: odd(fc.constant(0), fc.integer({ min: -3, max: 5 })),
  shuffle: fc.boolean(),
});

/** Lays tensors out back to back (then applies the spec's deliberate mistakes) and serialises the file. */
function buildFromSpec(spec: typeof headerSpec extends fc.Arbitrary<infer T> ? T : never): Uint8Array {
  const members: string[] = [];
  if (spec.metadata !== null) members.push(`"__metadata__":${JSON.stringify(spec.metadata)}`);
  let cursor = 0;
  for (const t of spec.tensors) {
    const size = typeof t.dtype === 'string' && Object.hasOwn(SAFETENSORS_DTYPE_BYTES, t.dtype)
      ? SAFETENSORS_DTYPE_BYTES[t.dtype as keyof typeof SAFETENSORS_DTYPE_BYTES]
      : 1;
    const product = Array.isArray(t.shape) ? t.shape.reduce((a: number, d) => a * (typeof d === 'number' ? d : 1), 1) : 1;
    const bytes = Number.isSafeInteger(product * size) && product * size >= 0 ? Math.min(product * size, 4096) : 4;
    const begin = cursor + t.beginShift;
    const entry: Record<string, unknown> = { dtype: t.dtype, shape: t.shape, data_offsets: [begin, begin + bytes + t.endShift] };
    if (t.extraField !== undefined) entry.extra = t.extraField;
    // Hand-built JSON so that repeated names reach the parser as duplicate keys.
    members.push(`${JSON.stringify(t.name)}:${JSON.stringify(entry)}`);
    cursor = Math.max(0, begin + bytes);
  }
  if (spec.shuffle) members.reverse();
  const json = `{${members.join(',')}}${' '.repeat(spec.padding)}`;
  return fileBytes(json, Math.max(0, cursor + spec.extraData));
}

const VALID_FILE = fileBytes(
  JSON.stringify({
    __metadata__: { format: 'pt' },
    'a.weight': { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
    'a.bias': { dtype: 'F16', shape: [2], data_offsets: [16, 20] },
    empty: { dtype: 'BF16', shape: [0, 3], data_offsets: [20, 20] },
    scalar: { dtype: 'U8', shape: [], data_offsets: [20, 21] },
  }),
  21,
);
const VALID_HEADER_END = 8 + Number(new DataView(VALID_FILE.buffer).getBigUint64(0, true));

/** Converts the strict parser's output (Maps, bigints) to what JSON.parse would give for duplicate-free input. */
function toPlain(value: JsonValue): unknown {
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, toPlain(v)]));
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value === 'bigint') return Number(value);
  return value;
}

describe('safetensors header fuzzing', { timeout: 60_000 }, () => {
  it('arbitrary bytes are accepted with all invariants or rejected with InvalidSafetensorsError (3,000 runs)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => void checkFile(bytes)), { numRuns: 3000, seed: SEED });
  });

  it('random headers behind a correct length prefix (2,000 runs)', () => {
    const arb = fc.record({
      header: fc.oneof(fc.uint8Array({ maxLength: 120 }), fc.string({ maxLength: 60, unit: 'binary' }).map((s) => new TextEncoder().encode(`{${s}`))),
      data: fc.nat(16),
      lengthShift: odd(fc.constant(0), fc.integer({ min: -2, max: 2 })),
    });
    fc.assert(
      fc.property(arb, ({ header, data, lengthShift }) => {
        const bytes = new Uint8Array(8 + header.length + data);
        new DataView(bytes.buffer).setBigUint64(0, BigInt(Math.max(0, header.length + lengthShift)), true);
        bytes.set(header, 8);
        checkFile(bytes);
      }),
      { numRuns: 2000, seed: SEED },
    );
  });

  it('byte flips and truncations of a valid file (3,000 runs)', () => {
    assert.equal(checkFile(VALID_FILE), 'accepted');
    const arb = fc.record({
      flips: fc.array(fc.record({ at: fc.nat(), inHeader: fc.boolean(), byte: fc.nat(255) }), { maxLength: 4 }),
      truncateTo: fc.option(fc.nat()),
    });
    fc.assert(
      fc.property(arb, ({ flips, truncateTo }) => {
        const bytes = new Uint8Array(VALID_FILE);
        for (const f of flips) bytes[f.inHeader ? 8 + (f.at % (VALID_HEADER_END - 8)) : f.at % bytes.length] = f.byte;
        checkFile(truncateTo === null ? bytes : bytes.subarray(0, truncateTo % (bytes.length + 1)));
      }),
      { numRuns: 3000, seed: SEED },
    );
  });

  it('JSON edits: random tensor entries, shapes, offsets, dtypes and metadata (3,000 runs)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(headerSpec, (spec) => {
        if (checkFile(buildFromSpec(spec)) === 'accepted') accepted++;
      }),
      { numRuns: 3000, seed: SEED },
    );
    // The generator must reach the accepting path too, or the invariant checks above prove nothing.
    assert.ok(accepted > 300, `${accepted} of 3000 generated headers were valid`);
  });

  it('the strict JSON parser agrees with JSON.parse on duplicate-free JSON (1,000 runs)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const text = JSON.stringify(value);
        assert.deepEqual(toPlain(parseStrictJson(text)), JSON.parse(text));
      }),
      { numRuns: 1000, seed: SEED },
    );
  });
});
