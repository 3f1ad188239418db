/**
 * The Redis queue's view of its workers: the announcements that have not expired (`P:workers`, `P:worker-info`),
 * the choice of a worker for a job, and one BullMQ queue per worker to hand it jobs. An announcement that does not
 * parse is logged and skipped; it never hides the other workers.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { buildRedisOptions, type RedisSettings } from './redis-connection.ts';
import { allowsProvider, parseAnnouncement, redisKeys, workQueueName, type ModelPin, type WorkerAnnouncement } from './remote-job-protocol.ts';

/** What the server knows of the live workers: announcements not yet expired. */
export interface WorkerStatus {
  connected: boolean;
  workers: WorkerAnnouncement[];
}

export class WorkerRegistry {
  readonly #redis: Redis;
  readonly #settings: RedisSettings;
  readonly #keys: ReturnType<typeof redisKeys>;
  readonly #log: (line: string) => void;
  readonly #workQueues = new Map<string, Queue>();
  #live: WorkerAnnouncement[] = [];

  constructor(redis: Redis, settings: RedisSettings, log: (line: string) => void) {
    this.#redis = redis;
    this.#settings = settings;
    this.#keys = redisKeys(settings.prefix);
    this.#log = log;
  }

  /** The workers as of the last `refresh`. */
  get live(): readonly WorkerAnnouncement[] {
    return this.#live;
  }

  /** Reads the announcements again. */
  async refresh(): Promise<void> {
    this.#live = await this.read();
  }

  /** Whether Redis answers, and the workers that announced themselves and have not expired. */
  async status(): Promise<WorkerStatus> {
    try {
      await this.#redis.ping();
      return { connected: true, workers: await this.read() };
    } catch {
      return { connected: false, workers: [] };
    }
  }

  async read(): Promise<WorkerAnnouncement[]> {
    const ids = await this.#redis.zrangebyscore(this.#keys.workers, Date.now(), '+inf');
    if (ids.length === 0) return [];
    const texts = await this.#redis.hmget(this.#keys.workerInfo, ...ids);
    const workers: WorkerAnnouncement[] = [];
    for (const text of texts) {
      if (text === null) continue;
      try {
        workers.push(parseAnnouncement(text));
      } catch (err) {
        this.#log(`ignored a worker announcement: ${(err as Error).message}`);
      }
    }
    return workers;
  }

  /**
   * The free worker that runs one of `providers` (empty: any) and has every pinned model, the one with most free
   * slots first.
   */
  choose(pins: readonly ModelPin[], providers: readonly string[], load: ReadonlyMap<string, number>): WorkerAnnouncement | undefined {
    let best: { worker: WorkerAnnouncement; free: number } | undefined;
    for (const worker of this.#live) {
      const free = worker.concurrency - (load.get(worker.id) ?? 0);
      if (free <= 0 || !allowsProvider(providers, worker.provider) || !pins.every((pin) => worker.models.includes(pin.sha256))) continue;
      if (best === undefined || free > best.free) best = { worker, free };
    }
    return best?.worker;
  }

  /**
   * Why no live worker could ever take a job pinned to `pins` on `providers`, busy or not: none connected, none on
   * an allowed provider, or a model none of them announced. Null when some worker could (the job waits its turn).
   */
  explainWait(pins: readonly ModelPin[], providers: readonly string[]): string | null {
    if (this.#live.length === 0) return 'no worker is connected to the queue';
    const allowed = this.#live.filter((worker) => allowsProvider(providers, worker.provider));
    if (allowed.length === 0) return `no connected worker runs on ${providers.join(' or ')} (queue.providers)`;
    if (allowed.some((worker) => pins.every((pin) => worker.models.includes(pin.sha256)))) return null;
    const missing = pins.filter((pin) => !allowed.some((worker) => worker.models.includes(pin.sha256)));
    if (missing.length > 0) return `no connected worker has ${missing.map((pin) => `${pin.kind}/${pin.name} (sha256 ${pin.sha256.slice(0, 12)})`).join(', ')}`;
    return 'no connected worker has all of its models at once';
  }

  /** The BullMQ queue that hands jobs to `workerId` (opened once, kept until `close`). */
  workQueue(workerId: string): Queue {
    let queue = this.#workQueues.get(workerId);
    if (queue === undefined) {
      queue = new Queue(workQueueName(workerId), { connection: buildRedisOptions(this.#settings), prefix: this.#settings.prefix });
      queue.on('error', (err: Error) => this.#log(`redis: ${err.message}`));
      this.#workQueues.set(workerId, queue);
    }
    return queue;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#workQueues.values()].map((q) => q.close()));
  }
}
