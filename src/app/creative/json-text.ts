/**
 * JSON parsing for hand-edited data files that can say *where* a problem is: the line of a syntax error (computed
 * from the parser's reported position) and the line where each element of a top-level array starts.
 */
import { FooocusError } from '../../engine/index.ts';

export class JsonSyntaxError extends FooocusError {
  constructor(readonly line: number, detail: string) {
    super('invalid', detail);
  }
}

/** 1-based line number of a character offset. */
export function computeLineAt(text: string, offset: number): number {
  let line = 1;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function countLines(text: string): number {
  return computeLineAt(text, text.length) - (text.endsWith('\n') ? 1 : 0);
}

/** `JSON.parse`, with errors turned into JsonSyntaxError carrying the 1-based line. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    const message = (err as Error).message;
    const lineColumn = /\(line (\d+) column \d+\)/.exec(message);
    const position = /at position (\d+)/.exec(message);
    let line = Math.max(1, countLines(text)); // "Unexpected end of JSON input" has no position: the end is where it broke
    if (lineColumn !== null) line = Number(lineColumn[1]);
    else if (position !== null) line = computeLineAt(text, Number(position[1]));
    return throwSyntax(line, message);
  }
}

function throwSyntax(line: number, message: string): never {
  throw new JsonSyntaxError(line, message.replace(/^JSON\.parse: /, ''));
}

/**
 * Start lines of each element of the top-level array in `text` (which must already parse). Scans strings and
 * nesting only, which is all it takes to find the commas that separate elements at depth 1.
 */
export function findArrayElementLines(text: string): number[] {
  const lines: number[] = [];
  let depth = 0;
  let inString = false;
  let expectElement = false;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (/\s/.test(c)) continue;
    if (expectElement && c !== ']') {
      lines.push(line);
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1 && c === '[') expectElement = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectElement = true;
  }
  return lines;
}
