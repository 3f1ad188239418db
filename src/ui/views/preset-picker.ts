/**
 * The preset selector: choosing a preset hands it to the page, which fills the form with its values. Under the
 * list, the models the chosen preset needs that the server lacks, with the command that fetches them.
 */
import type { PresetInfo } from '../api-types.ts';
import { formatCliCommand } from '../cli-invocation.ts';
import { el, replace, setOptions } from '../dom.ts';
import { labelled, selectInput } from './form-fields.ts';

export interface PresetPicker {
  element: HTMLElement;
  setPresets(presets: PresetInfo[]): void;
}

export function createPresetPicker(onChoose: (preset: PresetInfo) => void): PresetPicker {
  const field = labelled('Preset', selectInput('preset'), 'Fills the settings below; change any of them afterwards.');
  const notice = el('p', { class: 'hint preset-missing', 'aria-live': 'polite', hidden: true });
  const element = el('div', { class: 'preset-picker' }, field.row, notice);
  let presets: PresetInfo[] = [];

  const showMissing = (preset: PresetInfo | undefined): void => {
    notice.hidden = preset === undefined || preset.missing.length === 0;
    if (preset === undefined || notice.hidden) return replace(notice);
    replace(
      notice,
      `Not installed on the server: ${preset.missing.join(', ')}. Fetch them there with `,
      el('code', {}, formatCliCommand(`models pull --preset ${preset.name}`)),
      '.',
    );
  };

  field.control.addEventListener('change', () => {
    const preset = presets.find((p) => p.name === field.control.value);
    showMissing(preset);
    if (preset !== undefined) onChoose(preset);
  });

  return {
    element,
    setPresets(next) {
      presets = next;
      setOptions(field.control, [{ value: '', label: 'Choose a preset…' }, ...presets.map((p) => ({ value: p.name, label: p.label }))]);
      showMissing(presets.find((p) => p.name === field.control.value));
    },
  };
}
