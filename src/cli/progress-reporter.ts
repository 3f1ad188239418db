/**
 * Progress for long CLI work: a one-line bar with rate and ETA on a terminal, JSON lines otherwise (so scripts
 * and CI logs can follow along).
 */
export interface ProgressEvent {
  label: string;
  done: number;
  total: number;
  /** Unit of done/total (e.g. `MiB`), shown as a throughput instead of s/it. */
  unit?: string;
  /** Extra fields for the JSON-lines form. */
  fields?: Record<string, string | number>;
}

const BAR_WIDTH = 24;
/** Updates closer together than this are dropped (except a label's first and last), so logs stay readable. */
const MIN_INTERVAL_MS = 200;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** `1.85 s/it` for slow steps, `3.20 it/s` for fast ones, as tqdm shows them. */
export function formatRate(secondsPerItem: number): string {
  if (!Number.isFinite(secondsPerItem) || secondsPerItem <= 0) return '? s/it';
  return secondsPerItem >= 1 ? `${secondsPerItem.toFixed(2)} s/it` : `${(1 / secondsPerItem).toFixed(2)} it/s`;
}

export function renderBar(done: number, total: number): string {
  const filled = total > 0 ? Math.round((BAR_WIDTH * Math.min(done, total)) / total) : 0;
  return '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
}

export class ProgressReporter {
  private startedAt = 0;
  private startedDone = 0;
  private currentLabel = '';
  private lineOpen = false;
  private lastWrite = -Infinity;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly mode: 'tty' | 'json',
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Seconds per item since the current label began (the first item's time is included). */
  private rate(done: number): number {
    const items = done - this.startedDone;
    return items > 0 ? (this.now() - this.startedAt) / 1000 / items : NaN;
  }

  update(e: ProgressEvent): void {
    if (e.label !== this.currentLabel || e.done < this.startedDone) {
      this.currentLabel = e.label;
      this.startedAt = this.now();
      this.startedDone = e.done;
    }
    const t = this.now();
    const boundary = e.done === this.startedDone || e.done >= e.total;
    if (!boundary && t - this.lastWrite < MIN_INTERVAL_MS) return;
    this.lastWrite = t;
    const perItem = this.rate(e.done);
    const eta = perItem * (e.total - e.done);
    if (this.mode === 'json') {
      const rate = Number.isFinite(perItem) ? { secondsPerItem: Number(perItem.toFixed(3)), etaSeconds: Math.round(eta) } : {};
      this.stream.write(JSON.stringify({ event: 'progress', label: e.label, done: e.done, total: e.total, ...(e.unit ? { unit: e.unit } : {}), ...rate, ...e.fields }) + '\n');
      return;
    }
    const rate = e.unit === undefined ? formatRate(perItem) : Number.isFinite(perItem) && perItem > 0 ? `${(1 / perItem).toFixed(1)} ${e.unit}/s` : `? ${e.unit}/s`;
    const line = `${e.label} ${renderBar(e.done, e.total)} ${e.done}/${e.total}${e.unit === undefined ? '' : ` ${e.unit}`}  ${rate}  ETA ${formatDuration(eta)}`;
    this.stream.write(`\r\x1b[2K${line}`);
    this.lineOpen = true;
  }

  /** A message on its own line (ends any open bar line first). */
  message(text: string, fields: Record<string, unknown> = {}): void {
    if (this.mode === 'json') {
      this.stream.write(JSON.stringify({ event: 'message', text, ...fields }) + '\n');
      return;
    }
    this.finishLine();
    this.stream.write(`${text}\n`);
  }

  finishLine(): void {
    if (this.lineOpen) this.stream.write('\n');
    this.lineOpen = false;
  }
}
