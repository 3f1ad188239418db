/**
 * The run's results as Fooocus shows them: one large canvas filling the main column (the live preview while an
 * image is sampled, then the latest result), and the run's images as a strip of thumbnails below the prompt.
 * Clicking the canvas or a thumbnail opens the viewer on that image.
 */
import type { ImageResult } from '../api-types.ts';
import { el, replace, setAttrs } from '../dom.ts';
import type { RunState } from '../job-run.ts';
import { describeImage } from './gallery.ts';

export interface ResultView {
  /** The canvas, placed above the prompt. */
  canvas: HTMLElement;
  /** The strip of this run's images, placed below the prompt. */
  strip: HTMLElement;
  render(state: RunState): void;
}

export function createResultView(open: (results: ImageResult[], index: number) => void): ResultView {
  const preview = el('img', { class: 'canvas-image', alt: 'Live preview of the image being generated', hidden: true });
  const latest = el('img', { class: 'canvas-image', alt: '', decoding: 'async' });
  const latestButton = el('button', { type: 'button', class: 'canvas-open', hidden: true }, latest);
  const empty = el('p', { class: 'canvas-empty' }, 'Your images appear here.');
  const canvas = el('section', { class: 'result-canvas', 'aria-label': 'Latest image' }, preview, latestButton, empty);
  const list = el('ul', { class: 'result-strip' });
  const strip = el('section', { class: 'strip-panel', 'aria-label': 'Results', hidden: true }, list);

  let results: ImageResult[] = [];
  latestButton.addEventListener('click', () => open(results, results.length - 1));

  return {
    canvas,
    strip,
    render(state) {
      const sampling = state.previewPng !== null && (state.phase === 'running' || state.phase === 'queued');
      if (state.previewPng !== null) preview.src = `data:image/png;base64,${state.previewPng}`;
      preview.hidden = !sampling;
      const last = state.results[state.results.length - 1];
      latestButton.hidden = sampling || last === undefined;
      empty.hidden = sampling || last !== undefined;
      if (last !== undefined && latest.getAttribute('src') !== last.url) {
        setAttrs(latest, { src: last.url, alt: `Latest image, ${describeImage(last).toLowerCase()}` });
        setAttrs(latestButton, { 'aria-label': `Open the latest image in the viewer (${describeImage(last).toLowerCase()})` });
      }
      if (state.results === results) return;
      results = state.results;
      strip.hidden = results.length === 0;
      replace(
        list,
        ...results.map((result, index) => {
          const thumb = el(
            'button',
            { type: 'button', class: 'image-button', 'aria-label': `Open image ${index + 1} in the viewer (${describeImage(result).toLowerCase()})` },
            el('img', { src: result.url, alt: describeImage(result), loading: 'lazy', decoding: 'async' }),
          );
          thumb.addEventListener('click', () => open(results, index));
          return el('li', {}, thumb);
        }),
      );
    },
  };
}
