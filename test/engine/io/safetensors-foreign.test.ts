/**
 * A file that is not safetensors at all, under a .safetensors name, is named for what it looks like instead of
 * being reported as an absurd header length ("header length 8031924123371070824 exceeds ...").
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { InvalidSafetensorsError, PickleFormatError, readSafetensorsHeader } from '../../../src/engine/index.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-foreign-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array | string): string {
  const file = path.join(dir, `${name}.safetensors`);
  writeFileSync(file, bytes);
  return file;
}

const gguf = new Uint8Array(64);
gguf.set([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]);

const cases: { title: string; bytes: Uint8Array | string; looksLike: RegExp }[] = [
  { title: 'a text file', bytes: 'these are my prompt notes, not a model\n'.repeat(10), looksLike: /it looks like text starting "these ar"/ },
  { title: 'a saved HTML error page', bytes: '<!DOCTYPE html><html><body>Not found</body></html>', looksLike: /it looks like an HTML page \(text\)/ },
  { title: 'a Git LFS pointer', bytes: 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 6938040682\n', looksLike: /a Git LFS pointer \(text\) rather than the model/ },
  { title: 'a GGUF model', bytes: gguf, looksLike: /a GGUF model .*not supported/ },
  { title: 'gzip data', bytes: gzipSync(Buffer.from('x'.repeat(100))), looksLike: /gzip-compressed data/ },
];

describe('a file that is not safetensors', () => {
  for (const c of cases) {
    it(`says ${c.title} is not a safetensors file, and what it looks like`, async () => {
      const file = write(c.title.replaceAll(' ', '-'), c.bytes);
      await assert.rejects(readSafetensorsHeader(file), (err: unknown) => {
        assert.ok(err instanceof InvalidSafetensorsError);
        assert.equal(err.rule, 'header-length-bounds');
        assert.match(err.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a safetensors file: `));
        assert.match(err.message, c.looksLike);
        assert.doesNotMatch(err.message, /exceeds|\d{12,}/, 'no absurd header length');
        return true;
      });
    });
  }

  it('still refuses pickle and PyTorch zip data as pickle, before anything else', async () => {
    await assert.rejects(readSafetensorsHeader(write('pickle', new Uint8Array([0x80, 0x02, 0x7d, 0x71, 0x00, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61]))), PickleFormatError);
    await assert.rejects(readSafetensorsHeader(write('zip', new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0, 0, 0]))), PickleFormatError);
  });

  it('reports a truncated real file by its header length, as before', async () => {
    const header = new Uint8Array(16);
    new DataView(header.buffer).setBigUint64(0, 5000n, true);
    header.set([0x7b, 0x22], 8);
    await assert.rejects(readSafetensorsHeader(write('truncated', header)), /header length 5000 runs past the end of the 16-byte file/);
  });
});
