/**
 * The "Enhance" tab of the Input Image panel: up to three tabs as Fooocus has them, each a detection prompt (what
 * to find), the prompt and negative prompt to repaint it with (empty: the main ones), the strength, erode/dilate
 * and invert; and Enhance's own Upscale or Vary, before the first tab or after the last. The server finds the region
 * and skips a tab that finds nothing.
 */
import { el } from '../dom.ts';
import { EMPTY_ENHANCE_TAB, ENHANCE_TAB_COUNT, type EnhanceTabValues, type InputImageValues } from '../input-image-values.ts';
import { checkbox, labelled, numberInput, readNumber, readOptionalNumber, selectInput } from './form-fields.ts';

type EnhanceValues = Pick<InputImageValues, 'enhanceTabs' | 'enhanceVary' | 'enhanceVaryOrder'>;

export interface EnhanceOptions {
  element: HTMLElement;
  read(): EnhanceValues;
  fill(values: EnhanceValues): void;
}

/** Enhance's Upscale or Vary choices (the API's `varyUpscale` modes; an upscale uses the server's default upscaler). */
const VARY_LABELS: readonly (readonly [string, string])[] = [
  ['', 'None'],
  ['vary-subtle', 'Vary (Subtle)'],
  ['vary-strong', 'Vary (Strong)'],
  ['upscale-1.5x', 'Upscale (1.5x)'],
  ['upscale-2x', 'Upscale (2x)'],
  ['upscale-fast-2x', 'Upscale (Fast 2x)'],
];

function createVaryEditor() {
  const mode = labelled('Upscale or Variation', selectInput('enhance.varyUpscale.mode'), 'Run as part of Enhance, on the whole image.');
  mode.control.append(...VARY_LABELS.map(([value, label]) => el('option', { value }, label)));
  const order = labelled('Order', selectInput('enhance.varyUpscaleOrder'));
  order.control.append(el('option', { value: 'before' }, 'Before the tabs'), el('option', { value: 'after' }, 'After the tabs'));
  const sync = () => {
    order.control.disabled = mode.control.value === '';
  };
  mode.control.addEventListener('change', sync);
  sync();
  return {
    element: el('div', { class: 'enhance-vary' }, mode.row, order.row),
    read: (): Pick<InputImageValues, 'enhanceVary' | 'enhanceVaryOrder'> => ({ enhanceVary: mode.control.value, enhanceVaryOrder: order.control.value === 'after' ? 'after' : 'before' }),
    fill(values: Pick<InputImageValues, 'enhanceVary' | 'enhanceVaryOrder'>) {
      mode.control.value = VARY_LABELS.some(([value]) => value === values.enhanceVary) ? values.enhanceVary : '';
      order.control.value = values.enhanceVaryOrder;
      sync();
    },
  };
}

function createTabEditor(index: number) {
  const detect = labelled('Detection prompt', el('input', { type: 'text', 'data-field': `enhance.tabs[${index}].detectionPrompt`, placeholder: 'face, hand, person, background' }), 'What to find: person, foreground or background (a foreground-mask model), or anything else such as face or hand (GroundingDINO and SAM).');
  const prompt = labelled('Enhance prompt', el('input', { type: 'text', 'data-field': `enhance.tabs[${index}].prompt` }), 'Empty: the main prompt.');
  const negative = labelled('Enhance negative prompt', el('input', { type: 'text', 'data-field': `enhance.tabs[${index}].negative` }), 'Empty: the main negative prompt.');
  const strength = labelled('Enhance strength', numberInput(`enhance.tabs[${index}].strength`, { step: 0.05, value: 1 }), 'Denoise of the region (default 1.0).');
  strength.control.value = '';
  const erode = labelled('Enhance mask erode or dilate', numberInput(`enhance.tabs[${index}].maskErode`, { step: 1, value: 0 }), 'Positive shrinks the found mask, negative grows it (pixels).');
  const invert = checkbox('Invert the found mask', false);
  const element = el('fieldset', { class: 'enhance-tab', 'data-enhance-tab': String(index) }, el('legend', {}, `Enhance #${index + 1}`), detect.row, prompt.row, negative.row, strength.row, erode.row, invert.row);
  return {
    element,
    read: (): EnhanceTabValues => ({
      detectionPrompt: detect.control.value,
      prompt: prompt.control.value,
      negative: negative.control.value,
      strength: readOptionalNumber(strength.control),
      maskErode: readNumber(erode.control, 0),
      invertMask: invert.control.checked,
    }),
    fill(values: EnhanceTabValues) {
      detect.control.value = values.detectionPrompt;
      prompt.control.value = values.prompt;
      negative.control.value = values.negative;
      strength.control.value = values.strength === null ? '' : String(values.strength);
      erode.control.value = String(values.maskErode);
      invert.control.checked = values.invertMask;
    },
  };
}

export function createEnhanceOptions(): EnhanceOptions {
  const editors = Array.from({ length: ENHANCE_TAB_COUNT }, (_, i) => createTabEditor(i));
  const vary = createVaryEditor();
  const element = el('div', { class: 'enhance-options' }, el('p', { class: 'hint' }, 'Each tab finds a region of the input image and repaints it; the next works on the result. A tab that finds nothing is skipped.'), vary.element, ...editors.map((e) => e.element));
  return {
    element,
    read: () => ({ enhanceTabs: editors.map((e) => e.read()), ...vary.read() }),
    fill(values) {
      editors.forEach((e, i) => e.fill(values.enhanceTabs[i] ?? EMPTY_ENHANCE_TAB));
      vary.fill(values);
    },
  };
}
