/** The one error model: kinds, public messages without paths, and errors that cross a process boundary intact. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import { ERROR_KINDS, FooocusError, InvalidGenerationRequestError, InvalidSafetensorsError, isUserError, reviveError, toErrorData } from '../../src/engine/index.ts';
import { ModelChangedError, UntrustedModelError } from '../../src/app/models/model-errors.ts';
import { QueueQuotaError } from '../../src/app/jobs/job-errors.ts';
import { describeFailure, EXIT_FAILURE, EXIT_USER_ERROR } from '../../src/cli/exit-codes.ts';
import { describeFooocusError } from '../../src/server/error-mapping.ts';

const STORE = '/srv/fooocus/data/models';

describe('FooocusError', () => {
  it('names its class, and shows API clients the file by its label (or base name), never the absolute path', () => {
    const changed = new ModelChangedError(`${STORE}/checkpoints/a.safetensors`, 'size', '10 bytes', '11 bytes', 'checkpoints/a.safetensors');
    assert.equal(changed.name, 'ModelChangedError');
    assert.equal(changed.kind, 'invalid');
    assert.match(changed.message, /^\/srv\/fooocus\/data\/models\/checkpoints\/a\.safetensors: size is 11 bytes, expected 10 bytes/);
    assert.match(changed.publicMessage, /^checkpoints\/a\.safetensors: size is 11 bytes, expected 10 bytes; refusing to load/);
    const untrusted = new UntrustedModelError('loras', 'b.safetensors', `${STORE}/loras/b.safetensors`);
    assert.ok(untrusted.message.includes(`models import "${STORE}/loras/b.safetensors"`), untrusted.message);
    assert.ok(!untrusted.publicMessage.includes(STORE), untrusted.publicMessage);
    assert.ok(untrusted.publicMessage.includes('"loras/b.safetensors"'), untrusted.publicMessage);
    const header = new InvalidSafetensorsError(`${STORE}/checkpoints/c.safetensors`, null, 'trailing-bytes', '3 bytes after the last tensor');
    assert.equal(header.publicMessage, 'c.safetensors: 3 bytes after the last tensor (rule: trailing-bytes)');
    assert.equal(header.rule, 'trailing-bytes');
  });

  it('crosses a structured-clone boundary as data and is re-created with the same name, kind, messages and details', () => {
    const originals: FooocusError[] = [
      new ModelChangedError(`${STORE}/checkpoints/a.safetensors`, 'sha256', 'aa', 'bb', 'checkpoints/a.safetensors'),
      new InvalidGenerationRequestError('input', 'image is 64x64 but the request asks for 128x128'),
      new QueueQuotaError('alice', 3),
    ];
    for (const original of originals) {
      const revived = reviveError(deserialize(serialize(toErrorData(original))));
      assert.ok(revived instanceof FooocusError);
      for (const key of ['name', 'kind', 'message', 'publicMessage', 'field', 'rule', 'limit', 'file', 'retryAfterSeconds'] as const) {
        assert.deepEqual(revived[key], original[key], `${original.name}.${key}`);
      }
      assert.deepEqual(describeFooocusError(revived), describeFooocusError(original));
      assert.deepEqual(describeFailure(revived), describeFailure(original));
    }
  });

  it('turns anything else into an internal error whose public message says nothing', () => {
    const data = toErrorData(Object.assign(new Error(`EACCES: open '${STORE}/x'`), { code: 'EACCES' }));
    assert.equal(data.kind, 'internal');
    assert.equal(data.publicMessage, 'internal error');
    assert.ok(data.message.includes(STORE), 'the full message stays for the log');
    assert.equal(isUserError(reviveError(data)), false);
    assert.deepEqual(describeFooocusError(reviveError(data)), [500, { error: 'internal' }]);
  });

  it('maps every kind to one HTTP status and one exit code: 4xx and exit 2 for what the user can fix', () => {
    for (const kind of ERROR_KINDS) {
      const error = new FooocusError(kind, `a ${kind} problem`, { field: 'steps' });
      const [status] = describeFooocusError(error);
      const { code } = describeFailure(error);
      const userFixable = kind !== 'internal' && kind !== 'unavailable';
      assert.equal(status >= 400 && status < 500, userFixable, `${kind}: HTTP ${status}`);
      assert.equal(code, userFixable ? EXIT_USER_ERROR : EXIT_FAILURE, `${kind}: exit ${code}`);
    }
    assert.deepEqual(describeFooocusError(new QueueQuotaError('alice', 2)), [
      429,
      { error: 'quota_exceeded', rule: 'maxQueuedJobs', message: 'you already have 2 queued jobs, the most allowed; wait for one to start or cancel one', limit: 2, retryAfterSeconds: 30 },
    ]);
  });
});
