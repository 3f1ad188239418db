import { describe, InvalidMetadataError, readNumber, readSide } from './generation-parameters.ts';

/**
 * Fooocus stores styles, resolution and ADM guidance as Python `str()` of a list or tuple ("['Fooocus V2']",
 * "(1152, 896)") and reads them back with `eval`. These functions write that form and read it with a small
 * scanner that accepts only flat lists/tuples of string and number literals: nothing is ever evaluated.
 */

/** Python `repr(float)` for ordinary magnitudes: integral values keep a `.0`. */
export function formatPythonFloat(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

/** Python `repr(str)`: single quotes unless the text holds a single quote and no double quote. */
export function formatPythonString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

export function formatPythonList(items: readonly string[]): string {
  return `[${items.map(formatPythonString).join(', ')}]`;
}

/** `str(tuple)` of numbers; `floats` says whether Python held them as floats (`1.0`) or ints (`1`). */
export function formatPythonTuple(items: readonly number[], floats: boolean): string {
  return `(${items.map((n) => (floats ? formatPythonFloat(n) : String(n))).join(', ')})`;
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', '0': '\0' };

/** Parse "[...]" or "(...)" holding string and number literals; `field` names the metadata key in errors. */
export function parsePythonSequence(field: string, text: string): (string | number)[] {
  const source = text.trim();
  const close = source[0] === '[' ? ']' : source[0] === '(' ? ')' : '';
  if (!close || source[source.length - 1] !== close) throw new InvalidMetadataError(field, 'is not a list or tuple literal');
  const items: (string | number)[] = [];
  let at = 1;
  const end = source.length - 1;
  const skipSpaces = (): void => {
    while (at < end && /\s/.test(source[at]!)) at++;
  };
  for (skipSpaces(); at < end; skipSpaces()) {
    const ch = source[at]!;
    if (ch === "'" || ch === '"') {
      let value = '';
      at++;
      while (at < end && source[at] !== ch) {
        if (source[at] === '\\') {
          const next = source[at + 1] ?? '';
          if (next === 'x' || next === 'u') {
            const digits = source.slice(at + 2, at + (next === 'x' ? 4 : 6));
            if (!/^[0-9a-fA-F]+$/.test(digits)) throw new InvalidMetadataError(field, 'has a bad escape in a string');
            value += String.fromCharCode(parseInt(digits, 16));
            at += 2 + digits.length;
            continue;
          }
          value += ESCAPES[next] ?? `\\${next}`;
          at += 2;
        } else {
          value += source[at++];
        }
      }
      if (at >= end) throw new InvalidMetadataError(field, 'has an unterminated string');
      at++;
      items.push(value);
    } else {
      const match = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(source.slice(at, end));
      if (!match) throw new InvalidMetadataError(field, `has ${JSON.stringify(ch)} where a string or number literal should be`);
      items.push(Number(match[0]));
      at += match[0].length;
    }
    skipSpaces();
    if (at < end && source[at] !== ',') throw new InvalidMetadataError(field, 'has items not separated by commas');
    at++;
  }
  return items;
}

/** "(1152, 896)" as width and height. */
export function readPythonPair(field: string, text: string): [number, number] {
  const items = parsePythonSequence(field, text);
  if (items.length !== 2) throw new InvalidMetadataError(field, `${describe(text)} is not (width, height)`);
  return [readSide(field, items[0]), readSide(field, items[1])];
}

/** "(1.5, 0.8, 0.3)" as Fooocus ADM guidance: positive, negative, end. */
export function readPythonTriple(field: string, text: string): [number, number, number] {
  const items = parsePythonSequence(field, text);
  if (items.length !== 3) throw new InvalidMetadataError(field, `${describe(text)} is not (positive, negative, end)`);
  return [readNumber(field, items[0], -100, 100), readNumber(field, items[1], -100, 100), readNumber(field, items[2], 0, 1)];
}
