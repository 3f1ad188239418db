/**
 * Style selection: a search box filtering a list of checkboxes, and a preview of the templates of the style last
 * hovered, focused or (un)checked, set as text. Order of selection is kept, since Fooocus applies styles in the
 * order chosen.
 */
import type { StyleInfo } from '../api-types.ts';
import { el, replace, setText, uniqueId } from '../dom.ts';

export interface StylePicker {
  element: HTMLElement;
  setStyles(styles: StyleInfo[]): void;
  selected(): string[];
  select(names: string[]): string[];
}

export function createStylePicker(): StylePicker {
  const searchId = uniqueId('style-search');
  const search = el('input', { type: 'search', id: searchId, placeholder: 'Search styles', autocomplete: 'off' });
  const count = el('span', { class: 'hint', 'aria-live': 'polite' });
  const list = el('ul', { class: 'style-list', 'data-field': 'styles' });
  const previewName = el('strong');
  const previewPrompt = el('p', { class: 'template' });
  const previewNegative = el('p', { class: 'template negative' });
  const preview = el('div', { class: 'style-preview', 'aria-live': 'polite' }, previewName, previewPrompt, previewNegative);
  const element = el(
    'fieldset',
    { class: 'styles' },
    el('legend', {}, 'Styles ', count),
    el('label', { for: searchId, class: 'visually-hidden' }, 'Search styles'),
    search,
    list,
    preview,
  );

  let styles: StyleInfo[] = [];
  let order: string[] = [];
  const boxes = new Map<string, HTMLInputElement>();

  const showCount = (): void => setText(count, `(${order.length} selected)`);
  const showPreview = (style: StyleInfo): void => {
    setText(previewName, style.name);
    setText(previewPrompt, style.prompt === '' ? 'No prompt template.' : `Prompt: ${style.prompt}`);
    setText(previewNegative, style.negative === '' ? '' : `Negative: ${style.negative}`);
  };

  const render = (): void => {
    boxes.clear();
    replace(
      list,
      ...styles.map((style) => {
        const id = uniqueId('style');
        const box = el('input', { type: 'checkbox', id, value: style.name, checked: order.includes(style.name) });
        boxes.set(style.name, box);
        box.addEventListener('change', () => {
          order = box.checked ? [...order.filter((n) => n !== style.name), style.name] : order.filter((n) => n !== style.name);
          showCount();
          showPreview(style);
        });
        const item = el('li', {}, box, el('label', { for: id }, style.name));
        item.addEventListener('mouseenter', () => showPreview(style));
        box.addEventListener('focus', () => showPreview(style));
        return item;
      }),
    );
    filter();
    showCount();
  };

  const filter = (): void => {
    const needle = search.value.trim().toLowerCase();
    for (const [name, box] of boxes) box.closest('li')?.classList.toggle('hidden', needle !== '' && !name.toLowerCase().includes(needle));
  };
  search.addEventListener('input', filter);

  return {
    element,
    setStyles(next) {
      styles = next;
      render();
    },
    selected: () => order.filter((name) => boxes.has(name) || styles.length === 0),
    /** Selects exactly `names`; returns the names this server does not have. */
    select(names) {
      order = [...new Set(names)];
      for (const [name, box] of boxes) box.checked = order.includes(name);
      showCount();
      return styles.length === 0 ? [] : order.filter((name) => !boxes.has(name));
    },
  };
}
