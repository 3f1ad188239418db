/**
 * Past jobs, newest first, a page at a time: each entry's images, status, and every parameter it ran with (as
 * text), with "Reuse" (fill the form, with that image's seed) and "Delete".
 */
import type { ApiClient } from '../api-client.ts';
import type { ImageResult, Job } from '../api-types.ts';
import { el, replace } from '../dom.ts';
import { imageFigure } from './gallery.ts';

export interface HistoryView {
  element: HTMLElement;
  reload(): Promise<void>;
}

export interface HistoryActions {
  reuse(job: Job, image: ImageResult | null): void;
  /** Shows the entry's images in the viewer, starting at `index`. */
  open(images: ImageResult[], index: number): void;
  report(error: unknown): void;
}

const PAGE_SIZE = 20;

export function createHistoryView(api: ApiClient, actions: HistoryActions): HistoryView {
  const list = el('ol', { class: 'history-list' });
  const more = el('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  const empty = el('p', { hidden: true }, 'Nothing here yet: generated images appear in this list.');
  const refresh = el('button', { type: 'button', class: 'secondary' }, 'Refresh');
  const element = el('section', { class: 'history', 'aria-label': 'History' }, el('div', { class: 'history-head' }, el('h2', {}, 'History'), refresh), empty, list, more);
  let cursor: string | null = null;
  let loading = false;

  const load = async (reset: boolean): Promise<void> => {
    if (loading) return;
    loading = true;
    more.disabled = true;
    try {
      const page = await api.listHistory({ cursor: reset ? null : cursor, limit: PAGE_SIZE });
      if (reset) replace(list);
      list.append(...page.items.map((job) => renderEntry(job)));
      cursor = page.nextCursor;
      more.hidden = cursor === null;
      empty.hidden = list.children.length > 0;
    } catch (error) {
      actions.report(error);
    } finally {
      loading = false;
      more.disabled = false;
    }
  };

  const renderEntry = (job: Job): HTMLElement => {
    const item = el('li', { class: `history-entry status-${job.status}` });
    const remove = el('button', { type: 'button', class: 'secondary' }, 'Delete');
    remove.addEventListener('click', async () => {
      remove.disabled = true;
      try {
        await api.deleteHistoryEntry(job.id);
        item.remove();
        empty.hidden = list.children.length > 0;
      } catch (error) {
        remove.disabled = false;
        actions.report(error);
      }
    });
    const retry = ['interrupted', 'failed', 'cancelled'].includes(job.status) ? el('button', { type: 'button', class: 'secondary' }, 'Retry') : null;
    retry?.addEventListener('click', async () => {
      retry.disabled = true;
      try {
        await api.retryJob(job.id);
        await load(true);
      } catch (error) {
        retry.disabled = false;
        actions.report(error);
      }
    });
    const reuseJob = el('button', { type: 'button' }, 'Reuse');
    reuseJob.addEventListener('click', () => actions.reuse(job, job.results[0] ?? null));
    const images = job.results.map((image, index) => {
      const reuse = el('button', { type: 'button', class: 'secondary', 'aria-label': `Reuse the settings of seed ${image.seed ?? 'unknown'}` }, 'Reuse this seed');
      reuse.addEventListener('click', () => actions.reuse(job, image));
      return el('li', {}, imageFigure(image, () => actions.open(job.results, index)), reuse);
    });
    const when = job.createdAt === null ? '' : new Date(job.createdAt).toLocaleString();
    replace(
      item,
      el('header', {}, el('span', { class: 'status' }, job.status), ' ', el('time', { datetime: job.createdAt ?? undefined }, when)),
      job.error === null ? null : el('p', { class: 'error' }, job.error),
      images.length > 0 ? el('ul', { class: 'gallery' }, ...images) : null,
      renderParameters(job.request),
      el('div', { class: 'entry-buttons' }, reuseJob, retry, remove),
    );
    return item;
  };

  refresh.addEventListener('click', () => void load(true));
  more.addEventListener('click', () => void load(false));
  return { element, reload: () => load(true) };
}

/** Every field of the request as a term/definition pair; values that are not strings are shown as JSON text. */
export function renderParameters(request: Record<string, unknown>): HTMLElement {
  const rows = Object.entries(request).flatMap(([key, value]) => [
    el('dt', {}, key),
    el('dd', {}, typeof value === 'string' ? value : JSON.stringify(value)),
  ]);
  return el('details', { class: 'parameters' }, el('summary', {}, 'Parameters'), el('dl', {}, ...rows));
}
