/**
 * Settings earlier versions read and this one refuses, each with the way over. They are refused rather than
 * translated because their meaning changed: `server.rateLimit.perMinute` once counted every request, and a bare
 * token hash had no name and no owner, so no user it could act for; `server.quotas.maxUploadPixels` allowed uploads
 * larger than any job can use.
 */
import { IMAGE_SIZE_LIMITS } from '../../engine/pipeline/generation-request.ts';

export interface RetiredSetting {
  key: string;
  detail: string;
}

export const RETIRED_ENV: Readonly<Record<string, string>> = {
  FOOOCUS_SERVER_RATE_LIMIT_PER_MINUTE:
    'renamed FOOOCUS_SERVER_RATE_LIMIT_SUBMITS_PER_MINUTE (generation requests, uploads, sign-ins); other requests are FOOOCUS_SERVER_RATE_LIMIT_READS_PER_MINUTE',
  FOOOCUS_SERVER_AUTH_TOKENS: 'removed: API tokens now have a name and an owner; create them with `npm run fooocus -- tokens create <name> --owner <user>`',
};

/** The first retired setting in a config file's parsed JSON, or null. */
export function findRetiredSetting(value: unknown): RetiredSetting | null {
  const server = childObject(value, 'server');
  const rateLimit = childObject(server, 'rateLimit');
  if (rateLimit !== null && Object.hasOwn(rateLimit, 'perMinute')) {
    return {
      key: 'server.rateLimit.perMinute',
      detail:
        'renamed server.rateLimit.submitsPerMinute (generation requests, uploads and sign-ins; default 20); ' +
        'other requests are server.rateLimit.readsPerMinute (default 300)',
    };
  }
  const quotas = childObject(server, 'quotas');
  if (quotas !== null && Object.hasOwn(quotas, 'maxUploadPixels')) {
    return {
      key: 'server.quotas.maxUploadPixels',
      detail:
        'removed: an upload is now held to what a job can use, server.quotas.maxPixels and a side of ' +
        `at most ${IMAGE_SIZE_LIMITS.max}; per-owner storage is uploads.maxPerOwner, uploads.maxBytesPerOwner and uploads.expireAfterMinutes`,
    };
  }
  const tokens = childObject(server, 'auth')?.tokens;
  if (Array.isArray(tokens)) {
    const i = tokens.findIndex((t) => typeof t === 'string');
    if (i >= 0) {
      return {
        key: `server.auth.tokens[${i}]`,
        detail:
          'a bare SHA-256 is the old token form; a token now has a name and an owner: ' +
          '{ "name": "ci", "owner": "<user>", "sha256": "<the hash>" } with the owner added by `npm run fooocus -- users add <user>`, ' +
          'or remove it and run `npm run fooocus -- tokens create <name> --owner <user>`',
      };
    }
  }
  return null;
}

function childObject(value: unknown, key: string): Record<string, unknown> | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const child = (value as Record<string, unknown>)[key];
  return child !== null && typeof child === 'object' && !Array.isArray(child) ? (child as Record<string, unknown>) : null;
}
