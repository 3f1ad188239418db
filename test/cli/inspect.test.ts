import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { main } from '../../src/cli/cli.ts';
import { writeSafetensors } from '../../src/engine/io/safetensors-writer.ts';
import { expectedTinyArchitecture, generateTinyCheckpoint, writeTinyCheckpoint } from '../fixtures/checkpoints.ts';

function capture(tty = false) {
  const out = new PassThrough();
  const err = Object.assign(new PassThrough(), { isTTY: tty });
  const text = { out: '', err: '' };
  out.on('data', (c: Buffer) => (text.out += c.toString()));
  err.on('data', (c: Buffer) => (text.err += c.toString()));
  return { io: { stdout: out, stderr: err, signal: new AbortController().signal }, text };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-cli-inspect-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('fooocus inspect', () => {
  it('--json prints the whole inspection as JSON', async () => {
    const file = await writeTinyCheckpoint(dir, 'sdxl', { dtype: 'F16' });
    const { io, text } = capture();
    assert.equal(await main(['inspect', file, '--json'], io), 0);
    const r = JSON.parse(text.out);
    assert.deepEqual(r.architecture, expectedTinyArchitecture('sdxl', { dtype: 'F16' }));
    assert.equal(r.sha256, createHash('sha256').update(readFileSync(file)).digest('hex'));
    assert.equal(text.err, '');
  });

  it('prints family, components, architecture numbers, counts, SHA-256 and metadata keys', async () => {
    const file = await writeTinyCheckpoint(dir, 'sd15', { inpaint: true });
    const { io, text } = capture();
    assert.equal(await main(['inspect', file], io), 0);
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    assert.match(text.out, /^Family +sd15$/m);
    assert.match(text.out, /^Inpaint +yes$/m);
    assert.match(text.out, /^Components +UNet, clip-l, VAE$/m);
    assert.match(text.out, /in 9, out 4, 32 channels x \[1, 2\], res blocks \[2, 1\]/);
    assert.match(text.out, new RegExp(`^SHA-256 +${sha}$`, 'm'));
    assert.match(text.out, /^Metadata +fooocus-ts\.fixture, fooocus-ts\.seed$/m);
    assert.equal(text.err, '');
  });

  it('shows hashing progress on a TTY for large files only', async () => {
    const small = await writeTinyCheckpoint(dir, 'sd15');
    const quiet = capture(true);
    assert.equal(await main(['inspect', small], quiet.io), 0);
    assert.equal(quiet.text.err, '');

    const large = path.join(dir, 'large.safetensors');
    const padding = { name: 'model_ema.padding', dtype: 'U8' as const, shape: [65 * 1024 * 1024], data: new Uint8Array(65 * 1024 * 1024) };
    await writeSafetensors(large, [...generateTinyCheckpoint('sd15'), padding]);
    const loud = capture(true);
    assert.equal(await main(['inspect', large], loud.io), 0);
    assert.match(loud.text.err, /hashing +100% +\d+ MB\/s/);
    assert.ok(loud.text.err.endsWith('\r\x1b[K'), 'the progress line is cleared');
    const piped = capture(false);
    assert.equal(await main(['inspect', large], piped.io), 0);
    assert.equal(piped.text.err, '');
  });

  for (const [label, name, content] of [
    ['not safetensors', 'garbage.safetensors', 'hello world, not a checkpoint'],
    ['pickle checkpoint', 'model.ckpt', 'PK\x03\x04'],
    ['missing file', 'does-not-exist.safetensors', null],
  ] as const) {
    it(`exits 2 with one line for a bad file: ${label}`, async () => {
      const file = path.join(dir, name);
      if (content !== null) writeFileSync(file, content);
      const { io, text } = capture();
      assert.equal(await main(['inspect', file], io), 2);
      assert.equal(text.out, '');
      assert.match(text.err, /^error: [^\n]+\n$/);
      assert.ok(text.err.includes(file));
    });
  }

  it('exits 2 naming the tensor for an unsupported checkpoint', async () => {
    const file = path.join(dir, 'truncated-unet.safetensors');
    await writeSafetensors(file, generateTinyCheckpoint('sd15').filter((t) => t.name !== 'model.diffusion_model.out.2.weight'));
    const { io, text } = capture();
    assert.equal(await main(['inspect', file], io), 2);
    assert.match(text.err, /^error: [^\n]*missing tensor "model\.diffusion_model\.out\.2\.weight"\n$/);
  });

  it('is a usage error without exactly one file', async () => {
    const { io, text } = capture();
    assert.equal(await main(['inspect'], io), 2);
    assert.match(text.err, /^error: inspect takes exactly one checkpoint file/);
  });
});
