/**
 * # Configuration
 *
 * `loadConfig` builds the configuration from four layers, later ones winning key by key:
 *
 * 1. defaults (config-schema.ts),
 * 2. the config file: `--config <file>`, else `$FOOOCUS_CONFIG`, else `fooocus.config.json` in the working
 *    directory if it exists,
 * 3. `FOOOCUS_*` environment variables (config-overrides.ts has the table),
 * 4. flags (`--host`, `--port`, `--models`, `--outputs`, `--insecure-permissions`).
 *
 * and records for every key where its value came from (`default`, `file:<path>`, `env:FOOOCUS_X`, `flag:--x`).
 * Every layer is validated with errors that name the key path; nothing unknown is ignored. The config file must not
 * be writable by group or others and, when a `<file>.lock` exists, must hash to the locked value. Only a flag or
 * variable can excuse the config file's own permissions: a writable file could excuse itself.
 *
 * The caller (a composition root) passes the working directory, environment and flags explicitly. This module
 * never writes: the running process does not change its own configuration.
 */
import { lstat } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import path from 'node:path';
import { parseRedisUrl } from '../jobs/redis-connection.ts';
import { findAuthProblem } from './auth-rules.ts';
import { ConfigError } from './config-errors.ts';
import { DEFAULT_CONFIG_FILE, parseConfigBytes, readProtectedFile, type ConfigPermissionOptions } from './config-file.ts';
import { checkLockedBytes, refuseOrphanLock } from './config-lock.ts';
import { CONFIG_FILE_ENV, readEnvOverrides, readFlagOverrides, type ConfigOverride } from './config-overrides.ts';
import { createDefaultConfig, getKey, listConfigKeys, setKey, type AppConfig, type ConfigKey } from './config-schema.ts';

export interface LoadConfigOptions {
  /** Directory that relative paths from defaults, variables and flags resolve against, and where the default file is looked for. */
  cwd: string;
  /** `--config`: the config file to read; it must exist. */
  file?: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Parsed flags by name without `--` (see FLAG_OVERRIDES); undefined means not given. */
  flags?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Tests only: the platform and user id permission checks assume. */
  permissions?: Omit<ConfigPermissionOptions, 'allowInsecure'>;
}

export interface LoadedConfig {
  /** Every key present; paths absolute. */
  config: AppConfig;
  /** For each leaf key: `default`, `file:<path>`, `env:FOOOCUS_X` or `flag:--x`. */
  sources: Record<ConfigKey, string>;
  /** The config file read, absolute, or null when defaults and overrides were used alone. */
  file: string | null;
  /** Whether the file matched a `.lock` ('locked'), had none ('unlocked'), or there was no file. */
  lock: 'locked' | 'unlocked' | 'no-file';
  /** Warnings for the caller to log (permissions allowed despite being insecure, checks skipped on Windows). */
  warnings: string[];
}

const PATH_KEYS: readonly ConfigKey[] = ['paths.models', 'paths.outputs', 'paths.cache'];

export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  // 1. overrides from whoever started the process, checked before anything is read
  const overrides = [...readEnvOverrides(options.env), ...readFlagOverrides(options.flags ?? {})];
  const allowInsecure = overrides.some((o) => o.key === 'security.allowInsecurePermissions' && o.value === true);
  const permissions: ConfigPermissionOptions = { ...options.permissions, allowInsecure };

  // 2. defaults
  const config = createDefaultConfig();
  const sources: Record<ConfigKey, string> = Object.fromEntries(listConfigKeys().map(({ key }) => [key, 'default']));
  const warnings: string[] = [];

  // 3. the file: permissions, lock and schema, all on the same bytes
  const file = await locateConfigFile(options);
  let lock: LoadedConfig['lock'] = 'no-file';
  if (file !== null) {
    const read = await readExistingConfig(file, permissions);
    if (read.warning !== null) warnings.push(read.warning);
    lock = await checkLockedBytes(file, read.bytes, undefined, permissions);
    const values = parseConfigBytes(read.bytes, file);
    for (const { key } of listConfigKeys()) {
      const value = findPartialKey(values, key);
      if (value !== undefined) applyValue(config, sources, { key, value, source: `file:${file}` });
    }
  }

  // 4. environment, then flags
  for (const override of overrides) applyValue(config, sources, override);

  // 5. resolve relative paths and check rules that span keys
  const fileBase = file === null ? options.cwd : path.dirname(file);
  for (const key of PATH_KEYS) resolvePathKey(config, sources, key, fileBase, options.cwd);
  if (config.queue.redisPasswordFile !== null) resolvePathKey(config, sources, 'queue.redisPasswordFile', fileBase, options.cwd);
  checkAuthOnNetwork(config, sources, file);
  checkQueue(config, sources, file);
  return { config, sources, file, lock, warnings };
}

/**
 * The config file `loadConfig` reads for these options, absolute: `--config`, else `$FOOOCUS_CONFIG`, else
 * `fooocus.config.json` in `cwd` when it exists; null when there is none. A lock left without its default config
 * file is refused here, since deleting a locked config must not silently fall back to defaults.
 */
export async function locateConfigFile(options: Pick<LoadConfigOptions, 'cwd' | 'file' | 'env'>): Promise<string | null> {
  if (options.file !== undefined) return path.resolve(options.cwd, options.file);
  const fromEnv = options.env[CONFIG_FILE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(options.cwd, fromEnv);
  const file = path.resolve(options.cwd, DEFAULT_CONFIG_FILE);
  try {
    await lstat(file);
    return file;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await refuseOrphanLock(file);
  return null;
}

/** Reads the config, turning a missing file into a lock error (if a lock exists) or a ConfigError. */
async function readExistingConfig(file: string, permissions: ConfigPermissionOptions): ReturnType<typeof readProtectedFile> {
  try {
    return await readProtectedFile(file, permissions);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await refuseOrphanLock(file);
    throw new ConfigError(`${file}: config file not found`, { key: null, file, source: `file:${file}` });
  }
}

/** A leaf of a validated partial config, or undefined when the file does not set it. */
function findPartialKey(values: Record<string, unknown>, key: ConfigKey): unknown {
  let node: unknown = values;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function applyValue(config: AppConfig, sources: Record<ConfigKey, string>, override: ConfigOverride): void {
  setKey(config, override.key, structuredClone(override.value));
  sources[override.key] = override.source;
}

/** Relative paths from the file (or defaults next to it) resolve against its directory; from env or flags, against cwd. */
function resolvePathKey(config: AppConfig, sources: Record<ConfigKey, string>, key: ConfigKey, fileBase: string, cwd: string): void {
  const value = getKey(config, key) as string;
  const source = sources[key]!;
  if (value === '~' || value.startsWith('~/')) {
    throw new ConfigError(`${key} (${source}): "~" is not expanded in configuration; write the full path`, {
      key,
      file: source.startsWith('file:') ? source.slice('file:'.length) : null,
      source,
    });
  }
  const base = source === 'default' || source.startsWith('file:') ? fileBase : cwd;
  setKey(config, key, path.resolve(base, value));
}

/**
 * Users and tokens must be consistent (auth-rules.ts), and an API reachable beyond this machine must require
 * them; no users and no tokens is for loopback only.
 */
function checkAuthOnNetwork(config: AppConfig, sources: Record<ConfigKey, string>, file: string | null): void {
  const problem = findAuthProblem(config.server.auth);
  if (problem !== null) {
    const listKey = problem.key.replace(/\[\d+\].*$/, '');
    throw new ConfigError(`${problem.key}: ${problem.detail}`, { key: problem.key, file, source: sources[listKey] ?? 'default' });
  }
  const { users, tokens } = config.server.auth;
  if (users.length > 0 || tokens.length > 0 || isLoopbackHost(config.server.host)) return;
  const source = sources['server.host']!;
  throw new ConfigError(
    `server.auth: no users and no tokens, but server.host is "${config.server.host}" (${source}), which other machines can reach; ` +
      'add a user with `npm run fooocus -- users add <name>`, or listen on 127.0.0.1',
    { key: 'server.auth.users', file, source },
  );
}

/** The Redis URL must parse (host, port, database) and the redis backend needs one. */
function checkQueue(config: AppConfig, sources: Record<ConfigKey, string>, file: string | null): void {
  const { redisUrl, backend } = config.queue;
  if (redisUrl !== null) {
    try {
      parseRedisUrl(redisUrl);
    } catch (err) {
      const source = sources['queue.redisUrl']!;
      throw new ConfigError(`${(err as Error).message} (${source})`, { key: 'queue.redisUrl', file, source });
    }
  }
  if (backend === 'redis' && redisUrl === null) {
    const source = sources['queue.backend']!;
    throw new ConfigError(`queue.backend is "redis" (${source}) but queue.redisUrl is not set; set it, or use \`serve --redis <url>\``, { key: 'queue.redisUrl', file, source });
  }
}

export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase().replace(/^::ffff:/, '');
  return bare === 'localhost' || bare === '::1' || (isIPv4(bare) && bare.startsWith('127.'));
}
