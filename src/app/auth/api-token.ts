/**
 * API tokens: 32 random bytes, base64url, with an `fts_` prefix so a leaked one is recognisable in logs and secret
 * scanners. Only the SHA-256 (hex) is ever stored; the server hashes a presented Bearer token the same way.
 */
import { createHash, randomBytes } from 'node:crypto';

export const API_TOKEN_PREFIX = 'fts_';

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A fresh token and the hash to store; the token is shown once and then forgotten. */
export function createApiToken(): { token: string; sha256: string } {
  const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, sha256: hashApiToken(token) };
}
