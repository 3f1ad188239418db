import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readSafetensorsHeader } from '../../../src/engine/index.ts';
import { createBufferSource } from '../../../src/engine/io/pickle/byte-source.ts';
import { readTorchCheckpoint } from '../../../src/engine/io/pickle/torch-checkpoint.ts';
import { writeTorchTensorsAsSafetensors } from '../../../src/engine/io/pickle/torch-safetensors-writer.ts';
import { assertRefused } from './torch-refusal.ts';
import { ITEM_SIZE, PickleEmitter, writeLegacyTorchSave, writeTorchSave, type TestDtype, type TestValue } from '../../fixtures/torch-save-writer.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-torch-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

function tensor(dtype: TestDtype, shape: number[], extra: Partial<TestValue & object> = {}): TestValue {
  const numel = shape.reduce((a, b) => a * b, 1);
  return { tensor: { dtype, shape, bytes: randomBytes(numel * ITEM_SIZE[dtype]), ...extra } };
}

/** Converts `bytes` and returns the output's header and raw tensor bytes by name. */
async function convert(bytes: Uint8Array) {
  const source = createBufferSource(bytes);
  const checkpoint = readTorchCheckpoint(source, 'test.pth');
  const out = path.join(root, `out-${counter++}.safetensors`);
  await writeTorchTensorsAsSafetensors(source, checkpoint, out, 'test.pth', { metadata: { format: 'pt' } });
  const header = await readSafetensorsHeader(out);
  const file = readFileSync(out);
  const data = new Map([...header.tensors].map(([name, t]) => [name, file.subarray(header.dataOffset + t.begin, header.dataOffset + t.end)]));
  return { header, data, checkpoint };
}

describe('PyTorch checkpoint conversion', () => {
  for (const protocol of [2, 4, 5] as const) {
    it(`round-trips F32, F16, BF16 and U8 tensors of a nested state dict (protocol ${protocol})`, async () => {
      const value: TestValue = {
        dict: [
          ['conv_first.weight', tensor('F32', [4, 3, 3, 3])],
          ['conv_first.bias', tensor('F32', [4])],
          ['half', tensor('F16', [2, 5])],
          ['bf', tensor('BF16', [7])],
          ['mask', tensor('U8', [3, 3])],
          ['params_ema', { dict: [['body.0.weight', tensor('F32', [2, 2], { parameter: true } as never)], ['scalar', tensor('F32', [])]] }],
          ['plain', { dict: [['x', tensor('F16', [1, 1])]], ordered: false }],
        ],
      };
      const { header, data } = await convert(writeTorchSave(value, { protocol }));
      const expect = (name: string, t: TestValue) => {
        const spec = (t as { tensor: { dtype: string; shape: number[]; bytes: Uint8Array } }).tensor;
        const info = header.tensors.get(name);
        assert.ok(info, name);
        assert.equal(info.dtype, spec.dtype);
        assert.deepEqual(info.shape, spec.shape);
        assert.deepEqual(data.get(name), Buffer.from(spec.bytes));
      };
      const entries = (value as { dict: [string, TestValue][] }).dict;
      for (const [name, t] of entries.slice(0, 5)) expect(name, t);
      const ema = (entries[5]![1] as { dict: [string, TestValue][] }).dict;
      expect('params_ema.body.0.weight', ema[0]![1]);
      expect('params_ema.scalar', ema[1]![1]);
      expect('plain.x', ((entries[6]![1] as { dict: [string, TestValue][] }).dict[0]![1]));
      assert.deepEqual(header.metadata, { format: 'pt' });
      assert.equal(header.tensors.size, 8);
    });
  }

  it("flattens tuple values like Fooocus's inpaint patch (uint8 weight, min, max) and Python numbers", async () => {
    const weight = tensor('U8', [4, 2]);
    const min = tensor('F16', [4, 1]);
    const value: TestValue = {
      dict: [
        ['diffusion_model.input_blocks.0.0.weight', { tuple: [weight, min, { float: 0.25 }] }],
        ['epoch', 12n],
        ['big', -(2n ** 40n)],
        ['arch', 'RRDB'],
        ['flags', { list: [true, null] }],
      ],
    };
    const { header, data, checkpoint } = await convert(writeTorchSave(value));
    const key = 'diffusion_model.input_blocks.0.0.weight';
    assert.equal(header.tensors.get(`${key}.0`)?.dtype, 'U8');
    assert.deepEqual(data.get(`${key}.0`), Buffer.from((weight as { tensor: { bytes: Uint8Array } }).tensor.bytes));
    assert.equal(header.tensors.get(`${key}.1`)?.dtype, 'F16');
    assert.deepEqual(header.tensors.get(`${key}.2`)?.shape, []);
    assert.equal(data.get(`${key}.2`)!.readFloatLE(0), 0.25);
    assert.equal(header.tensors.get('epoch')?.dtype, 'I64');
    assert.equal(data.get('epoch')!.readBigInt64LE(0), 12n);
    assert.equal(data.get('big')!.readBigInt64LE(0), -(2n ** 40n));
    assert.deepEqual(checkpoint.skipped, ['arch', 'flags.0', 'flags.1']);
  });

  it('reads archives whose sizes and offsets are in zip64 records, as writers emit past 4 GiB', async () => {
    const weight = tensor('F16', [3, 5]);
    const zip = writeTorchSave({ dict: [['w', weight]] }, { zip64: true, archive: 'fooocus_upscaler_s409985e5' });
    const { data } = await convert(zip);
    assert.deepEqual(data.get('w'), Buffer.from((weight as { tensor: { bytes: Uint8Array } }).tensor.bytes));
  });

  it('reads the legacy (pre-1.6) format: five pickles, then storages with their element counts', async () => {
    const w = tensor('F32', [2, 3]);
    const b = tensor('BF16', [4]);
    const { header, data } = await convert(writeLegacyTorchSave({ dict: [['params_ema', { dict: [['conv_first.weight', w], ['conv_first.bias', b]] }], ['epoch', 3n]] }));
    assert.deepEqual(data.get('params_ema.conv_first.weight'), Buffer.from((w as { tensor: { bytes: Uint8Array } }).tensor.bytes));
    assert.deepEqual(data.get('params_ema.conv_first.bias'), Buffer.from((b as { tensor: { bytes: Uint8Array } }).tensor.bytes));
    assert.equal(header.tensors.get('params_ema.conv_first.bias')?.dtype, 'BF16');
    assert.equal(data.get('epoch')!.readBigInt64LE(0), 3n);
  });

  it('refuses a legacy file whose storage counts disagree with the pickle, that is truncated, or is big-endian', () => {
    const good = Buffer.from(writeLegacyTorchSave({ dict: [['w', tensor('F32', [4])]] }));
    const miscounted = Buffer.from(good);
    miscounted.writeBigUInt64LE(5n, miscounted.length - 16 - 8);
    assertRefused(miscounted, 'storage-missing');
    assertRefused(good.subarray(0, good.length - 1), 'storage-missing');
    assertRefused(writeLegacyTorchSave({ dict: [['w', tensor('F32', [4])]] }, { littleEndian: false }), 'byte-order');
    const evil = Buffer.concat([good.subarray(0, good.indexOf(Buffer.from([0x2e])) + 1), new PickleEmitter().header().int(1001n).stop(), new PickleEmitter().header().global('os', 'system').str('id').op(0x85, 0x52).stop()]);
    assertRefused(evil, 'global-refused', 'os.system');
  });

  it('honours storage offsets and gathers a non-contiguous (transposed) view', async () => {
    const storage = Float32Array.from({ length: 12 }, (_, i) => i);
    const bytes = new Uint8Array(storage.buffer);
    const value: TestValue = {
      dict: [
        ['tail', { tensor: { dtype: 'F32', shape: [2], bytes, offset: 10, storageKey: 's' } }],
        ['t', { tensor: { dtype: 'F32', shape: [4, 3], stride: [1, 4], bytes, storageKey: 's' } }],
      ],
    };
    const { data } = await convert(writeTorchSave(value));
    assert.deepEqual([...new Float32Array(Uint8Array.from(data.get('tail')!).buffer)], [10, 11]);
    // A [3, 4] storage read as its transpose: element (i, j) is storage[j * 4 + i].
    assert.deepEqual([...new Float32Array(Uint8Array.from(data.get('t')!).buffer)], [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  });

  it('refuses a view that reaches past its storage, and a storage missing from the archive', () => {
    const bytes = new Uint8Array(16);
    const past: TestValue = { dict: [['w', { tensor: { dtype: 'F32', shape: [4], bytes, offset: 1 } }]] };
    assertRefused(writeTorchSave(past), 'tensor-layout');
    const zip = writeTorchSave({ dict: [['w', { tensor: { dtype: 'F32', shape: [4], bytes, storageKey: 'k' } }]] });
    const renamed = Buffer.from(zip);
    renamed.write('archive/data/j', renamed.indexOf('archive/data/k'));
    renamed.write('archive/data/j', renamed.lastIndexOf('archive/data/k'));
    assertRefused(renamed, 'storage-missing');
  });

  it('refuses files that are not torch.save zip archives, naming the legacy format', () => {
    assertRefused(Buffer.from('hello, this is not a checkpoint at all'), 'not-zip');
    // A pickle stream that is not PyTorch's legacy format (no magic number first).
    assertRefused(Uint8Array.from([0x80, 0x02, 0x7d, 0x2e]), 'not-zip');
    const tar = Buffer.alloc(1024);
    tar.write('ustar', 257);
    assertRefused(tar, 'legacy-format');
    const big = Buffer.from(writeTorchSave({ dict: [['w', tensor('F32', [2])]] }));
    big.write('big   ', big.indexOf('little'));
    assertRefused(big, 'byte-order');
  });

  it('writes nothing when conversion fails part-way', async () => {
    const zip = writeTorchSave({ dict: [['w', tensor('F32', [1024])]] });
    const source = createBufferSource(zip);
    const checkpoint = readTorchCheckpoint(source, 'test.pth');
    const out = path.join(root, `partial-${counter++}.safetensors`);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(writeTorchTensorsAsSafetensors(source, checkpoint, out, 'test.pth', { signal: controller.signal }));
    assert.equal(existsSync(out), false);
  });
});
