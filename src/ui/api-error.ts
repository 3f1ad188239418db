/**
 * What went wrong with an API call, typed by what the page can do about it: `field` and `rule` point at the form
 * control to mark, `status` 401 means "show the login view", 0 means the server could not be reached.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
    readonly rule: string | null = null,
  ) {
    super(message);
  }

  get needsLogin(): boolean {
    return this.status === 401;
  }
}

/** The error body every 4xx carries: `{ error, field?, rule?, message }`; anything else gets a generic message. */
export function readErrorBody(status: number, statusText: string, body: unknown): ApiError {
  const fallback = `The server answered ${status}${statusText ? ` ${statusText}` : ''}.`;
  if (typeof body !== 'object' || body === null) return new ApiError(status, `http_${status}`, fallback);
  const record = body as Record<string, unknown>;
  const text = (key: string): string | null => (typeof record[key] === 'string' && record[key] !== '' ? record[key] : null);
  return new ApiError(status, text('error') ?? `http_${status}`, text('message') ?? fallback, text('field'), text('rule'));
}
