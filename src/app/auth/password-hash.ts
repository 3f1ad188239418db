/**
 * Password hashes in the form `scrypt$N$r$p$salt$hash` (salt and hash base64), verified with a constant-time
 * comparison. Cost parameters are bounded so a hostile config cannot make one login eat gigabytes.
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

export function parsePasswordHash(text: string): PasswordHash | null {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = parts.slice(1, 4).map((v) => (/^[0-9]{1,8}$/.test(v) ? Number(v) : NaN)) as [number, number, number];
  const isPowerOfTwo = Number.isInteger(Math.log2(N));
  if (!isPowerOfTwo || N < 2 ** 10 || N > 2 ** 20 || !(r >= 1 && r <= 32) || !(p >= 1 && p <= 16)) return null;
  const [saltText, hashText] = [parts[4] ?? '', parts[5] ?? ''];
  if (!BASE64.test(saltText) || !BASE64.test(hashText)) return null;
  const salt = Buffer.from(saltText, 'base64');
  const hash = Buffer.from(hashText, 'base64');
  if (salt.length < 16 || hash.length < 32 || hash.length > 64) return null;
  return { N, r, p, salt, hash };
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
