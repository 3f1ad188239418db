/** Submitting, reading, cancelling and skipping jobs; history paging and deletion. */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ServerContext } from '../server-context.ts';
import type { GenerateRequestBody } from '../studio-port.ts';
import { requirePrincipal } from '../auth/authentication.ts';
import { checkGenerateRequest } from '../check-generate-request.ts';
import { readSubmitKey } from '../idempotency-key.ts';
import { JobIdParams, NoContent, withErrorResponses } from '../schemas/common-schemas.ts';
import { HistoryQuery, SubmitResponse, type HistoryQueryString } from '../schemas/job-schemas.ts';

const DEFAULT_PAGE = 50;

export function registerJobRoutes(app: FastifyInstance, { port, options, schemas }: ServerContext): void {
  app.post<{ Body: GenerateRequestBody }>(
    '/api/v1/generate',
    {
      config: { limit: 'submit' },
      schema: {
        tags: ['jobs'],
        summary: 'Queue a generation job',
        description: 'An optional Idempotency-Key header (1 to 128 visible ASCII characters) makes a repeated submit return the job the first one created (per user, for 24 h); the same key with a different body is refused with 422.',
        body: schemas.generateRequest,
        response: withErrorResponses({ 202: SubmitResponse }),
      },
    },
    async (request, reply) => {
      checkGenerateRequest(request.body, options.quotas.maxPixels);
      const { id, position } = await port.submitJob(requirePrincipal(request).name, request.body, readSubmitKey(request), { maxPixels: options.quotas.maxPixels });
      return reply.code(202).send({ id, position, eventsUrl: `/api/v1/jobs/${id}/events` });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/jobs/:id',
    { schema: { tags: ['jobs'], summary: 'A job and its images', params: JobIdParams, response: withErrorResponses({ 200: schemas.jobSummary }) } },
    async (request) => port.getJob(requirePrincipal(request).scope, request.params.id),
  );

  const action = (name: 'cancel' | 'skip', summary: string, run: (scope: string, id: string) => Promise<void>) =>
    app.post<{ Params: { id: string } }>(
      `/api/v1/jobs/:id/${name}`,
      { schema: { tags: ['jobs'], summary, params: JobIdParams, response: withErrorResponses({ 204: NoContent }) } },
      async (request, reply) => {
        await run(requirePrincipal(request).scope, request.params.id);
        return reply.code(204).send();
      },
    );
  action('cancel', 'Cancel a queued or running job', (scope, id) => port.cancelJob(scope, id));
  app.post<{ Params: { id: string } }>(
    '/api/v1/jobs/:id/retry',
    {
      config: { limit: 'submit' },
      schema: { tags: ['jobs'], summary: 'Queue an interrupted, failed or cancelled job again (a new job, once: repeating returns the same job)', params: JobIdParams, response: withErrorResponses({ 202: SubmitResponse }) },
    },
    async (request, reply) => {
      const { id, position } = await port.retryJob(requirePrincipal(request).scope, request.params.id);
      return reply.code(202).send({ id, position, eventsUrl: `/api/v1/jobs/${id}/events` });
    },
  );
  action('skip', 'Skip the image being sampled', (scope, id) => port.skipImage(scope, id));

  app.get<{ Querystring: HistoryQueryString }>(
    '/api/v1/history',
    {
      schema: {
        tags: ['history'],
        summary: 'Finished and active jobs, newest first',
        querystring: HistoryQuery,
        response: withErrorResponses({
          200: Type.Object(
            { items: Type.Array(schemas.jobSummary), nextCursor: Type.Union([Type.String(), Type.Null()]) },
            { additionalProperties: false },
          ),
        }),
      },
    },
    async (request) => {
      const limit = request.query.limit === undefined ? DEFAULT_PAGE : Number(request.query.limit);
      return port.listHistory(requirePrincipal(request).scope, { cursor: request.query.cursor, limit });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/history/:id',
    { schema: { tags: ['history'], summary: 'Delete a finished job and its images', params: JobIdParams, response: withErrorResponses({ 204: NoContent }) } },
    async (request, reply) => {
      await port.deleteHistoryEntry(requirePrincipal(request).scope, request.params.id);
      return reply.code(204).send();
    },
  );
}
