/** A result image as a button that opens the viewer (never a new tab); its seed is shown as text. */
import type { ImageResult } from '../api-types.ts';
import { el } from '../dom.ts';

export function describeImage(result: ImageResult): string {
  return result.seed === null ? 'Image' : `Seed ${result.seed}`;
}

export function imageFigure(result: ImageResult, open: () => void): HTMLElement {
  const caption = describeImage(result);
  const button = el(
    'button',
    { type: 'button', class: 'image-button', 'aria-label': `Open in the viewer (${caption.toLowerCase()})` },
    el('img', { src: result.url, alt: caption, loading: 'lazy', decoding: 'async' }),
  );
  button.addEventListener('click', open);
  return el('figure', {}, button, el('figcaption', {}, caption));
}
