/** The results of the current run: each image links to its full file; its seed is shown as text. */
import type { ImageResult } from '../api-types.ts';
import { el, replace } from '../dom.ts';

export interface Gallery {
  element: HTMLElement;
  render(results: ImageResult[]): void;
}

export function createGallery(): Gallery {
  const list = el('ul', { class: 'gallery' });
  const element = el('section', { class: 'gallery-panel', 'aria-label': 'Results' }, list);
  let shown: ImageResult[] = [];
  return {
    element,
    render(results) {
      if (results === shown) return;
      shown = results;
      replace(list, ...results.map((result) => el('li', {}, imageFigure(result))));
    },
  };
}

export function imageFigure(result: ImageResult): HTMLElement {
  const caption = result.seed === null ? 'Generated image' : `Seed ${result.seed}`;
  return el(
    'figure',
    {},
    el('a', { href: result.url, target: '_blank', rel: 'noopener' }, el('img', { src: result.url, alt: caption, loading: 'lazy', decoding: 'async' })),
    el('figcaption', {}, caption),
  );
}
