/**
 * What POST /api/v1/metadata answers: the engine's ImageMetadataReport. The schema is the response allowlist and
 * the OpenAPI description; a setting the reader adds must be listed here to reach clients.
 */
import { Type } from '@sinclair/typebox';

const Field = Type.Object({ key: Type.String(), value: Type.String() }, { additionalProperties: false });

const Settings = Type.Object(
  {
    prompt: Type.Optional(Type.String()),
    negativePrompt: Type.Optional(Type.String()),
    styles: Type.Optional(Type.Array(Type.String())),
    performance: Type.Optional(Type.String()),
    steps: Type.Optional(Type.Integer()),
    sampler: Type.Optional(Type.String({ description: 'A sampler id of this server (dpmpp_2m, euler_ancestral, ...).' })),
    scheduler: Type.Optional(Type.String({ description: 'A scheduler id of this server (karras, normal, ...).' })),
    cfg: Type.Optional(Type.Number()),
    sharpness: Type.Optional(Type.Number()),
    adaptiveCfg: Type.Optional(Type.Number()),
    admScalers: Type.Optional(Type.Array(Type.Number(), { minItems: 3, maxItems: 3 })),
    seed: Type.Optional(Type.String({ pattern: '^\\d{1,19}$' })),
    width: Type.Optional(Type.Integer()),
    height: Type.Optional(Type.Integer()),
    model: Type.Optional(Type.String({ description: 'The checkpoint as the tool names it.' })),
    modelHash: Type.Optional(Type.String()),
    refiner: Type.Optional(Type.String()),
    refinerSwitch: Type.Optional(Type.Number()),
    refinerSwitchMethod: Type.Optional(Type.String()),
    vae: Type.Optional(Type.String()),
    loras: Type.Optional(Type.Array(Type.Object({ name: Type.String(), weight: Type.Number() }, { additionalProperties: false }))),
    clipSkip: Type.Optional(Type.Integer()),
    denoise: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);

const Candidate = Type.Object(
  {
    label: Type.String({ description: 'Where the settings come from: `KSampler #3` in a ComfyUI graph, else the field.' }),
    settings: Settings,
    notApplied: Type.Array(Type.Object({ key: Type.String(), value: Type.String(), reason: Type.String() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

export const MetadataReport = Type.Object(
  {
    format: Type.String({ enum: ['png', 'jpeg', 'webp'] }),
    scheme: Type.String({
      enum: ['a1111', 'fooocus', 'ruinedfooocus', 'comfyui', 'invokeai', 'swarmui', 'novelai', 'civitai', 'unknown', 'none'],
      description: '`unknown`: the image has text fields no reader recognises (nothing is guessed); `none`: it has none.',
    }),
    tool: Type.String(),
    source: Type.String(),
    fields: Type.Array(Field, { description: 'Every text field of the image, as read.' }),
    candidates: Type.Array(Candidate, { description: 'One set of settings per generation recorded; several for a ComfyUI graph with several samplers.' }),
  },
  { additionalProperties: false },
);
