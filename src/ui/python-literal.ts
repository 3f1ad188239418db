/**
 * Reads the two Python literals Fooocus stores inside its JSON metadata strings: a list of quoted strings
 * (`"['Fooocus V2', 'Fooocus Sharp']"`) and a tuple of numbers (`"(1152, 896)"`). A tiny scanner, never eval.
 */
export function parsePythonStrings(source: string): string[] | null {
  const text = source.trim();
  if (!/^[[(]/.test(text)) return null;
  const close = text[0] === '[' ? ']' : ')';
  const out: string[] = [];
  let at = 1;
  const skipSpace = (): void => {
    while (at < text.length && /\s/.test(text[at]!)) at++;
  };
  for (;;) {
    skipSpace();
    if (text[at] === close) return at === text.length - 1 ? out : null;
    const quote = text[at];
    if (quote !== "'" && quote !== '"') return null;
    let value = '';
    at++;
    while (at < text.length && text[at] !== quote) {
      if (text[at] === '\\' && at + 1 < text.length) {
        const next = text[at + 1]!;
        value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
        at += 2;
      } else value += text[at++];
    }
    if (at >= text.length) return null;
    out.push(value);
    at++;
    skipSpace();
    if (text[at] === ',') at++;
    else if (text[at] !== close) return null;
  }
}

export function parsePythonNumbers(source: string): number[] | null {
  const match = /^[[(]\s*([^()[\]]*?)\s*,?\s*[\])]$/.exec(source.trim());
  if (match === null) return null;
  const parts = match[1]!.split(',').map((p) => p.trim());
  const numbers = parts.map(Number);
  return parts.every((p) => p !== '') && numbers.every(Number.isFinite) ? numbers : null;
}
