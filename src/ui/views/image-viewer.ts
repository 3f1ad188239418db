/**
 * The image viewer: a modal dialog over the page (the browser's own `<dialog>`, so focus stays inside and Escape
 * closes it) with the image at full size, previous / next (buttons and the arrow keys), a download link and "Use
 * as input", which hands the image to the form as the image-to-image input.
 */
import type { ImageResult } from '../api-types.ts';
import { el, setAttrs, setText } from '../dom.ts';
import { describeImage } from './gallery.ts';

export interface ImageViewer {
  element: HTMLDialogElement;
  open(results: readonly ImageResult[], index: number): void;
}

export function createImageViewer(useAsInput: (result: ImageResult) => void): ImageViewer {
  const image = el('img', { class: 'viewer-image', alt: '' });
  const caption = el('p', { class: 'viewer-caption', 'aria-live': 'polite' });
  const previous = el('button', { type: 'button', class: 'secondary', 'aria-keyshortcuts': 'ArrowLeft' }, '← Previous');
  const next = el('button', { type: 'button', class: 'secondary', 'aria-keyshortcuts': 'ArrowRight' }, 'Next →');
  const download = el('a', { class: 'button secondary', download: '' }, 'Download');
  const use = el('button', { type: 'button', class: 'secondary' }, 'Use as input');
  const close = el('button', { type: 'button', class: 'primary' }, 'Close');
  const element = el(
    'dialog',
    { class: 'image-viewer', 'aria-label': 'Image viewer' },
    el('div', { class: 'viewer-frame' }, image),
    el('div', { class: 'viewer-bar' }, caption, el('div', { class: 'viewer-buttons' }, previous, next, download, use, close)),
  );

  let results: readonly ImageResult[] = [];
  let index = 0;
  const show = (at: number): void => {
    if (results.length === 0) return;
    index = (at + results.length) % results.length;
    const result = results[index]!;
    image.src = result.url;
    image.alt = describeImage(result);
    setText(caption, `${describeImage(result)} · image ${index + 1} of ${results.length}`);
    const file = result.url.slice(result.url.lastIndexOf('/') + 1);
    setAttrs(download, { href: result.url, download: file });
    previous.disabled = results.length < 2;
    next.disabled = results.length < 2;
  };

  previous.addEventListener('click', () => show(index - 1));
  next.addEventListener('click', () => show(index + 1));
  close.addEventListener('click', () => element.close());
  use.addEventListener('click', () => {
    const result = results[index];
    element.close();
    if (result !== undefined) useAsInput(result);
  });
  element.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
      event.preventDefault();
      show(index + (event.key === 'ArrowLeft' ? -1 : 1));
    }
  });
  // A click on the backdrop (the dialog element itself, outside its content) closes it.
  element.addEventListener('click', (event) => {
    if (event.target === element) element.close();
  });

  return {
    element,
    open(list, at) {
      results = [...list];
      show(at);
      if (!element.open) element.showModal();
      close.focus();
    },
  };
}
