/**
 * Password hashes in the form `scrypt$N$r$p$salt$hash` (salt and hash base64; scrypt, Percival 2009, RFC 7914),
 * verified with a constant-time comparison. Cost parameters are bounded so a hostile config cannot make one login
 * eat gigabytes. The config check, `fooocus users` and the server's sign-in all read hashes through
 * findPasswordHashProblem, so a hash the config accepts is one the server can verify.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface PasswordHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

export const DEFAULT_SCRYPT_COST = { N: 2 ** 15, r: 8, p: 1 } as const;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Why `text` is not a password hash this project can verify, or null when it is one. */
export function findPasswordHashProblem(text: string): string | null {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return 'not of the form scrypt$N$r$p$salt$hash';
  const [N, r, p] = parts.slice(1, 4).map((v) => (/^[0-9]{1,8}$/.test(v) ? Number(v) : NaN)) as [number, number, number];
  if (!Number.isInteger(Math.log2(N)) || N < 2 ** 10 || N > 2 ** 20) return 'N must be a power of two from 1024 to 1048576';
  if (!(r >= 1 && r <= 32)) return 'r must be from 1 to 32';
  if (!(p >= 1 && p <= 16)) return 'p must be from 1 to 16';
  const [saltText, hashText] = [parts[4] ?? '', parts[5] ?? ''];
  if (!BASE64.test(saltText) || !BASE64.test(hashText)) return 'salt and hash must be base64';
  if (Buffer.from(saltText, 'base64').length < 16) return 'the salt must have at least 16 bytes';
  const hashLength = Buffer.from(hashText, 'base64').length;
  if (hashLength < 32 || hashLength > 64) return 'the hash must have 32 to 64 bytes';
  return null;
}

export function parsePasswordHash(text: string): PasswordHash | null {
  if (findPasswordHashProblem(text) !== null) return null;
  const [, N, r, p, salt, hash] = text.split('$') as [string, string, string, string, string, string];
  return { N: Number(N), r: Number(r), p: Number(p), salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
}

export async function hashPassword(password: string, cost: { N: number; r: number; p: number } = DEFAULT_SCRYPT_COST): Promise<string> {
  const salt = randomBytes(16);
  const hash = await deriveKey(password, salt, 32, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const derived = await deriveKey(password, stored.salt, stored.hash.length, stored);
  return timingSafeEqual(derived, stored.hash);
}

function deriveKey(password: string, salt: Buffer, length: number, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { N: cost.N, r: cost.r, p: cost.p, maxmem: 128 * cost.N * cost.r * 2 + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
