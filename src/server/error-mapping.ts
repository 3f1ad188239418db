/**
 * The one place errors become HTTP responses. Every FooocusError's kind maps to one status here; a 4xx names the
 * field and the rule, with the error's public message (files by store name, never an absolute path); a 5xx says
 * `internal` and nothing else (the error goes to the log, never to the client). Every refusal is logged with
 * client and reason, every 5xx with the error.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FooocusError, type ErrorKind } from '../engine/index.ts';
import { CONTENT_SECURITY_POLICY_HEADER } from './security-headers.ts';
import { RequestRefusal } from './request-refusal.ts';

export interface ErrorResponse {
  error: string;
  field?: string;
  rule?: string;
  message?: string;
  limit?: number;
  retryAfterSeconds?: number;
}

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

export function registerErrorMapping(app: FastifyInstance): void {
  app.setErrorHandler(async (error: unknown, request, reply) => {
    const [status, body] = describeError(error, request);
    if (status >= 500) {
      request.log.error({ err: error, client: request.ip }, 'request failed');
    } else {
      logRefusal(request, status, body);
    }
    if (body.retryAfterSeconds !== undefined) void reply.header('retry-after', String(body.retryAfterSeconds));
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler(async (request, reply) => {
    const body = { error: 'not_found', message: 'no such route' };
    logRefusal(request, 404, body);
    return reply.code(404).send(body);
  });
}

/**
 * Errors Fastify meets before routing (a URL that is not valid percent-encoding): no hook has run, so the
 * security headers are set here, and the URL is not echoed back.
 */
export function handleFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const body = { error: 'invalid_request', field: 'url', rule: 'encoding', message: 'the URL is not valid percent-encoding' };
  logRefusal(request, 400, { ...body, error: error.code });
  void reply
    .code(400)
    .header('content-security-policy', CONTENT_SECURITY_POLICY_HEADER)
    .header('x-content-type-options', 'nosniff')
    .type('application/json; charset=utf-8')
    .send(body);
}

export function logRefusal(request: FastifyRequest, status: number, body: ErrorResponse): void {
  request.log.warn(
    { client: request.ip, user: request.principal?.name, method: request.method, status, reason: body.error, field: body.field, rule: body.rule },
    'request refused',
  );
}

const RESPONSE_BY_KIND: Record<ErrorKind, [status: number, error: string]> = {
  invalid: [400, 'invalid_request'],
  'too-large': [413, 'payload_too_large'],
  'not-found': [404, 'not_found'],
  conflict: [409, 'conflict'],
  quota: [429, 'quota_exceeded'],
  unavailable: [503, 'unavailable'],
  internal: [500, 'internal'],
};

function describeError(error: unknown, request: FastifyRequest): [number, ErrorResponse] {
  if (error instanceof RequestRefusal) return [error.statusCode, { error: error.code, message: error.message, ...error.details }];
  if (error instanceof FooocusError) return describeFooocusError(error);
  if (isFastifyError(error)) return describeFastifyError(error, request);
  return [500, { error: 'internal' }];
}

/** The HTTP form of an error: the same status and body for the same kind, whichever layer threw it. */
export function describeFooocusError(error: FooocusError): [number, ErrorResponse] {
  const [status, code] = RESPONSE_BY_KIND[error.kind];
  if (error.kind === 'internal') return [status, { error: code }];
  const body: ErrorResponse = { error: code };
  if (error.field !== undefined) body.field = error.field;
  if (error.rule !== undefined) body.rule = error.rule;
  body.message = error.publicMessage;
  if (error.limit !== undefined) body.limit = error.limit;
  if (error.retryAfterSeconds !== undefined) body.retryAfterSeconds = error.retryAfterSeconds;
  return [status, body];
}

function describeFastifyError(error: FastifyError, request: FastifyRequest): [number, ErrorResponse] {
  if (Array.isArray(error.validation) && error.validation[0] !== undefined) {
    return [400, describeValidation(error.validation[0] as ValidationIssue, error.validationContext ?? 'body')];
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const isUpload = request.routeOptions.config.accepts === 'image';
      const limit = request.routeOptions.bodyLimit;
      return [413, { error: 'payload_too_large', field: 'body', rule: isUpload ? 'maxUploadBytes' : 'maxBodyBytes', limit, message: `the body exceeds ${limit} bytes` }];
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [415, { error: 'unsupported_media_type', field: 'content-type', rule: 'mediaType', message: 'unsupported media type' }];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return [400, { error: 'invalid_request', field: 'body', rule: 'json', message: 'the body is not valid JSON' }];
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500 && error.code?.startsWith('FST_')) {
    return [status, { error: 'bad_request', field: 'request', rule: error.code.toLowerCase(), message: 'the request is malformed' }];
  }
  return [500, { error: 'internal' }];
}

/** `/loras/0/weight` with keyword `maximum` → field `loras[0].weight`, rule `maximum`, limit 2. */
function describeValidation(issue: ValidationIssue, context: string): ErrorResponse {
  const path = issue.instancePath.split('/').slice(1).map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
  const named = issue.params.missingProperty ?? issue.params.additionalProperty;
  if (typeof named === 'string') path.push(named.slice(0, 64));
  const field = path.reduce((text, part) => (/^[0-9]+$/.test(part) ? `${text}[${part}]` : text === '' ? part : `${text}.${part}`), '');
  const limit = typeof issue.params.limit === 'number' ? { limit: issue.params.limit } : {};
  const name = field === '' ? context : field;
  const message = issue.keyword === 'additionalProperties' ? 'is not a known field' : (issue.message ?? 'is invalid');
  return { error: 'invalid_request', field: name, rule: issue.keyword, message: `${name} ${message}`, ...limit };
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && typeof (error as FastifyError).code === 'string';
}
