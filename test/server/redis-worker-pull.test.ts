/**
 * `"workerModels": "pull"` end to end: the studio's job names the demo checkpoint, the worker has another
 * checkpoint only, and its signed catalog (a test key) lists the demo checkpoint at an HTTPS server on 127.0.0.1.
 * The worker downloads it, checks its SHA-256, and runs the job. A catalog entry whose SHA-256 differs from the
 * job's pin is refused naming the model, with nothing fetched; bytes that do not match their entry leave nothing
 * under the final name.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDefaultConfig } from '../../src/app/config/config-schema.ts';
import { DEMO_MODEL_NAME } from '../../src/app/demo/demo-model.ts';
import { downloadFile } from '../../src/app/downloads/downloader.ts';
import type { CatalogEntry } from '../../src/app/models/catalog.ts';
import { generateCatalogKeyPair, importCatalogPrivateKey, signCatalogBytes, type CatalogKey } from '../../src/app/models/catalog-signature.ts';
import { importModel } from '../../src/app/models/import-model.ts';
import { openModelStore } from '../../src/app/models/model-store.ts';
import { pullModel } from '../../src/app/models/pull-model.ts';
import { MissingPinnedModelError, verifyModelPins } from '../../src/app/studio/model-pins.ts';
import { startWorkerNode, type WorkerNode } from '../../src/app/studio/worker-node.ts';
import { serveWithRanges, startHttpsTestServer, type HttpsTestServer } from '../app/downloads/https-test-server.ts';
import { skipWithoutRedis, startTestRedis, type TestRedis } from '../app/jobs/redis-server.ts';
import { startStudioServer, STUDIO_HOST, stopStudioServer, type StudioServer } from './studio-server.ts';

const json = { host: STUDIO_HOST, origin: `http://${STUDIO_HOST}`, 'content-type': 'application/json' };

/** A catalog listing `entries`, signed with a fresh test key, in `dir`. */
function publishCatalog(dir: string, entries: CatalogEntry[]): { file: string; key: CatalogKey } {
  const pair = generateCatalogKeyPair();
  const file = path.join(dir, 'catalog.json');
  const bytes = Buffer.from(JSON.stringify({ version: 1, keyId: pair.keyId, entries }, null, 2));
  writeFileSync(file, bytes);
  writeFileSync(`${file}.sig`, signCatalogBytes(bytes, importCatalogPrivateKey(pair.privateKeyPem, 'test key')));
  return { file, key: { keyId: pair.keyId, publicKey: pair.publicKeyRaw } };
}

describe('a worker that pulls a missing model from the signed catalog', { skip: skipWithoutRedis, timeout: 180_000 }, () => {
  let redis: TestRedis;
  let server: StudioServer;
  let https: HttpsTestServer;
  let node: WorkerNode | undefined;
  let workerDir: string;
  let demo: { bytes: Buffer; sha256: string };
  const lines: string[] = [];

  before(async () => {
    redis = await startTestRedis();
    https = await startHttpsTestServer();
    server = await startStudioServer('fooocus-pull-studio-', (_dir, config) => {
      config.queue = { ...config.queue, backend: 'redis', redisUrl: redis.url, redisPrefix: 'pull', localWorker: false };
    });
    const bytes = readFileSync(path.join(server.dir, 'models', 'checkpoints', DEMO_MODEL_NAME));
    demo = { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
    https.route('/demo.safetensors', serveWithRanges(bytes));
    workerDir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-pull-worker-'));
  });
  after(async () => {
    await node?.close();
    if (server !== undefined) await stopStudioServer(server);
    await https?.close();
    await redis?.dispose();
    rmSync(workerDir, { recursive: true, force: true });
  });

  const entry = (over: Partial<CatalogEntry> = {}): CatalogEntry => ({
    id: 'demo',
    kind: 'checkpoints',
    family: 'sd15',
    fileName: DEMO_MODEL_NAME,
    size: demo.bytes.length,
    sha256: demo.sha256,
    urls: [`${https.origin}/demo.safetensors`],
    licence: 'MIT',
    hashSource: 'test fixture',
    ...over,
  });

  it('fetches the demo checkpoint over HTTPS, verifies it and runs the job', async () => {
    const models = path.join(workerDir, 'models');
    // Another checkpoint, so the worker does not make the demo model itself.
    mkdirSync(models, { recursive: true, mode: 0o755 });
    const store = await openModelStore(models);
    const other = path.join(workerDir, 'other.safetensors');
    writeFileSync(other, demo.bytes);
    await importModel(store, other, { kind: 'checkpoints', name: 'other.safetensors' });
    const catalog = publishCatalog(workerDir, [entry()]);
    const config = createDefaultConfig();
    config.paths = { models, outputs: path.join(workerDir, 'outputs'), cache: path.join(workerDir, 'cache') };
    config.runtime.threads = 1;
    config.queue = { ...config.queue, redisUrl: redis.url, redisPrefix: 'pull', workerModels: 'pull' };
    config.downloads.allowedHosts = ['127.0.0.1'];
    node = await startWorkerNode(config, {
      software: 'test',
      log: (line) => lines.push(line),
      id: 'puller',
      catalog: { file: catalog.file, keys: [catalog.key] },
      downloadTrust: { ca: https.caCert, allowPrivateAddresses: true },
    });

    const reply = await server.app.inject({ method: 'POST', url: '/api/v1/generate', headers: json, payload: { prompt: 'a kite', width: 64, height: 64, steps: 2 } });
    assert.equal(reply.statusCode, 202, reply.body);
    let job = { status: 'queued', error: null as string | null };
    for (let i = 0; i < 1200 && ['queued', 'running'].includes(job.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await server.app.inject({ method: 'GET', url: `/api/v1/jobs/${reply.json().id}`, headers: { host: STUDIO_HOST } })).json();
    }
    assert.equal(job.status, 'done', `${job.error ?? ''}\n${lines.join('\n')}`);
    assert.ok(lines.some((l) => l.includes(`pulling checkpoints/${DEMO_MODEL_NAME} (${demo.sha256})`)), lines.join('\n'));
    assert.ok(https.requests.some((r) => r.path === '/demo.safetensors'));
    const pulled = (await store.list()).find((m) => m.name === DEMO_MODEL_NAME);
    assert.equal(pulled?.sha256, demo.sha256);
  });

  it('refuses a catalog entry whose SHA-256 is not the pinned one, naming the model, and fetches nothing', async () => {
    const store = await openModelStore(mkdtempSync(path.join(workerDir, 'refuse-')));
    const asked = https.requests.length;
    const pin = { kind: 'checkpoints', name: DEMO_MODEL_NAME, sha256: demo.sha256 };
    const fetched: string[] = [];
    const pull = { entries: [entry({ sha256: 'ab'.repeat(32) })], fetch: async (e: CatalogEntry) => void fetched.push(e.id) };
    await assert.rejects(verifyModelPins(store, [pin], pull), (error: unknown) => {
      assert.ok(error instanceof MissingPinnedModelError);
      assert.match(error.message, new RegExp(`checkpoints/${DEMO_MODEL_NAME.replace('.', '\\.')}: this worker does not have the model \\(SHA-256 ${demo.sha256}\\); the catalog has no model of that name and SHA-256`));
      return true;
    });
    assert.deepEqual(fetched, []);
    assert.equal(https.requests.length, asked);
    assert.deepEqual(await store.list(), []);
  });

  it('leaves nothing under the final name when the served bytes do not match the entry', async () => {
    const dir = mkdtempSync(path.join(workerDir, 'partial-'));
    const store = await openModelStore(dir);
    const corrupt = Buffer.from(demo.bytes);
    corrupt.writeUInt8((corrupt.at(-1) ?? 0) ^ 0xff, corrupt.length - 1);
    https.route('/corrupt.safetensors', serveWithRanges(corrupt));
    const policy = { allowedHosts: ['127.0.0.1'], ca: https.caCert, allowPrivateAddresses: true };
    await assert.rejects(pullModel(store, entry({ urls: [`${https.origin}/corrupt.safetensors`] }), { download: (request) => downloadFile({ ...request, policy }) }), /SHA-256|checksum/i);
    const names = readdirSync(path.join(dir, 'checkpoints'));
    assert.ok(!names.includes(DEMO_MODEL_NAME), names.join(', '));
    assert.deepEqual(await store.list(), []);
    assert.ok(names.every((n) => statSync(path.join(dir, 'checkpoints', n)).isFile()));
  });
});
