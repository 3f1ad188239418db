/**
 * The Image Prompt panel, as Fooocus's: four slots, each an image uploaded to the server (from a file or a drop
 * on the slot) with a type, a stop-at fraction and a weight. As in Fooocus, the type, stop-at and weight show only
 * with "Advanced"; switching Advanced resets every slot to Image Prompt with its defaults, and choosing a type sets
 * that type's defaults. The two mixing switches sit beside Advanced. A PyraCanny or CPDS slot shows the map the
 * server makes of its image, when the server offers the preview route. The panel is hidden on a server whose
 * request schema lacks `imagePrompts`.
 */
import { el, setAttrs, setOptions, uniqueId } from '../dom.ts';
import { PREVIEWED_TYPES } from '../image-prompt-values.ts';
import {
  DEFAULT_IMAGE_PROMPTS,
  defaultImagePromptSlot,
  IMAGE_PROMPT_DEFAULTS,
  IMAGE_PROMPT_SLOTS,
  IMAGE_PROMPT_TYPES,
  isImagePromptType,
  type ImagePromptSlot,
  type ImagePromptValues,
} from '../image-prompt-values.ts';
import type { GenerateContract } from '../request-contract.ts';
import { applyLimits, checkbox, labelled, numberInput, readNumber } from './form-fields.ts';

const TYPE_LABELS: Record<(typeof IMAGE_PROMPT_TYPES)[number], string> = {
  ImagePrompt: 'Image Prompt',
  PyraCanny: 'PyraCanny',
  CPDS: 'CPDS',
  FaceSwap: 'FaceSwap',
};

export interface ImagePromptPanel {
  element: HTMLElement;
  read(): ImagePromptValues;
  /** Restores types, stops, weights and switches (history Reuse); the images are chosen again. */
  fill(values: ImagePromptValues): void;
  /** Shows slot `index`'s uploaded image (`imageId`, its upload; `image`, its bytes for the thumbnail and map). */
  setImage(index: number, imageId: string, image: Blob, label: string): void;
  setContract(contract: GenerateContract): void;
}

/** Asks the server for a PyraCanny or CPDS map of an image. */
export type PreviewControlMap = (image: Blob, type: string) => Promise<Blob>;

interface SlotView {
  element: HTMLElement;
  settings: HTMLElement;
  read(): ImagePromptSlot;
  fill(slot: ImagePromptSlot): void;
  setImage(imageId: string, image: Blob, label: string): void;
  /** Shows the map for the current type (or hides it): after an image, a type or the preview route changed. */
  refreshMap(): void;
}

interface SlotContext {
  upload: (index: number, file: File) => void;
  /** null while the server offers no preview route. */
  previewMap: () => PreviewControlMap | null;
  report: (error: unknown) => void;
}

function createSlot(index: number, context: SlotContext): SlotView {
  const n = index + 1;
  const thumbnail = el('img', { class: 'input-thumbnail', alt: '', hidden: true });
  const status = el('p', { class: 'hint' }, 'Empty.');
  const fileId = uniqueId('ip-file');
  const file = el('input', { type: 'file', id: fileId, accept: 'image/png,image/jpeg,image/webp', class: 'visually-hidden', 'data-ip-file': String(index) });
  const remove = el('button', { type: 'button', class: 'secondary', hidden: true }, 'Remove');
  const type = el('select', { 'data-field': `imagePrompts[${index}].type`, 'aria-label': `Image ${n} type` });
  setOptions(type, IMAGE_PROMPT_TYPES.map((t) => ({ value: t, label: TYPE_LABELS[t] })));
  const stop = labelled('Stop at', numberInput('imagePrompts[].stopAt', { step: 0.001, value: IMAGE_PROMPT_DEFAULTS.ImagePrompt.stopAt }), 'Active while step < stop at × steps.');
  const weight = labelled('Weight', numberInput('imagePrompts[].weight', { step: 0.001, value: IMAGE_PROMPT_DEFAULTS.ImagePrompt.weight }));
  setAttrs(stop.control, { 'data-field': `imagePrompts[${index}].stopAt` });
  setAttrs(weight.control, { 'data-field': `imagePrompts[${index}].weight` });
  const settings = el('div', { class: 'ip-settings', hidden: true }, labelled('Type', type).row, stop.row, weight.row);
  const map = el('img', { class: 'input-thumbnail ip-map', alt: '', hidden: true });
  const element = el(
    'fieldset',
    { class: 'ip-slot', 'data-field': `imagePrompts[${index}]`, 'data-ip-slot': String(index) },
    el('legend', {}, `Image ${n}`),
    thumbnail,
    status,
    el('div', { class: 'entry-buttons' }, el('span', { class: 'file-picker' }, file, el('label', { for: fileId, class: 'button secondary' }, 'Upload')), remove),
    settings,
    map,
  );

  let imageId: string | null = null;
  let image: Blob | null = null;
  let preview: string | null = null;
  let mapAddress: string | null = null;
  /** Counts map requests, so an answer that arrives after a newer request (or a clear) is dropped. */
  let mapRequest = 0;
  const hideMap = (): void => {
    mapRequest++;
    if (mapAddress !== null) URL.revokeObjectURL(mapAddress);
    mapAddress = null;
    setAttrs(map, { src: null, alt: '', hidden: true });
  };
  const refreshMap = (): void => {
    hideMap();
    const fetchMap = context.previewMap();
    const chosen = type.value;
    if (image === null || fetchMap === null || !PREVIEWED_TYPES.has(chosen)) return;
    const ticket = mapRequest;
    fetchMap(image, chosen).then(
      (png) => {
        if (ticket !== mapRequest) return;
        mapAddress = URL.createObjectURL(png);
        setAttrs(map, { src: mapAddress, alt: `${TYPE_LABELS[chosen as keyof typeof TYPE_LABELS]} map of image ${n}`, hidden: false });
      },
      (error: unknown) => {
        if (ticket === mapRequest) context.report(error);
      },
    );
  };
  const clear = (): void => {
    if (preview !== null) URL.revokeObjectURL(preview);
    preview = null;
    imageId = null;
    image = null;
    hideMap();
    setAttrs(thumbnail, { src: null, alt: '', hidden: true });
    status.textContent = 'Empty.';
    remove.hidden = true;
  };
  const setDefaults = (): void => {
    const defaults = IMAGE_PROMPT_DEFAULTS[isImagePromptType(type.value) ? type.value : 'ImagePrompt'];
    stop.control.value = String(defaults.stopAt);
    weight.control.value = String(defaults.weight);
  };
  type.addEventListener('change', () => {
    setDefaults();
    refreshMap();
  });
  remove.addEventListener('click', clear);
  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    file.value = '';
    if (chosen !== undefined) context.upload(index, chosen);
  });
  element.addEventListener('dragover', (event) => {
    if (!(event.dataTransfer?.types.includes('Files') ?? false)) return;
    event.preventDefault();
    event.stopPropagation();
  });
  element.addEventListener('drop', (event) => {
    const dropped = event.dataTransfer?.files[0];
    if (dropped === undefined) return;
    event.preventDefault();
    event.stopPropagation();
    context.upload(index, dropped);
  });

  return {
    element,
    settings,
    read: () => {
      const chosen = isImagePromptType(type.value) ? type.value : 'ImagePrompt';
      const defaults = IMAGE_PROMPT_DEFAULTS[chosen];
      return { imageId, type: chosen, stopAt: readNumber(stop.control, defaults.stopAt), weight: readNumber(weight.control, defaults.weight) };
    },
    fill(slot) {
      type.value = slot.type;
      stop.control.value = String(slot.stopAt);
      weight.control.value = String(slot.weight);
      refreshMap();
    },
    setImage(id, bytes, label) {
      clear();
      imageId = id;
      image = bytes;
      preview = URL.createObjectURL(bytes);
      setAttrs(thumbnail, { src: preview, alt: `Image ${n}: ${label}`, hidden: false });
      status.textContent = label;
      remove.hidden = false;
      refreshMap();
    },
    refreshMap,
  };
}

export function createImagePromptPanel(upload: (index: number, file: File) => void, previewMap: PreviewControlMap, report: (error: unknown) => void): ImagePromptPanel {
  let previewOffered = false;
  const context: SlotContext = { upload, previewMap: () => (previewOffered ? previewMap : null), report };
  const slots = Array.from({ length: IMAGE_PROMPT_SLOTS }, (_, i) => createSlot(i, context));
  const advanced = checkbox('Advanced', DEFAULT_IMAGE_PROMPTS.advanced);
  const mixVary = checkbox('Mixing Image Prompt and Vary/Upscale', false);
  const mixInpaint = checkbox('Mixing Image Prompt and Inpaint', false);
  const element = el(
    'details',
    { class: 'image-prompts', 'data-field': 'imagePrompts' },
    el('summary', {}, 'Image Prompt'),
    el('div', { class: 'ip-slots' }, ...slots.map((s) => s.element)),
    el('div', { class: 'choices' }, advanced.row, mixVary.row, mixInpaint.row),
  );
  const showAdvanced = (on: boolean): void => {
    for (const s of slots) s.settings.hidden = !on;
  };
  advanced.control.addEventListener('change', () => {
    // Fooocus resets every slot to Image Prompt and its defaults whenever Advanced is switched.
    for (const s of slots) s.fill(defaultImagePromptSlot());
    showAdvanced(advanced.control.checked);
  });
  return {
    element,
    read: () => ({ slots: slots.map((s) => s.read()), advanced: advanced.control.checked, mixVary: mixVary.control.checked, mixInpaint: mixInpaint.control.checked }),
    fill(values) {
      values.slots.forEach((slot, i) => slots[i]?.fill(slot));
      advanced.control.checked = values.advanced;
      mixVary.control.checked = values.mixVary;
      mixInpaint.control.checked = values.mixInpaint;
      showAdvanced(values.advanced);
      if (values.slots.length > 0) (element as HTMLDetailsElement).open = true;
    },
    setImage(index, imageId, image, label) {
      slots[index]?.setImage(imageId, image, label);
    },
    setContract(contract) {
      applyLimits(element, contract);
      element.hidden = !contract.fields.has('imagePrompts');
      mixVary.row.hidden = !contract.fields.has('mixImagePromptAndVary');
      mixInpaint.row.hidden = !contract.fields.has('mixImagePromptAndInpaint');
      previewOffered = contract.imagePromptPreview === true;
      for (const s of slots) s.refreshMap();
    },
  };
}
