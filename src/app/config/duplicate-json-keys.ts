/**
 * JSON.parse keeps the last of two equal keys in an object; other tools keep the first. A config that says
 * `"host": "127.0.0.1"` for a reviewer and `"host": "0.0.0.0"` for the server is a classic way to smuggle a change
 * past review, so duplicate keys are refused. This scanner only tracks structure: run it on text JSON.parse accepted.
 */
import { formatKeyPath, type KeySegment } from './config-key-path.ts';

interface Frame {
  /** Keys seen so far in an object; null for an array. */
  keys: Set<string> | null;
  segments: KeySegment[];
  expectKey: boolean;
  lastKey: string;
  index: number;
}

/** The key path of the first duplicated object key in valid JSON `text`, or null when there is none. */
export function findDuplicateJsonKey(text: string): string | null {
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '"') {
      const end = findStringEnd(text, i);
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return formatKeyPath([...top.segments, key]);
        top.keys.add(key);
        top.lastKey = key;
        top.expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (c === '{' || c === '[') {
      const segments = top === undefined ? [] : [...top.segments, top.keys ? top.lastKey : top.index];
      stack.push({ keys: c === '{' ? new Set() : null, segments, expectKey: c === '{', lastKey: '', index: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',' && top !== undefined) {
      if (top.keys) top.expectKey = true;
      else top.index++;
    }
    i++;
  }
  return null;
}

/** Index of the quote that closes the string opening at `start`. */
function findStringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i;
}
