/**
 * GET /api/v1/jobs/:id/events: Server-Sent Events. The stream opens with a `snapshot` of the job, then carries
 * its events in order, a comment line every heartbeat, and ends after the job's last event. A client that goes
 * away is unsubscribed at once.
 *
 * Subscribing comes before the snapshot is read, and events arriving meanwhile are held back, so no event falls
 * between the snapshot and the live stream.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ServerContext } from '../server-context.ts';
import type { JobSummary, StudioEvent } from '../studio-port.ts';
import { requirePrincipal } from '../auth/authentication.ts';
import { JobIdParams, withErrorResponses } from '../schemas/common-schemas.ts';
import { EVENT_SCHEMAS, FINAL_EVENTS } from '../schemas/event-schemas.ts';

const FINAL_STATUSES = new Set(['done', 'failed', 'cancelled', 'interrupted']);

export function registerJobEventsRoute(app: FastifyInstance, { port, options, schemas }: ServerContext): void {
  // Open streams would keep server.close() waiting forever; shutdown ends them first.
  const streams = new Set<EventStream>();
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
  });
  app.get<{ Params: { id: string } }>(
    '/api/v1/jobs/:id/events',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Job events as Server-Sent Events',
        description: `Events: snapshot (the job), ${Object.keys(EVENT_SCHEMAS).join(', ')}. Ends after finished, failed or cancelled.`,
        params: JobIdParams,
        produces: ['text/event-stream'],
        response: withErrorResponses({ 200: Type.String({ description: 'text/event-stream' }) }),
      },
    },
    async (request, reply) => {
      const scope = requirePrincipal(request).scope;
      const held: StudioEvent[] = [];
      let deliver: (event: StudioEvent) => void = (event) => held.push(event);
      const unsubscribe = port.subscribe(scope, request.params.id, (event) => deliver(event));
      let job: JobSummary;
      try {
        job = await port.getJob(scope, request.params.id);
      } catch (error) {
        unsubscribe();
        throw error;
      }
      const serializeSnapshot = reply.compileSerializationSchema(schemas.jobSummary);
      const stream = openEventStream(reply, options.heartbeatSeconds * 1000, () => {
        unsubscribe();
        streams.delete(stream);
      });
      streams.add(stream);
      stream.write('snapshot', serializeSnapshot({ ...job }));
      if (FINAL_STATUSES.has(job.status)) return stream.end();
      deliver = (event) => {
        stream.write(event.type, reply.compileSerializationSchema(EVENT_SCHEMAS[event.type])(event));
        if (FINAL_EVENTS.has(event.type)) stream.end();
      };
      for (const event of held.splice(0)) deliver(event);
    },
  );
}

interface EventStream {
  write(name: string, data: string): void;
  end(): void;
}

function openEventStream(reply: FastifyReply, heartbeatMs: number, onClose: () => void): EventStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  let open = true;
  const close = (): void => {
    if (!open) return;
    open = false;
    clearInterval(heartbeat);
    onClose();
  };
  const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), heartbeatMs);
  heartbeat.unref();
  raw.on('close', close);
  return {
    // JSON text has no raw newline, so one `data:` line per event is always well-formed.
    write: (name, data) => {
      if (open) raw.write(`event: ${name}\ndata: ${data}\n\n`);
    },
    end: () => {
      if (!open) return;
      close();
      raw.end();
    },
  };
}
