/**
 * How the studio and its workers reach Redis: the URL from the configuration, parsed once and checked here (load-config
 * uses the same parser, so a URL that passes validation is one we can connect with), TLS for `rediss://`, and the
 * password from the URL or a file. Connections retry for ever with a capped delay: a Redis restart is an outage to
 * wait out, never a reason for the server or a worker to exit.
 */
import { readFile, stat } from 'node:fs/promises';
import { FooocusError } from '../../engine/index.ts';
import type { RedisOptions } from 'bullmq';

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  tls: boolean;
  username?: string;
  password?: string;
}

/** What a queue backend or worker needs to reach its Redis. */
export interface RedisSettings {
  url: string;
  /** Prefix of every key (BullMQ's `prefix` too). */
  prefix: string;
  /** Overrides the URL's password (read from queue.redisPasswordFile). */
  password?: string;
}

/** A Redis URL or password file the configuration cannot use; names the key. */
export class RedisConfigError extends FooocusError {
  constructor(field: string, rule: string) {
    super('invalid', `${field}: ${rule}`, { field });
  }
}

/** Parses `redis://[user][:password@]host[:port][/db]` or `rediss://…`; throws RedisConfigError naming `field`. */
export function parseRedisUrl(text: string, field = 'queue.redisUrl'): RedisTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RedisConfigError(field, 'must be a URL such as redis://127.0.0.1:6379');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new RedisConfigError(field, `must start with redis:// or rediss:// (TLS), got ${url.protocol}//`);
  if (url.hostname === '') throw new RedisConfigError(field, 'must name a host');
  if (url.search !== '' || url.hash !== '') throw new RedisConfigError(field, 'must not have a query or fragment (options are configuration keys)');
  const dbText = url.pathname.replace(/^\//, '');
  if (!/^(\d{1,2})?$/.test(dbText)) throw new RedisConfigError(field, `the path must be a database number 0..15, got "/${dbText}"`);
  const db = dbText === '' ? 0 : Number(dbText);
  if (db > 15) throw new RedisConfigError(field, `the database number must be 0..15, got ${db}`);
  const port = url.port === '' ? 6379 : Number(url.port);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db,
    tls: url.protocol === 'rediss:',
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
  };
}

/** The URL with its password replaced, for logs and `config show`. */
export function redactRedisUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(not a URL)';
  }
}

/** ioredis options for `settings`: reconnect for ever (at most 2 s apart), and never fail a command while offline. */
export function buildRedisOptions(settings: RedisSettings): RedisOptions {
  const target = parseRedisUrl(settings.url);
  const password = settings.password ?? target.password;
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(password === undefined ? {} : { password }),
    // Certificate checks stay on (Node's defaults); servername for SNI and the name check.
    ...(target.tls ? { tls: { servername: target.host } } : {}),
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
    connectTimeout: 5000,
  };
}

/**
 * The password from queue.redisPasswordFile: its first line. The file must be a regular file that group and others
 * cannot read, like the config file's own rule for secrets.
 */
export async function readRedisPasswordFile(file: string, platform: NodeJS.Platform = process.platform): Promise<string> {
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new RedisConfigError('queue.redisPasswordFile', `cannot read ${file}: ${err.code ?? err.message}`);
  });
  if (!info.isFile()) throw new RedisConfigError('queue.redisPasswordFile', `${file} is not a regular file`);
  if (platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new RedisConfigError('queue.redisPasswordFile', `${file} is readable or writable by group or others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`);
  }
  const password = (await readFile(file, 'utf8')).split(/\r?\n/, 1)[0] ?? '';
  if (password === '') throw new RedisConfigError('queue.redisPasswordFile', `${file} is empty`);
  return password;
}
