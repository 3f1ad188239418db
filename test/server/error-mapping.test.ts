/** One mapping from errors to responses: typed port errors to 4xx naming the field, anything else to a bare 500. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createFixture, HOST, jsonHeaders, type Fixture } from './server-fixture.ts';
import { InvalidRequestError, JobStateConflictError, NotFoundError, QuotaExceededError } from '../../src/server/studio-errors.ts';

const SECRET = 'db password hunter2 at /home/studio/.secret/models';

describe('error mapping', () => {
  let f: Fixture;
  before(async () => {
    f = await createFixture();
  });
  after(() => f.close());

  const failures: [string, () => Error][] = [
    ['Error', () => new Error(SECRET)],
    ['TypeError', () => new TypeError(SECRET)],
    ['an error with a statusCode', () => Object.assign(new Error(SECRET), { statusCode: 418, code: 'EACCES' })],
    ['an fs error', () => Object.assign(new Error(`ENOENT: no such file, open '${SECRET}'`), { code: 'ENOENT', path: SECRET })],
  ];
  for (const [name, make] of failures) {
    it(`answers ${name} from the port with 500 {error: internal} and no internals`, async () => {
      f.studio.failWith = make();
      const response = await f.app.inject({ url: '/api/v1/models', headers: { host: HOST } });
      assert.equal(response.statusCode, 500);
      assert.deepEqual(response.json(), { error: 'internal' });
      assert.doesNotMatch(response.body, /hunter2|secret|stack|ENOENT|at /i);
      assert.ok(f.logs.some((line) => line.msg === 'request failed' && JSON.stringify(line).includes('hunter2')), 'logged server-side');
    });
  }

  it('hides internals of a failing submit too', async () => {
    f.studio.failWith = new Error(SECRET);
    const response = await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload: { prompt: 'a' } });
    assert.equal(response.statusCode, 500);
    assert.deepEqual(response.json(), { error: 'internal' });
  });

  it('maps InvalidRequestError to 400 naming field and rule', async () => {
    f.studio.failWith = new InvalidRequestError('model', 'installed', 'model x is not installed');
    const response = await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload: { prompt: 'a' } });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), { error: 'invalid_request', field: 'model', rule: 'installed', message: 'model x is not installed' });
  });

  it('maps NotFoundError to 404 and JobStateConflictError to 409', async () => {
    f.studio.failWith = new NotFoundError('job');
    assert.equal((await f.app.inject({ url: '/api/v1/jobs/abc', headers: { host: HOST } })).statusCode, 404);
    f.studio.failWith = new JobStateConflictError('abc', 'done');
    assert.equal((await f.app.inject({ method: 'POST', url: '/api/v1/jobs/abc/cancel', headers: { host: HOST } })).statusCode, 409);
  });

  it('maps QuotaExceededError to 429 with the quota, the limit and Retry-After', async () => {
    f.studio.failWith = new QuotaExceededError('queuedJobsPerOwner', 5, 30);
    const response = await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload: { prompt: 'a' } });
    assert.equal(response.statusCode, 429);
    assert.equal(response.headers['retry-after'], '30');
    assert.deepEqual(response.json(), { error: 'quota_exceeded', rule: 'queuedJobsPerOwner', limit: 5, retryAfterSeconds: 30, message: 'quota queuedJobsPerOwner exceeded (limit 5)' });
  });

  it('drops response fields the port adds that the schema does not list', async () => {
    const job = f.studio.addJob('local', { status: 'done' });
    Object.assign(job, { internalPath: SECRET, request: { prompt: 'a', hiddenSetting: SECRET } });
    const response = await f.app.inject({ url: `/api/v1/jobs/${job.id}`, headers: { host: HOST } });
    assert.equal(response.statusCode, 200);
    assert.doesNotMatch(response.body, /hunter2|internalPath|hiddenSetting/);
  });
});
