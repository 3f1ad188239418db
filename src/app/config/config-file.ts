/**
 * Reading one config file safely: the permissions checked are those of the file actually opened, at most 1 MiB is
 * read even if the file grows meanwhile, the text must be UTF-8 JSON without duplicate keys, and every key must be
 * known and well typed. Nothing here writes.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { ConfigError } from './config-errors.ts';
import { buildFileSchema } from './config-schema.ts';
import { findDuplicateJsonKey } from './duplicate-json-keys.ts';
import { evaluatePermissions, type PermissionOptions } from './file-permissions.ts';
import { findRetiredSetting } from './retired-settings.ts';
import { findSchemaProblem } from './schema-problem.ts';

export const DEFAULT_CONFIG_FILE = 'fooocus.config.json';
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Permission options for the config file and its lock (the kind is implied). */
export type ConfigPermissionOptions = Omit<PermissionOptions, 'kind'>;

export interface ConfigFileBytes {
  bytes: Buffer;
  /** A permission warning for the caller to log (allowed insecure permissions, Windows), or null. */
  warning: string | null;
}

/**
 * Reads a config file (or its lock) after checking the opened file's permissions. A FIFO or device never blocks
 * the open and is refused, as is anything over `maxBytes`.
 */
export async function readProtectedFile(
  file: string,
  permissions: ConfigPermissionOptions,
  maxBytes = MAX_CONFIG_BYTES,
): Promise<ConfigFileBytes> {
  const handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stats = await handle.stat();
    const source = { key: null, file, source: `file:${file}` };
    if (!stats.isFile()) throw new ConfigError(`${file}: not a regular file`, source);
    const warning = evaluatePermissions(stats, file, { ...permissions, kind: 'config' });
    const tooLarge = new ConfigError(`${file}: larger than ${maxBytes} bytes, more than a config file needs; refusing to read it`, source);
    if (stats.size > maxBytes) throw tooLarge;
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw tooLarge;
    }
    return { bytes: buffer.subarray(0, length), warning };
  } finally {
    await handle.close();
  }
}

/**
 * Parses and validates config file bytes. Returns the file's (partial) configuration; every key in it is known
 * and has the right type. Throws ConfigError naming the file and the key path.
 */
export function parseConfigBytes(bytes: Uint8Array, file: string): Record<string, unknown> {
  const fail = (key: string | null, detail: string): ConfigError =>
    new ConfigError(`${file}: ${key === null ? '' : `${key === '' ? '(top level)' : key}: `}${detail}`, { key, file, source: `file:${file}` });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw fail(null, 'not valid UTF-8 text');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw fail(null, `not valid JSON (${(err as Error).message})`);
  }
  const duplicate = findDuplicateJsonKey(text);
  if (duplicate !== null) throw fail(duplicate, 'key appears more than once in its object; keep only one');
  const retired = findRetiredSetting(value);
  if (retired !== null) throw fail(retired.key, retired.detail);
  const problem = findSchemaProblem(getFileSchema(), value);
  if (problem !== null) {
    throw fail(problem.key, `${problem.detail}${problem.more > 0 ? ` (and ${problem.more} more problem${problem.more > 1 ? 's' : ''})` : ''}`);
  }
  return value as Record<string, unknown>;
}

let fileSchema: ReturnType<typeof buildFileSchema> | undefined;

function getFileSchema(): ReturnType<typeof buildFileSchema> {
  fileSchema ??= buildFileSchema();
  return fileSchema;
}
