/**
 * The Input Image panel, as Fooocus's: an image uploaded to the server (`POST /api/v1/uploads`, from a file, a
 * drop on the panel, or a result through the viewer's "Use as input") and what to do with it, one tab each:
 * image to image (denoise), Upscale or Variation, Inpaint or Outpaint (the mask drawn over the image). The tab
 * chosen decides what a generate request sends: `denoise`, `varyUpscale` or `inpaint` with `inputImageId`. Tabs the
 * server's request schema lacks are not shown.
 */
import { el, setAttrs, uniqueId } from '../dom.ts';
import type { ModelInfo } from '../api-types.ts';
import { DEFAULT_FORM, type FormValues } from '../form-values.ts';
import { DEFAULT_INPUT_IMAGE, type InputImageValues } from '../input-image-values.ts';
import type { GenerateContract } from '../request-contract.ts';
import { applyLimits, labelled, numberInput, readNumber } from './form-fields.ts';
import { createEnhanceOptions } from './enhance-options.ts';
import { createInpaintOptions } from './inpaint-options.ts';
import { createMaskCanvas } from './mask-canvas.ts';
import { createUpscaleOptions } from './upscale-options.ts';
import { createDescribeControl, type DescribeType } from './describe-control.ts';

type Tab = InputImageValues['tab'];

export interface InputImagePanel {
  element: HTMLElement;
  /**
   * `preview` is a same-origin or blob: address of the image; the panel revokes blob: addresses it is done with.
   * `image` is the uploaded bytes, kept for Describe (the page may not fetch blob: addresses).
   */
  set(imageId: string, preview: string, label: string, image: Blob): void;
  clear(): void;
  read(): Pick<FormValues, 'inputImageId' | 'denoise' | 'inputImage'>;
  /** Restores a mode and its choices (history Reuse); the mask and image are chosen again. */
  fill(values: InputImageValues): void;
  setContract(contract: GenerateContract): void;
  setModels(models: readonly ModelInfo[]): void;
  /**
   * The mask to send with an inpaint: the id of its upload (uploading the drawn mask once per change through
   * `upload`), or null when nothing is drawn.
   */
  resolveMask(upload: (png: Blob) => Promise<string>): Promise<string | null>;
}

const TAB_LABELS: Record<Tab, string> = { image: 'Image to image', uov: 'Upscale or Variation', inpaint: 'Inpaint or Outpaint', enhance: 'Enhance' };

/** `describe` sends the input image to Describe and fills the prompt with the answer (see describe-control.ts). */
export function createInputImagePanel(upload: (file: File) => void, describe: (image: Blob, type: DescribeType) => Promise<string>): InputImagePanel {
  const thumbnail = el('img', { class: 'input-thumbnail', alt: '', hidden: true });
  const status = el('p', { class: 'hint' }, 'None: text to image. Drop an image here or upload one.');
  const denoise = labelled('Denoise', numberInput('denoise', { step: 0.05, value: DEFAULT_FORM.denoise }), 'How much of the input is redrawn (1: all of it).');
  const remove = el('button', { type: 'button', class: 'secondary', hidden: true }, 'Remove input image');
  const fileId = uniqueId('input-file');
  const file = el('input', { type: 'file', id: fileId, accept: 'image/png,image/jpeg,image/webp', class: 'visually-hidden' });
  const picker = el('span', { class: 'file-picker' }, file, el('label', { for: fileId, class: 'button secondary' }, 'Upload an input image'));
  const upscale = createUpscaleOptions();
  const inpaint = createInpaintOptions();
  const mask = createMaskCanvas();
  const enhance = createEnhanceOptions();
  const describer = createDescribeControl(async (type) => {
    if (source === null) throw new Error('Upload an input image first.');
    return describe(source, type);
  });
  describer.element.hidden = true;

  // Tabs (WAI-ARIA tabs pattern): one button per mode, one panel each.
  const tabIds = uniqueId('input-tab');
  const panels: Record<Tab, HTMLElement> = {
    image: el('div', { role: 'tabpanel' }, denoise.row),
    uov: el('div', { role: 'tabpanel' }, upscale.element),
    inpaint: el('div', { role: 'tabpanel' }, mask.element, inpaint.element),
    enhance: el('div', { role: 'tabpanel' }, enhance.element),
  };
  const tabs = (Object.keys(panels) as Tab[]).map((tab) => {
    const button = el('button', { type: 'button', role: 'tab', id: `${tabIds}-${tab}`, 'aria-controls': `${tabIds}-${tab}-panel`, 'aria-selected': 'false', tabindex: '-1', 'data-tab': tab }, TAB_LABELS[tab]);
    setAttrs(panels[tab], { id: `${tabIds}-${tab}-panel`, 'aria-labelledby': button.id, hidden: true });
    return button;
  });
  const tabList = el('div', { role: 'tablist', 'aria-label': 'What to do with the input image', class: 'input-tabs' }, ...tabs);
  const modes = el('div', { class: 'input-modes', hidden: true }, tabList, ...Object.values(panels));
  const element = el(
    'fieldset',
    { class: 'input-image', 'data-field': 'inputImageId' },
    el('legend', {}, 'Input image'),
    thumbnail,
    status,
    el('div', { class: 'entry-buttons' }, picker, remove),
    describer.element,
    modes,
  );

  let current: Tab = 'image';
  const select = (tab: Tab, focus = false): void => {
    current = tab;
    for (const button of tabs) {
      const chosen = button.dataset.tab === tab;
      setAttrs(button, { 'aria-selected': String(chosen), tabindex: chosen ? '0' : '-1' });
      panels[button.dataset.tab as Tab].hidden = !chosen;
      if (chosen && focus) button.focus();
    }
  };
  for (const button of tabs) button.addEventListener('click', () => select(button.dataset.tab as Tab));
  tabList.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const shown = tabs.filter((t) => !t.hidden);
    const at = shown.findIndex((t) => t.dataset.tab === current);
    const next = shown[(at + (event.key === 'ArrowRight' ? 1 : shown.length - 1)) % shown.length];
    if (next !== undefined) select(next.dataset.tab as Tab, true);
    event.preventDefault();
  });
  select('image');

  let imageId: string | null = null;
  let preview: string | null = null;
  let source: Blob | null = null;
  /** The upload of the mask as drawn now; dropped whenever the mask changes. */
  let maskUpload: Promise<string> | null = null;
  mask.onChange(() => (maskUpload = null));
  const release = (): void => {
    if (preview?.startsWith('blob:')) URL.revokeObjectURL(preview);
    preview = null;
  };

  const panel: InputImagePanel = {
    element,
    set(id, address, label, image) {
      release();
      imageId = id;
      source = image;
      preview = address;
      setAttrs(thumbnail, { src: address, alt: `Input image: ${label}`, hidden: false });
      status.textContent = `${label}: choose what to do with it below.`;
      remove.hidden = false;
      modes.hidden = false;
      describer.element.hidden = false;
      // The mask is drawn in the image's own pixels, so it waits for the image's size.
      const probe = new Image();
      probe.addEventListener('load', () => mask.setImage(address, probe.naturalWidth, probe.naturalHeight), { once: true });
      probe.src = address;
    },
    clear() {
      release();
      imageId = null;
      source = null;
      setAttrs(thumbnail, { src: null, alt: '', hidden: true });
      status.textContent = 'None: text to image. Drop an image here or upload one.';
      remove.hidden = true;
      modes.hidden = true;
      describer.element.hidden = true;
      mask.element.hidden = true;
      maskUpload = null;
    },
    read: () => ({
      inputImageId: imageId,
      denoise: readNumber(denoise.control, DEFAULT_FORM.denoise),
      inputImage: { ...DEFAULT_INPUT_IMAGE, tab: current, ...upscale.read(), ...inpaint.read(), ...enhance.read(), describeFirst: describer.readDescribeFirst() },
    }),
    fill(values) {
      describer.fillDescribeFirst(values.describeFirst);
      upscale.fill(values);
      inpaint.fill(values);
      enhance.fill(values);
      const tab = tabs.find((t) => t.dataset.tab === values.tab && !t.hidden);
      select(tab === undefined ? 'image' : values.tab);
    },
    setContract(contract) {
      applyLimits(element, contract);
      upscale.setModes(contract.varyUpscaleModes);
      inpaint.setChoices(contract.inpaintModes, contract.inpaintEngines);
      inpaint.setContract(contract);
      for (const button of tabs) {
        const tab = button.dataset.tab as Tab;
        button.hidden = (tab === 'uov' && !contract.fields.has('varyUpscale')) || (tab === 'inpaint' && !contract.fields.has('inpaint')) || (tab === 'enhance' && !contract.fields.has('enhance'));
      }
      if (tabs.find((t) => t.dataset.tab === current)?.hidden === true) select('image');
    },
    setModels: (models) => upscale.setModels(models),
    async resolveMask(send) {
      if (mask.element.hidden || mask.isEmpty()) return null;
      if (maskUpload === null) {
        const png = await mask.toPng();
        if (png === null) return null;
        maskUpload = send(png);
        // A failed upload is not kept: the next generate tries again.
        maskUpload.catch(() => (maskUpload = null));
      }
      return maskUpload;
    },
  };
  remove.addEventListener('click', () => panel.clear());
  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    file.value = '';
    if (chosen !== undefined) upload(chosen);
  });
  // A file dropped on the panel is the input image (elsewhere on the page, a dropped PNG fills the form from its metadata).
  element.addEventListener('dragover', (event) => {
    if (!(event.dataTransfer?.types.includes('Files') ?? false)) return;
    event.preventDefault();
    event.stopPropagation();
    element.classList.add('dropping');
  });
  element.addEventListener('dragleave', () => element.classList.remove('dropping'));
  element.addEventListener('drop', (event) => {
    element.classList.remove('dropping');
    const dropped = event.dataTransfer?.files[0];
    if (dropped === undefined) return;
    event.preventDefault();
    event.stopPropagation();
    upload(dropped);
  });
  return panel;
}
