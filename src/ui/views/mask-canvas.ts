/**
 * The inpaint mask drawn over the input image: a canvas the size of the image (in the image's own pixels, scaled
 * to the page by CSS) laid over it. Brush and eraser follow pointer events, so a mouse, a pen and a finger all draw
 * (`touch-action: none` keeps a finger from scrolling the page instead); size, clear and invert act on the whole
 * mask. The mask is painted opaque white on transparency and exported as a PNG of the image's size, which the
 * server reads by its alpha (and, were it fully painted, by its luminance: white either way).
 */
import { el, setAttrs, uniqueId } from '../dom.ts';
import { checkbox, labelled } from './form-fields.ts';

export interface MaskCanvas {
  element: HTMLElement;
  /** Shows the image (a same-origin or blob: address) of `width` x `height` pixels and starts an empty mask. */
  setImage(address: string, width: number, height: number): void;
  clear(): void;
  /** Whether no pixel is painted (more than half opaque). */
  isEmpty(): boolean;
  /** The mask as a PNG of the image's size; null before an image is set. */
  toPng(): Promise<Blob | null>;
  /** Called after every change of the mask (a stroke, clear, invert, a new image). */
  onChange(listener: () => void): void;
}

const PAINT = '#ffffff';

export function createMaskCanvas(): MaskCanvas {
  const image = el('img', { class: 'mask-image', alt: 'The input image under the mask', draggable: 'false' });
  const canvas = el('canvas', { class: 'mask-layer', width: 1, height: 1, tabindex: '0', 'data-field': 'inpaint.mask', 'aria-label': 'Inpaint mask: draw over the area to repaint with a mouse, pen or finger' });
  const stage = el('div', { class: 'mask-stage' }, image, canvas);
  const context = canvas.getContext('2d', { willReadFrequently: true });

  const toolName = uniqueId('mask-tool');
  const brush = el('input', { type: 'radio', name: toolName, value: 'brush', checked: true, id: `${toolName}-brush` });
  const eraser = el('input', { type: 'radio', name: toolName, value: 'eraser', id: `${toolName}-eraser` });
  const tools = el(
    'fieldset',
    { class: 'mask-tools' },
    el('legend', {}, 'Mask'),
    el('span', { class: 'choice' }, brush, el('label', { for: brush.id }, 'Brush')),
    el('span', { class: 'choice' }, eraser, el('label', { for: eraser.id }, 'Eraser')),
  );
  const size = labelled('Brush size', el('input', { type: 'range', min: 1, max: 256, step: 1, value: 32 }), 'In pixels of the image.');
  const clearButton = el('button', { type: 'button', class: 'secondary' }, 'Clear mask');
  const invertButton = el('button', { type: 'button', class: 'secondary' }, 'Invert mask');
  const overlay = checkbox('Show mask', true);
  const element = el('div', { class: 'mask-canvas', hidden: true }, stage, el('div', { class: 'mask-controls' }, tools, size.row, el('div', { class: 'entry-buttons' }, clearButton, invertButton), overlay.row));

  const listeners: (() => void)[] = [];
  const changed = (): void => listeners.forEach((listener) => listener());
  let last: { x: number; y: number } | null = null;

  /** Pointer position in image pixels (the canvas is scaled by CSS). */
  const locate = (event: PointerEvent): { x: number; y: number } => {
    const box = canvas.getBoundingClientRect();
    return { x: ((event.clientX - box.left) * canvas.width) / box.width, y: ((event.clientY - box.top) * canvas.height) / box.height };
  };
  const stroke = (from: { x: number; y: number }, to: { x: number; y: number }): void => {
    if (context === null) return;
    context.globalCompositeOperation = eraser.checked ? 'destination-out' : 'source-over';
    context.strokeStyle = PAINT;
    context.fillStyle = PAINT;
    context.lineWidth = Number(size.control.value);
    context.lineCap = 'round';
    context.lineJoin = 'round';
    context.beginPath();
    if (from.x === to.x && from.y === to.y) {
      context.arc(to.x, to.y, context.lineWidth / 2, 0, Math.PI * 2);
      context.fill();
      return;
    }
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
  };
  canvas.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    last = locate(event);
    stroke(last, last);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (last === null) return;
    const next = locate(event);
    stroke(last, next);
    last = next;
  });
  const end = (event: PointerEvent): void => {
    if (last === null) return;
    last = null;
    if (canvas.hasPointerCapture(event.pointerId)) canvas.releasePointerCapture(event.pointerId);
    changed();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  const mask: MaskCanvas = {
    element,
    setImage(address, width, height) {
      setAttrs(image, { src: address });
      setAttrs(canvas, { width, height });
      size.control.value = String(Math.max(4, Math.round(Math.min(width, height) / 16)));
      element.hidden = false;
      mask.clear();
    },
    clear() {
      context?.clearRect(0, 0, canvas.width, canvas.height);
      changed();
    },
    isEmpty() {
      if (context === null) return true;
      const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 127) return false;
      return true;
    },
    toPng: () =>
      new Promise((resolve) => {
        if (element.hidden) resolve(null);
        else canvas.toBlob((blob) => resolve(blob), 'image/png');
      }),
    onChange: (listener) => void listeners.push(listener),
  };
  clearButton.addEventListener('click', () => mask.clear());
  invertButton.addEventListener('click', () => {
    if (context === null) return;
    // xor with an opaque layer: painted becomes clear, clear becomes painted.
    context.globalCompositeOperation = 'xor';
    context.fillStyle = PAINT;
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.globalCompositeOperation = 'source-over';
    changed();
  });
  overlay.control.addEventListener('change', () => canvas.classList.toggle('mask-faint', !overlay.control.checked));
  return mask;
}
