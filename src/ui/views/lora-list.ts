/** LoRA rows: a name (suggested from the installed LoRAs), a weight, and a remove button; plus "Add LoRA". */
import type { LoraChoice } from '../api-types.ts';
import { el, replace, setAttrs, uniqueId } from '../dom.ts';
import type { NumberLimits } from '../request-contract.ts';
import { readNumber } from './form-fields.ts';

export interface LoraList {
  element: HTMLElement;
  setNames(names: string[]): void;
  read(): LoraChoice[];
  fill(loras: LoraChoice[]): void;
  /** The weight bounds of the request schema, for the rows there are and those added later. */
  setWeightLimits(limits: NumberLimits | undefined): void;
}

const MAX_LORAS = 5;

export function createLoraList(): LoraList {
  const datalistId = uniqueId('lora-names');
  const datalist = el('datalist', { id: datalistId });
  const rows = el('div', { class: 'lora-rows' });
  const add = el('button', { type: 'button', class: 'secondary' }, 'Add LoRA');
  const element = el('fieldset', { class: 'loras', 'data-field': 'loras' }, el('legend', {}, 'LoRAs'), rows, add, datalist);
  let weightLimits: NumberLimits | undefined;
  const limitAttrs = (): Record<string, number | null> => ({ min: weightLimits?.min ?? null, max: weightLimits?.max ?? null });

  const addRow = (lora: LoraChoice = { name: '', weight: 1 }): void => {
    const index = rows.children.length + 1;
    const nameId = uniqueId('lora-name');
    const weightId = uniqueId('lora-weight');
    const name = el('input', { type: 'text', id: nameId, list: datalistId, value: lora.name, autocomplete: 'off', class: 'lora-name' });
    const weight = el('input', { type: 'number', id: weightId, ...limitAttrs(), step: 0.05, value: lora.weight, class: 'lora-weight' });
    const remove = el('button', { type: 'button', class: 'secondary', 'aria-label': `Remove LoRA ${index}` }, 'Remove');
    const row = el(
      'div',
      { class: 'lora-row' },
      el('label', { for: nameId }, `LoRA ${index}`),
      name,
      el('label', { for: weightId }, 'Weight'),
      weight,
      remove,
    );
    remove.addEventListener('click', () => {
      row.remove();
      add.disabled = false;
    });
    rows.append(row);
    add.disabled = rows.children.length >= MAX_LORAS;
  };
  add.addEventListener('click', () => addRow());

  return {
    element,
    setNames: (names) => replace(datalist, ...names.map((n) => el('option', { value: n }))),
    read: () =>
      [...rows.querySelectorAll<HTMLElement>('.lora-row')].flatMap((row) => {
        const name = row.querySelector<HTMLInputElement>('.lora-name')?.value.trim() ?? '';
        const weight = row.querySelector<HTMLInputElement>('.lora-weight');
        return name === '' || weight === null ? [] : [{ name, weight: readNumber(weight, 1) }];
      }),
    setWeightLimits(limits) {
      weightLimits = limits;
      for (const weight of rows.querySelectorAll<HTMLInputElement>('.lora-weight')) setAttrs(weight, limitAttrs());
    },
    fill(loras) {
      replace(rows);
      for (const lora of loras.slice(0, MAX_LORAS)) addRow(lora);
      add.disabled = rows.children.length >= MAX_LORAS;
    },
  };
}
