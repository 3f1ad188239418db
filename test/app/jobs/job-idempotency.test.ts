/**
 * Repeating a retry or a submit must not queue twice: a retry returns the job it created, a submit with the same
 * key returns the job the first one created (for 24 h, across restarts), and a database written before retries
 * were linked is migrated with the earliest retry of each job as its link.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { IdempotencyKeyReusedError, QueueQuotaError } from '../../../src/app/jobs/job-errors.ts';
import type { JobQueue } from '../../../src/app/jobs/job-queue.ts';
import { openJobStore, SUBMIT_KEY_TTL_MS } from '../../../src/app/jobs/job-store.ts';
import { JOB_SCHEMA_VERSION } from '../../../src/app/jobs/job-store-schema.ts';
import { ANY_OWNER } from '../../../src/app/jobs/job-types.ts';
import { createFakeExecutor } from './fake-executor.ts';
import { createRedisBackend, localBackend, type QueueBackend } from './queue-backends.ts';
import { skipWithoutRedis, startTestRedis, type TestRedis } from './redis-server.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-jobs-idem-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDb = () => path.join(mkdtempSync(path.join(root, `db-${counter++}-`)), 'jobs.sqlite');
const T = { timeout: 10_000 };

let redis: TestRedis | undefined;
const redisBackend = createRedisBackend(() => redis as TestRedis);

describe('the redis backend', { skip: skipWithoutRedis }, () => {
  before(async () => {
    redis = await startTestRedis();
  });
  after(async () => {
    await redisBackend.closeAll();
    await redis?.dispose();
  });
  describeQueueIdempotency(redisBackend);
});
describeQueueIdempotency(localBackend);

/** What the queue promises about repeats, on each backend. */
function describeQueueIdempotency(backend: QueueBackend): void {
  describe(`retry and submit idempotency (${backend.name} queue)`, () => {
    it('a retry returns the job it created; repeating it, sequentially or concurrently, returns the same job', T, async () => {
      const fake = createFakeExecutor();
      const queue = await backend.openQueue(fake.executor, freshDb());
      const { id } = await queue.submit('alice', { prompt: 'x' });
      (await fake.nextCall()).fail(new Error('boom'));
      await waitForStatus(queue, id, 'failed');

      const first = await queue.retry(id, 'alice');
      const again = await queue.retry(id, 'alice');
      const concurrent = await Promise.all([queue.retry(id, 'alice'), queue.retry(id, 'alice'), queue.retry(id, ANY_OWNER)]);
      for (const s of [again, ...concurrent]) assert.equal(s.id, first.id);
      const jobs = (await queue.list('alice')).jobs;
      assert.equal(jobs.length, 2, 'the failed job and one retry');
      assert.equal(jobs.filter((j) => j.retryOf === id).length, 1);

      // The retry runs once, and once it is running or done a repeat still names it (position 0: not in line).
      const call = await fake.nextCall();
      assert.equal(call.job.id, first.id);
      call.finish();
      await waitForStatus(queue, first.id, 'done');
      assert.deepEqual(await queue.retry(id, 'alice'), { id: first.id, position: 0 });
      assert.equal(fake.calls.length, 2);
      await queue.close();
    });

    it('a repeated retry is not refused by the queued-jobs quota (it queues nothing)', T, async () => {
      const fake = createFakeExecutor();
      const queue = await backend.openQueue(fake.executor, freshDb(), { maxQueuedPerOwner: 1 });
      await queue.submit('zed', {});
      await fake.nextCall(); // keeps the worker busy, so alice's jobs stay queued
      const { id } = await queue.submit('alice', {});
      await queue.cancel(id, 'alice');
      const retried = await queue.retry(id, 'alice');
      assert.equal((await queue.retry(id, 'alice')).id, retried.id);
      await assert.rejects(queue.submit('alice', {}), QueueQuotaError);
      await queue.close();
    });

    it('same owner and key: the same job, also after a restart; another owner or key: a new job', T, async () => {
      const file = freshDb();
      const fake = createFakeExecutor();
      const key = { key: 'client-42', fingerprint: 'f1' };
      let queue = await backend.openQueue(fake.executor, file);
      const first = await queue.submit('alice', { prompt: 'a' }, { submitKey: key });
      const repeats = await Promise.all([queue.submit('alice', { prompt: 'a' }, { submitKey: key }), queue.submit('alice', { prompt: 'a' }, { submitKey: key })]);
      for (const r of repeats) assert.equal(r.id, first.id);
      const bob = await queue.submit('bob', { prompt: 'a' }, { submitKey: key });
      assert.notEqual(bob.id, first.id, 'keys are per owner');
      const other = await queue.submit('alice', { prompt: 'a' }, { submitKey: { key: 'client-43', fingerprint: 'f1' } });
      assert.notEqual(other.id, first.id);
      await queue.close();

      queue = await backend.openQueue(fake.executor, file);
      assert.equal((await queue.submit('alice', { prompt: 'a' }, { submitKey: key })).id, first.id, 'remembered across a restart');
      await assert.rejects(
        queue.submit('alice', { prompt: 'b' }, { submitKey: { key: 'client-42', fingerprint: 'f2' } }),
        (e: unknown) => e instanceof IdempotencyKeyReusedError && e.jobId === first.id && /Idempotency-Key/.test(e.message),
      );
      assert.equal((await queue.list('alice')).jobs.length, 2, 'the refused submit queued nothing');
      await queue.close();
    });
  });
}

describe('retry and submit idempotency in the store', () => {
  it('deleting the retry lets the original be retried again', T, async () => {
    const store = openJobStore(freshDb());
    const job = store.create('alice', {});
    store.markCancelled(job.id);
    const retry = store.retry(job.id, 'alice');
    store.markCancelled(retry.id);
    store.delete(retry.id, 'alice');
    const second = store.retry(job.id, 'alice');
    assert.notEqual(second.id, retry.id);
    assert.equal(store.retry(job.id, 'alice').id, second.id);
    store.close();
  });

  it('forgets a key after 24 hours', () => {
    let now = 1_000_000;
    const store = openJobStore(freshDb(), { now: () => now });
    const key = { key: 'k', fingerprint: 'f' };
    const first = store.createWithSubmitKey('alice', {}, key);
    now += SUBMIT_KEY_TTL_MS - 1;
    assert.equal(store.findBySubmitKey('alice', key)?.id, first.id);
    now += 2;
    assert.equal(store.findBySubmitKey('alice', key), undefined);
    const second = store.createWithSubmitKey('alice', {}, { key: 'k', fingerprint: 'other body' });
    assert.notEqual(second.id, first.id);
    store.close();
  });

  it('migrates a database written before retries were linked: the earliest retry of each job becomes its link', () => {
    const file = freshDb();
    const raw = new DatabaseSync(file);
    raw.exec(`
      CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT;
      INSERT INTO schema_version VALUES (1);
      CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
        request TEXT NOT NULL, created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER,
        start_order INTEGER, progress TEXT, error TEXT, retry_of TEXT
      ) STRICT;
      CREATE INDEX jobs_by_owner ON jobs (owner, seq);
      CREATE INDEX jobs_by_status ON jobs (status, seq);
      CREATE TABLE job_results (
        job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE, ord INTEGER NOT NULL, image_id TEXT NOT NULL,
        file TEXT NOT NULL, seed TEXT NOT NULL, PRIMARY KEY (job_id, ord)
      ) STRICT;
      INSERT INTO jobs (id, owner, status, request, created_at, retry_of) VALUES
        ('original', 'alice', 'failed', '{}', 1, NULL),
        ('retry-a', 'alice', 'cancelled', '{}', 2, NULL),
        ('retry-b', 'alice', 'queued', '{}', 3, NULL),
        ('orphan-retry', 'alice', 'done', '{}', 4, 'deleted-job');
      UPDATE jobs SET retry_of = 'original' WHERE id IN ('retry-a', 'retry-b');
    `);
    raw.close();

    const store = openJobStore(file);
    assert.equal(store.retry('original', 'alice').id, 'retry-a', 'the earliest of the two retries');
    assert.equal(store.get('retry-b', 'alice').retryOf, 'original', 'the later one keeps its history');
    assert.equal(store.list(ANY_OWNER).jobs.length, 4, 'nothing queued, nothing lost');
    store.close();
    const check = new DatabaseSync(file);
    assert.equal(check.prepare('SELECT version FROM schema_version').get()?.version, JOB_SCHEMA_VERSION);
    check.close();
  });
});

async function waitForStatus(queue: JobQueue, id: string, status: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if ((await queue.get(id, ANY_OWNER)).status === status) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`job ${id} never became ${status}`);
}
