/**
 * The seed box with its Random tick. While Random is ticked the box is read-only and shows the seed the last run
 * used (empty, with "Random" as placeholder, before any run), never a made-up 0. Unticking keeps that seed, so
 * "Random, then untick" reproduces the image just made, as in Fooocus.
 */
import { el, setAttrs } from '../dom.ts';
import { DEFAULT_FORM, normalizeSeed, type FormPatch, type FormValues } from '../form-values.ts';
import { labelled, checkbox } from './form-fields.ts';

export interface SeedField {
  element: HTMLElement;
  read(): Pick<FormValues, 'seed' | 'randomSeed'>;
  fill(patch: FormPatch): void;
  showUsed(seed: string): void;
}

export function createSeedField(): SeedField {
  const input = el('input', { type: 'text', inputmode: 'numeric', pattern: '\\d{1,19}', 'data-field': 'seed', value: DEFAULT_FORM.seed, autocomplete: 'off' });
  const field = labelled('Seed', input, 'A whole number from 0 to 9223372036854775807.');
  const random = checkbox('Random', DEFAULT_FORM.randomSeed);
  field.row.append(random.row);
  const sync = (): void => {
    input.readOnly = random.control.checked;
    setAttrs(input, { placeholder: random.control.checked ? 'Random' : null, 'aria-readonly': random.control.checked ? 'true' : null });
  };
  random.control.addEventListener('change', sync);
  sync();
  return {
    element: field.row,
    read: () => ({ seed: input.value, randomSeed: random.control.checked }),
    fill(patch) {
      if (patch.seed !== undefined && normalizeSeed(patch.seed) !== null) input.value = normalizeSeed(patch.seed)!;
      if (patch.randomSeed !== undefined) random.control.checked = patch.randomSeed;
      sync();
    },
    showUsed(seed) {
      if (random.control.checked && normalizeSeed(seed) !== null) input.value = seed;
    },
  };
}
