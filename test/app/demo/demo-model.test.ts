import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { DEMO_MODEL_NAME, ensureDemoModel } from '../../../src/app/demo/demo-model.ts';
import { GenerationService } from '../../../src/app/generation/generation-service.ts';
import { createTokenizerLoader } from '../../../src/app/generation/tokenizer-selection.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { inspectCheckpoint } from '../../../src/engine/index.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';

const dirs: string[] = [];
function tempStoreDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-demo-'));
  dirs.push(dir);
  mkdirSync(path.join(dir, 'models'), { mode: 0o755 });
  return dir;
}

describe('built-in demo model', () => {
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('is created once, deterministically, in a store without checkpoints, and recorded as trusted', async () => {
    const a = await openModelStore(path.join(tempStoreDir(), 'models'));
    const b = await openModelStore(path.join(tempStoreDir(), 'models'));
    assert.equal(await ensureDemoModel(a), DEMO_MODEL_NAME);
    assert.equal(await ensureDemoModel(a), DEMO_MODEL_NAME, 'a second call keeps the existing one');
    await ensureDemoModel(b);
    const [ea] = (await a.list()).filter((m) => m.kind === 'checkpoints');
    const [eb] = (await b.list()).filter((m) => m.kind === 'checkpoints');
    assert.equal(ea!.sha256, eb!.sha256, 'same bytes on every machine');
    const info = await inspectCheckpoint(await a.resolve('checkpoints', DEMO_MODEL_NAME));
    assert.equal(info.architecture.family, 'sd15');
    assert.equal(info.metadata['fooocus-ts.demo'], 'true');
    assert.deepEqual((await a.list()).length, 1, 'no temporary file left in the store');
  });

  it('is not added when the user already has a checkpoint', async () => {
    const dir = tempStoreDir();
    const store = await openModelStore(path.join(dir, 'models'));
    await importModel(store, await writeTinyCheckpoint(dir, 'sd15'), { kind: 'checkpoints' });
    assert.equal(await ensureDemoModel(store), null);
  });

  it('generates an image offline with the byte-level vocabulary', async () => {
    const dir = tempStoreDir();
    const store = await openModelStore(path.join(dir, 'models'));
    await ensureDemoModel(store);
    const entry = (await store.list())[0]!;
    const service = new GenerationService({ runtime: { threads: 1 }, outputsDir: path.join(dir, 'outputs'), loadTokenizer: createTokenizerLoader(store), software: 'test' });
    try {
      const [saved] = await service.generate({
        model: { path: await store.resolve('checkpoints', DEMO_MODEL_NAME), sha256: entry.sha256 },
        prompt: ['a lighthouse'],
        negativePrompt: [''],
        rawPrompt: 'a lighthouse',
        rawNegativePrompt: '',
        styles: [],
        width: 128,
        height: 128,
        steps: 4,
        cfg: 4,
        sharpness: 2,
        adaptiveCfg: 7,
        sampler: 'dpmpp_2m_sde_gpu',
        scheduler: 'karras',
        seed: 1n,
        imageCount: 1,
        clipSkip: 2,
        admScalers: { positive: 1.5, negative: 0.8, end: 0.3 },
        refinerSwitch: 1,
        format: 'png',
        scheme: 'fooocus',
      });
      assert.ok(existsSync(saved!.path));
    } finally {
      await service.close();
    }
  });
});
