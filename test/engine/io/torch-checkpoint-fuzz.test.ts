/**
 * Mutation fuzzing of the checkpoint reader: thousands of byte flips, truncations and splices of valid torch.save
 * files (zip, zip64 and legacy), both of the whole file and of data.pkl re-wrapped in a well-formed archive (so the pickle interpreter,
 * not only the zip reader, sees the damage). Every case must be accepted or refused with TorchFileError, never
 * anything else. No case can hang: the reader's work is bounded by the input's length (each opcode consumes a
 * byte; the flattening walk and gathers are capped), and inputs here are a few kilobytes.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { SAFETENSORS_DTYPE_BYTES } from '../../../src/engine/index.ts';
import { createBufferSource } from '../../../src/engine/io/pickle/byte-source.ts';
import { readTorchCheckpoint, type TorchCheckpoint } from '../../../src/engine/io/pickle/torch-checkpoint.ts';
import { TorchFileError } from '../../../src/engine/io/pickle/torch-file-error.ts';
import { assignStorageKeys, PickleEmitter, writeLegacyTorchSave, writeTorchZip, type TestValue } from '../../fixtures/torch-save-writer.ts';

const CASES = 6000;

/** mulberry32: a fixed seed makes every failure reproducible by its case number. */
function createRandom(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

const bytesOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
const SEEDS: TestValue[] = [
  { dict: [['conv_first.weight', { tensor: { dtype: 'F32', shape: [2, 1, 3, 3], bytes: bytesOf(72) } }], ['conv_first.bias', { tensor: { dtype: 'F32', shape: [2], bytes: bytesOf(8) } }]] },
  { dict: [['k', { tuple: [{ tensor: { dtype: 'U8', shape: [2, 3], bytes: bytesOf(6) } }, { tensor: { dtype: 'F16', shape: [2, 1], bytes: bytesOf(4) } }, { float: 0.5 }] }], ['epoch', 3n], ['name', 'x']] },
  { dict: [['params_ema', { dict: [['w', { tensor: { dtype: 'BF16', shape: [4], bytes: bytesOf(8), parameter: true } }], ['n', { list: [1n, { float: 2 }] }]] }]] },
  { dict: [['t', { tensor: { dtype: 'F32', shape: [3, 2], stride: [1, 3], bytes: bytesOf(24), storageKey: 's' } }], ['tail', { tensor: { dtype: 'F32', shape: [1], offset: 5, bytes: bytesOf(24), storageKey: 's' } }]] },
];

function encode(value: TestValue, protocol: 2 | 4): { pickle: Uint8Array; storages: Map<string, Uint8Array> } {
  const storages = assignStorageKeys(structuredClone(value));
  const copy = structuredClone(value);
  assignStorageKeys(copy);
  return { pickle: new PickleEmitter(protocol).header().value(copy).stop(), storages };
}

function mutate(bytes: Uint8Array, other: Uint8Array, random: (n: number) => number): Uint8Array {
  const out = Uint8Array.from(bytes);
  switch (random(4)) {
    case 0: {
      for (let i = 1 + random(8); i > 0; i--) out[random(out.length)] = random(256);
      return out;
    }
    case 1:
      return out.subarray(0, random(out.length));
    case 2: {
      // Splice: a run from another valid file replaces a run here (lengths may differ).
      const from = random(other.length);
      const piece = other.subarray(from, from + 1 + random(32));
      const at = random(out.length);
      return Uint8Array.from([...out.subarray(0, at), ...piece, ...out.subarray(at + random(32))]);
    }
    default: {
      // Interesting integers where lengths, counts and indexes live.
      const at = random(Math.max(1, out.length - 4));
      const value = [0, 0xff, 0x7f, 0x80, 0xffffffff, 0x7fffffff][random(6)]!;
      new DataView(out.buffer).setUint32(at, value >>> 0, true);
      return out;
    }
  }
}

/** What an accepted checkpoint must promise, checked independently of the reader. */
function checkAccepted(checkpoint: TorchCheckpoint, size: number): void {
  const names = new Set<string>();
  for (const t of checkpoint.tensors) {
    assert.ok(t.name.length > 0 && !names.has(t.name));
    names.add(t.name);
    assert.equal(t.byteLength, t.shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPE_BYTES[t.dtype]);
    if (t.source.kind === 'storage') {
      assert.ok(t.source.storageOffset + t.source.storageBytes <= size);
      if (t.source.contiguous) assert.ok(t.source.offset * SAFETENSORS_DTYPE_BYTES[t.dtype] + t.byteLength <= t.source.storageBytes);
    }
  }
}

describe('PyTorch checkpoint reader fuzz', () => {
  it(`accepts or refuses (TorchFileError only) each of ${CASES} mutated files`, () => {
    const random = createRandom(20261206);
    const encoded = SEEDS.flatMap((v) => [encode(v, 2), encode(v, 4)]);
    const archives = [
      ...encoded.map((e, i) => writeTorchZip(e.pickle, e.storages, 'archive', i % 3 === 0)),
      ...SEEDS.map((v) => writeLegacyTorchSave(structuredClone(v))),
    ];
    const outcomes = { accepted: 0, refused: 0 };
    const rules = new Set<string>();
    for (let i = 0; i < CASES; i++) {
      const pick = random(encoded.length);
      const other = archives[random(archives.length)]!;
      const bytes = i % 2 === 0
        ? mutate(archives[random(archives.length)]!, other, random)
        : writeTorchZip(mutate(encoded[pick]!.pickle, encoded[random(encoded.length)]!.pickle, random), encoded[pick]!.storages);
      try {
        checkAccepted(readTorchCheckpoint(createBufferSource(bytes), `case-${i}.pth`), bytes.length);
        outcomes.accepted++;
      } catch (err) {
        if (!(err instanceof TorchFileError)) assert.fail(`case ${i}: ${err instanceof Error ? err.stack : String(err)}`);
        rules.add(err.rule);
        outcomes.refused++;
      }
    }
    // The corpus must exercise both sides and many distinct rules, or it is not testing much.
    assert.ok(outcomes.accepted > 100 && outcomes.refused > 1000, JSON.stringify(outcomes));
    assert.ok(rules.size >= 8, [...rules].join(', '));
  });
});
