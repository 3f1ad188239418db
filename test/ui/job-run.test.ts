/** The run reducer, the observable store and the event-stream wrapper, without a browser. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createStore } from '../../src/ui/state.ts';
import { IDLE_RUN, isActive, reduceRun, type RunAction, type RunState } from '../../src/ui/job-run.ts';
import { readJobEvent } from '../../src/ui/job-events.ts';
import type { Job } from '../../src/ui/api-types.ts';
import { watchJobEvents, type EventSourceLike } from '../../src/ui/events.ts';
import { buildGenerateRequest, DEFAULT_FORM, normalizeSeed, patchFromRequest } from '../../src/ui/form-values.ts';

const run = (actions: RunAction[], from: RunState = IDLE_RUN): RunState => actions.reduce(reduceRun, from);
const image = (id: string, seed = '1'): RunAction => ({ type: 'image', imageId: id, url: `/api/v1/images/${id}`, seed });
const snapshot = (id: string, status: Job['status'], extra: Partial<Job> = {}): RunAction => ({
  type: 'snapshot',
  job: { id, status, progress: null, error: null, waitingFor: null, results: [], request: {}, createdAt: null, ...extra },
});
const progress = (step: number, previewPng: string | null = null): RunAction => ({
  type: 'progress', step, steps: 30, image: 1, images: 2, etaSeconds: 12.5, previewPng, message: null,
});

describe('run state', () => {
  it('goes idle -> submitting -> queued -> running -> done, collecting images', () => {
    const submitting = run([{ type: 'submit' }]);
    assert.equal(submitting.phase, 'submitting');
    const queued = reduceRun(submitting, { type: 'submitted', id: 'j1', position: 3 });
    assert.deepEqual([queued.phase, queued.jobId, queued.position], ['queued', 'j1', 3]);
    const moved = reduceRun(queued, { type: 'queued', position: 1, waitingFor: null });
    assert.equal(moved.position, 1);
    const stuck = reduceRun(moved, { type: 'queued', position: 1, waitingFor: 'no connected worker runs on cuda (queue.providers)' });
    assert.equal(stuck.waitingFor, 'no connected worker runs on cuda (queue.providers)');
    assert.equal(reduceRun(stuck, { type: 'started' }).waitingFor, null, 'a started job waits for nothing');
    const rejoined = reduceRun(queued, snapshot('j1', 'queued', { waitingFor: 'no worker is connected to the queue' }));
    assert.equal(rejoined.waitingFor, 'no worker is connected to the queue', 'a page that reconnects reads the reason from the snapshot');
    const running = run([{ type: 'started' }, progress(5, 'iVBORw0KGgo=')], moved);
    assert.deepEqual([running.phase, running.step, running.steps, running.etaSeconds, running.previewPng], ['running', 5, 30, 12.5, 'iVBORw0KGgo=']);
    assert.equal(reduceRun(running, progress(6)).previewPng, 'iVBORw0KGgo=', 'a progress without preview keeps the last one');
    const withImage = run([image('a'), image('a'), image('b')], running);
    assert.deepEqual(withImage.results.map((r) => r.imageId), ['a', 'b'], 'a repeated image event adds nothing');
    assert.equal(withImage.previewPng, null);
    const done = reduceRun(withImage, { type: 'finished' });
    assert.equal(done.phase, 'done');
    assert.equal(isActive(done), false);
  });

  it('ignores events after the end, a second submit while active, and events for another job', () => {
    const done = run([{ type: 'submit' }, { type: 'submitted', id: 'j1', position: 1 }, { type: 'finished' }]);
    assert.equal(reduceRun(done, progress(9)), done);
    assert.equal(reduceRun(done, image('late')), done);
    const active = run([{ type: 'submit' }]);
    assert.equal(reduceRun(active, { type: 'submit' }), active);
    const queued = reduceRun(active, { type: 'submitted', id: 'j1', position: 1 });
    assert.equal(reduceRun(queued, snapshot('j2', 'done')), queued);
  });

  it('reports a rejected submit, a failure, a cancel and an interrupted snapshot with a message', () => {
    assert.deepEqual(run([{ type: 'submit' }, { type: 'rejected', message: 'cfg too high' }]).error, 'cfg too high');
    const started = run([{ type: 'submit' }, { type: 'submitted', id: 'j1', position: 1 }, { type: 'started' }]);
    assert.equal(reduceRun(started, { type: 'failed', message: 'out of memory' }).error, 'out of memory');
    const stopping = reduceRun(started, { type: 'stop-requested' });
    assert.equal(stopping.stopping, true);
    const cancelled = reduceRun(stopping, { type: 'cancelled' });
    assert.deepEqual([cancelled.phase, cancelled.stopping], ['cancelled', false]);
    const interrupted = reduceRun(started, snapshot('j1', 'interrupted'));
    assert.equal(interrupted.phase, 'failed');
    assert.match(interrupted.error ?? '', /interrupted/);
    assert.equal(reduceRun(started, { type: 'connection-lost' }).phase, 'failed');
  });

  it('a snapshot catches up on results and progress after a reconnect', () => {
    const running = run([{ type: 'submit' }, { type: 'submitted', id: 'j1', position: 1 }, { type: 'started' }]);
    const caught = reduceRun(
      running,
      snapshot('j1', 'running', { progress: { step: 7, steps: 30, image: 2, images: 2, message: null }, results: [{ imageId: 'a', url: '/api/v1/images/a', seed: '5' }] }),
    );
    assert.deepEqual([caught.step, caught.image, caught.results.length, caught.phase], [7, 2, 1, 'running']);
  });
});

describe('job events', () => {
  it('parses event data and drops what does not fit the contract', () => {
    assert.deepEqual(readJobEvent('queued', '{"position":2}'), { type: 'queued', position: 2, waitingFor: null });
    assert.deepEqual(readJobEvent('queued', '{"position":1,"waitingFor":"no worker is connected to the queue"}'), { type: 'queued', position: 1, waitingFor: 'no worker is connected to the queue' });
    assert.deepEqual(readJobEvent('queued', '{"position":1,"waitingFor":7}'), { type: 'queued', position: 1, waitingFor: null }, 'a reason that is not text is dropped');
    const withScript = readJobEvent('progress', '{"step":1,"steps":4,"image":1,"images":1,"etaSeconds":null,"previewPng":"\\"><script>"}');
    assert.equal(withScript?.type === 'progress' && withScript.previewPng, null, 'a preview that is not base64 is dropped');
    assert.equal(readJobEvent('image', '{"imageId":"../../etc"}'), null);
    assert.equal(readJobEvent('failed', 'not json'), null);
    assert.deepEqual(readJobEvent('finished', ''), { type: 'finished' });
  });

  it("keeps a progress event's message as text, cut to one line's length, and clears it with the next plain step", () => {
    const withMessage = readJobEvent('progress', '{"step":0,"steps":0,"image":1,"images":1,"etaSeconds":null,"message":"Enhance 2/2: no \\"person\\" found, tab skipped"}');
    assert.equal(withMessage?.type === 'progress' && withMessage.message, 'Enhance 2/2: no "person" found, tab skipped');
    const long = readJobEvent('progress', JSON.stringify({ step: 1, steps: 2, image: 1, images: 1, message: 'x'.repeat(900) }));
    assert.equal(long?.type === 'progress' && long.message?.length, 200);
    const odd = readJobEvent('progress', '{"step":1,"steps":2,"image":1,"images":1,"message":{"html":"<b>"}}');
    assert.equal(odd?.type === 'progress' && odd.message, null);
    const running = run([{ type: 'submit' }, { type: 'submitted', id: 'j1', position: 1 }, { type: 'started' }, withMessage!]);
    assert.equal(running.message, 'Enhance 2/2: no "person" found, tab skipped');
    assert.equal(reduceRun(running, progress(3)).message, null);
    const caught = reduceRun(running, snapshot('j1', 'running', { progress: { step: 2, steps: 8, image: 1, images: 1, message: 'Enhance 1/2: finding "face"' } }));
    assert.equal(caught.message, 'Enhance 1/2: finding "face"');
  });

  it('watchJobEvents delivers typed events and closes the stream after the last one', () => {
    const listeners = new Map<string, (event: MessageEvent<string>) => void>();
    let closed = 0;
    const source: EventSourceLike = {
      addEventListener: (type, listener) => void listeners.set(type, listener),
      close: () => void closed++,
      onerror: null,
      readyState: 1,
    };
    const seen: string[] = [];
    watchJobEvents('/api/v1/jobs/j1/events', (event) => seen.push(event.type), { createSource: () => source });
    const emit = (type: string, data: string): void => listeners.get(type)?.({ data } as MessageEvent<string>);
    emit('started', '{}');
    emit('progress', '{"step":1,"steps":2,"image":1,"images":1,"etaSeconds":3}');
    emit('finished', '{}');
    emit('progress', '{"step":2,"steps":2,"image":1,"images":1,"etaSeconds":0}');
    assert.deepEqual(seen, ['started', 'progress', 'finished']);
    assert.equal(closed, 1);
  });

  it('watchJobEvents reports a stream the browser gave up on', () => {
    let lost = 0;
    const source = { addEventListener: () => undefined, close: () => undefined, onerror: null, readyState: 2 } as EventSourceLike;
    watchJobEvents('/x', () => undefined, { createSource: () => source, onLost: () => void lost++ });
    source.onerror?.(new Event('error'));
    assert.equal(lost, 1);
  });
});

describe('store', () => {
  it('notifies subscribers on change only, and stops after unsubscribe', () => {
    const store = createStore({ n: 0 });
    const seen: number[] = [];
    const stop = store.subscribe((v) => seen.push(v.n));
    store.set((v) => ({ n: v.n + 1 }));
    store.set((v) => v);
    stop();
    store.set({ n: 5 });
    assert.deepEqual(seen, [0, 1]);
    assert.equal(store.get().n, 5);
  });
});

describe('form values', () => {
  it('builds a generate body: SDXL aspect ratio, SD1.5 width/height, fixed seed only when not random', () => {
    const values = { ...DEFAULT_FORM, prompt: 'fox', loras: [{ name: 'a', weight: 0.5 }, { name: '', weight: 1 }] };
    const sdxl = buildGenerateRequest(values, 'sdxl');
    assert.equal(sdxl.aspectRatio, '1152*896');
    assert.equal(sdxl.seed, undefined);
    assert.deepEqual(sdxl.loras, [{ name: 'a', weight: 0.5 }]);
    const sd15 = buildGenerateRequest({ ...values, aspectRatio: '512*768', randomSeed: false, seed: ' 0042 ', refiner: 'r' }, 'sd15');
    assert.deepEqual([sd15.width, sd15.height, sd15.aspectRatio, sd15.seed, sd15.refiner], [512, 768, undefined, '42', 'r']);
  });

  it('normalizes seeds to 0..2^63-1', () => {
    assert.equal(normalizeSeed('9223372036854775807'), '9223372036854775807');
    assert.equal(normalizeSeed('9223372036854775808'), null);
    assert.equal(normalizeSeed('-1'), null);
    assert.equal(normalizeSeed('1e5'), null);
  });

  it('fills the form from a history request, using the seed the image was made with', () => {
    // Lists (modes, formats) are judged by the form against the request schema, which reports what it lacks.
    const patch = patchFromRequest({ prompt: 'p', performance: 'Lightning', width: 512, height: 512, loras: [{ name: 'l', weight: 'x' }], format: 'gif' }, '77');
    // No vae: the job used the checkpoint's own, so Reuse sets the VAE back to the default.
    assert.deepEqual(patch, { prompt: 'p', performance: 'Lightning', aspectRatio: '512*512', seed: '77', randomSeed: false, vae: '', loras: [], format: 'gif' });
  });

  it('restores the developer settings a history request carries', () => {
    const patch = patchFromRequest({ prompt: 'p', steps: 12, vae: 'clear.safetensors', adaptiveCfg: 5, clipSkip: 1, seedIncrement: false, metadataScheme: 'a1111', admScalers: { positive: 2, negative: 0.5, end: 0.4 } });
    assert.deepEqual(patch, { prompt: 'p', steps: 12, vae: 'clear.safetensors', adaptiveCfg: 5, clipSkip: 1, seedIncrement: false, metadataScheme: 'a1111', admPositive: 2, admNegative: 0.5, admEnd: 0.4 });
  });

  it('sends the refiner switch method with a refiner only, and Reuse restores it', () => {
    const withRefiner = buildGenerateRequest({ ...DEFAULT_FORM, prompt: 'fox', refiner: 'r.safetensors', refinerSwitchMethod: 'vae' }, 'sdxl');
    assert.deepEqual([withRefiner.refiner, withRefiner.refinerSwitchMethod], ['r.safetensors', 'vae']);
    assert.equal('refinerSwitchMethod' in buildGenerateRequest({ ...DEFAULT_FORM, prompt: 'fox', refinerSwitchMethod: 'vae' }, 'sdxl'), false);
    assert.equal(patchFromRequest({ prompt: 'p', refiner: 'r.safetensors', refinerSwitchMethod: 'separate' }).refinerSwitchMethod, 'separate');
  });

  it('sends the chosen VAE, and no vae field for the checkpoint’s own', () => {
    assert.equal(buildGenerateRequest({ ...DEFAULT_FORM, prompt: 'fox', vae: 'clear.safetensors' }, 'sdxl').vae, 'clear.safetensors');
    assert.equal('vae' in buildGenerateRequest({ ...DEFAULT_FORM, prompt: 'fox' }, 'sdxl'), false);
  });

  it('sends forced steps and size, the developer settings and an input image, and only fields the schema lists', () => {
    const values = { ...DEFAULT_FORM, prompt: 'fox', steps: 12, width: 640, height: 384, clipSkip: 1, seedIncrement: false, metadataScheme: 'a1111', inputImageId: 'up-1', denoise: 0.6 };
    const body = buildGenerateRequest(values, 'sdxl');
    assert.deepEqual([body.steps, body.width, body.height, body.aspectRatio], [12, 640, 384, undefined], 'a forced size replaces the aspect ratio');
    assert.deepEqual([body.clipSkip, body.seedIncrement, body.metadataScheme, body.inputImageId, body.denoise], [1, false, 'a1111', 'up-1', 0.6]);
    assert.deepEqual(body.admScalers, { positive: 1.5, negative: 0.8, end: 0.3 });
    const older = buildGenerateRequest(values, 'sdxl', new Set(['prompt', 'steps', 'width', 'height', 'seed']));
    assert.deepEqual(Object.keys(older).sort(), ['height', 'prompt', 'steps', 'width'], 'fields a server does not take are not sent');
    const fromInput = buildGenerateRequest({ ...values, width: null, height: null, aspectRatio: '896*1152' }, 'sdxl');
    assert.deepEqual([fromInput.aspectRatio, fromInput.width, fromInput.height], [undefined, undefined, undefined], 'an input image without a forced size: the server uses its size');
    const untouched = buildGenerateRequest({ ...DEFAULT_FORM, prompt: 'fox' }, 'sdxl');
    assert.deepEqual([untouched.steps, untouched.width, untouched.inputImageId, untouched.denoise], [undefined, undefined, undefined, undefined], 'empty boxes leave steps and size to the mode and ratio');
  });
});
