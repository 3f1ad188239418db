import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  InvalidSafetensorsError,
  PickleFormatError,
  readSafetensorsHeader,
  type SafetensorsRule,
} from '../../../src/engine/index.ts';

/** Assembles a file: 8-byte little-endian length (the real one unless `claimedLength` is given), header, data. */
function fileBytes(header: string | Uint8Array, data: Uint8Array | number = 0, claimedLength?: bigint): Uint8Array {
  const json = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, claimedLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

function entry(dtype: unknown, shape: unknown, offsets: unknown): Record<string, unknown> {
  return { dtype, shape, data_offsets: offsets };
}

/** A single-tensor file whose entry is `value`, with `dataBytes` of data. */
function oneTensor(value: unknown, dataBytes: number, name = 'x.weight'): Uint8Array {
  return fileBytes(JSON.stringify({ [name]: value }), dataBytes);
}

const VALID_HEADER = JSON.stringify({
  __metadata__: { format: 'pt' },
  'a.weight': entry('F32', [2, 2], [0, 16]),
  'a.bias': entry('F16', [2], [16, 20]),
});
const VALID = fileBytes(VALID_HEADER, 20);
const VALID_HEADER_END = 8 + new TextEncoder().encode(VALID_HEADER).length;

function concat(...parts: (Uint8Array | string)[]): Uint8Array {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
}

interface Case {
  title: string;
  bytes: Uint8Array;
  rule: SafetensorsRule | 'pickle';
  tensor?: string | null;
  fileName?: string;
}

const cases: Case[] = [
  // Sizes and the length prefix.
  { title: 'empty file', bytes: new Uint8Array(0), rule: 'file-too-small' },
  { title: '7-byte file', bytes: new Uint8Array([1, 2, 3, 4, 5, 6, 7]), rule: 'file-too-small' },
  { title: 'header length 2^64-1', bytes: fileBytes('{}', 0, 2n ** 64n - 1n), rule: 'header-length-bounds' },
  { title: 'header length 2^63', bytes: fileBytes('{}', 0, 2n ** 63n), rule: 'header-length-bounds' },
  { title: 'header length just over 100 MB', bytes: fileBytes('{}', 0, 100_000_001n), rule: 'header-length-bounds' },
  { title: 'header length past the end of the file', bytes: fileBytes('{}', 0, 1000n), rule: 'header-length-bounds' },
  { title: 'header length zero', bytes: fileBytes('', 0), rule: 'header-json' },
  // Header text.
  { title: 'invalid UTF-8 byte in the header', bytes: fileBytes(concat('{"a\xff":1}')), rule: 'header-utf8' },
  { title: 'UTF-8-encoded surrogate in the header', bytes: fileBytes(concat('{"\xed\xa0\x80":1}')), rule: 'header-utf8' },
  { title: 'truncated JSON', bytes: fileBytes('{"x": {"dtype": "F32"'), rule: 'header-json' },
  { title: 'JSON with leading whitespace', bytes: fileBytes(` ${JSON.stringify({ x: entry('U8', [1], [0, 1]) })}`, 1), rule: 'header-json' },
  { title: 'NUL padding after the JSON', bytes: fileBytes('{}\0\0\0\0\0\0'), rule: 'header-json' },
  { title: 'lone surrogate escape in a name', bytes: oneTensor(entry('U8', [1], [0, 1]), 1, '\ud800'), rule: 'header-json' },
  { title: 'nesting deeper than any header needs', bytes: fileBytes(`{"x":${'['.repeat(5000)}${']'.repeat(5000)}}`), rule: 'header-json' },
  { title: 'JSON array instead of an object', bytes: fileBytes('[1,2,3]'), rule: 'header-not-object' },
  { title: 'JSON string instead of an object', bytes: fileBytes('"hello"'), rule: 'header-not-object' },
  // Duplicate keys: JSON.parse would silently keep the last one.
  {
    title: 'duplicate top-level key',
    bytes: fileBytes('{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1),
    rule: 'duplicate-key',
    tensor: 'w',
  },
  {
    title: 'duplicate key inside a tensor entry',
    bytes: fileBytes('{"w":{"dtype":"U8","shape":[1],"shape":[2],"data_offsets":[0,1]}}', 1),
    rule: 'duplicate-key',
    tensor: 'w',
  },
  { title: 'duplicate key inside __metadata__', bytes: fileBytes('{"__metadata__":{"a":"1","a":"2"}}'), rule: 'duplicate-key', tensor: null },
  // Tensor entries.
  { title: 'empty tensor name', bytes: oneTensor(entry('U8', [1], [0, 1]), 1, ''), rule: 'invalid-tensor-name', tensor: '' },
  { title: 'control character in a tensor name', bytes: oneTensor(entry('U8', [1], [0, 1]), 1, 'a\u001bb'), rule: 'invalid-tensor-name', tensor: 'a\u001bb' },
  { title: 'entry is an array', bytes: oneTensor([0, 1], 1), rule: 'tensor-not-object', tensor: 'x.weight' },
  { title: 'unknown field', bytes: oneTensor({ ...entry('U8', [1], [0, 1]), offset: 0 }, 1), rule: 'unknown-field', tensor: 'x.weight' },
  { title: 'missing data_offsets', bytes: oneTensor({ dtype: 'U8', shape: [1] }, 1), rule: 'unknown-field', tensor: 'x.weight' },
  { title: 'unknown dtype', bytes: oneTensor(entry('F4', [2], [0, 1]), 1), rule: 'unknown-dtype', tensor: 'x.weight' },
  { title: 'lowercase dtype', bytes: oneTensor(entry('f32', [1], [0, 4]), 4), rule: 'unknown-dtype', tensor: 'x.weight' },
  { title: 'dtype naming an Object.prototype member', bytes: oneTensor(entry('toString', [1], [0, 1]), 1), rule: 'unknown-dtype', tensor: 'x.weight' },
  { title: 'numeric dtype', bytes: oneTensor(entry(4, [1], [0, 4]), 4), rule: 'unknown-dtype', tensor: 'x.weight' },
  { title: 'negative dimension', bytes: oneTensor(entry('U8', [-1], [0, 0]), 0), rule: 'invalid-shape', tensor: 'x.weight' },
  { title: 'fractional dimension', bytes: oneTensor(entry('U8', [1.5], [0, 1]), 1), rule: 'invalid-shape', tensor: 'x.weight' },
  { title: 'dimension written 1.0', bytes: fileBytes('{"x.weight":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}', 1), rule: 'invalid-shape', tensor: 'x.weight' },
  { title: 'string dimension', bytes: oneTensor(entry('U8', ['4'], [0, 4]), 4), rule: 'invalid-shape', tensor: 'x.weight' },
  { title: 'dimension 2^53', bytes: fileBytes('{"x.weight":{"dtype":"U8","shape":[9007199254740992,0],"data_offsets":[0,0]}}'), rule: 'invalid-shape', tensor: 'x.weight' },
  { title: 'rank 9', bytes: oneTensor(entry('U8', [1, 1, 1, 1, 1, 1, 1, 1, 1], [0, 1]), 1), rule: 'invalid-shape', tensor: 'x.weight' },
  { title: 'shape is not an array', bytes: oneTensor(entry('U8', 4, [0, 4]), 4), rule: 'invalid-shape', tensor: 'x.weight' },
  { title: 'shape [2^31, 2^31, 2^31]', bytes: oneTensor(entry('F32', [2 ** 31, 2 ** 31, 2 ** 31], [0, 4]), 4), rule: 'size-overflow', tensor: 'x.weight' },
  { title: 'shape [2^40, 2^40]', bytes: oneTensor(entry('U8', [2 ** 40, 2 ** 40], [0, 1]), 1), rule: 'size-overflow', tensor: 'x.weight' },
  { title: 'shape [2^51] of F64', bytes: oneTensor(entry('F64', [2 ** 51], [0, 8]), 8), rule: 'size-overflow', tensor: 'x.weight' },
  { title: 'offsets begin after end', bytes: oneTensor(entry('U8', [0], [4, 0]), 4), rule: 'invalid-offsets', tensor: 'x.weight' },
  { title: 'three offsets', bytes: oneTensor(entry('U8', [1], [0, 1, 2]), 1), rule: 'invalid-offsets', tensor: 'x.weight' },
  { title: 'negative offset', bytes: oneTensor(entry('U8', [1], [-1, 0]), 1), rule: 'invalid-offsets', tensor: 'x.weight' },
  { title: 'offset beyond 2^53', bytes: fileBytes('{"x.weight":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}}', 1), rule: 'invalid-offsets', tensor: 'x.weight' },
  { title: 'offsets span the wrong byte count', bytes: oneTensor(entry('F32', [2], [0, 4]), 4), rule: 'byte-length-mismatch', tensor: 'x.weight' },
  // Layout of the data buffer.
  {
    title: 'overlapping tensors',
    bytes: fileBytes(JSON.stringify({ a: entry('F32', [2], [0, 8]), b: entry('F32', [2], [4, 12]) }), 12),
    rule: 'offsets-contiguous',
    tensor: 'b',
  },
  {
    title: 'hole between tensors',
    bytes: fileBytes(JSON.stringify({ a: entry('F32', [2], [0, 8]), b: entry('F32', [2], [12, 20]) }), 20),
    rule: 'offsets-contiguous',
    tensor: 'b',
  },
  { title: 'first tensor not at 0', bytes: oneTensor(entry('U8', [4], [4, 8]), 8), rule: 'offsets-contiguous', tensor: 'x.weight' },
  { title: 'trailing zip archive (polyglot)', bytes: concat(VALID, 'PK\x03\x04\x14\x00\x00\x00', 'PK\x05\x06', new Uint8Array(18)), rule: 'trailing-bytes', tensor: null },
  { title: 'trailing HTML (polyglot)', bytes: concat(VALID, '<html><script>alert(1)</script></html>'), rule: 'trailing-bytes', tensor: null },
  { title: 'one trailing byte', bytes: concat(VALID, '\n'), rule: 'trailing-bytes', tensor: null },
  { title: 'no tensors but data bytes', bytes: fileBytes('{}', 8), rule: 'trailing-bytes', tensor: null },
  { title: 'missing data bytes', bytes: VALID.subarray(0, VALID.length - 1), rule: 'data-size-mismatch', tensor: 'a.bias' },
  // Metadata.
  { title: 'metadata with a number value', bytes: fileBytes('{"__metadata__":{"steps":20}}'), rule: 'metadata-type', tensor: null },
  { title: 'metadata with a nested object', bytes: fileBytes('{"__metadata__":{"a":{"b":"c"}}}'), rule: 'metadata-type', tensor: null },
  { title: 'metadata that is a string', bytes: fileBytes('{"__metadata__":"v1"}'), rule: 'metadata-type', tensor: null },
  { title: 'metadata shaped like a tensor entry', bytes: fileBytes(JSON.stringify({ __metadata__: entry('U8', [0], [0, 0]) })), rule: 'metadata-type', tensor: null },
  // Pickle checkpoints, by content and by name.
  {
    title: 'pickle protocol 4 renamed to .safetensors',
    bytes: concat('\x80\x04\x95\x2a\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x05model\x94}\x94u.'),
    rule: 'pickle',
  },
  {
    title: 'legacy torch pickle renamed to .safetensors',
    bytes: concat('\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.\x80\x02M\xe9\x03.'),
    rule: 'pickle',
  },
  { title: 'pickle protocol 2, 3 bytes long', bytes: concat('\x80\x02.'), rule: 'pickle' },
  { title: 'torch zip renamed to .safetensors', bytes: concat('PK\x03\x04\x00\x00\x08\x00\x00\x00\x00\x00!\x00archive/data.pkl'), rule: 'pickle' },
  { title: 'valid safetensors named .ckpt', bytes: VALID, rule: 'pickle', fileName: 'model.ckpt' },
  { title: 'valid safetensors named .PTH', bytes: VALID, rule: 'pickle', fileName: 'model.PTH' },
  { title: 'valid safetensors named .bin', bytes: VALID, rule: 'pickle', fileName: 'pytorch_model.bin' },
];

/** The same valid file cut at every structurally interesting point. */
const truncations: [number, SafetensorsRule][] = [
  [3, 'file-too-small'],
  [8, 'header-length-bounds'],
  [9, 'header-length-bounds'],
  [Math.floor(VALID_HEADER_END / 2), 'header-length-bounds'],
  [VALID_HEADER_END - 1, 'header-length-bounds'],
  [VALID_HEADER_END, 'data-size-mismatch'],
  [VALID_HEADER_END + 10, 'data-size-mismatch'],
];
for (const [length, rule] of truncations) {
  cases.push({ title: `valid file truncated to ${length} bytes`, bytes: VALID.subarray(0, length), rule });
}

describe('safetensors corpus of malformed files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-corpus-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds at least 30 distinct files', () => {
    assert.ok(cases.length >= 30, `${cases.length} cases`);
    assert.equal(new Set(cases.map((c) => c.title)).size, cases.length);
  });

  it('accepts the valid file the corpus is built around', async () => {
    const file = path.join(dir, 'valid.safetensors');
    await writeFile(file, VALID);
    const header = await readSafetensorsHeader(file);
    assert.deepEqual([...header.tensors.keys()], ['a.weight', 'a.bias']);
    assert.deepEqual(header.metadata, { format: 'pt' });
  });

  cases.forEach((c, i) => {
    it(`rejects ${c.title} (${c.rule})`, async () => {
      const file = path.join(dir, c.fileName ?? `case-${i}.safetensors`);
      await writeFile(file, c.bytes);
      await assert.rejects(readSafetensorsHeader(file), (err: unknown) => {
        if (c.rule === 'pickle') {
          assert.ok(err instanceof PickleFormatError, String(err));
          assert.equal(err.file, file);
          assert.match(err.message, /arbitrary code/);
          assert.match(err.message, /\.safetensors/);
          return true;
        }
        assert.ok(err instanceof InvalidSafetensorsError, String(err));
        assert.equal(err.rule, c.rule, err.message);
        assert.equal(err.file, file);
        assert.ok(err.message.startsWith(`${file}:`), err.message);
        assert.ok(err.message.endsWith(`(rule: ${c.rule})`), err.message);
        if (c.tensor !== undefined) {
          assert.equal(err.tensor, c.tensor, err.message);
          if (c.tensor !== null) assert.ok(err.message.includes(`tensor ${JSON.stringify(c.tensor)}:`), err.message);
        }
        return true;
      });
      // Reading is read-only: the rejected file is still there, byte for byte.
      assert.deepEqual(new Uint8Array(await readFile(file)), new Uint8Array(c.bytes));
    });
  });

  it('refuses a directory as not a regular file', async () => {
    const sub = path.join(dir, 'folder.safetensors');
    await mkdir(sub);
    await assert.rejects(readSafetensorsHeader(sub), (err: unknown) => err instanceof InvalidSafetensorsError && err.rule === 'not-regular-file');
  });

  it('does not mistake a safetensors file whose header length starts with 0x80 0x02 for a pickle', async () => {
    // 640 = 0x0280: the length prefix begins like pickle protocol 2, but '{' at byte 8 says otherwise.
    const json = JSON.stringify({ w: entry('U8', [3], [0, 3]) });
    const header = json.padEnd(640, ' ');
    const file = path.join(dir, 'looks-like-pickle.safetensors');
    await writeFile(file, fileBytes(header, 3));
    assert.deepEqual([...(await readFile(file)).subarray(0, 2)], [0x80, 0x02]);
    const parsed = await readSafetensorsHeader(file);
    assert.equal(parsed.dataOffset, 648);
    assert.deepEqual(parsed.tensors.get('w')?.shape, [3]);
  });
});
