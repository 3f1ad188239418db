/**
 * JSON inside image metadata, read with the strict parser (depth-limited, no evaluation, duplicate keys refused)
 * and turned into plain records whose objects have no prototype, so a `__proto__` key is only data.
 */
import { parseStrictJson, StrictJsonError, type JsonValue } from '../io/strict-json.ts';
import { UnreadableMetadataError } from './imported-settings.ts';

export type JsonRecord = Record<string, unknown>;

/** The text as JSON when it is a JSON object; null when it does not start like one. Broken JSON is an error naming `field`. */
export function parseJsonObject(text: string, field: string): JsonRecord | null {
  if (!text.trimStart().startsWith('{')) return null;
  let value: JsonValue;
  try {
    value = parseStrictJson(text.trim());
  } catch (error) {
    if (error instanceof StrictJsonError) throw new UnreadableMetadataError(field, `is not valid JSON (${error.message})`);
    throw error;
  }
  const plain = toPlain(value);
  return isRecord(plain) ? plain : null;
}

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string field, or undefined when absent or not a string. */
export function textOf(record: JsonRecord, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

function toPlain(value: JsonValue): unknown {
  if (value instanceof Map) {
    const out = Object.create(null) as JsonRecord;
    for (const [key, item] of value) out[key] = toPlain(item);
    return out;
  }
  if (Array.isArray(value)) return value.map(toPlain);
  // Integers the parser keeps exact: seeds need every digit, other fields read them as numbers.
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  return value;
}
