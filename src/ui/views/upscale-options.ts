/**
 * The "Upscale or Variation" tab: Fooocus's modes (plus a custom factor), and which installed upscaler to use.
 * The modes offered are those the request schema lists; the upscalers those the server's model list names.
 */
import { el, setOptions, uniqueId } from '../dom.ts';
import type { ModelInfo } from '../api-types.ts';
import type { InputImageValues } from '../input-image-values.ts';
import { labelled, numberInput, readNumber, selectInput } from './form-fields.ts';

/** Fooocus's labels for the modes; a mode the server adds later shows by its id. */
const MODE_LABELS: Record<string, string> = {
  'vary-subtle': 'Vary (Subtle)',
  'vary-strong': 'Vary (Strong)',
  'upscale-1.5x': 'Upscale (1.5x)',
  'upscale-2x': 'Upscale (2x)',
  'upscale-fast-2x': 'Upscale (Fast 2x)',
  'upscale-custom': 'Upscale (custom factor)',
};

export interface UpscaleOptions {
  element: HTMLElement;
  setModes(modes: readonly string[]): void;
  setModels(models: readonly ModelInfo[]): void;
  read(): Pick<InputImageValues, 'uovMode' | 'upscaler' | 'upscaleFactor'>;
  fill(values: Pick<InputImageValues, 'uovMode' | 'upscaler' | 'upscaleFactor'>): void;
}

export function createUpscaleOptions(): UpscaleOptions {
  const name = uniqueId('uov-mode');
  const modes = el('fieldset', { class: 'choices', 'data-field': 'varyUpscale.mode' }, el('legend', {}, 'Upscale or Variation'));
  let radios: HTMLInputElement[] = [];
  const upscaler = labelled('Upscaler', selectInput('varyUpscale.upscaler'), 'Used by the upscale modes; Default is Fooocus\'s upscaler, else the only one installed.');
  const factor = labelled('Upscale factor', numberInput('varyUpscale.factor', { step: 0.25, value: 2 }), 'For Upscale (custom factor).');
  const element = el('div', { class: 'uov-options' }, modes, upscaler.row, factor.row);
  setOptions(upscaler.control, [{ value: '', label: 'Default' }]);

  const showFields = (): void => {
    const mode = radios.find((r) => r.checked)?.value ?? '';
    factor.row.hidden = mode !== 'upscale-custom';
    upscaler.row.hidden = !mode.startsWith('upscale-');
  };
  const options: UpscaleOptions = {
    element,
    setModes(list) {
      const chosen = radios.find((r) => r.checked)?.value ?? list[0];
      radios = list.map((mode) => el('input', { type: 'radio', name, value: mode, id: `${name}-${mode}`, checked: mode === chosen }));
      modes.replaceChildren(el('legend', {}, 'Upscale or Variation'), ...radios.map((r) => el('span', { class: 'choice' }, r, el('label', { for: r.id }, MODE_LABELS[r.value] ?? r.value))));
      for (const radio of radios) radio.addEventListener('change', showFields);
      showFields();
    },
    setModels(models) {
      setOptions(upscaler.control, [{ value: '', label: 'Default' }, ...models.filter((m) => m.kind === 'upscaler').map((m) => ({ value: m.name, label: m.name }))]);
    },
    read: () => ({
      uovMode: radios.find((r) => r.checked)?.value ?? 'vary-subtle',
      upscaler: upscaler.control.value,
      upscaleFactor: readNumber(factor.control, 2),
    }),
    fill(values) {
      for (const radio of radios) radio.checked = radio.value === values.uovMode;
      if ([...upscaler.control.options].some((o) => o.value === values.upscaler)) upscaler.control.value = values.upscaler;
      factor.control.value = String(values.upscaleFactor);
      showFields();
    },
  };
  return options;
}
