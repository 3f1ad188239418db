/**
 * Labelled controls for the form. Every control gets a visible `<label for>`; `data-field` names the request
 * field it feeds, so a 400 naming that field can mark it.
 */
import { el, setAttrs, uniqueId, type AttrValue } from '../dom.ts';
import type { GenerateContract } from '../request-contract.ts';

export interface Field<T extends HTMLElement> {
  /** The wrapper: label, control, message line. */
  row: HTMLElement;
  control: T;
}

export function labelled<T extends HTMLElement>(label: string, control: T, hint?: string): Field<T> {
  const id = control.id || uniqueId('field');
  control.id = id;
  const hintNode = hint === undefined ? null : el('small', { class: 'hint', id: `${id}-hint` }, hint);
  if (hintNode !== null) setAttrs(control, { 'aria-describedby': hintNode.id });
  const row = el('div', { class: 'field' }, el('label', { for: id }, label), control, hintNode);
  return { row, control };
}

/** Display step and starting value; the bounds come from the request schema (applyLimits). */
export interface NumberAttrs {
  step: number;
  value: number | '';
  placeholder?: string;
}

export function numberInput(field: string, attrs: NumberAttrs): HTMLInputElement {
  return el('input', { type: 'number', inputmode: 'decimal', 'data-field': field, 'data-limits': field, ...attrs } as Record<string, AttrValue>);
}

/**
 * Sets min and max of every control under `root` marked `data-limits="<request field>"` from the server's
 * request schema, and step 1 for integer fields, so the form refuses exactly what the API would.
 */
export function applyLimits(root: ParentNode, contract: GenerateContract): void {
  for (const input of root.querySelectorAll<HTMLInputElement>('input[data-limits]')) {
    const limits = contract.limits.get(input.dataset.limits ?? '');
    if (limits === undefined) continue;
    setAttrs(input, { min: limits.min, max: limits.max, ...(limits.integer ? { step: 1 } : {}) });
  }
}

export function selectInput(field: string): HTMLSelectElement {
  return el('select', { 'data-field': field });
}

/** A slider with its number shown beside it (the number is the accessible value; the slider mirrors it). */
export function sliderField(label: string, field: string, attrs: { step: number; value: number }): Field<HTMLInputElement> {
  const slider = el('input', { type: 'range', 'aria-hidden': 'true', tabindex: '-1', 'data-limits': field, ...attrs } as Record<string, AttrValue>);
  const number = numberInput(field, attrs);
  slider.addEventListener('input', () => (number.value = slider.value));
  number.addEventListener('input', () => (slider.value = number.value));
  const wrapped = labelled(label, number);
  wrapped.row.classList.add('slider');
  wrapped.row.insertBefore(slider, number);
  return wrapped;
}

export function readNumber(input: HTMLInputElement, fallback: number): number {
  const value = input.valueAsNumber;
  return Number.isFinite(value) ? value : fallback;
}

/** An optional number box: empty means "not set" (the server's default applies). */
export function readOptionalNumber(input: HTMLInputElement): number | null {
  const value = input.valueAsNumber;
  return input.value.trim() === '' || !Number.isFinite(value) ? null : value;
}

export function checkbox(label: string, checked: boolean): { row: HTMLElement; control: HTMLInputElement } {
  const id = uniqueId('check');
  const control = el('input', { type: 'checkbox', id, checked });
  return { row: el('span', { class: 'choice' }, control, el('label', { for: id }, label)), control };
}
