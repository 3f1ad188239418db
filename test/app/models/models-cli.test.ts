import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { chmod, copyFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { main } from '../../../src/cli/cli.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { buildTinyInpaintHead, writeTorchFile } from '../../fixtures/torch-files.ts';
import { PickleEmitter, writeTorchZip } from '../../fixtures/torch-save-writer.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-models-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (label: string) => mkdtempSync(path.join(root, `${label}-${counter++}-`));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await main(argv, { stdout, stderr, signal: new AbortController().signal });
  return { code, out, err };
}

async function importedStore(): Promise<string> {
  const models = freshDir('models');
  await chmod(models, 0o755);
  const tiny = await writeTinyCheckpoint(freshDir('src'), 'sdxl');
  const r = await run('models', 'import', tiny, '--kind', 'checkpoints', '--name', 'tiny.safetensors', '--models', models);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /imported checkpoints\/tiny.safetensors \(sdxl\)/);
  return models;
}

describe('fooocus models', () => {
  it('list --json prints name, kind, size, family, source and verified date', async () => {
    const models = await importedStore();
    const r = await run('models', 'list', '--json', '--models', models);
    assert.equal(r.code, 0, r.err);
    const [listed, ...rest] = JSON.parse(r.out);
    assert.equal(rest.length, 0);
    assert.equal(listed.name, 'tiny.safetensors');
    assert.equal(listed.kind, 'checkpoints');
    assert.equal(listed.family, 'sdxl');
    assert.equal(listed.source, 'local-import');
    assert.equal(listed.size, statSync(path.join(models, 'checkpoints', 'tiny.safetensors')).size);
    assert.match(listed.verifiedAt, /^\d{4}-\d{2}-\d{2}T/);
    const table = await run('models', 'list', '--models', models);
    assert.match(table.out, /^checkpoints +tiny\.safetensors +[\d.]+ MB +sdxl +local import +\d{4}-\d{2}-\d{2}$/m);
  });

  it('import of a .ckpt exits 2 with one error line and writes nothing', async () => {
    const models = freshDir('models');
    const ckpt = path.join(freshDir('src'), 'model.ckpt');
    await writeFile(ckpt, Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]));
    const r = await run('models', 'import', ckpt, '--models', models);
    assert.equal(r.code, 2);
    assert.match(r.err, /^error: [^\n]*can execute arbitrary code[^\n]*\n$/);
    assert.equal(existsSync(path.join(models, 'trust.json')), false);
  });

  it('convert writes a verified .safetensors that list shows as converted from the source SHA-256', async () => {
    const models = freshDir('models');
    await chmod(models, 0o755);
    const source = await writeTorchFile(freshDir('src'), 'fooocus_inpaint_head.pth', buildTinyInpaintHead());
    const sourceSha256 = createHash('sha256').update(readFileSync(source)).digest('hex');
    const r = await run('models', 'convert', source, '--models', models);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^converted inpaint\/fooocus_inpaint_head\.safetensors \(inpaint-head, 1 tensors\)$/m);
    assert.match(r.out, new RegExp(`converted from ${sourceSha256}`));
    // Not a terminal: progress goes to stderr as JSON lines, never into stdout.
    assert.match(r.err, /"event":"progress","label":"hashing"/);
    const listed = JSON.parse((await run('models', 'list', '--json', '--models', models)).out);
    assert.equal(listed[0].convertedFrom, sourceSha256);
    const table = await run('models', 'list', '--models', models);
    assert.match(table.out, new RegExp(`^inpaint +fooocus_inpaint_head\\.safetensors .* local import, converted from ${sourceSha256} +\\d{4}`, 'm'));
  });

  it('convert of a pickle naming os.system exits 2 with one error line naming it, and writes nothing', async () => {
    const models = freshDir('models');
    const source = path.join(freshDir('src'), 'evil.pth');
    await writeFile(source, writeTorchZip(new PickleEmitter().header().global('os', 'system').str('id').op(0x85, 0x52).stop(), new Map()));
    const r = await run('models', 'convert', source, '--models', models);
    assert.equal(r.code, 2);
    // Progress lines (JSON, not a terminal) may precede it; the error itself is one line, last.
    assert.match(r.err, /(^|\n)error: [^\n]*evil\.pth: the pickle names os\.system[^\n]*\n$/);
    assert.equal(r.err.match(/^error:/gm)?.length, 1);
    assert.equal(existsSync(path.join(models, 'trust.json')), false);
    assert.equal((await run('models', 'convert', source, '--kind', 'checkpoints', '--models', models)).code, 2);
  });

  it('a bad --kind or subcommand is a usage error (exit 2)', async () => {
    assert.equal((await run('models', 'import', 'x.safetensors', '--kind', 'weights')).code, 2);
    const r = await run('models', 'frobnicate');
    assert.equal(r.code, 2);
    assert.match(r.err, /^error: unknown models subcommand/);
  });
});

describe('fooocus audit', () => {
  it('exits 0 on a clean store and 1 with a finding row for a changed file', async () => {
    const models = await importedStore();
    const outputs = freshDir('outputs');
    await chmod(outputs, 0o700);
    const clean = await run('audit', '--models', models, '--outputs', outputs);
    assert.equal(clean.code, 0, clean.out + clean.err);
    assert.match(clean.out, /^CHECK +SUBJECT +STATUS +DETAIL/);
    assert.match(clean.out, /audit passed: no findings/);
    const file = path.join(models, 'checkpoints', 'tiny.safetensors');
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    await writeFile(file, bytes);
    const dirty = await run('audit', '--models', models, '--outputs', outputs, '--json');
    assert.equal(dirty.code, 1);
    const report = JSON.parse(dirty.out);
    assert.equal(report.findings, 1);
    assert.deepEqual(
      report.rows.filter((r: { status: string }) => r.status === 'finding').map((r: { check: string; subject: string }) => [r.check, r.subject]),
      [['model', 'checkpoints/tiny.safetensors']],
    );
  });
});

describe('fooocus catalog', () => {
  it('keygen, sign and verify round-trip; a tampered catalog fails verify with exit 2', async () => {
    const keys = freshDir('keys');
    const gen = await run('catalog', 'keygen', keys);
    assert.equal(gen.code, 0, gen.err);
    const keyId = /keyId +(\S+)/.exec(gen.out)![1]!;
    assert.equal(statSync(path.join(keys, 'catalog-signing.key.pem')).mode & 0o777, 0o600);
    assert.equal((await run('catalog', 'keygen', keys)).code, 2, 'never overwrites a key');

    const dir = freshDir('catalog');
    const file = path.join(dir, 'catalog.json');
    await writeFile(file, JSON.stringify({ version: 1, keyId, entries: [] }));
    const signed = await run('catalog', 'sign', '--key', path.join(keys, 'catalog-signing.key.pem'), file);
    assert.equal(signed.code, 0, signed.err);
    const publicKey = path.join(keys, 'catalog-signing.pub.pem');
    const verified = await run('catalog', 'verify', '--key', publicKey, file);
    assert.equal(verified.code, 0, verified.err);
    assert.match(verified.out, new RegExp(`^ok: .* signed by ${keyId}, version 1, 0 entries`));
    assert.equal((await run('catalog', 'verify', file)).code, 2, 'not signed by a pinned key');

    await writeFile(file, JSON.stringify({ version: 2, keyId, entries: [] }));
    const tampered = await run('catalog', 'verify', '--key', publicKey, file);
    assert.equal(tampered.code, 2);
    assert.match(tampered.err, /^error: .*signature does not verify/);
  });

  it('the shipped catalog verifies with the pinned keys', async () => {
    const shipped = path.resolve(import.meta.dirname, '..', '..', '..', 'catalog', 'catalog.json');
    const copy = path.join(freshDir('shipped'), 'catalog.json');
    await copyFile(shipped, copy);
    await copyFile(`${shipped}.sig`, `${copy}.sig`);
    const r = await run('catalog', 'verify', copy);
    assert.equal(r.code, 0, r.err);
  });
});
