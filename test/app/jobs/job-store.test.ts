import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import {
  InvalidJobInputError,
  JobNotFoundError,
  JobStateError,
  JobStoreVersionError,
} from '../../../src/app/jobs/job-errors.ts';
import { INTERRUPTED_MESSAGE, openJobStore } from '../../../src/app/jobs/job-store.ts';
import { JOB_SCHEMA_VERSION } from '../../../src/app/jobs/job-store-schema.ts';
import { ANY_OWNER } from '../../../src/app/jobs/job-types.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-jobs-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDb = () => path.join(mkdtempSync(path.join(root, `db-${counter++}-`)), 'jobs.sqlite');

describe('job store', () => {
  it('creates jobs with random url-safe 128-bit ids and reads them back', () => {
    const store = openJobStore(freshDb(), { now: () => 1000 });
    const job = store.create('alice', { prompt: 'a cat', n: [1, 2] });
    assert.match(job.id, /^[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(store.get(job.id, 'alice'), {
      id: job.id,
      owner: 'alice',
      status: 'queued',
      request: { prompt: 'a cat', n: [1, 2] },
      createdAt: 1000,
      startedAt: null,
      finishedAt: null,
      progress: null,
      error: null,
      results: [],
      retryOf: null,
    });
    assert.notEqual(store.create('alice', {}).id, job.id);
    store.close();
  });

  it('keeps queued jobs, in order, across a restart', () => {
    const file = freshDb();
    const store = openJobStore(file);
    const ids = ['a', 'b', 'a', 'c', 'b'].map((owner, i) => store.create(owner, { i }).id);
    store.close();

    const reopened = openJobStore(file);
    const queued = reopened.listQueued();
    assert.deepEqual(queued.map((j) => j.id), ids);
    assert.deepEqual(queued.map((j) => j.request), [0, 1, 2, 3, 4].map((i) => ({ i })));
    assert.ok(queued.every((j) => j.status === 'queued'));
    reopened.close();
  });

  it('marks a job left running by a dead process interrupted on reopen, and retry queues it again', () => {
    const file = freshDb();
    const store = openJobStore(file, { now: () => 5 });
    const job = store.create('alice', { prompt: 'x' });
    store.markRunning(job.id);
    store.addResult(job.id, { imageId: 'img-1', file: '2025-01-01/one.png', seed: '42' });
    store.close(); // the "crash": never finished

    const reopened = openJobStore(file, { now: () => 9 });
    const interrupted = reopened.get(job.id, 'alice');
    assert.equal(interrupted.status, 'interrupted');
    assert.equal(interrupted.error, INTERRUPTED_MESSAGE);
    assert.equal(interrupted.finishedAt, 9);
    assert.deepEqual(interrupted.results, [{ imageId: 'img-1', file: '2025-01-01/one.png', seed: '42' }]);
    assert.deepEqual(reopened.listQueued(), []);

    const retried = reopened.retry(job.id, 'alice');
    assert.notEqual(retried.id, job.id);
    assert.equal(retried.status, 'queued');
    assert.equal(retried.retryOf, job.id);
    assert.deepEqual(retried.request, { prompt: 'x' });
    assert.deepEqual(reopened.listQueued().map((j) => j.id), [retried.id]);
    reopened.close();
  });

  it('keepRunning (the Redis backend) leaves running jobs running on reopen; requeue puts one back in line, same id, its images kept', () => {
    const file = freshDb();
    const store = openJobStore(file, { keepRunning: true });
    const job = store.create('alice', { prompt: 'x' });
    store.markRunning(job.id);
    store.updateProgress(job.id, { step: 1, steps: 2, image: 1, images: 2 });
    store.addResult(job.id, { imageId: 'img-1', file: '2025-01-01/one.png', seed: '42' });
    store.close();

    const reopened = openJobStore(file, { keepRunning: true });
    assert.deepEqual(reopened.listRunning().map((j) => [j.id, j.status]), [[job.id, 'running']]);
    const requeued = reopened.requeue(job.id);
    assert.equal(requeued.status, 'queued');
    assert.equal(requeued.startedAt, null);
    assert.equal(requeued.progress, null);
    assert.deepEqual(requeued.results, [{ imageId: 'img-1', file: '2025-01-01/one.png', seed: '42' }]);
    assert.deepEqual(reopened.listQueued().map((j) => j.id), [job.id]);
    assert.deepEqual(reopened.listRunning(), []);
    assert.throws(() => reopened.requeue(job.id), JobStateError, 'only a running job goes back in line');
    assert.equal(reopened.list('alice').jobs.length, 1);
    reopened.close();
  });

  it('refuses to retry a job that is not interrupted, failed or cancelled, and writes nothing', () => {
    const store = openJobStore(freshDb());
    const job = store.create('alice', {});
    assert.throws(() => store.retry(job.id, 'alice'), JobStateError);
    store.markRunning(job.id);
    store.markDone(job.id);
    assert.throws(() => store.retry(job.id, 'alice'), JobStateError);
    assert.equal(store.list(ANY_OWNER).jobs.length, 1);
    store.close();
  });

  it('moves through running, progress and done, and refuses out-of-order transitions', () => {
    let now = 10;
    const store = openJobStore(freshDb(), { now: () => now });
    const job = store.create('alice', {});
    now = 20;
    assert.equal(store.markRunning(job.id).startedAt, 20);
    store.updateProgress(job.id, { step: 3, steps: 30, image: 1, images: 2 });
    assert.deepEqual(store.get(job.id, 'alice').progress, { step: 3, steps: 30, image: 1, images: 2 });
    assert.throws(() => store.markRunning(job.id), JobStateError);
    now = 30;
    const done = store.markDone(job.id);
    assert.equal(done.status, 'done');
    assert.equal(done.finishedAt, 30);
    assert.throws(() => store.markFailed(job.id, 'x'), JobStateError);
    assert.throws(() => store.markCancelled(job.id), JobStateError);
    assert.throws(() => store.addResult(job.id, { imageId: 'i', file: 'a.png', seed: '1' }), JobStateError);
    assert.throws(() => store.markDone('no-such-job'), JobNotFoundError);
    store.close();
  });

  it('refuses result paths that could point outside the outputs directory', () => {
    const store = openJobStore(freshDb());
    const job = store.create('alice', {});
    store.markRunning(job.id);
    for (const file of ['../etc/passwd', '/etc/passwd', 'a/../../b.png', 'C:/x.png', 'a\\b.png', '', 'a//b.png']) {
      assert.throws(() => store.addResult(job.id, { imageId: 'i', file, seed: '1' }), InvalidJobInputError, file);
    }
    assert.throws(() => store.addResult(job.id, { imageId: 'i', file: 'a.png', seed: '-1' }), InvalidJobInputError);
    assert.deepEqual(store.get(job.id, 'alice').results, []);
    store.close();
  });

  it('keeps history across a restart, newest first, in pages', () => {
    const file = freshDb();
    const store = openJobStore(file);
    const ids = Array.from({ length: 5 }, (_, i) => store.create('alice', { i }).id);
    store.create('bob', {});
    for (const id of ids.slice(0, 3)) {
      store.markRunning(id);
      store.addResult(id, { imageId: `img-${id}`, file: `out/${id}.png`, seed: '7' });
      store.markDone(id);
    }
    store.close();

    const reopened = openJobStore(file);
    const first = reopened.list('alice', { limit: 2 });
    assert.deepEqual(first.jobs.map((j) => j.id), [ids[4], ids[3]]);
    assert.ok(first.nextCursor !== null);
    const second = reopened.list('alice', { limit: 2, cursor: first.nextCursor });
    assert.deepEqual(second.jobs.map((j) => j.id), [ids[2], ids[1]]);
    assert.deepEqual(second.jobs[0]?.results, [{ imageId: `img-${ids[2]}`, file: `out/${ids[2]}.png`, seed: '7' }]);
    const third = reopened.list('alice', { limit: 2, cursor: second.nextCursor ?? '' });
    assert.deepEqual(third.jobs.map((j) => j.id), [ids[0]]);
    assert.equal(third.nextCursor, null);
    assert.equal(reopened.list(ANY_OWNER).jobs.length, 6);
    assert.throws(() => reopened.list('alice', { cursor: 'nope' }), InvalidJobInputError);
    assert.throws(() => reopened.list('alice', { limit: 0 }), InvalidJobInputError);
    reopened.close();
  });

  it('hides one owner\'s jobs from another: get, list, retry and delete say not found', () => {
    const store = openJobStore(freshDb());
    const job = store.create('alice', {});
    store.markRunning(job.id);
    store.markFailed(job.id, 'boom');
    assert.throws(() => store.get(job.id, 'bob'), JobNotFoundError);
    assert.deepEqual(store.list('bob').jobs, []);
    assert.throws(() => store.retry(job.id, 'bob'), JobNotFoundError);
    assert.throws(() => store.delete(job.id, 'bob'), JobNotFoundError);
    assert.equal(store.get(job.id, 'alice').status, 'failed');
    assert.equal(store.get(job.id, ANY_OWNER).owner, 'alice');
    store.close();
  });

  it('deletes a finished job with its result rows and returns the files to remove', () => {
    const store = openJobStore(freshDb());
    const job = store.create('alice', {});
    store.markRunning(job.id);
    store.addResult(job.id, { imageId: 'i1', file: 'day/one.png', seed: '1' });
    store.addResult(job.id, { imageId: 'i2', file: 'day/two.png', seed: '2' });
    store.markDone(job.id);
    assert.deepEqual(store.delete(job.id, 'alice'), { files: ['day/one.png', 'day/two.png'] });
    assert.throws(() => store.get(job.id, 'alice'), JobNotFoundError);
    assert.throws(() => store.delete(job.id, 'alice'), JobNotFoundError);
    store.close();
  });

  it('refuses to delete an active job, and keeps it', () => {
    const store = openJobStore(freshDb());
    const job = store.create('alice', {});
    assert.throws(() => store.delete(job.id, 'alice'), JobStateError);
    store.markRunning(job.id);
    assert.throws(() => store.delete(job.id, 'alice'), JobStateError);
    assert.equal(store.get(job.id, 'alice').status, 'running');
    store.close();
  });

  it('rejects a request that is not JSON, and stores nothing', () => {
    const store = openJobStore(freshDb());
    assert.throws(() => store.create('alice', { seed: 1n }), InvalidJobInputError);
    assert.throws(() => store.create('alice', undefined), InvalidJobInputError);
    assert.throws(() => store.create('', {}), InvalidJobInputError);
    assert.deepEqual(store.list(ANY_OWNER).jobs, []);
    store.close();
  });

  it('uses WAL and records its schema version; refuses a database from a newer version', () => {
    const file = freshDb();
    openJobStore(file).close();
    const raw = new DatabaseSync(file);
    assert.equal(raw.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal');
    assert.equal(raw.prepare('SELECT version FROM schema_version').get()?.version, JOB_SCHEMA_VERSION);
    raw.exec('UPDATE schema_version SET version = 99');
    raw.close();
    assert.throws(() => openJobStore(file), (error: unknown) => error instanceof JobStoreVersionError && error.found === 99);
  });
});
