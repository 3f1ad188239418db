/**
 * The events of one job, as `GET /api/v1/jobs/:id/events` names them, and the reader that turns an event's
 * `data:` text into one of them (JSON.parse, then a shape check). The stream may open with a `snapshot` of the job,
 * which lets a reconnecting page catch up on what it missed.
 */
import { readImageResult, readJob } from './api-responses.ts';
import type { ImageResult, Job } from './api-types.ts';

export type JobEvent =
  | { type: 'snapshot'; job: Job }
  | { type: 'queued'; position: number; waitingFor: string | null }
  | { type: 'started' }
  | { type: 'progress'; step: number; steps: number; image: number; images: number; etaSeconds: number | null; previewPng: string | null; message: string | null }
  | ({ type: 'image' } & ImageResult)
  | { type: 'finished' }
  | { type: 'failed'; message: string }
  | { type: 'cancelled' };

export const JOB_EVENT_NAMES = ['snapshot', 'queued', 'started', 'progress', 'image', 'finished', 'failed', 'cancelled'] as const;
export type JobEventName = (typeof JOB_EVENT_NAMES)[number];

/** Base64 only, so a preview can only ever become a `data:image/png` address. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A progress message is one line of status text; a longer one is cut rather than stretching the page. */
const MAX_MESSAGE = 200;

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** The event, or null when its data is not what the contract promises (the page then ignores it). */
export function readJobEvent(name: JobEventName, data: string): JobEvent | null {
  let value: unknown = {};
  try {
    if (data.trim() !== '') value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const rec = value as Record<string, unknown>;
  try {
    switch (name) {
      case 'snapshot':
        return { type: 'snapshot', job: readJob(rec) };
      case 'queued':
        return { type: 'queued', position: num(rec.position), waitingFor: typeof rec.waitingFor === 'string' ? rec.waitingFor : null };
      case 'progress': {
        const preview = typeof rec.previewPng === 'string' && BASE64.test(rec.previewPng) ? rec.previewPng : null;
        const eta = typeof rec.etaSeconds === 'number' && Number.isFinite(rec.etaSeconds) ? rec.etaSeconds : null;
        const message = typeof rec.message === 'string' && rec.message.trim() !== '' ? rec.message.slice(0, MAX_MESSAGE) : null;
        return { type: 'progress', step: num(rec.step), steps: num(rec.steps), image: num(rec.image), images: num(rec.images), etaSeconds: eta, previewPng: preview, message };
      }
      case 'image':
        return { type: 'image', ...readImageResult(rec) };
      case 'failed':
        return { type: 'failed', message: typeof rec.message === 'string' ? rec.message : 'The job failed.' };
      case 'started':
      case 'finished':
      case 'cancelled':
        return { type: name };
    }
  } catch {
    return null;
  }
}

export function isFinalEvent(event: JobEvent): boolean {
  return event.type === 'finished' || event.type === 'failed' || event.type === 'cancelled';
}
