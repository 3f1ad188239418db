/**
 * Sign-in has its own limits, apart from the submit and read buckets (a user who just queued 20 jobs must still be
 * able to sign in): wrong passwords, counted per client address and per user name, earn an exponentially growing
 * wait; a right password is never delayed by anything but earlier wrong ones, and it clears both counts.
 *
 * An attempt counts as a failure from the moment it starts (and is forgiven if the password was right), so a burst
 * of concurrent guesses cannot all slip in before the first scrypt check finishes.
 */

export interface SignInThrottleOptions {
  /** Wrong passwords for one user name before any wait (default 5). */
  freeFailuresPerName?: number;
  /** Wrong passwords from one address before any wait (default 10: several people may share an address). */
  freeFailuresPerAddress?: number;
  /** The first wait after the free failures, doubled with each further failure (default 1 s). */
  baseDelayMs?: number;
  /** The longest wait (default 5 min): long enough to make guessing hopeless, short enough that a lockout by a stranger ends. */
  maxDelayMs?: number;
  /** Failures are forgotten this long after the last one (default 15 min). */
  forgetAfterMs?: number;
  /** Addresses and names tracked at most; the oldest are dropped beyond (default 100,000). */
  maxKeys?: number;
  now?: () => number;
}

interface Failures {
  count: number;
  last: number;
}

export interface SignInAttempt {
  /** The password was right: forget the failures of this address and name. */
  succeeded(): void;
}

/** A wait is due: `by` says which count caused it. */
export class SignInBackoff extends Error {
  override readonly name = 'SignInBackoff';
  constructor(
    readonly by: 'address' | 'name',
    readonly retryAfterSeconds: number,
  ) {
    super(`too many wrong passwords for this ${by}; try again in ${retryAfterSeconds} s`);
  }
}

export class SignInThrottle {
  readonly #failures = new Map<string, Failures>();
  readonly #freePerName: number;
  readonly #freePerAddress: number;
  readonly #base: number;
  readonly #max: number;
  readonly #forget: number;
  readonly #maxKeys: number;
  readonly #now: () => number;

  constructor(options: SignInThrottleOptions = {}) {
    this.#freePerName = options.freeFailuresPerName ?? 5;
    this.#freePerAddress = options.freeFailuresPerAddress ?? 10;
    this.#base = options.baseDelayMs ?? 1000;
    this.#max = options.maxDelayMs ?? 5 * 60_000;
    this.#forget = options.forgetAfterMs ?? 15 * 60_000;
    this.#maxKeys = options.maxKeys ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /** Starts an attempt, or throws SignInBackoff while the address or the name must wait. */
  begin(address: string, name: string): SignInAttempt {
    const now = this.#now();
    const keys = [`address:${address}`, `name:${name}`] as const;
    for (const [i, key] of keys.entries()) {
      const wait = this.#waitFor(key, i === 0 ? this.#freePerAddress : this.#freePerName, now);
      if (wait > 0) throw new SignInBackoff(i === 0 ? 'address' : 'name', Math.max(1, Math.ceil(wait / 1000)));
    }
    for (const key of keys) this.#record(key, now);
    return {
      succeeded: () => {
        for (const key of keys) this.#failures.delete(key);
      },
    };
  }

  /** Milliseconds until `key` may try again (0: now). */
  #waitFor(key: string, free: number, now: number): number {
    const entry = this.#failures.get(key);
    if (entry === undefined || now - entry.last >= this.#forget) return 0;
    if (entry.count < free) return 0;
    const delay = Math.min(this.#max, this.#base * 2 ** Math.min(30, entry.count - free));
    return Math.max(0, entry.last + delay - now);
  }

  #record(key: string, now: number): void {
    const before = this.#failures.get(key);
    const count = before === undefined || now - before.last >= this.#forget ? 0 : before.count;
    this.#failures.delete(key);
    this.#makeRoom(now);
    this.#failures.set(key, { count: count + 1, last: now });
  }

  #makeRoom(now: number): void {
    if (this.#failures.size < this.#maxKeys) return;
    for (const [key, entry] of this.#failures) if (now - entry.last >= this.#forget) this.#failures.delete(key);
    for (const key of this.#failures.keys()) {
      if (this.#failures.size < this.#maxKeys) break;
      this.#failures.delete(key);
    }
  }
}
