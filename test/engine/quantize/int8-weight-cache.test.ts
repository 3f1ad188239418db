import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../../../src/engine/io/safetensors-reader.ts';
import type { SafetensorsHeader } from '../../../src/engine/io/safetensors-types.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { quantizeWeightInt8 } from '../../../src/engine/quantize/int8-quantization.ts';
import { ensureInt8Weights, int8CacheFile, int8TensorNames } from '../../../src/engine/quantize/int8-weight-cache.ts';

const SHA = 'ab'.repeat(32);
const KEYS = ['layer.weight', 'conv.weight'];

describe('int8 weight cache', () => {
  let dir: string;
  let source: SafetensorsHeader;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-int8-cache-'));
    const file = path.join(dir, 'model.safetensors');
    await writeSafetensors(file, [
      { name: 'layer.weight', dtype: 'F32', shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 2) },
      { name: 'conv.weight', dtype: 'F32', shape: [2, 3, 3, 3], data: Float32Array.from({ length: 54 }, (_, i) => Math.cos(i) / 3) },
      { name: 'layer.bias', dtype: 'F32', shape: [3], data: new Float32Array(3) },
    ]);
    source = await readSafetensorsHeader(file);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cacheDir = () => path.join(dir, 'cache');
  const build = () => ensureInt8Weights(source, KEYS, { dir: cacheDir(), sourceSha256: SHA });

  it('builds the file once, with the codes and scales of each weight, then reads it back', async () => {
    const first = await build();
    assert.equal(first.origin, 'built');
    const codes = new Int8Array((await readTensorAsFloat32(first.header, int8TensorNames('conv.weight').codes)).map((v) => v));
    assert.deepEqual([...codes], [...quantizeWeightInt8(await readTensorAsFloat32(source, 'conv.weight'), [2, 3, 3, 3]).codes]);
    assert.deepEqual(first.header.tensors.get(int8TensorNames('layer.weight').scales)?.shape, [3]);
    const second = await build();
    assert.equal(second.origin, 'cache');
    assert.deepEqual(readdirSync(cacheDir()).sort(), [path.basename(int8CacheFile(cacheDir(), SHA)), `${path.basename(int8CacheFile(cacheDir(), SHA))}.sha256`]);
  });

  it('rebuilds a file whose bytes no longer match its digest, and never uses it', async () => {
    await build();
    const file = int8CacheFile(cacheDir(), SHA);
    const bytes = readFileSync(file);
    const original = Buffer.from(bytes);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff; // the last scale's top byte flipped
    writeFileSync(file, bytes);
    const again = await build();
    assert.equal(again.origin, 'rebuilt');
    assert.deepEqual(readFileSync(file), original);
  });

  it('rebuilds a file without its digest (a write cut short) and one from another scheme or checkpoint', async () => {
    await build();
    const file = int8CacheFile(cacheDir(), SHA);
    rmSync(`${file}.sha256`);
    assert.equal((await build()).origin, 'rebuilt');
    // A valid digest over a file whose metadata names another checkpoint: still refused.
    const other = await ensureInt8Weights(source, KEYS, { dir: path.join(dir, 'other'), sourceSha256: 'cd'.repeat(32) });
    writeFileSync(file, readFileSync(other.header.file));
    writeFileSync(`${file}.sha256`, readFileSync(`${other.header.file}.sha256`));
    assert.equal((await build()).origin, 'rebuilt');
    assert.equal((await readSafetensorsHeader(file)).metadata.source_sha256, SHA);
  });

  it('rebuilds when a weight it needs is not in the file', async () => {
    const partial = await ensureInt8Weights(source, ['layer.weight'], { dir: path.join(dir, 'partial'), sourceSha256: SHA });
    assert.equal(partial.origin, 'built');
    const full = await ensureInt8Weights(source, KEYS, { dir: path.join(dir, 'partial'), sourceSha256: SHA });
    assert.equal(full.origin, 'rebuilt');
    assert.ok(full.header.tensors.has(int8TensorNames('conv.weight').codes));
  });

  it('refuses a cache key that is not a SHA-256, and a weight that is no linear or conv weight', async () => {
    await assert.rejects(ensureInt8Weights(source, KEYS, { dir: cacheDir(), sourceSha256: '../x' }), /not a lowercase SHA-256/);
    await assert.rejects(ensureInt8Weights(source, ['layer.bias'], { dir: path.join(dir, 'bias'), sourceSha256: SHA }), /"layer.bias" \[3\] is no linear or conv weight/);
  });
});
