/**
 * The `data:` of each Server-Sent Event of a job, one schema per event name. Serialized through these schemas,
 * so an event carries exactly the fields listed here.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { StudioEvent } from '../studio-port.ts';

const closed = (properties: Parameters<typeof Type.Object>[0]) => Type.Object(properties, { additionalProperties: false });

export const EVENT_SCHEMAS: Record<StudioEvent['type'], TSchema> = {
  queued: closed({
    position: Type.Integer(),
    waitingFor: Type.Union([Type.String(), Type.Null()], { description: 'Why no connected worker can take the job (a model or provider none has); null while it only waits its turn.' }),
  }),
  started: closed({}),
  progress: closed({
    step: Type.Integer(),
    steps: Type.Integer(),
    image: Type.Integer(),
    images: Type.Integer(),
    etaSeconds: Type.Union([Type.Number(), Type.Null()]),
    previewPng: Type.Optional(Type.String({ contentEncoding: 'base64', contentMediaType: 'image/png' })),
    message: Type.Optional(Type.String({ description: 'What the job does besides sampling: describing the input, loading a model, upscaling, an Enhance tab finding, skipped or repainting.' })),
  }),
  image: closed({ imageId: Type.String(), url: Type.String(), seed: Type.String({ description: 'Decimal seed the image was made with.' }) }),
  finished: closed({}),
  failed: closed({ message: Type.String() }),
  cancelled: closed({}),
};

export const FINAL_EVENTS: ReadonlySet<StudioEvent['type']> = new Set(['finished', 'failed', 'cancelled']);
