/**
 * The only way views build markup: create an element, set attributes by name, append children. Strings always
 * become text nodes (so a prompt like `<img onerror=...>` is shown as those characters), and attribute names that
 * could run code or carry inline CSS are refused, which keeps the page within its Content-Security-Policy.
 */
export type AttrValue = string | number | boolean | null | undefined;
export type Child = Node | string | number | null | undefined | false;

/** `on*` handlers and inline `style` are set in code (addEventListener, classList), never as attribute text. */
function checkAttributeName(name: string): void {
  if (/^on/i.test(name) || name.toLowerCase() === 'style' || name.toLowerCase() === 'srcdoc') {
    throw new Error(`dom: attribute ${name} is not allowed; use listeners and classes`);
  }
}

export function setAttrs(node: Element, attrs: Record<string, AttrValue>): void {
  for (const [name, value] of Object.entries(attrs)) {
    checkAttributeName(name);
    if (value === false || value === null || value === undefined) node.removeAttribute(name);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, AttrValue> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces all children of `parent`. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

export function setText(node: Node, text: string): void {
  node.textContent = text;
}

/** A `<select>`'s options from id/label pairs; the value is kept when it is still offered. */
export function setOptions(select: HTMLSelectElement, options: readonly { value: string; label: string }[]): void {
  const previous = select.value;
  select.replaceChildren(...options.map((o) => el('option', { value: o.value }, o.label)));
  if (options.some((o) => o.value === previous)) select.value = previous;
}

let nextId = 0;
/** A page-unique id for label/control pairs. */
export function uniqueId(prefix: string): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}
