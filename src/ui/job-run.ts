/**
 * The state of the run the page is showing, as a pure reducer over submit actions and job events, so the
 * transitions (and the events that arrive too late to matter) are testable without a browser.
 */
import type { ImageResult, JobStatus } from './api-types.ts';
import type { JobEvent } from './job-events.ts';

export type RunPhase = 'idle' | 'submitting' | 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface RunState {
  phase: RunPhase;
  jobId: string | null;
  /** Place in line while queued (1 = next). */
  position: number | null;
  /** Why no worker can take the queued job (a model or provider none has), from the server; null otherwise. */
  waitingFor: string | null;
  step: number;
  steps: number;
  image: number;
  images: number;
  etaSeconds: number | null;
  /** Base64 PNG of the image being sampled. */
  previewPng: string | null;
  /** What the job does besides sampling (describing, loading, an Enhance tab), from its last progress. */
  message: string | null;
  results: ImageResult[];
  /** Text for the user; shown with textContent. */
  error: string | null;
  /** A Stop or Skip request was sent and not yet answered by an event. */
  stopping: boolean;
}

export type RunAction =
  | { type: 'submit' }
  | { type: 'submitted'; id: string; position: number }
  | { type: 'rejected'; message: string }
  | { type: 'stop-requested' }
  | { type: 'connection-lost' }
  | JobEvent;

export const IDLE_RUN: RunState = {
  phase: 'idle',
  jobId: null,
  position: null,
  waitingFor: null,
  step: 0,
  steps: 0,
  image: 0,
  images: 0,
  etaSeconds: null,
  previewPng: null,
  message: null,
  results: [],
  error: null,
  stopping: false,
};

export function isActive(state: RunState): boolean {
  return state.phase === 'submitting' || state.phase === 'queued' || state.phase === 'running';
}

const PHASE_OF_STATUS: Record<JobStatus, RunPhase> = {
  queued: 'queued',
  running: 'running',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
  interrupted: 'failed',
};

export function reduceRun(state: RunState, action: RunAction): RunState {
  switch (action.type) {
    case 'submit':
      return isActive(state) ? state : { ...IDLE_RUN, phase: 'submitting' };
    case 'submitted':
      if (state.phase !== 'submitting') return state;
      return { ...state, phase: 'queued', jobId: action.id, position: action.position };
    case 'rejected':
      if (state.phase !== 'submitting') return state;
      return { ...IDLE_RUN, phase: 'failed', error: action.message };
    case 'stop-requested':
      return isActive(state) && state.jobId !== null ? { ...state, stopping: true } : state;
    case 'connection-lost':
      return isActive(state) ? { ...state, phase: 'failed', error: 'Lost the connection to the server; see History for how the job ended.' } : state;
    default:
      return reduceEvent(state, action);
  }
}

/** Job events only move a run that is still going: a late progress after `finished` changes nothing. */
function reduceEvent(state: RunState, event: JobEvent): RunState {
  if (state.phase !== 'queued' && state.phase !== 'running') return state;
  switch (event.type) {
    case 'snapshot': {
      const { job } = event;
      if (job.id !== state.jobId) return state;
      const phase = PHASE_OF_STATUS[job.status];
      const progress = job.progress ?? { step: state.step, steps: state.steps, image: state.image, images: state.images, message: state.message };
      const error = phase === 'failed' ? (job.error ?? (job.status === 'interrupted' ? 'The job was interrupted by a server restart.' : 'The job failed.')) : null;
      const ended = phase !== 'queued' && phase !== 'running';
      return { ...state, ...progress, phase, waitingFor: phase === 'queued' ? job.waitingFor : null, results: job.results, error, stopping: ended ? false : state.stopping, previewPng: ended ? null : state.previewPng };
    }
    case 'queued':
      return state.phase === 'queued' ? { ...state, position: event.position, waitingFor: event.waitingFor } : state;
    case 'started':
      return { ...state, phase: 'running', position: null, waitingFor: null };
    case 'progress':
      return {
        ...state,
        phase: 'running',
        position: null,
        waitingFor: null,
        step: event.step,
        steps: event.steps,
        image: event.image,
        images: event.images,
        etaSeconds: event.etaSeconds,
        previewPng: event.previewPng ?? state.previewPng,
        message: event.message,
      };
    case 'image': {
      if (state.results.some((r) => r.imageId === event.imageId)) return state;
      const { type: _type, ...result } = event;
      return { ...state, results: [...state.results, result], previewPng: null, stopping: false };
    }
    case 'finished':
      return { ...state, phase: 'done', previewPng: null, etaSeconds: null, stopping: false };
    case 'failed':
      return { ...state, phase: 'failed', error: event.message, previewPng: null, etaSeconds: null, stopping: false };
    case 'cancelled':
      return { ...state, phase: 'cancelled', previewPng: null, etaSeconds: null, stopping: false };
  }
}
