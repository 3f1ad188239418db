/**
 * What the job, history and catalog routes return. These schemas are the response allowlist: a field the port
 * adds that is not listed here never reaches a client.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ID_PATTERN } from './common-schemas.ts';

export const JOB_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'] as const;

const JobStatus = Type.Unsafe<(typeof JOB_STATUSES)[number]>({ type: 'string', enum: [...JOB_STATUSES] });

export const ImageRef = Type.Object(
  { imageId: Type.String(), url: Type.String(), seed: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

export const JobProgress = Type.Object(
  {
    step: Type.Integer(),
    steps: Type.Integer(),
    image: Type.Integer(),
    images: Type.Integer(),
    etaSeconds: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'Seconds left in the job, from the pace so far.' })),
    message: Type.Optional(Type.String({ description: 'What the job does besides sampling: describing the input, loading a model, upscaling, an Enhance tab finding, skipped or repainting.' })),
  },
  { additionalProperties: false },
);

/** `request` is the generate body the job was submitted with: shown back as JSON strings, never as markup. */
export function buildJobSummarySchema(request: TSchema) {
  return Type.Object(
    {
      id: Type.String(),
      owner: Type.String(),
      status: JobStatus,
      position: Type.Union([Type.Integer(), Type.Null()]),
      waitingFor: Type.Union([Type.String(), Type.Null()], { description: 'Why no connected worker can take the queued job; null when it only waits its turn.' }),
      createdAt: Type.String({ format: 'date-time' }),
      finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
      progress: Type.Union([JobProgress, Type.Null()]),
      images: Type.Array(ImageRef),
      error: Type.Union([Type.String(), Type.Null()]),
      request,
    },
    { additionalProperties: false },
  );
}

export const SubmitResponse = Type.Object(
  { id: Type.String(), position: Type.Integer(), eventsUrl: Type.String() },
  { additionalProperties: false },
);

export const HistoryQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_=:.-]{1,128}$' })),
    /** A string so query parsing needs no type coercion, which stays off for bodies. */
    limit: Type.Optional(Type.String({ pattern: '^([1-9]|[1-9][0-9]|1[0-9][0-9]|200)$', description: '1 to 200' })),
  },
  { additionalProperties: false },
);

export const UploadResponse = Type.Object(
  { imageId: Type.String({ pattern: ID_PATTERN }), width: Type.Integer(), height: Type.Integer() },
  { additionalProperties: false },
);

export type HistoryQueryString = Static<typeof HistoryQuery>;
