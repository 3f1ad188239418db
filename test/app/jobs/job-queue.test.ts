import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JobNotFoundError, JobStateError, QueueClosedError, QueueQuotaError } from '../../../src/app/jobs/job-errors.ts';
import type { JobExecutor } from '../../../src/app/jobs/job-queue.ts';
import { INTERRUPTED_MESSAGE } from '../../../src/app/jobs/job-store.ts';
import { ANY_OWNER } from '../../../src/app/jobs/job-types.ts';
import { createFakeExecutor, deferred, recordEvents, resultFor, untilAborted } from './fake-executor.ts';
import { createRedisBackend, localBackend, type QueueBackend, type QueueOptions } from './queue-backends.ts';
import { skipWithoutRedis, startTestRedis, type TestRedis } from './redis-server.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-jobs-queue-'));
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
  describeQueue(redisBackend);
});
describeQueue(localBackend);

/** The same suite for each backend: what `JobQueue` promises does not depend on where jobs run. */
function describeQueue(backend: QueueBackend): void {
  const openQueue = (executor: JobExecutor, file = freshDb(), options: QueueOptions = {}) => backend.openQueue(executor, file, options);

  describe(`${backend.name} job queue`, () => {
    it('runs a job and delivers its events in order; a late subscriber gets the current state first', T, async () => {
      const fake = createFakeExecutor();
      const queue = await openQueue(fake.executor);
      await queue.submit('zed', {});
      const blocker = await fake.nextCall();
      const { id, position } = await queue.submit('alice', { prompt: 'a cat' });
      assert.equal(position, 1);
      const early = recordEvents(queue, id, 'alice');
      blocker.finish();
      const call = await fake.nextCall();
      assert.deepEqual(call.job.request, { prompt: 'a cat' });

      call.execution.onProgress({ step: 2, steps: 4, image: 1, images: 2 }, { png: 'iVBORw0K' });
      call.execution.onImage(resultFor(id, 1));
      await early.until('progress');
      await early.until('image-saved');
      const late = recordEvents(queue, id, 'alice');
      const snapshot = late.events[0];
      assert.equal(snapshot?.type, 'snapshot');
      assert.ok(snapshot?.type === 'snapshot');
      assert.equal(snapshot.job.status, 'running');
      assert.deepEqual(snapshot.job.progress, { step: 2, steps: 4, image: 1, images: 2 });
      assert.deepEqual(snapshot.job.results, [resultFor(id, 1)]);
      assert.deepEqual(snapshot.preview, { png: 'iVBORw0K' });

      call.finish([resultFor(id, 1), resultFor(id, 2)]); // image 2 only reported at the end
      const finished = await early.until('finished');
      assert.equal(finished.job.status, 'done');
      assert.deepEqual(finished.job.results, [resultFor(id, 1), resultFor(id, 2)]);
      assert.deepEqual(early.types(), ['snapshot', 'started', 'progress', 'image-saved', 'finished']);
      assert.ok(early.events[0]?.type === 'snapshot' && early.events[0].job.status === 'queued' && early.events[0].job.position === 1);
      assert.deepEqual(late.types(), ['snapshot', 'finished']);
      assert.equal((await queue.get(id, 'alice')).status, 'done');

      const afterwards = recordEvents(queue, id, 'alice');
      assert.deepEqual(afterwards.types(), ['snapshot']);
      await queue.close();
    });

    it('serves owners in turn: A submits 3, B submits 1, B runs second; positions move up as jobs start', T, async () => {
      const fake = createFakeExecutor();
      const queue = await openQueue(fake.executor);
      const a1 = await queue.submit('A', { n: 1 });
      const first = await fake.nextCall();
      const a2 = await queue.submit('A', { n: 2 });
      const a3 = await queue.submit('A', { n: 3 });
      assert.deepEqual([a2.position, a3.position], [1, 2]);
      const watchA3 = recordEvents(queue, a3.id, 'A');
      const b1 = await queue.submit('B', { n: 1 });
      assert.equal(b1.position, 1, 'A has just been served, so B goes next');
      assert.equal((await queue.get(a2.id, 'A')).position, 2);
      assert.equal((await queue.get(a3.id, 'A')).position, 3);

      const order = [first.job.id];
      for (let i = 0; i < 3; i++) {
        fake.calls[i]?.finish();
        order.push((await fake.nextCall()).job.id);
      }
      assert.deepEqual(order, [a1.id, b1.id, a2.id, a3.id]);
      const positions = watchA3.events.flatMap((e) =>
        e.type === 'queued' ? [e.position] : e.type === 'snapshot' ? [e.job.position] : [],
      );
      assert.deepEqual(positions, [2, 3, 2, 1]);
      assert.equal(watchA3.events.at(-1)?.type, 'started');
      fake.calls[3]?.finish();
      await watchA3.until('finished');
      await queue.close();
    });

    it('enforces the per-owner quota on queued jobs, writing nothing when it refuses', T, async () => {
      const fake = createFakeExecutor();
      const queue = await openQueue(fake.executor, freshDb(), { maxQueuedPerOwner: 2 });
      await queue.submit('alice', { n: 0 });
      await fake.nextCall(); // running, so not counted
      const queued = [await queue.submit('alice', { n: 1 }), await queue.submit('alice', { n: 2 })];
      await assert.rejects(queue.submit('alice', { n: 3 }), (error: unknown) => error instanceof QueueQuotaError && error.limit === 2);
      assert.equal((await queue.list('alice')).jobs.length, 3);
      await queue.submit('bob', {}); // other owners are not affected
      await queue.cancel(queued[0]?.id ?? '', 'alice');
      await queue.submit('alice', { n: 3 });
      fake.calls[0]?.fail(new Error('stop'));
      await queue.close();
    });

    it('cancels a queued job (never runs) and a running one (signal aborts, next job starts)', T, async () => {
      const fake = createFakeExecutor();
      const queue = await openQueue(fake.executor);
      const running = await queue.submit('alice', { n: 1 });
      const call = await fake.nextCall();
      const queued = await queue.submit('alice', { n: 2 });
      const last = await queue.submit('alice', { n: 3 });
      const watchQueued = recordEvents(queue, queued.id, 'alice');
      const watchRunning = recordEvents(queue, running.id, 'alice');

      await queue.cancel(queued.id, 'alice');
      assert.deepEqual(watchQueued.types(), ['snapshot', 'cancelled']);
      assert.equal((await queue.get(queued.id, 'alice')).status, 'cancelled');
      assert.equal((await queue.get(last.id, 'alice')).position, 1);

      await queue.cancel(running.id, 'alice');
      await untilAborted(call.execution.signal);
      await watchRunning.until('cancelled');
      assert.equal((await queue.get(running.id, 'alice')).status, 'cancelled');
      const next = await fake.nextCall();
      assert.equal(next.job.id, last.id, 'the cancelled queued job never ran');

      await assert.rejects(queue.cancel(running.id, 'alice'), JobStateError);
      await assert.rejects(queue.cancel(last.id, 'bob'), JobNotFoundError);
      next.finish();
      await queue.close();
    });

    it('skip stops the current image and carries on with the next', T, async () => {
      const gates = [deferred(), deferred(), deferred()];
      const imageStarted = [deferred(), deferred(), deferred()];
      const executor: JobExecutor = async (job, execution) => {
        for (let image = 1; image <= 3; image++) {
          const imageSignal = execution.skipSignal();
          const stopped = new Promise<void>((resolve) => imageSignal.addEventListener('abort', () => resolve(), { once: true }));
          imageStarted[image - 1]?.resolve();
          await Promise.race([gates[image - 1]?.promise, stopped]);
          if (execution.signal.aborted) throw execution.signal.reason;
          if (imageSignal.aborted) continue;
          execution.onImage(resultFor(job.id, image));
        }
        return [];
      };
      const queue = await openQueue(executor);
      const { id } = await queue.submit('alice', {});
      const watch = recordEvents(queue, id, 'alice');
      await assert.rejects(queue.skip(id, 'bob'), JobNotFoundError);
      await imageStarted[0]?.promise;
      gates[0]?.resolve();
      await imageStarted[1]?.promise;
      await queue.skip(id, 'alice');
      await imageStarted[2]?.promise;
      gates[2]?.resolve();
      const finished = await watch.until('finished');
      assert.deepEqual(finished.job.results, [resultFor(id, 1), resultFor(id, 3)]);
      await assert.rejects(queue.skip(id, 'alice'), JobStateError);
      await queue.close();
    });

    it('a failing executor fails the job with a user-safe message, then the queue moves on', T, async () => {
      const fake = createFakeExecutor();
      const seen: unknown[] = [];
      const queue = await openQueue(fake.executor, freshDb(), {
        describeFailure: (error) => {
          seen.push(error);
          return 'The model could not be loaded.';
        },
      });
      const bad = await queue.submit('alice', {});
      const good = await queue.submit('alice', {});
      const watch = recordEvents(queue, bad.id, 'alice');
      (await fake.nextCall()).fail(new Error('ENOENT /home/secret/models/x.safetensors'));
      assert.deepEqual(await watch.until('failed'), { type: 'failed', jobId: bad.id, error: 'The model could not be loaded.' });
      assert.equal((await queue.get(bad.id, 'alice')).error, 'The model could not be loaded.');
      assert.equal(seen.length, 1);
      const next = await fake.nextCall();
      assert.equal(next.job.id, good.id);
      next.finish();
      await queue.close();
    });

    it('keeps queued jobs and their order across a restart; the job running at shutdown is interrupted and retryable', T, async () => {
      const file = freshDb();
      const fake = createFakeExecutor();
      const queue = await openQueue(fake.executor, file);
      const running = await queue.submit('A', { n: 0 });
      await fake.nextCall();
      const submitted = [];
      for (const owner of ['A', 'A', 'B', 'C', 'B']) submitted.push(await queue.submit(owner, { owner }));
      const views = await Promise.all(submitted.map((s) => queue.get(s.id, ANY_OWNER)));
      const expected = views.sort((x, y) => (x.position ?? 0) - (y.position ?? 0)).map((v) => v.id);
      assert.deepEqual(views.map((v) => v.position), [1, 2, 3, 4, 5]);
      const watch = recordEvents(queue, running.id, 'A');
      await queue.close();
      assert.equal((await watch.until('interrupted')).error, INTERRUPTED_MESSAGE);
      await assert.rejects(queue.submit('A', {}), QueueClosedError);
      await assert.rejects(queue.get(running.id, 'A'), QueueClosedError);

      const after = createFakeExecutor();
      const reopened = await openQueue(after.executor, file);
      assert.equal((await reopened.get(running.id, 'A')).status, 'interrupted');
      const order = [];
      for (let i = 0; i < expected.length; i++) {
        const call = await after.nextCall();
        order.push(call.job.id);
        call.finish();
      }
      assert.deepEqual(order, expected, 'same order as predicted before the restart');
      const retried = await reopened.retry(running.id, 'A');
      const call = await after.nextCall();
      assert.equal(call.job.id, retried.id);
      assert.deepEqual(call.job.request, { n: 0 });
      call.finish();
      assert.equal((await reopened.list('A')).jobs.length, 4);
      await reopened.close();
    });

    it('isolates owners: another owner cannot get, list, delete, subscribe to or retry a job', T, async () => {
      const fake = createFakeExecutor();
      const queue = await openQueue(fake.executor);
      const { id } = await queue.submit('alice', {});
      const call = await fake.nextCall();
      call.execution.onImage(resultFor(id, 1));
      assert.throws(() => queue.subscribe(id, 'bob', () => assert.fail('bob must see nothing')), JobNotFoundError);
      call.finish();
      await recordEvents(queue, id, 'alice').until('finished');
      await assert.rejects(queue.get(id, 'bob'), JobNotFoundError);
      assert.deepEqual((await queue.list('bob')).jobs, []);
      await assert.rejects(queue.delete(id, 'bob'), JobNotFoundError);
      await assert.rejects(queue.retry(id, 'bob'), JobNotFoundError);
      assert.equal((await queue.get(id, ANY_OWNER)).owner, 'alice');
      assert.deepEqual(await queue.delete(id, 'alice'), { files: [resultFor(id, 1).file] });
      await assert.rejects(queue.get(id, 'alice'), JobNotFoundError);
      await queue.close();
    });

    it('a listener that throws is reported and does not stop other listeners or the job', T, async () => {
      const fake = createFakeExecutor();
      const reported: unknown[] = [];
      const queue = await openQueue(fake.executor, freshDb(), { reportError: (error) => reported.push(error) });
      const { id } = await queue.submit('alice', {});
      queue.subscribe(id, 'alice', () => {
        throw new Error('broken socket');
      });
      const watch = recordEvents(queue, id, 'alice');
      (await fake.nextCall()).finish();
      await watch.until('finished');
      assert.ok(reported.length >= 2);
      await queue.close();
    });
  });
}
