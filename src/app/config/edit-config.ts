/**
 * Programmatic edits of the config file (`fooocus users`, `fooocus tokens`): read with the same permission
 * checks as loading, change the JSON, validate the whole result against the schema, then replace the file
 * atomically with owner-only permissions. A locked config is never edited: the lock records a reviewed file,
 * so a change goes through review (edit, check, `fooocus config lock` again) like any other.
 */
import { access } from 'node:fs/promises';
import { writeFileAtomic } from '../models/atomic-file.ts';
import { ConfigError } from './config-errors.ts';
import { parseConfigBytes, readProtectedFile, type ConfigPermissionOptions } from './config-file.ts';
import { defaultLockPath } from './config-lock.ts';

type Json = Record<string, unknown>;

/** Reads `file` (an absent file is an empty config), applies `change`, validates and writes the result. */
export async function editConfigFile(file: string, change: (config: Json) => void, permissions: ConfigPermissionOptions = {}): Promise<void> {
  const lock = defaultLockPath(file);
  if (await access(lock).then(() => true, () => false)) {
    throw new ConfigError(`${file} is locked (${lock}); edit it by hand, review it, then run \`fooocus config lock\` again`, { key: null, file, source: `file:${file}` });
  }
  let config: Json = {};
  try {
    const { bytes } = await readProtectedFile(file, permissions);
    parseConfigBytes(bytes, file);
    config = JSON.parse(Buffer.from(bytes).toString('utf8')) as Json;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  change(config);
  const text = `${JSON.stringify(config, null, 2)}\n`;
  parseConfigBytes(Buffer.from(text), file);
  await writeFileAtomic(file, text, 0o600);
}

/** The object at `keys` inside `config`, created empty where missing. */
export function objectAt(config: Json, ...keys: string[]): Json {
  let node = config;
  for (const key of keys) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Json;
  }
  return node;
}
