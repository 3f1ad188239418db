/**
 * /readyz with the real studio: ready while the default model verifies, 503 naming the model (never a path) once
 * its bytes change, ready again when they are restored.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, openSync, readSync, rmSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createDefaultConfig } from '../../src/app/config/config-schema.ts';
import { DEMO_MODEL_NAME } from '../../src/app/demo/demo-model.ts';
import { createStudio } from '../../src/app/studio/create-studio.ts';
import { createAppStudioPort } from '../../src/server/app-studio-port.ts';
import { buildServer } from '../../src/server/build-server.ts';
import { guardAgainstPathLeaks } from './path-leak-guard.ts';

const HOST = '127.0.0.1:7865';

describe('readiness follows the default model', () => {
  let dir: string;
  let app: FastifyInstance;
  let studio: Awaited<ReturnType<typeof createStudio>>;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-ready-'));
    const config = createDefaultConfig();
    config.paths = { models: path.join(dir, 'models'), outputs: path.join(dir, 'outputs'), cache: path.join(dir, 'cache') };
    studio = await createStudio(config, { software: 'test' });
    app = await buildServer(createAppStudioPort(studio), { host: '127.0.0.1', allowedHosts: [HOST], auth: null, outputsDir: studio.outputsDir, logger: false });
    guardAgainstPathLeaks(app, [dir]);
  });
  after(async () => {
    await app.close();
    await studio.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Flips one byte near the end of the model (the size stays the same); returns a function that flips it back. */
  function tamper(file: string): () => void {
    const fd = openSync(file, 'r+');
    const byte = Buffer.alloc(1);
    const at = 4096;
    readSync(fd, byte, 0, 1, at);
    writeSync(fd, Buffer.from([byte[0]! ^ 0xff]), 0, 1, at);
    closeSync(fd);
    return () => {
      const again = openSync(file, 'r+');
      writeSync(again, byte, 0, 1, at);
      closeSync(again);
    };
  }

  it('is ready with a verified default model, 503 with a reason when it no longer matches its SHA-256', async () => {
    const ready = await app.inject({ url: '/readyz', headers: { host: HOST } });
    assert.deepEqual([ready.statusCode, ready.json()], [200, { status: 'ok' }]);

    const restore = tamper(path.join(dir, 'models', 'checkpoints', DEMO_MODEL_NAME));
    const unready = await app.inject({ url: '/readyz', headers: { host: HOST } });
    assert.equal(unready.statusCode, 503);
    assert.deepEqual(unready.json(), { status: 'unavailable', reason: `the default model ${DEMO_MODEL_NAME} does not match its recorded SHA-256 or size` });
    assert.doesNotMatch(unready.body, new RegExp(dir.replaceAll('/', '\\/')));
    assert.equal((await app.inject({ url: '/healthz', headers: { host: HOST } })).statusCode, 200, 'still alive');

    restore();
    assert.equal((await app.inject({ url: '/readyz', headers: { host: HOST } })).statusCode, 200);
  });
});
