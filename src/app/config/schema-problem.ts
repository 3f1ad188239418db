/**
 * Turns TypeBox's first validation error into one sentence that names the key path and says what was expected
 * and what was found: `server.port: expected integer from 1 to 65535, got "80"`.
 */
import { KindGuard, type TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { formatKeyPath, parseJsonPointer, type KeySegment } from './config-key-path.ts';

export interface SchemaProblem {
  /** Dotted key path of the offending value, `prefix` included. */
  key: string;
  /** What is wrong, without the key: `expected integer, got "80"`. */
  detail: string;
  /** Further problems in the same value (reported after the first one is fixed). */
  more: number;
}

const MAX_COUNTED = 50;

/** The first problem of `value` against `schema`, or null when it is valid. */
export function findSchemaProblem(schema: TSchema, value: unknown, prefix: readonly KeySegment[] = []): SchemaProblem | null {
  let first: ValueError | undefined;
  let count = 0;
  for (const error of Value.Errors(schema, value)) {
    first ??= error;
    if (++count >= MAX_COUNTED) break;
  }
  if (first === undefined) return null;
  return { key: formatKeyPath([...prefix, ...parseJsonPointer(first.path)]), detail: describeError(first), more: count - 1 };
}

function describeError(error: ValueError): string {
  if (error.type === ValueErrorType.ObjectAdditionalProperties) return describeUnknownKey(error);
  return `expected ${describeExpected(error.schema)}, got ${describeValue(error.value)}`;
}

function describeUnknownKey(error: ValueError): string {
  const schema = error.schema;
  if (KindGuard.IsObject(schema)) {
    const known = Object.keys(schema.properties);
    const unknown = String(parseJsonPointer(error.path).pop());
    const suggestion = suggestKey(unknown, known);
    return `unknown key${suggestion === null ? '' : ` (did you mean "${suggestion}"?)`}; known keys here: ${known.join(', ')}`;
  }
  return `not an allowed key here; expected ${typeof schema.keyHint === 'string' ? schema.keyHint : 'a different key'}`;
}

/** Human wording of what a schema accepts, from its `hint` option or its type and bounds. */
export function describeExpected(schema: TSchema): string {
  if (typeof schema.hint === 'string') return schema.hint;
  if (KindGuard.IsUnion(schema)) return schema.anyOf.map(describeExpected).join(' or ');
  if (KindGuard.IsLiteral(schema)) return JSON.stringify(schema.const);
  if (KindGuard.IsNull(schema)) return 'null';
  if (KindGuard.IsBoolean(schema)) return 'true or false';
  if (KindGuard.IsInteger(schema) || KindGuard.IsNumber(schema)) {
    return describeRange(KindGuard.IsInteger(schema) ? 'integer' : 'number', schema.minimum, schema.maximum);
  }
  if (KindGuard.IsString(schema)) return schema.minLength === 1 ? 'non-empty string' : 'string';
  if (KindGuard.IsArray(schema)) return `array${describeCount(schema.minItems, schema.maxItems)}`;
  if (KindGuard.IsObject(schema) || KindGuard.IsRecord(schema)) return 'object';
  return 'a different value';
}

function describeRange(noun: string, min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `${noun} from ${min} to ${max}`;
  if (min !== undefined) return `${noun} >= ${min}`;
  if (max !== undefined) return `${noun} <= ${max}`;
  return noun;
}

function describeCount(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` of ${min} to ${max} items`;
  if (max !== undefined) return ` of at most ${max} items`;
  if (min !== undefined) return ` of at least ${min} items`;
  return '';
}

/** The found value, short enough for one line. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return `array of ${value.length} items`;
  if (value === undefined) return 'nothing';
  if (value !== null && typeof value === 'object') return 'object';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
}

/** The known key within edit distance 2 of a misspelt one (`prot` -> `port`), if exactly one is that close. */
function suggestKey(unknown: string, known: readonly string[]): string | null {
  const close = known.filter((k) => measureEditDistance(unknown.toLowerCase(), k.toLowerCase()) <= 2);
  return close.length === 1 ? close[0]! : null;
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions (`prot` is one edit from `port`). */
function measureEditDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
