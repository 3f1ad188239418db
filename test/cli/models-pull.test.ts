import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli as run } from './cli-run.ts';

describe('fooocus models pull', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-pull-cli-'));
  const models = path.join(dir, 'models');
  mkdirSync(models, { mode: 0o755 });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies the shipped catalog signature and names the known ids for an unknown one', async () => {
    const r = await run(['models', 'pull', 'no-such-model', '--models', models]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /"no-such-model" is not in the catalog; known ids: .*sdxl-base-1\.0/);
  });

  it('names the presets when --preset is unknown, and needs ids or a preset', async () => {
    const r = await run(['models', 'pull', '--preset', 'nope', '--models', models]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /"nope" does not exist; presets: .*realistic.*image-prompt/);
    const none = await run(['models', 'pull', '--models', models]);
    assert.equal(none.code, 2);
    assert.match(none.err, /catalog ids or --preset/);
  });

  it('refuses a tampered copy of the catalog before reading it', async () => {
    const shipped = path.resolve(import.meta.dirname, '..', '..', 'catalog', 'catalog.json');
    const text = readFileSync(shipped, 'utf8').replace('https://', 'https://evil.');
    writeFileSync(path.join(dir, 'catalog.json'), text);
    copyFileSync(`${shipped}.sig`, path.join(dir, 'catalog.json.sig'));
    const r = await run(['models', 'pull', 'sdxl-base-1.0', '--models', models, '--catalog', path.join(dir, 'catalog.json')]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /signature/i);
  });
});
