/**
 * Overrides from the environment and the command line, by explicit tables: each variable or flag sets exactly one
 * key and has a type. A `FOOOCUS_*` variable that is not in the table is an error (a typo such as
 * `FOOOCUS_SERVER_PROT` would otherwise be silently ignored), and every value is checked against the key's schema
 * before it is used, with errors that name the variable or flag.
 */
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from './config-errors.ts';
import { findKeySchema, type ConfigKey } from './config-schema.ts';
import { RETIRED_ENV } from './retired-settings.ts';
import { findSchemaProblem } from './schema-problem.ts';

/** How the text of a variable becomes a value: lists are comma-separated, an empty nullable is null. */
export type OverrideKind = 'string' | 'integer' | 'boolean' | 'list' | 'nullable-string';

export interface OverrideSpec {
  key: ConfigKey;
  kind: OverrideKind;
}

/** A validated override: the key it sets, its value, and where it came from (`env:FOOOCUS_X`, `flag:--x`). */
export interface ConfigOverride {
  key: ConfigKey;
  value: unknown;
  source: string;
}

/** Names the config file to read, like `--config`; not a key. */
export const CONFIG_FILE_ENV = 'FOOOCUS_CONFIG';

const ENV_PREFIX = 'FOOOCUS_';

export const ENV_OVERRIDES: Readonly<Record<string, OverrideSpec>> = {
  FOOOCUS_SERVER_HOST: { key: 'server.host', kind: 'string' },
  FOOOCUS_SERVER_PORT: { key: 'server.port', kind: 'integer' },
  FOOOCUS_SERVER_ALLOWED_HOSTS: { key: 'server.allowedHosts', kind: 'list' },
  FOOOCUS_SERVER_SECURE_COOKIES: { key: 'server.secureCookies', kind: 'boolean' },
  FOOOCUS_SERVER_RATE_LIMIT_READS_PER_MINUTE: { key: 'server.rateLimit.readsPerMinute', kind: 'integer' },
  FOOOCUS_SERVER_RATE_LIMIT_SUBMITS_PER_MINUTE: { key: 'server.rateLimit.submitsPerMinute', kind: 'integer' },
  FOOOCUS_SERVER_MAX_QUEUED_JOBS: { key: 'server.maxQueuedJobs', kind: 'integer' },
  FOOOCUS_PATHS_MODELS: { key: 'paths.models', kind: 'string' },
  FOOOCUS_PATHS_OUTPUTS: { key: 'paths.outputs', kind: 'string' },
  FOOOCUS_PATHS_CACHE: { key: 'paths.cache', kind: 'string' },
  FOOOCUS_RUNTIME_EXECUTION_PROVIDER: { key: 'runtime.executionProvider', kind: 'string' },
  FOOOCUS_RUNTIME_THREADS: { key: 'runtime.threads', kind: 'integer' },
  FOOOCUS_RUNTIME_PRECISION: { key: 'runtime.precision', kind: 'string' },
  FOOOCUS_RUNTIME_MEMORY: { key: 'runtime.memory', kind: 'string' },
  FOOOCUS_DOWNLOADS_ALLOWED_HOSTS: { key: 'downloads.allowedHosts', kind: 'list' },
  FOOOCUS_DOWNLOADS_MAX_REDIRECTS: { key: 'downloads.maxRedirects', kind: 'integer' },
  FOOOCUS_GENERATION_DEFAULT_MODEL: { key: 'generation.defaultModel', kind: 'nullable-string' },
  FOOOCUS_GENERATION_DEFAULT_STEPS: { key: 'generation.defaultSteps', kind: 'integer' },
  FOOOCUS_QUEUE_BACKEND: { key: 'queue.backend', kind: 'string' },
  FOOOCUS_QUEUE_REDIS_URL: { key: 'queue.redisUrl', kind: 'nullable-string' },
  FOOOCUS_QUEUE_REDIS_PASSWORD_FILE: { key: 'queue.redisPasswordFile', kind: 'nullable-string' },
  FOOOCUS_QUEUE_REDIS_PREFIX: { key: 'queue.redisPrefix', kind: 'string' },
  FOOOCUS_QUEUE_WORKER_CONCURRENCY: { key: 'queue.workerConcurrency', kind: 'integer' },
  FOOOCUS_QUEUE_PROVIDERS: { key: 'queue.providers', kind: 'list' },
  FOOOCUS_SECURITY_ALLOW_INSECURE_PERMISSIONS: { key: 'security.allowInsecurePermissions', kind: 'boolean' },
};

/** Flags (without the leading `--`) that set a key; the CLI passes parseArgs values under these names. */
export const FLAG_OVERRIDES: Readonly<Record<string, OverrideSpec>> = {
  host: { key: 'server.host', kind: 'string' },
  port: { key: 'server.port', kind: 'integer' },
  models: { key: 'paths.models', kind: 'string' },
  outputs: { key: 'paths.outputs', kind: 'string' },
  'insecure-permissions': { key: 'security.allowInsecurePermissions', kind: 'boolean' },
  redis: { key: 'queue.redisUrl', kind: 'string' },
  'local-worker': { key: 'queue.localWorker', kind: 'boolean' },
  concurrency: { key: 'queue.workerConcurrency', kind: 'integer' },
  precision: { key: 'runtime.precision', kind: 'string' },
};

/** Validated overrides from `env`, in table order. Throws ConfigError for an unknown `FOOOCUS_*` name or a bad value. */
export function readEnvOverrides(env: Readonly<Record<string, string | undefined>>): ConfigOverride[] {
  const unknown = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && name !== CONFIG_FILE_ENV && !Object.hasOwn(ENV_OVERRIDES, name) && env[name] !== undefined)
    .sort();
  const retired = unknown.find((name) => Object.hasOwn(RETIRED_ENV, name));
  if (retired !== undefined) throw new ConfigError(`${retired}: ${RETIRED_ENV[retired]}`, { key: null, file: null, source: `env:${retired}` });
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown environment variable${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: not a Fooocus setting ` +
        '(the README lists the supported FOOOCUS_* variables); unset or rename it',
      { key: null, file: null, source: `env:${unknown[0]}` },
    );
  }
  const overrides: ConfigOverride[] = [];
  for (const [name, spec] of Object.entries(ENV_OVERRIDES)) {
    const text = env[name];
    if (text === undefined) continue;
    overrides.push(checkOverride(spec, convertText(text, spec.kind), `env:${name}`, name));
  }
  return overrides;
}

/** Validated overrides from parsed flags; undefined values (flag not given) are skipped, unknown names refused. */
export function readFlagOverrides(flags: Readonly<Record<string, string | number | boolean | undefined>>): ConfigOverride[] {
  const overrides: ConfigOverride[] = [];
  for (const [name, raw] of Object.entries(flags)) {
    if (raw === undefined) continue;
    const spec = Object.hasOwn(FLAG_OVERRIDES, name) ? FLAG_OVERRIDES[name] : undefined;
    if (spec === undefined) {
      throw new ConfigError(`--${name}: not a configuration flag (known: ${Object.keys(FLAG_OVERRIDES).map((f) => `--${f}`).join(', ')})`, {
        key: null,
        file: null,
        source: `flag:--${name}`,
      });
    }
    const value = typeof raw === 'string' ? convertText(raw, spec.kind) : raw;
    overrides.push(checkOverride(spec, value, `flag:--${name}`, `--${name}`));
  }
  return overrides;
}

function checkOverride(spec: OverrideSpec, value: unknown, source: string, label: string): ConfigOverride {
  const schema = findKeySchema(spec.key);
  if (schema === undefined) throw new Error(`override table names unknown key ${spec.key}`);
  if (!Value.Check(schema, value)) {
    const problem = findSchemaProblem(schema, value, spec.key.split('.'));
    throw new ConfigError(`${label} (${problem?.key ?? spec.key}): ${problem?.detail ?? 'invalid value'}`, { key: spec.key, file: null, source });
  }
  return { key: spec.key, value, source };
}

/**
 * Text to a typed value. Text that does not convert is passed on unchanged, so the schema check reports what was
 * expected and the text that was found (`expected integer from 1 to 65535, got "abc"`).
 */
function convertText(text: string, kind: OverrideKind): unknown {
  switch (kind) {
    case 'string':
      return text;
    case 'integer':
      return /^-?\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : text;
    case 'boolean': {
      const word = text.trim().toLowerCase();
      return word === 'true' || word === '1' ? true : word === 'false' || word === '0' ? false : text;
    }
    case 'list':
      return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
    case 'nullable-string':
      return text === '' ? null : text;
  }
}
