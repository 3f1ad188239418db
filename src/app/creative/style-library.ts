/**
 * The style library: built-in styles shipped in `data/styles/*.json` plus the user's own files from a configured
 * folder. Built-in files must validate (a failure is a release bug and throws). A bad user file, or a bad entry in
 * one, is reported with its file name and line and skipped; it never stops the app. A user style with the name of
 * an earlier style replaces it, and the replacement is reported so the user knows it happened.
 *
 * File format: a JSON array of `{ "name", "prompt", "negative" }`, where `{prompt}` in `prompt` marks where the
 * user's prompt goes. Fooocus style files (`negative_prompt`, optional fields) are read too, so they port unchanged.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { InvalidDataFileError } from './creative-errors.ts';
import { findArrayElementLines, JsonSyntaxError, parseJsonText } from './json-text.ts';
import { isReservedStyleName } from './style-names.ts';

export const PROMPT_PLACEHOLDER = '{prompt}';
export const DEFAULT_MAX_STYLE_FILE_BYTES = 1024 * 1024;

export const StyleSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\r\\n]+$' }),
    prompt: Type.String({ maxLength: 4000 }),
    negative: Type.String({ maxLength: 4000 }),
  },
  { additionalProperties: false },
);

export type Style = Static<typeof StyleSchema>;

export interface StyleEntry extends Style {
  source: 'builtin' | 'user';
  /** The file it came from, relative to its folder. */
  file: string;
}

/** Styles by name, in load order (built-ins by file name, then user files by file name). */
export type StyleLibrary = ReadonlyMap<string, StyleEntry>;

export interface StyleProblem {
  file: string;
  line?: number;
  message: string;
}

export interface LoadStyleLibraryOptions {
  builtinDir: string;
  userDir?: string;
  maxFileBytes?: number;
}

export interface LoadedStyleLibrary {
  styles: StyleLibrary;
  problems: StyleProblem[];
}

interface ParsedEntry {
  style?: Style;
  line?: number;
  message?: string;
}

/** Fooocus writes `negative_prompt` and may leave fields out; map that shape onto ours before validating. */
function normalizeFooocusShape(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('negative_prompt' in value)) return value;
  const { negative_prompt: negative, prompt, ...rest } = value as Record<string, unknown>;
  return { ...rest, prompt: prompt ?? '', negative };
}

function describeSchemaError(value: unknown): string {
  const first = Value.Errors(StyleSchema, value).First();
  if (first === undefined) return 'is not a style';
  const field = first.path.replace(/^\//, '') || 'entry';
  return `${field}: ${first.message}`;
}

/** Parses one file's text into entries, each either a valid style or a problem with its line. */
export function parseStyleFileText(text: string): ParsedEntry[] {
  const value = parseJsonText(text);
  if (!Array.isArray(value)) return [{ line: 1, message: 'must be a JSON array of styles' }];
  const lines = findArrayElementLines(text);
  return value.map((raw, index): ParsedEntry => {
    const line = lines[index];
    const entry = normalizeFooocusShape(raw);
    if (!Value.Check(StyleSchema, entry)) return { line, message: `style ${index + 1}: ${describeSchemaError(entry)}` };
    const style = { name: entry.name.trim(), prompt: entry.prompt, negative: entry.negative };
    if (isReservedStyleName(style.name)) return { line, message: `style ${index + 1}: name "${style.name}" is reserved` };
    return { style, line };
  });
}

async function listJsonFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names.filter((n) => n.toLowerCase().endsWith('.json')).sort();
}

async function loadBuiltins(dir: string, styles: Map<string, StyleEntry>): Promise<void> {
  for (const file of await listJsonFiles(dir)) {
    const text = await readFile(path.join(dir, file), 'utf8');
    let entries: ParsedEntry[];
    try {
      entries = parseStyleFileText(text);
    } catch (err) {
      if (err instanceof JsonSyntaxError) throw new InvalidDataFileError(`styles/${file}`, `line ${err.line}: ${err.message}`);
      throw err;
    }
    for (const { style, line, message } of entries) {
      if (style === undefined) throw new InvalidDataFileError(`styles/${file}`, `line ${line ?? '?'}: ${message}`);
      if (styles.has(style.name)) throw new InvalidDataFileError(`styles/${file}`, `line ${line ?? '?'}: duplicate style name "${style.name}"`);
      styles.set(style.name, { ...style, source: 'builtin', file });
    }
  }
}

async function readUserFile(file: string, full: string, maxBytes: number, problems: StyleProblem[]): Promise<string | null> {
  try {
    const info = await stat(full);
    if (!info.isFile()) return null;
    if (info.size > maxBytes) {
      problems.push({ file, message: `is ${info.size} bytes; the limit is ${maxBytes}` });
      return null;
    }
    return await readFile(full, 'utf8');
  } catch (err) {
    problems.push({ file, message: `cannot be read: ${(err as Error).message}` });
    return null;
  }
}

async function loadUserStyles(dir: string, maxBytes: number, styles: Map<string, StyleEntry>, problems: StyleProblem[]): Promise<void> {
  let files: string[];
  try {
    files = await listJsonFiles(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // no user folder yet: nothing to add
    problems.push({ file: dir, message: `cannot be listed: ${(err as Error).message}` });
    return;
  }
  for (const file of files) {
    const text = await readUserFile(file, path.join(dir, file), maxBytes, problems);
    if (text === null) continue;
    let entries: ParsedEntry[];
    try {
      entries = parseStyleFileText(text);
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err;
      problems.push({ file, line: err.line, message: `invalid JSON: ${err.message}` });
      continue;
    }
    for (const { style, line, message } of entries) {
      if (style === undefined) {
        problems.push({ file, line, message: message ?? 'invalid style' });
        continue;
      }
      const previous = styles.get(style.name);
      if (previous !== undefined) {
        const where = previous.source === 'builtin' ? 'the built-in style' : `the style from ${previous.file}`;
        problems.push({ file, line, message: `style "${style.name}" replaces ${where}` });
        styles.delete(style.name); // re-inserted below, so the override sits in user order
      }
      styles.set(style.name, { ...style, source: 'user', file });
    }
  }
}

export async function loadStyleLibrary(options: LoadStyleLibraryOptions): Promise<LoadedStyleLibrary> {
  const styles = new Map<string, StyleEntry>();
  const problems: StyleProblem[] = [];
  await loadBuiltins(options.builtinDir, styles);
  if (options.userDir !== undefined) {
    await loadUserStyles(options.userDir, options.maxFileBytes ?? DEFAULT_MAX_STYLE_FILE_BYTES, styles, problems);
  }
  return { styles, problems };
}
