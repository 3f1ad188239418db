/**
 * A request the server itself refuses (wrong Host, foreign Origin, wrong media type, rate limit, quota, auth).
 * Carries what the client may see; error-mapping.ts turns it into the response and logs the reason.
 */
export interface RefusalDetails {
  field?: string;
  rule?: string;
  limit?: number;
  retryAfterSeconds?: number;
}

export class RequestRefusal extends Error {
  override readonly name = 'RequestRefusal';
  constructor(
    readonly statusCode: number,
    /** Stable machine-readable code: `forbidden_origin`, `rate_limited`... */
    readonly code: string,
    /** Safe to show the client and to log. */
    message: string,
    readonly details: RefusalDetails = {},
  ) {
    super(message);
  }
}
