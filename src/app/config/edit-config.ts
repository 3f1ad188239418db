/**
 * Programmatic edits of the config file (`fooocus users`, `fooocus tokens`): read with the same permission
 * checks as loading, change the JSON, validate the whole result (schema, retired settings, auth rules), then
 * replace the file atomically with owner-only permissions, so a reader sees the old file or the new one and never
 * a half-written or unchecked one. A locked config is never edited: the lock records a reviewed file, so a
 * change goes through review like any other.
 *
 * The file alone is edited, without defaults, environment or flags, so the first user can be added to a config
 * that does not load yet (`server.host` set, no users). Concurrent edits are not merged; the last rename wins.
 */
import { access, realpath } from 'node:fs/promises';
import { writeFileAtomic } from '../models/atomic-file.ts';
import { findAuthProblem } from './auth-rules.ts';
import { ConfigError } from './config-errors.ts';
import { parseConfigBytes, readProtectedFile, type ConfigPermissionOptions } from './config-file.ts';
import { defaultLockPath } from './config-lock.ts';
import type { AppConfig } from './config-schema.ts';

export type ConfigJson = Record<string, unknown>;

/**
 * Reads `file` (an absent file is an empty config), lets `change` edit its JSON (it may throw to refuse),
 * validates and writes the result. Returns what `change` returned.
 */
export async function editConfigFile<T>(file: string, change: (config: ConfigJson) => T, permissions: ConfigPermissionOptions = {}): Promise<T> {
  const lock = defaultLockPath(file);
  if (await exists(lock)) {
    throw new ConfigError(
      `${file} is locked (${lock}), so it was not changed; to change it, delete the lock, run this command again, ` +
        'review the file (`npm run fooocus -- config show`) and lock it again with `npm run fooocus -- config lock`',
      { key: null, file, source: `file:${file}` },
    );
  }
  const target = await realpath(file).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? file : Promise.reject(err)));
  const config = (await readConfigJson(target, permissions)) ?? {};
  const result = change(config);
  const text = `${JSON.stringify(config, null, 2)}\n`;
  checkConfigJson(Buffer.from(text), file);
  await writeFileAtomic(target, text, { mode: 0o600 });
  return result;
}

/**
 * The JSON of `file` as written (no defaults), checked against the schema, or null when there is no such file.
 * Rules across entries are checked on the edited result only, so an edit can repair an entry they refuse.
 */
export async function readConfigJson(file: string, permissions: ConfigPermissionOptions = {}): Promise<ConfigJson | null> {
  let bytes: Buffer;
  try {
    ({ bytes } = await readProtectedFile(file, permissions));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return parseConfigBytes(bytes, file);
}

/** The object at `keys` inside `config`, created empty where missing. */
export function objectAt(config: ConfigJson, ...keys: string[]): ConfigJson {
  let node = config;
  for (const key of keys) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as ConfigJson;
  }
  return node;
}

/** The file's `server.auth`, with the defaults (no users, no tokens) for what it leaves out. */
export function authOf(config: ConfigJson): AppConfig['server']['auth'] {
  const auth = (config.server as { auth?: Partial<AppConfig['server']['auth']> } | undefined)?.auth;
  return { users: auth?.users ?? [], tokens: auth?.tokens ?? [] };
}

function checkConfigJson(bytes: Buffer, file: string): ConfigJson {
  const config = parseConfigBytes(bytes, file);
  const problem = findAuthProblem(authOf(config));
  if (problem !== null) throw new ConfigError(`${file}: ${problem.key}: ${problem.detail}`, { key: problem.key, file, source: `file:${file}` });
  return config;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
