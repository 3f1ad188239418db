/**
 * What `fooocus config show` prints: every key, its value and where the value came from, with secrets redacted.
 * Token hashes are not the tokens, but they identify them and let an attacker test guesses offline, so they are
 * shown only as a count.
 */
import { redactRedisUrl } from '../jobs/redis-connection.ts';
import { getKey, listConfigKeys, setKey, type ConfigKey } from './config-schema.ts';
import type { LoadedConfig } from './load-config.ts';

/** Keys whose entries carry a secret's hash: shown by name, the hash field redacted. */
const SECRET_FIELDS: ReadonlyMap<ConfigKey, string> = new Map([
  ['server.auth.users', 'passwordHash'],
  ['server.auth.tokens', 'sha256'],
]);
const REDACTED = '<redacted>';

export interface ConfigRow {
  key: ConfigKey;
  value: string;
  source: string;
}

/** One row per key, in schema order, secrets redacted. */
export function listConfigRows(loaded: LoadedConfig): ConfigRow[] {
  return listConfigKeys().map(({ key }) => ({
    key,
    value: formatValue(key, getKey(loaded.config, key)),
    source: loaded.sources[key] ?? 'default',
  }));
}

/** Aligned text lines: a header naming the file and lock state, then `key  value  source` rows. */
export function describeConfig(loaded: LoadedConfig): string[] {
  const rows = listConfigRows(loaded);
  const keyWidth = Math.max(...rows.map((r) => r.key.length));
  const valueWidth = Math.min(48, Math.max(...rows.map((r) => r.value.length)));
  const lockState = loaded.lock === 'locked' ? 'locked, hash matches' : loaded.lock === 'unlocked' ? 'not locked' : '';
  const header = loaded.file === null ? 'Config file: none (defaults, environment and flags)' : `Config file: ${loaded.file} (${lockState})`;
  return [header, ...rows.map((r) => `${r.key.padEnd(keyWidth)}  ${r.value.padEnd(valueWidth)}  ${r.source}`)];
}

/** The configuration as JSON-ready data for `config show --json`: values with secrets redacted, and sources. */
export function toRedactedJson(loaded: LoadedConfig): { file: string | null; lock: LoadedConfig['lock']; config: unknown; sources: Record<ConfigKey, string> } {
  const config = structuredClone(loaded.config);
  for (const [key, field] of SECRET_FIELDS) {
    const value = getKey(config, key);
    setKey(config, key, Array.isArray(value) ? value.map((entry: Record<string, unknown>) => ({ ...entry, [field]: REDACTED })) : REDACTED);
  }
  if (config.queue.redisUrl !== null) config.queue.redisUrl = redactRedisUrl(config.queue.redisUrl);
  return { file: loaded.file, lock: loaded.lock, config, sources: { ...loaded.sources } };
}

function formatValue(key: ConfigKey, value: unknown): string {
  if (SECRET_FIELDS.has(key)) {
    const entries = Array.isArray(value) ? (value as Record<string, string>[]) : [];
    if (entries.length === 0) return '(none)';
    return entries.map((e) => (key === 'server.auth.users' ? `${e.name} (${e.role})` : `${e.name} -> ${e.owner}`)).join(', ');
  }
  // A Redis URL may carry the password.
  if (key === 'queue.redisUrl' && typeof value === 'string') return redactRedisUrl(value);
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.map((v) => String(v)).join(', ');
  return JSON.stringify(value);
}
