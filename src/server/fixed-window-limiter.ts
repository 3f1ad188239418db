/**
 * Counts requests per key in fixed one-window buckets. Check and increment are one synchronous step, so N
 * concurrent requests against a limit of N are all let through and the N+1st is not, whatever the interleaving.
 * (@fastify/rate-limit 11.2.0's in-memory store reads a shared counter after an await, so 50 concurrent
 * requests all saw the final count and all were refused; hence this class.)
 *
 * Memory is bounded: past `maxKeys`, expired windows are swept and then the oldest keys dropped.
 */
export interface LimitDecision {
  allowed: boolean;
  limit: number;
  /** Seconds until the window of this key ends (at least 1). */
  retryAfterSeconds: number;
}

interface Window {
  count: number;
  endsAt: number;
}

export class FixedWindowLimiter {
  readonly #windows = new Map<string, Window>();

  constructor(
    readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  take(key: string): LimitDecision {
    const now = this.now();
    let window = this.#windows.get(key);
    if (window === undefined || window.endsAt <= now) {
      this.#makeRoom(now);
      window = { count: 0, endsAt: now + this.windowMs };
      this.#windows.delete(key);
      this.#windows.set(key, window);
    }
    window.count += 1;
    return {
      allowed: window.count <= this.limit,
      limit: this.limit,
      retryAfterSeconds: Math.max(1, Math.ceil((window.endsAt - now) / 1000)),
    };
  }

  #makeRoom(now: number): void {
    if (this.#windows.size < this.maxKeys) return;
    for (const [key, window] of this.#windows) if (window.endsAt <= now) this.#windows.delete(key);
    for (const key of this.#windows.keys()) {
      if (this.#windows.size < this.maxKeys) break;
      this.#windows.delete(key);
    }
  }
}
