import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runAudit } from '../../../src/app/audit.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { sha256File } from '../../../src/engine/index.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-audit-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (label: string) => mkdtempSync(path.join(root, `${label}-${counter++}-`));

/** A clean store: one imported checkpoint, directories 0755, and an outputs directory 0700. */
async function cleanStore() {
  const models = freshDir('models');
  await chmod(models, 0o755);
  const store = await openModelStore(models);
  await importModel(store, await writeTinyCheckpoint(freshDir('src'), 'sd15'), { kind: 'checkpoints', name: 'tiny.safetensors' });
  const outputs = freshDir('outputs');
  await chmod(outputs, 0o700);
  return { models, outputs, store };
}

const findings = (report: Awaited<ReturnType<typeof runAudit>>) => report.rows.filter((r) => r.status === 'finding');

describe('runAudit', () => {
  it('passes a clean store with no findings', async () => {
    const { models, outputs } = await cleanStore();
    const report = await runAudit({ modelsDir: models, outputsDir: outputs });
    assert.deepEqual(findings(report), []);
    assert.equal(report.findings, 0);
    assert.ok(report.rows.some((r) => r.check === 'model' && r.subject === 'checkpoints/tiny.safetensors' && r.status === 'ok'));
  });

  it('re-hashes every model in full, ignoring the hash cache', async () => {
    const { models, store } = await cleanStore();
    await store.resolve('checkpoints', 'tiny.safetensors');
    let hashed = 0;
    await runAudit({ modelsDir: models, hashFile: (f, o) => (hashed++, sha256File(f, o)) });
    assert.equal(hashed, 1);
  });

  it('finds a changed model file', async () => {
    const { models, outputs } = await cleanStore();
    const file = path.join(models, 'checkpoints', 'tiny.safetensors');
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    await writeFile(file, bytes);
    const report = await runAudit({ modelsDir: models, outputsDir: outputs });
    const [finding] = findings(report);
    assert.equal(report.findings, 1);
    assert.equal(finding!.check, 'model');
    assert.match(finding!.detail, /changed since it was verified/);
  });

  it('finds an untracked file and an untracked symlink', async () => {
    const { models, outputs } = await cleanStore();
    await mkdir(path.join(models, 'loras'));
    await writeFile(path.join(models, 'loras', 'dropped.safetensors'), 'x');
    const { symlink } = await import('node:fs/promises');
    await symlink('/etc/hostname', path.join(models, 'checkpoints', 'link.safetensors'));
    const report = await runAudit({ modelsDir: models, outputsDir: outputs });
    assert.deepEqual(
      findings(report).map((r) => [r.check, r.subject]),
      [
        ['untracked', 'checkpoints/link.safetensors'],
        ['untracked', 'loras/dropped.safetensors'],
      ],
    );
  });

  it('finds a world-writable models directory and a group-writable outputs directory', async () => {
    const { models, outputs } = await cleanStore();
    await chmod(models, 0o777);
    await chmod(outputs, 0o770);
    const report = await runAudit({ modelsDir: models, outputsDir: outputs });
    const subjects = findings(report).map((r) => [r.check, r.subject]);
    assert.deepEqual(subjects, [
      ['permissions', (await openModelStore(models)).dir],
      ['permissions', path.resolve(outputs)],
    ]);
    assert.match(findings(report)[0]!.detail, /mode 777: writable by group or others/);
  });

  it('verifies the catalog signature when a catalog is present, and reports the config lock check', async () => {
    const { models, outputs } = await cleanStore();
    const shipped = path.resolve(import.meta.dirname, '..', '..', '..', 'catalog', 'catalog.json');
    const good = await runAudit({ modelsDir: models, outputsDir: outputs, catalogFile: shipped });
    assert.ok(good.rows.some((r) => r.check === 'catalog' && r.status === 'ok'));
    const dir = freshDir('catalog');
    const tampered = path.join(dir, 'catalog.json');
    await writeFile(tampered, (await readFile(shipped, 'utf8')).replace(/"version": \d+/, '"version": 999'));
    await writeFile(`${tampered}.sig`, await readFile(`${shipped}.sig`));
    const checkConfigLock = async () => ({ ok: false, subject: 'config.json', detail: 'not locked' });
    const bad = await runAudit({ modelsDir: models, outputsDir: outputs, catalogFile: tampered, checkConfigLock });
    assert.deepEqual(findings(bad).map((r) => r.check), ['catalog', 'config-lock']);
    assert.match(findings(bad)[0]!.detail, /signature does not verify/);
  });
});
