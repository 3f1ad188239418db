import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importModel } from '../../../src/app/models/import-model.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { InferenceWorker, WorkerCrashedError, WorkerJobError } from '../../../src/app/worker/inference-worker.ts';
import type { ImageRequest } from '../../../src/app/generation/image-request.ts';
import type { RgbImage } from '../../../src/engine/index.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { tinyImageRequest } from '../../fixtures/generation-requests.ts';
import { writeTinyTagger } from '../../fixtures/wd14-taggers.ts';

/** A red image of the given size (the tiny tagger's tags for it are known). */
function redImage(width: number, height: number): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i += 3) rgb[i] = 255;
  return { width, height, rgb };
}

describe('inference in a separate, restricted process', () => {
  let dir: string;
  let worker: InferenceWorker;
  let model: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-worker-'));
    for (const d of ['models', 'outputs', 'cache']) mkdirSync(path.join(dir, d), { mode: 0o755 });
    const file = await writeTinyCheckpoint(dir, 'sd15');
    const store = await openModelStore(path.join(dir, 'models'));
    model = (await importModel(store, file, { kind: 'checkpoints' })).name;
    const tagger = writeTinyTagger(dir);
    await importModel(store, tagger.model, { kind: 'clip_vision' });
    await importModel(store, tagger.tags, { kind: 'clip_vision' });
    worker = new InferenceWorker({
      modelsDir: path.join(dir, 'models'),
      outputsDir: path.join(dir, 'outputs'),
      cacheDir: path.join(dir, 'cache'),
      threads: 1,
      executionProvider: 'cpu',
      software: 'Fooocus-TS test',
    });
  });
  after(async () => {
    await worker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const request = (overrides: Partial<ImageRequest> = {}): ImageRequest => ({
    ...tinyImageRequest(),
    model,
    ...overrides,
  });

  it('confines the child with the permission model (read app and models, write outputs and cache, no child processes)', () => {
    const flags = worker.permissionFlags();
    assert.ok(flags.includes('--permission'));
    assert.ok(flags.includes(`--allow-fs-write=${path.join(dir, 'outputs')}`));
    assert.ok(flags.includes(`--allow-fs-read=${path.join(dir, 'models')}`));
    assert.ok(!flags.some((f) => f.startsWith('--allow-child-process') || f.startsWith('--allow-worker')));
    assert.ok(!flags.some((f) => f.startsWith('--allow-fs-write') && f.includes('models')));
  });

  it('those flags really deny writing the models directory, reading elsewhere and spawning processes', () => {
    const probe = [
      "const fs = require('node:fs');",
      'const out = [];',
      `try { fs.writeFileSync(${JSON.stringify(path.join(dir, 'models', 'evil.txt'))}, 'x'); out.push('wrote-models'); } catch (e) { out.push(e.code); }`,
      "try { fs.readFileSync('/etc/hostname'); out.push('read-etc'); } catch (e) { out.push(e.code); }",
      "try { require('node:child_process').execFileSync('true'); out.push('spawned'); } catch (e) { out.push(e.code); }",
      `try { fs.writeFileSync(${JSON.stringify(path.join(dir, 'outputs', 'ok.txt'))}, 'x'); out.push('wrote-outputs'); } catch (e) { out.push(e.code); }`,
      'console.log(JSON.stringify(out));',
    ].join('\n');
    const r = spawnSync(process.execPath, [...worker.permissionFlags(), '-e', probe], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(r.stdout.trim()), ['ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED', 'ERR_ACCESS_DENIED', 'wrote-outputs'], r.stderr);
  });

  it('generates and saves an image from a verified model', async () => {
    const phases = new Set<string>();
    const [saved] = await worker.generate(request(), 0, { onProgress: (p) => phases.add(p.phase) });
    assert.ok(existsSync(saved!.path));
    assert.equal(saved!.seed, 5n);
    assert.ok(phases.has('sample'));
  });

  it('fails the job, not the caller, when the process is killed mid-job; the next job runs', async () => {
    let killed = false;
    await assert.rejects(
      worker.generate(request({ steps: 20 }), 0, {
        onProgress: (p) => {
          if (p.phase === 'sample' && !killed) {
            killed = true;
            process.kill(worker.pid!, 'SIGKILL');
          }
        },
      }),
      (e: unknown) => e instanceof WorkerCrashedError && e.message === 'the inference worker stopped unexpectedly (SIGKILL); retry',
    );
    const [saved] = await worker.generate(request({ seed: '6' }), 0);
    assert.ok(existsSync(saved!.path));
  });

  it('reports an untrusted model as a user error, re-created with its name, kind and a public message without the models folder', async () => {
    await assert.rejects(worker.generate(request({ model: 'nope.safetensors' }), 0), (e: unknown) => e instanceof WorkerJobError && e.userError && /nope/.test(e.message));
    await assert.rejects(worker.generate(request({ model: 'nope.safetensors' }), 0), (e: unknown) => {
      assert.ok(e instanceof WorkerJobError);
      assert.equal(e.name, 'ModelNotFoundError');
      assert.equal(e.kind, 'not-found');
      assert.equal(e.message, `checkpoints/nope.safetensors: no such file in ${path.join(dir, 'models', 'checkpoints')}`);
      assert.equal(e.publicMessage, 'checkpoints/nope.safetensors: no such file in checkpoints');
      return true;
    });
  });

  it("keeps a request the engine refuses a user error naming the field (the worker's check is the client's answer)", async () => {
    const input = { width: 64, height: 64, rgb: new Uint8Array(64 * 64 * 3) };
    await assert.rejects(worker.generate(request({ width: 128, height: 128, input: { file: 'uploads/x.png', denoise: 0.5 } }), 0, { input }), (e: unknown) => {
      assert.ok(e instanceof WorkerJobError);
      assert.equal(e.name, 'InvalidGenerationRequestError');
      assert.equal(e.kind, 'invalid');
      assert.equal(e.field, 'input');
      assert.equal(e.publicMessage, 'input: image is 64x64 but the request asks for 128x128');
      return true;
    });
  });

  it('cancels a running job through its signal', async () => {
    const controller = new AbortController();
    await assert.rejects(
      worker.generate(request({ steps: 30 }), 0, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'sample') controller.abort();
        },
      }),
      (e: unknown) => e instanceof WorkerJobError && e.cancelled,
    );
  });

  it('describes an image with the describers the process keeps, and fails a type that is not installed as the user error naming the field', async () => {
    const description = await worker.describe('anime', redImage(64, 64));
    assert.equal(description.text, 'hatsune miku \\(vocaloid\\), 1girl, red theme, simple background');
    await assert.rejects(worker.describe('photo', redImage(64, 64)), (e: unknown) => e instanceof WorkerJobError && e.userError && e.field === 'type' && /Photograph describer/.test(e.message));
  });

  it('stops a cancelled job whose model run does not return by ending its process: cancelled, not crashed; the next job runs in a fresh process', { timeout: 60_000 }, async () => {
    // SIGSTOP stands in for a native run that cannot be interrupted (one SDXL 1024 step on a CPU): the process
    // cannot answer the cancel, so only ending it stops the work.
    const controller = new AbortController();
    let stopped: number | null = null;
    let describing: Promise<unknown> | undefined;
    await assert.rejects(
      worker.generate(request({ steps: 40 }), 0, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'sample' && stopped === null) {
            stopped = worker.pid!;
            process.kill(stopped, 'SIGSTOP');
            // A description waiting in the same process was not cancelled: it fails as a crash, to be retried.
            describing = worker.describe('anime', redImage(64, 64));
            describing.catch(() => undefined);
            controller.abort();
          }
        },
      }),
      (e: unknown) => e instanceof WorkerJobError && e.cancelled && !e.userError,
    );
    assert.ok(stopped !== null);
    await assert.rejects(describing!, (e: unknown) => e instanceof WorkerCrashedError && /ended to stop a cancelled job/.test(e.message));
    const alive = (): boolean => {
      try {
        process.kill(stopped!, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 200 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(), false, 'the process that ran it is gone');
    const [saved] = await worker.generate(request({ seed: '8' }), 0);
    assert.ok(existsSync(saved!.path));
    assert.notEqual(worker.pid, stopped);
  });

  it('treats a signal aborted before the call (e.g. while the child was starting) as a cancel, without running', async () => {
    const before = readdirSync(path.join(dir, 'outputs'), { recursive: true }).length;
    await assert.rejects(worker.generate(request({ steps: 40 }), 0, { signal: AbortSignal.abort() }), (e: unknown) => e instanceof WorkerJobError && e.cancelled);
    assert.equal(readdirSync(path.join(dir, 'outputs'), { recursive: true }).length, before);
  });
});
