import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256File } from '../../../src/engine/index.ts';

describe('sha256File', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-sha256-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('matches the FIPS 180-2 test vector for "abc" and the empty-file digest', async () => {
    const abc = path.join(dir, 'abc.txt');
    await writeFile(abc, 'abc');
    assert.equal(await sha256File(abc), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const empty = path.join(dir, 'empty');
    await writeFile(empty, '');
    assert.equal(await sha256File(empty), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('streams a multi-chunk file and reports monotonic progress up to the total', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a);
    const file = path.join(dir, 'big.bin');
    await writeFile(file, data);
    const seen: [number, number][] = [];
    const digest = await sha256File(file, { onProgress: (done, total) => seen.push([done, total]) });
    assert.equal(digest, createHash('sha256').update(data).digest('hex'));
    assert.ok(seen.length >= 2, `${seen.length} progress calls`);
    assert.ok(seen.every(([, total]) => total === data.length));
    assert.ok(seen.every(([done], i) => i === 0 || done > seen[i - 1]![0]));
    assert.equal(seen.at(-1)![0], data.length);
  });

  it('rejects with AbortError when aborted before or during the read', async () => {
    const file = path.join(dir, 'abort.bin');
    await writeFile(file, Buffer.alloc(4 * 1024 * 1024));
    await assert.rejects(sha256File(file, { signal: AbortSignal.abort() }), { name: 'AbortError' });

    const controller = new AbortController();
    let calls = 0;
    const hashing = sha256File(file, {
      signal: controller.signal,
      onProgress: () => {
        calls++;
        controller.abort();
      },
    });
    await assert.rejects(hashing, { name: 'AbortError' });
    assert.equal(calls, 1, 'no chunk is hashed after the abort');
  });
});
