/**
 * Browser sessions: 256-bit random ids handed out in an HttpOnly cookie, kept in memory by their SHA-256 (a heap
 * dump does not yield usable cookies). Sessions end on logout, expiry or restart.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Role } from '../server-options.ts';

export interface Session {
  user: string;
  role: Role;
  expiresAt: number;
}

export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  create(user: string, role: Role): string {
    this.#dropExpired();
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(digest(id), { user, role, expiresAt: this.now() + this.ttlMs });
    return id;
  }

  find(id: string): Session | null {
    const key = digest(id);
    const session = this.#sessions.get(key);
    if (session === undefined) return null;
    if (session.expiresAt <= this.now()) {
      this.#sessions.delete(key);
      return null;
    }
    return session;
  }

  delete(id: string): void {
    this.#sessions.delete(digest(id));
  }

  #dropExpired(): void {
    const now = this.now();
    for (const [key, session] of this.#sessions) if (session.expiresAt <= now) this.#sessions.delete(key);
  }
}

function digest(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}
