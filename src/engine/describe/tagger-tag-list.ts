/**
 * The tag list published beside a WD14 tagger (`selected_tags.csv`, stored as `<model>.csv`): a header
 * `tag_id,name,category,count`, then one row per output of the model, in output order. Categories are Danbooru's:
 * 9 rating, 0 general, 4 character; nothing else occurs in the published lists, so anything else is refused rather
 * than guessed. Parsed strictly (RFC 4180 quoting, exact column count, bounded sizes); every error names the file
 * and the line.
 */
import { statSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FooocusError } from '../errors/fooocus-error.ts';

export type TaggerTagCategory = 'rating' | 'general' | 'character';

export interface TaggerTag {
  name: string;
  category: TaggerTagCategory;
}

export interface TagListLimits {
  maxFileBytes: number;
  maxTags: number;
  /** Longest tag name, in UTF-16 code units. */
  maxNameLength: number;
}

/** The published moat list is 9,083 rows in about 300 KB; these bounds leave room for larger taggers. */
export const DEFAULT_TAG_LIST_LIMITS: TagListLimits = { maxFileBytes: 8 * 2 ** 20, maxTags: 100_000, maxNameLength: 256 };

const HEADER = ['tag_id', 'name', 'category', 'count'];
const CATEGORIES: Record<string, TaggerTagCategory> = { '9': 'rating', '0': 'general', '4': 'character' };

/** A tag list that breaks the format; `rule` is a stable id and the message names the file and line. */
export class TagListFormatError extends FooocusError {
  constructor(file: string, rule: string, detail: string, kind: 'invalid' | 'too-large' = 'invalid') {
    super(kind, `${path.basename(file)}: ${detail}`, { file, rule });
  }
}

/** Reads and parses a tag list file; its size is checked before it is read. */
export function readTagListFile(file: string, limits: Partial<TagListLimits> = {}): TaggerTag[] {
  const all = { ...DEFAULT_TAG_LIST_LIMITS, ...limits };
  const size = statSync(file).size;
  if (size > all.maxFileBytes) throw new TagListFormatError(file, 'file-size', `is ${size} bytes; the limit is ${all.maxFileBytes}`, 'too-large');
  return parseTagList(readFileSync(file), file, all);
}

export function parseTagList(bytes: Uint8Array, file: string, limits: Partial<TagListLimits> = {}): TaggerTag[] {
  const all = { ...DEFAULT_TAG_LIST_LIMITS, ...limits };
  if (bytes.length > all.maxFileBytes) throw new TagListFormatError(file, 'file-size', `is ${bytes.length} bytes; the limit is ${all.maxFileBytes}`, 'too-large');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new TagListFormatError(file, 'encoding', 'is not UTF-8 text');
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const rows = splitCsvRows(text, file);
  const header = rows.shift();
  if (header === undefined || header.fields.join(',') !== HEADER.join(',')) {
    throw new TagListFormatError(file, 'header', `line 1 should be "${HEADER.join(',')}", found "${header?.fields.join(',') ?? ''}"`);
  }
  if (rows.length === 0) throw new TagListFormatError(file, 'empty', 'lists no tags');
  if (rows.length > all.maxTags) throw new TagListFormatError(file, 'tag-count', `lists ${rows.length} tags; the limit is ${all.maxTags}`, 'too-large');
  return rows.map(({ line, fields }) => {
    if (fields.length !== HEADER.length) throw new TagListFormatError(file, 'columns', `line ${line} has ${fields.length} columns, expected ${HEADER.length}`);
    const [, name, category] = fields as [string, string, string, string];
    if (name.length === 0 || name.length > all.maxNameLength || hasControlCharacter(name)) {
      throw new TagListFormatError(file, 'name', `line ${line}: a tag name must be 1 to ${all.maxNameLength} printable characters`);
    }
    const known = CATEGORIES[category];
    if (known === undefined) throw new TagListFormatError(file, 'category', `line ${line}: category "${category}" is not 9 (rating), 0 (general) or 4 (character)`);
    return { name, category: known };
  });
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}

interface CsvRow {
  /** 1-based line the row starts on. */
  line: number;
  fields: string[];
}

/** RFC 4180: fields split by commas, rows by CRLF or LF, double quotes around a field that holds either or `"`. */
function splitCsvRows(text: string, file: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw new TagListFormatError(file, 'quoting', `line ${start}: a quoted field is not closed`);
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          throw new TagListFormatError(file, 'quoting', `line ${line}: text after a closing quote`);
        }
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (text[i] === '"') throw new TagListFormatError(file, 'quoting', `line ${line}: a quote inside an unquoted field`);
          field += text[i];
          i++;
        }
      }
      fields.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (i < text.length && text[i] !== '\n') throw new TagListFormatError(file, 'line-end', `line ${line}: a carriage return not followed by a line feed`);
    i++;
    line++;
    rows.push({ line: start, fields });
  }
  return rows;
}
