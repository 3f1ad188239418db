/**
 * The Image Prompt panel, as Fooocus's: four slots, each an image uploaded to the server (from a file or a drop
 * on the slot) with a type, a stop-at fraction and a weight. As in Fooocus, the type, stop-at and weight show only
 * with "Advanced"; switching Advanced resets every slot to Image Prompt with its defaults, and choosing a type sets
 * that type's defaults. The two mixing switches sit beside Advanced. The panel is hidden on a server whose request
 * schema lacks `imagePrompts`.
 */
import { el, setAttrs, setOptions, uniqueId } from '../dom.ts';
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
  /** Shows slot `index`'s uploaded image; `preview` is a blob: or same-origin address the panel revokes when done. */
  setImage(index: number, imageId: string, preview: string, label: string): void;
  setContract(contract: GenerateContract): void;
}

interface SlotView {
  element: HTMLElement;
  settings: HTMLElement;
  read(): ImagePromptSlot;
  fill(slot: ImagePromptSlot): void;
  setImage(imageId: string, preview: string, label: string): void;
}

function createSlot(index: number, upload: (index: number, file: File) => void): SlotView {
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
  const element = el(
    'fieldset',
    { class: 'ip-slot', 'data-field': `imagePrompts[${index}]`, 'data-ip-slot': String(index) },
    el('legend', {}, `Image ${n}`),
    thumbnail,
    status,
    el('div', { class: 'entry-buttons' }, el('span', { class: 'file-picker' }, file, el('label', { for: fileId, class: 'button secondary' }, 'Upload')), remove),
    settings,
  );

  let imageId: string | null = null;
  let preview: string | null = null;
  const clear = (): void => {
    if (preview?.startsWith('blob:')) URL.revokeObjectURL(preview);
    preview = null;
    imageId = null;
    setAttrs(thumbnail, { src: null, alt: '', hidden: true });
    status.textContent = 'Empty.';
    remove.hidden = true;
  };
  const setDefaults = (): void => {
    const defaults = IMAGE_PROMPT_DEFAULTS[isImagePromptType(type.value) ? type.value : 'ImagePrompt'];
    stop.control.value = String(defaults.stopAt);
    weight.control.value = String(defaults.weight);
  };
  type.addEventListener('change', setDefaults);
  remove.addEventListener('click', clear);
  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    file.value = '';
    if (chosen !== undefined) upload(index, chosen);
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
    upload(index, dropped);
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
    },
    setImage(id, address, label) {
      clear();
      imageId = id;
      preview = address;
      setAttrs(thumbnail, { src: address, alt: `Image ${n}: ${label}`, hidden: false });
      status.textContent = label;
      remove.hidden = false;
    },
  };
}

export function createImagePromptPanel(upload: (index: number, file: File) => void): ImagePromptPanel {
  const slots = Array.from({ length: IMAGE_PROMPT_SLOTS }, (_, i) => createSlot(i, upload));
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
    setImage(index, imageId, preview, label) {
      slots[index]?.setImage(imageId, preview, label);
    },
    setContract(contract) {
      applyLimits(element, contract);
      element.hidden = !contract.fields.has('imagePrompts');
      mixVary.row.hidden = !contract.fields.has('mixImagePromptAndVary');
      mixInpaint.row.hidden = !contract.fields.has('mixImagePromptAndInpaint');
    },
  };
}
