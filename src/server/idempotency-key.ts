/**
 * The `Idempotency-Key` header of `POST /api/v1/generate`: a client that repeats a submit whose answer it never
 * got (a timeout, a dropped connection) sends the same key, and gets the job the first submit created instead of
 * queueing a second one. The key is remembered per owner for 24 h with a fingerprint of the body, so the same key
 * with a different body is refused rather than answered with an unrelated job.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { SubmitKey } from './studio-port.ts';
import { RequestRefusal } from './request-refusal.ts';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
/** Visible ASCII, as the IETF draft's examples (UUIDs, random tokens) are; long enough for any of them. */
const KEY_PATTERN = /^[\x21-\x7e]{1,128}$/;

/** The request's key and body fingerprint, undefined without the header; 400 naming the header when malformed. */
export function readSubmitKey(request: FastifyRequest): SubmitKey | undefined {
  const value = request.headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !KEY_PATTERN.test(value)) {
    throw new RequestRefusal(400, 'invalid_request', `${IDEMPOTENCY_KEY_HEADER} must be 1 to 128 visible ASCII characters, sent once`, { field: IDEMPOTENCY_KEY_HEADER, rule: 'pattern' });
  }
  return { key: value, fingerprint: fingerprintBody(request.body) };
}

/** SHA-256 of the body with object keys sorted, so key order and whitespace do not make two requests differ. */
function fingerprintBody(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(sortKeys(body))).digest('hex');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]));
}

/** The same key with a different body: the client has a bug, and neither job is the answer it wants. */
export function refuseReusedKey(): RequestRefusal {
  return new RequestRefusal(422, 'idempotency_key_reused', `this ${IDEMPOTENCY_KEY_HEADER} was already used with a different request body; send a new key for a new request`, { field: IDEMPOTENCY_KEY_HEADER, rule: 'sameBody' });
}
