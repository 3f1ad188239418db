/**
 * The image-to-image input: an image uploaded to the server (`POST /api/v1/uploads`, from a file or from a result
 * through the viewer's "Use as input"), shown as a thumbnail, with the denoise strength and a way to drop it.
 * Generating with it sends `inputImageId` and `denoise`.
 */
import { el, setAttrs, uniqueId } from '../dom.ts';
import { DEFAULT_FORM, type FormValues } from '../form-values.ts';
import { labelled, numberInput, readNumber } from './form-fields.ts';

export interface InputImagePanel {
  element: HTMLElement;
  /** `preview` is a same-origin or blob: address of the image; the panel revokes blob: addresses it is done with. */
  set(imageId: string, preview: string, label: string): void;
  clear(): void;
  read(): Pick<FormValues, 'inputImageId' | 'denoise'>;
}

export function createInputImagePanel(upload: (file: File) => void): InputImagePanel {
  const thumbnail = el('img', { class: 'input-thumbnail', alt: '', hidden: true });
  const status = el('p', { class: 'hint' }, 'None: text to image.');
  const denoise = labelled('Denoise', numberInput('denoise', { step: 0.05, value: DEFAULT_FORM.denoise }), 'How much of the input is redrawn (1: all of it).');
  const remove = el('button', { type: 'button', class: 'secondary', hidden: true }, 'Remove input image');
  const fileId = uniqueId('input-file');
  const file = el('input', { type: 'file', id: fileId, accept: 'image/png,image/jpeg,image/webp', class: 'visually-hidden' });
  const picker = el('span', { class: 'file-picker' }, file, el('label', { for: fileId, class: 'button secondary' }, 'Upload an input image'));
  const element = el(
    'fieldset',
    { class: 'input-image', 'data-field': 'inputImageId' },
    el('legend', {}, 'Input image'),
    thumbnail,
    status,
    el('div', { class: 'entry-buttons' }, picker, remove),
    denoise.row,
  );
  denoise.row.hidden = true;

  let imageId: string | null = null;
  let preview: string | null = null;
  const release = (): void => {
    if (preview?.startsWith('blob:')) URL.revokeObjectURL(preview);
    preview = null;
  };
  const panel: InputImagePanel = {
    element,
    set(id, address, label) {
      release();
      imageId = id;
      preview = address;
      setAttrs(thumbnail, { src: address, alt: `Input image: ${label}`, hidden: false });
      status.textContent = `${label}: image to image, made at the input's size.`;
      remove.hidden = false;
      denoise.row.hidden = false;
    },
    clear() {
      release();
      imageId = null;
      setAttrs(thumbnail, { src: null, alt: '', hidden: true });
      status.textContent = 'None: text to image.';
      remove.hidden = true;
      denoise.row.hidden = true;
    },
    read: () => ({ inputImageId: imageId, denoise: readNumber(denoise.control, DEFAULT_FORM.denoise) }),
  };
  remove.addEventListener('click', () => panel.clear());
  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    file.value = '';
    if (chosen !== undefined) upload(chosen);
  });
  return panel;
}
