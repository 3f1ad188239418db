/** Server-Sent Events of a job: snapshot first, ordered events, heartbeats, end on the last event, disconnects. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createFixture, HOST, type Fixture } from './server-fixture.ts';
import { startServer } from '../../src/server/serve.ts';
import { FakeStudio } from './fake-studio.ts';
import type { StudioEvent } from '../../src/server/studio-port.ts';

interface SseMessage {
  event: string;
  data: Record<string, unknown>;
}

function parseSse(text: string): SseMessage[] {
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('event: '))
    .map((block) => {
      const [eventLine, dataLine] = block.split('\n');
      return { event: (eventLine ?? '').slice(7), data: JSON.parse((dataLine ?? '').slice(6)) as Record<string, unknown> };
    });
}

async function untilSubscribed(f: Fixture, id: string): Promise<void> {
  while ((f.studio.listeners.get(id)?.size ?? 0) === 0) await sleep(1);
}

describe('job events', () => {
  it('sends the snapshot, then the events in order, and ends after finished', async () => {
    const f = await createFixture();
    try {
      const job = f.studio.addJob('local', { request: { prompt: '<img src=x onerror=alert(1)>' } });
      const pending = f.app.inject({ url: `/api/v1/jobs/${job.id}/events`, headers: { host: HOST } });
      await untilSubscribed(f, job.id);
      const events: StudioEvent[] = [
        { type: 'started' },
        { type: 'progress', step: 1, steps: 30, image: 1, images: 1, etaSeconds: 12.5, previewPng: 'iVBORw0KGgo=' },
        { type: 'progress', step: 1, steps: 30, image: 1, images: 1, etaSeconds: null, message: 'Enhance 2/2: no "person" found, tab skipped' },
        { type: 'image', imageId: 'img1', url: '/api/v1/images/img1', seed: '9223372036854775807' },
        { type: 'finished' },
        { type: 'started' },
      ];
      for (const event of events) f.studio.emit(job.id, { ...event, internal: '/secret/path' } as unknown as StudioEvent);
      const response = await pending;
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
      assert.match(String(response.headers['content-security-policy']), /script-src 'self'/);
      const messages = parseSse(response.body);
      assert.deepEqual(messages.map((m) => m.event), ['snapshot', 'started', 'progress', 'progress', 'image', 'finished']);
      assert.equal(messages[0]?.data.id, job.id);
      assert.deepEqual(messages[0]?.data.request, { prompt: '<img src=x onerror=alert(1)>' });
      assert.deepEqual(messages[2]?.data, { step: 1, steps: 30, image: 1, images: 1, etaSeconds: 12.5, previewPng: 'iVBORw0KGgo=' });
      assert.deepEqual(messages[3]?.data, { step: 1, steps: 30, image: 1, images: 1, etaSeconds: null, message: 'Enhance 2/2: no "person" found, tab skipped' }, 'an Enhance message goes through');
      assert.deepEqual(messages[4]?.data, { imageId: 'img1', url: '/api/v1/images/img1', seed: '9223372036854775807' }, 'the image event says its seed');
      assert.doesNotMatch(response.body, /secret|internal|"type"/);
      assert.equal(f.studio.listeners.get(job.id)?.size, 0, 'unsubscribed at the end');
    } finally {
      await f.close();
    }
  });

  it('ends after failed and after cancelled', async () => {
    const f = await createFixture();
    try {
      for (const last of [{ type: 'failed', message: 'out of memory' }, { type: 'cancelled' }] as StudioEvent[]) {
        const job = f.studio.addJob('local');
        const pending = f.app.inject({ url: `/api/v1/jobs/${job.id}/events`, headers: { host: HOST } });
        await untilSubscribed(f, job.id);
        f.studio.emit(job.id, { type: 'queued', position: 2, waitingFor: null });
        f.studio.emit(job.id, last);
        const messages = parseSse((await pending).body);
        assert.deepEqual(messages.map((m) => m.event), ['snapshot', 'queued', last.type]);
      }
    } finally {
      await f.close();
    }
  });

  it('sends only the snapshot for a job that is already over', async () => {
    const f = await createFixture();
    try {
      const job = f.studio.addJob('local', { status: 'done', position: null, images: [{ imageId: 'a', url: '/api/v1/images/a' }] });
      const response = await f.app.inject({ url: `/api/v1/jobs/${job.id}/events`, headers: { host: HOST } });
      const messages = parseSse(response.body);
      assert.deepEqual(messages.map((m) => m.event), ['snapshot']);
      assert.equal(messages[0]?.data.status, 'done');
      assert.equal(f.studio.listeners.get(job.id)?.size, 0);
    } finally {
      await f.close();
    }
  });

  it('keeps events that arrive while the snapshot is read, in order after it', async () => {
    const f = await createFixture();
    try {
      const job = f.studio.addJob('local');
      const getJob = f.studio.getJob.bind(f.studio);
      f.studio.getJob = async (owner, id) => {
        f.studio.emit(id, { type: 'started' });
        f.studio.emit(id, { type: 'finished' });
        return getJob(owner, id);
      };
      const response = await f.app.inject({ url: `/api/v1/jobs/${job.id}/events`, headers: { host: HOST } });
      assert.deepEqual(parseSse(response.body).map((m) => m.event), ['snapshot', 'started', 'finished']);
    } finally {
      await f.close();
    }
  });

  it('answers an unknown or malformed job id with a JSON error, not a stream', async () => {
    const f = await createFixture();
    try {
      const missing = await f.app.inject({ url: '/api/v1/jobs/nope/events', headers: { host: HOST } });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().error, 'not_found');
      const bad = await f.app.inject({ url: '/api/v1/jobs/..%2F/events', headers: { host: HOST } });
      assert.equal(bad.statusCode, 400);
    } finally {
      await f.close();
    }
  });

  it('sends heartbeats and unsubscribes when the client disconnects (real socket on 127.0.0.1:0)', async () => {
    const studio = new FakeStudio('/nonexistent');
    const job = studio.addJob('local');
    const server = await startServer(studio, { host: '127.0.0.1', auth: null, outputsDir: '/tmp', heartbeatSeconds: 0.02 }, { listenPort: 0, handleSignals: false });
    try {
      const received = await new Promise<string>((resolve, reject) => {
        // No allowedHosts given: the default is the loopback names at the bound port.
        const request = http.get(`${server.url}/api/v1/jobs/${job.id}/events`, (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            if (text.includes(': heartbeat') && text.includes('event: snapshot')) {
              request.destroy();
              resolve(text);
            }
          });
        });
        request.on('error', (error) => (error.message.includes('socket hang up') ? undefined : reject(error)));
      });
      assert.ok(received.startsWith('event: snapshot\n'));
      for (let i = 0; i < 200 && (studio.listeners.get(job.id)?.size ?? 0) > 0; i++) await sleep(5);
      assert.equal(studio.listeners.get(job.id)?.size, 0, 'unsubscribed after the client went away');
    } finally {
      await server.stop();
    }
  });
});
