/** Responses of the read-only catalog routes (models, styles, presets, aspect ratios) and the health probes. */
import { Type } from '@sinclair/typebox';

export const ModelList = Type.Object(
  {
    models: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          kind: Type.Unsafe<'checkpoint' | 'refiner' | 'lora' | 'vae' | 'upscaler'>({ type: 'string', enum: ['checkpoint', 'refiner', 'lora', 'vae', 'upscaler'] }),
          family: Type.Optional(Type.String()),
          demo: Type.Optional(Type.Boolean({ description: 'The built-in demo checkpoint (random weights).' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const StyleList = Type.Object(
  {
    styles: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          prompt: Type.String({ description: 'Template; `{prompt}` marks where the prompt goes. Empty for the built-in switches.' }),
          negative: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const Lora = Type.Object({ name: Type.String(), weight: Type.Number() }, { additionalProperties: false });

export const PresetList = Type.Object(
  {
    presets: Type.Array(
      Type.Object(
        {
          name: Type.String({ description: 'Preset id.' }),
          label: Type.String(),
          model: Type.String({ description: 'Checkpoint, as the model store names it.' }),
          refiner: Type.Union([Type.String(), Type.Null()]),
          refinerSwitch: Type.Number(),
          loras: Type.Array(Lora),
          cfg: Type.Number(),
          sharpness: Type.Number(),
          sampler: Type.String(),
          scheduler: Type.String(),
          styles: Type.Array(Type.String()),
          performance: Type.String(),
          aspectRatio: Type.String({ description: 'width*height' }),
          imageCount: Type.Integer(),
          missing: Type.Array(
            Type.Object(
              {
                kind: Type.Unsafe<'checkpoint' | 'lora'>({ type: 'string', enum: ['checkpoint', 'lora'] }),
                name: Type.String(),
                catalogId: Type.Union([Type.String(), Type.Null()]),
              },
              { additionalProperties: false },
            ),
            { description: 'Models the store lacks; `npm run fooocus -- models pull --preset <name>` fetches those with a catalog id.' },
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const AspectRatio = Type.Object({ id: Type.String(), width: Type.Integer(), height: Type.Integer() }, { additionalProperties: false });

export const AspectRatioList = Type.Object(
  {
    aspectRatios: Type.Array(AspectRatio, { description: 'Every size offered (SDXL, then SD 1.5).' }),
    sdxl: Type.Array(AspectRatio, { description: 'The sizes for SDXL models (Fooocus’s list).' }),
    sd15: Type.Array(AspectRatio, { description: 'The sizes for SD 1.5 models.' }),
  },
  { additionalProperties: false },
);

export const HealthBody = Type.Object(
  {
    status: Type.Unsafe<'ok' | 'unavailable'>({ type: 'string', enum: ['ok', 'unavailable'] }),
    reason: Type.Optional(Type.String()),
    redis: Type.Optional(Type.Unsafe<'connected' | 'unreachable'>({ type: 'string', enum: ['connected', 'unreachable'], description: 'Redis queue only: whether Redis answers.' })),
    workers: Type.Optional(Type.Integer({ minimum: 0, description: 'Redis queue only: workers announced and not expired.' })),
    providers: Type.Optional(
      Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: 'Redis queue only: live workers per execution provider (cpu, cuda, dml, coreml).' }),
    ),
  },
  { additionalProperties: false },
);
