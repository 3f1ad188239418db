import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { writeTinyCheckpoint } from '../fixtures/checkpoints.ts';
import { runCli as run } from './cli-run.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-first-run-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
/** A folder that does not exist yet, under one that does not either (as on a fresh clone with a custom layout). */
const missing = (label: string): string => path.join(root, `fresh-${counter++}`, label);
const modeOf = (dir: string): number => statSync(dir).mode & 0o777;

describe('first use on a fresh checkout', () => {
  it('generate creates the models folder (and the writer the outputs folder) with the modes the permission checks expect, then makes an image', async () => {
    const models = missing('models');
    const outputs = path.join(path.dirname(models), 'outputs');
    const r = await run(['generate', 'a lighthouse', '--models', models, '--out', outputs, '--size', '64x64', '--steps', '2', '--seed', '1', '--json']);
    assert.equal(r.code, 0, r.err);
    assert.equal(modeOf(models) & 0o022, 0, 'models folder not writable by group or others');
    assert.equal(modeOf(models) & 0o700, 0o700);
    assert.equal(modeOf(outputs) & 0o027, 0, 'outputs folder not writable by group, nothing for others');
    assert.match(r.err, new RegExp(`created the models folder ${models.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const saved = r.out.trim().split('\n').map((l) => JSON.parse(l) as { event: string; path?: string }).find((e) => e.event === 'saved');
    assert.ok(saved?.path !== undefined && existsSync(saved.path), r.out);
    // A second run finds them and says nothing about creating them.
    const again = await run(['generate', 'a lighthouse', '--models', models, '--out', outputs, '--size', '64x64', '--steps', '2', '--seed', '2', '--json']);
    assert.equal(again.code, 0, again.err);
    assert.doesNotMatch(again.err, /created the/);
  });

  it('models import creates the models folder', async () => {
    const models = missing('models');
    const file = await writeTinyCheckpoint(mkdtempSync(path.join(root, 'src-')), 'sd15');
    const r = await run(['models', 'import', file, '--models', models]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /created the models folder/);
    assert.equal(modeOf(models) & 0o022, 0);
  });

  it('models pull creates the models folder before it records anything in it', async () => {
    const models = missing('models');
    const r = await run(['models', 'pull', 'no-such-model', '--models', models]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /created the models folder/);
    assert.match(r.err, /"no-such-model" is not in the catalog/);
    assert.doesNotMatch(r.err, /not found/);
    assert.equal(modeOf(models) & 0o022, 0);
  });

  it('models list on a missing folder says so, fails, and creates nothing', async () => {
    const models = missing('models');
    for (const extra of [[], ['--json']]) {
      const r = await run(['models', 'list', '--models', models, ...extra]);
      assert.equal(r.code, 2, r.out);
      assert.equal(r.out, '');
      assert.match(r.err, /^error: the models folder .* does not exist; it is created by the first `models import`, `models pull`, `generate` or `serve`/);
    }
    assert.equal(existsSync(path.dirname(models)), false);
  });

  it('models list on an existing empty folder still says there is nothing trusted yet', async () => {
    const models = mkdtempSync(path.join(root, 'empty-'));
    const r = await run(['models', 'list', '--models', models]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /No trusted models yet/);
    assert.deepEqual(readdirSync(models), []);
  });
});
