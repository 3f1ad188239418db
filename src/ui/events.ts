/**
 * A thin wrapper over EventSource for one job's stream: named events in, typed JobEvents out, closed after the
 * job's last event. EventSource reconnects by itself after a dropped connection; the server's opening snapshot
 * then brings the page up to date.
 */
import { FINAL_JOB_STATUSES } from './api-types.ts';
import { isFinalEvent, JOB_EVENT_NAMES, readJobEvent, type JobEvent } from './job-events.ts';

/** The part of EventSource this module uses, so tests can hand in a fake. */
export interface EventSourceLike {
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
  close(): void;
  onerror: ((event: Event) => void) | null;
  readonly readyState: number;
}

export interface WatchOptions {
  createSource?: (url: string) => EventSourceLike;
  /** Called when the stream is closed for good before the job ended (EventSource gave up). */
  onLost?: () => void;
}

const CLOSED = 2;

/** Starts listening; returns a function that stops. */
export function watchJobEvents(url: string, onEvent: (event: JobEvent) => void, options: WatchOptions = {}): () => void {
  const source = (options.createSource ?? ((u) => new EventSource(u) as EventSourceLike))(url);
  let open = true;
  const stop = (): void => {
    if (!open) return;
    open = false;
    source.close();
  };
  for (const name of JOB_EVENT_NAMES) {
    source.addEventListener(name, (message) => {
      if (!open) return;
      const event = readJobEvent(name, typeof message.data === 'string' ? message.data : '');
      if (event === null) return;
      onEvent(event);
      if (isFinalEvent(event) || (event.type === 'snapshot' && FINAL_JOB_STATUSES.has(event.job.status))) stop();
    });
  }
  source.onerror = () => {
    if (open && source.readyState === CLOSED) {
      stop();
      options.onLost?.();
    }
  };
  return stop;
}
