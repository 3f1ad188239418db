/** `fooocus doctor`'s look at the Redis the configuration names: reachable, its version and persistence, the live workers. */
import { buildRedisOptions, redactRedisUrl, type RedisSettings } from './redis-connection.ts';
import { WorkerRegistry } from './redis-worker-registry.ts';

/** What `fooocus doctor` says about the Redis the configuration names. */
export interface RedisCheck {
  url: string;
  ok: boolean;
  /** The error when not ok. */
  detail: string;
  version: string | null;
  /** Whether AOF is on, and its fsync policy (`everysec` is the documented set-up). */
  appendonly: boolean | null;
  appendfsync: string | null;
  /** Workers announced and not expired. */
  workers: number;
  /** Each of them: its id, execution provider, slots and model count. */
  live: { id: string; provider: string; concurrency: number; models: number }[];
}

/** Connects once (no retries, 3 s timeout), reads the server's version and persistence, and lists the live workers. */
export async function checkRedis(settings: RedisSettings): Promise<RedisCheck> {
  const { Redis } = await import('ioredis');
  const url = redactRedisUrl(settings.url);
  const client = new Redis({ ...buildRedisOptions(settings), retryStrategy: () => null, maxRetriesPerRequest: 1, connectTimeout: 3000, lazyConnect: true });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const info = await client.info();
    const field = (name: string): string | null => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? null;
    const policy = await client.config('GET', 'appendfsync').then((pair) => (pair as string[])[1] ?? null).catch(() => null);
    const live = (await new WorkerRegistry(client, settings, () => undefined).read()).map((w) => ({ id: w.id, provider: w.provider, concurrency: w.concurrency, models: w.models.length }));
    const appendonly = field('aof_enabled') === null ? null : field('aof_enabled') === '1';
    return { url, ok: true, detail: 'ok', version: field('redis_version'), appendonly, appendfsync: policy, workers: live.length, live };
  } catch (err) {
    return { url, ok: false, detail: err instanceof Error ? err.message : String(err), version: null, appendonly: null, appendfsync: null, workers: 0, live: [] };
  } finally {
    client.disconnect();
  }
}
