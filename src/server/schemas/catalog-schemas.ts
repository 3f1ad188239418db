/** Responses of the read-only catalog routes (models, styles, presets, aspect ratios) and the health probes. */
import { Type } from '@sinclair/typebox';

const Named = Type.Object({ name: Type.String() }, { additionalProperties: false });

export const ModelList = Type.Object(
  {
    models: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          kind: Type.Unsafe<'checkpoint' | 'refiner' | 'lora'>({ type: 'string', enum: ['checkpoint', 'refiner', 'lora'] }),
          family: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const StyleList = Type.Object({ styles: Type.Array(Named) }, { additionalProperties: false });

export const PresetList = Type.Object({ presets: Type.Array(Named) }, { additionalProperties: false });

export const AspectRatioList = Type.Object(
  {
    aspectRatios: Type.Array(
      Type.Object(
        { id: Type.String(), width: Type.Integer(), height: Type.Integer() },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const HealthBody = Type.Object(
  { status: Type.Unsafe<'ok' | 'unavailable'>({ type: 'string', enum: ['ok', 'unavailable'] }) },
  { additionalProperties: false },
);
