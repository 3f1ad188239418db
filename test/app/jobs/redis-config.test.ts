/**
 * The Redis queue's edges: its configuration (URL rules, password file, redaction), `fooocus doctor --redis`, the
 * message parsers that stand between Redis and the code, and how a worker's image is let into outputs.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../../src/app/config/config-errors.ts';
import { describeConfig, toRedactedJson } from '../../../src/app/config/describe-config.ts';
import { loadConfig } from '../../../src/app/config/load-config.ts';
import { parseRedisUrl, readRedisPasswordFile, RedisConfigError } from '../../../src/app/jobs/redis-connection.ts';
import { RedisJobWorker } from '../../../src/app/jobs/redis-job-worker.ts';
import { MalformedMessageError, parseAnnouncement, parseRemoteJob, parseWorkerReport } from '../../../src/app/jobs/remote-job-protocol.ts';
import { ReceivedImageError, writeReceivedImage } from '../../../src/app/outputs/received-image.ts';
import { runCli } from '../../cli/cli-run.ts';
import { createTempDir, writeConfig } from '../config/config-fixture.ts';
import { skipWithoutRedis, startTestRedis, type TestRedis } from './redis-server.ts';

describe('Redis configuration', () => {
  it('parses redis:// and rediss:// URLs with password and database, and refuses the rest naming queue.redisUrl', () => {
    assert.deepEqual(parseRedisUrl('rediss://user:p%40ss@cache.example.com:6380/2'), { host: 'cache.example.com', port: 6380, db: 2, tls: true, username: 'user', password: 'p@ss' });
    assert.deepEqual(parseRedisUrl('redis://127.0.0.1'), { host: '127.0.0.1', port: 6379, db: 0, tls: false });
    for (const [url, rule] of [
      ['http://127.0.0.1:6379', /must start with redis:\/\/ or rediss:\/\//],
      ['redis://127.0.0.1/16', /database number must be 0\.\.15/],
      ['redis://127.0.0.1/x', /database number/],
      ['redis://127.0.0.1?tls=1', /query or fragment/],
    ] as const) {
      assert.throws(() => parseRedisUrl(url), (error: unknown) => error instanceof RedisConfigError && error.field === 'queue.redisUrl' && rule.test(error.message), url);
    }
  });

  it('load-config: the redis backend needs a URL, a bad URL names its source, and config show hides the password', async () => {
    const cwd = createTempDir();
    writeConfig(cwd, { queue: { backend: 'redis' } });
    await assert.rejects(loadConfig({ cwd, env: {} }), (error: unknown) => error instanceof ConfigError && error.key === 'queue.redisUrl' && /queue\.backend is "redis"/.test(error.message));
    await assert.rejects(
      loadConfig({ cwd, env: { FOOOCUS_QUEUE_REDIS_URL: 'redis://host/99' } }),
      (error: unknown) => error instanceof ConfigError && error.key === 'queue.redisUrl' && /env:FOOOCUS_QUEUE_REDIS_URL/.test(error.message),
    );
    const loaded = await loadConfig({ cwd, env: {}, flags: { redis: 'redis://:hunter2@10.0.0.5:6379' } });
    assert.equal(loaded.config.queue.redisUrl, 'redis://:hunter2@10.0.0.5:6379');
    assert.equal(loaded.sources['queue.redisUrl'], 'flag:--redis');
    const shown = [describeConfig(loaded).join('\n'), JSON.stringify(toRedactedJson(loaded))].join('\n');
    assert.doesNotMatch(shown, /hunter2/);
    assert.match(shown, /redis:\/\/:\*\*\*@10\.0\.0\.5:6379/);
  });

  it('reads the password file only when group and others cannot read it', async () => {
    const dir = createTempDir();
    const file = path.join(dir, 'redis-password');
    writeFileSync(file, 's3cret\nsecond line ignored\n');
    chmodSync(file, 0o644);
    await assert.rejects(readRedisPasswordFile(file, 'linux'), (error: unknown) => error instanceof RedisConfigError && error.field === 'queue.redisPasswordFile' && /chmod 600/.test(error.message));
    chmodSync(file, 0o600);
    assert.equal(await readRedisPasswordFile(file, 'linux'), 's3cret');
  });
});

describe('fooocus doctor --redis', { skip: skipWithoutRedis }, () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    await redis.dispose();
  });

  it('reports the Redis version, AOF policy and live workers, and fails (exit 1) when Redis does not answer', async () => {
    const ok = await runCli(['doctor', '--redis', redis.url]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /Redis {10}redis:\/\/127\.0\.0\.1:\d+: ok, version \d+\.\d+\.\d+, AOF on \(appendfsync everysec\), 0 live workers/);
    const worker = new RedisJobWorker({
      redis: { url: redis.url, prefix: 'fooocus' },
      id: 'gpu-7',
      concurrency: 2,
      provider: 'cuda',
      executor: async () => [],
      listModels: async () => ['a'.repeat(64)],
      maxResultBytes: 1024 * 1024,
      maxAttachmentPixels: 1024,
    });
    await worker.start();
    try {
      const listed = await runCli(['doctor', '--redis', redis.url]);
      assert.match(listed.out, /1 live worker\n {2}worker {7}gpu-7: cuda, 2 slots, 1 model$/m);
    } finally {
      await worker.close();
    }
    const closedPort = `redis://127.0.0.1:${redis.port === 1 ? 2 : 1}`;
    const down = await runCli(['doctor', '--redis', closedPort]);
    assert.equal(down.code, 1);
    assert.match(down.out, /CANNOT CONNECT/);
    assert.match(down.err, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});

describe('messages read from Redis', () => {
  const job = { jobId: 'job-1', dispatch: 'd-1', owner: 'alice', createdAt: 1, retryOf: null, request: { prompt: 'x' }, models: [], providers: ['cuda'], attachments: [] };

  it('accepts what this version writes', () => {
    assert.deepEqual(parseRemoteJob(job, 100), job);
    // A studio that predates queue.providers sends none: any provider.
    const { providers: _none, ...older } = job;
    assert.deepEqual(parseRemoteJob(older, 100).providers, []);
    const attachment = { file: 'uploads/a.png', width: 2, height: 1, rgb: Buffer.alloc(6, 7).toString('base64') };
    assert.deepEqual(parseRemoteJob({ ...job, attachments: [attachment] }, 100).attachments, [attachment]);
    // An image prompt's image comes with the SHA-256 of its file.
    const hashed = { ...attachment, sha256: 'e'.repeat(64) };
    assert.deepEqual(parseRemoteJob({ ...job, attachments: [hashed] }, 100).attachments, [hashed]);
  });

  it('refuses each malformed part by name', () => {
    const refusals: [unknown, string][] = [
      [{ ...job, jobId: '../x' }, 'jobId'],
      [{ ...job, request: 'rm -rf' }, 'request'],
      [{ ...job, models: [{ kind: 'checkpoints', name: 'x', sha256: 'nope' }] }, 'sha256'],
      [{ ...job, providers: ['CUDA; drop'] }, 'providers'],
      [{ ...job, providers: 'cuda' }, 'providers'],
      [{ ...job, attachments: [{ file: 'a', width: 4000, height: 4000, rgb: '' }] }, 'width'],
      [{ ...job, attachments: [{ file: 'a', width: 2, height: 1, rgb: 'AAAA' }] }, 'rgb'],
      [{ ...job, attachments: [{ file: 'a', width: 2, height: 1, rgb: Buffer.alloc(6).toString('base64'), sha256: 'E'.repeat(64) }] }, 'sha256'],
    ];
    for (const [data, field] of refusals) {
      assert.throws(() => parseRemoteJob(data, 100), (error: unknown) => error instanceof MalformedMessageError && error.field === field, field);
    }
    const report = { type: 'image', jobId: 'job-1', dispatch: 'd-1', worker: 'w1', result: { imageId: 'i', file: 'a.png', seed: '1' } };
    assert.throws(() => parseWorkerReport({ ...report, bytes: Buffer.alloc(2000).toString('base64') }, 1000), (error: unknown) => error instanceof MalformedMessageError && error.field === 'bytes');
    assert.throws(() => parseWorkerReport({ ...report, type: 'failed', error: { kind: 'evil' } }, 1000), (error: unknown) => error instanceof MalformedMessageError && error.field === 'error.kind');
    assert.throws(() => parseAnnouncement('{"id":"w1","concurrency":1000,"provider":"cpu","models":[],"startedAt":0}'), (error: unknown) => error instanceof MalformedMessageError && error.field === 'concurrency');
  });
});

describe('images from a worker', () => {
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('rest of the image')]);
  const sha256 = createHash('sha256').update(png).digest('hex');

  it('writes a checked image into outputs, and refuses (writing nothing) a bad path, type, digest or an existing name', async () => {
    const outputs = createTempDir('outputs');
    await writeReceivedImage(outputs, { imageId: 'i1', file: '2026-12-06/a.png', seed: '1', sha256 }, png);
    assert.deepEqual(readFileSync(path.join(outputs, '2026-12-06', 'a.png')), png);
    const refusals: [string, string | undefined, Buffer, RegExp][] = [
      ['../escape.png', sha256, png, /plain relative path/],
      ['2026-12-06/b.html', sha256, png, /must end in \.png/],
      ['2026-12-06/c.png', sha256, Buffer.from('<html>'), /not a PNG image/],
      ['2026-12-06/d.png', 'f'.repeat(64), png, /do not match its SHA-256/],
      ['2026-12-06/e.png', undefined, png, /must come with its SHA-256/],
      ['2026-12-06/a.png', sha256, png, /already exists/],
    ];
    for (const [file, digest, bytes, rule] of refusals) {
      await assert.rejects(writeReceivedImage(outputs, { imageId: 'i', file, seed: '1', ...(digest === undefined ? {} : { sha256: digest }) }, bytes), (error: unknown) => error instanceof ReceivedImageError && rule.test(error.message), file);
    }
    assert.deepEqual(readdirSync(path.join(outputs, '2026-12-06')), ['a.png']);
    assert.equal(existsSync(path.join(outputs, '..', 'escape.png')), false);
  });
});
