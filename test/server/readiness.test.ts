/**
 * /readyz with the real studio: ready while the default model verifies, 503 naming the model (never a path) once
 * its bytes change, ready again when they are restored.
 */
import { strict as assert } from 'node:assert';
import { openSync, readSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { DEMO_MODEL_NAME } from '../../src/app/demo/demo-model.ts';
import { useStudioServer, STUDIO_HOST as HOST } from './studio-server.ts';

describe('readiness follows the default model', () => {
  let dir: string;
  let app: FastifyInstance;
  useStudioServer((server) => ({ dir, app } = server), 'fooocus-ready-');

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
