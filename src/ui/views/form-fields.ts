/**
 * Labelled controls for the form. Every control gets a visible `<label for>`; `data-field` names the request
 * field it feeds, so a 400 naming that field can mark it.
 */
import { el, setAttrs, uniqueId, type AttrValue } from '../dom.ts';

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

export function numberInput(field: string, attrs: { min: number; max: number; step: number; value: number }): HTMLInputElement {
  return el('input', { type: 'number', inputmode: 'decimal', 'data-field': field, ...attrs } as Record<string, AttrValue>);
}

export function selectInput(field: string): HTMLSelectElement {
  return el('select', { 'data-field': field });
}

/** A slider with its number shown beside it (the number is the accessible value; the slider mirrors it). */
export function sliderField(label: string, field: string, attrs: { min: number; max: number; step: number; value: number }): Field<HTMLInputElement> {
  const slider = el('input', { type: 'range', 'aria-hidden': 'true', tabindex: '-1', ...attrs } as Record<string, AttrValue>);
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
