/**
 * Checkpoints with the real key layout and deterministic random weights, for the built-in demo model, the tests
 * and the benchmarks (speed does not depend on the values). Each tensor has its own seeded stream, so adding or
 * removing a tensor leaves the others unchanged.
 */
import { float32ToFloat16Bits } from '../io/half-float.ts';
import type { TensorToWrite } from '../io/safetensors-types.ts';
import { createNormalRandom, deriveSeed } from '../random/seeded-normal.ts';
import type { CheckpointArchitecture } from './architecture.ts';
import { listCheckpointTensors, type LayoutExtras, type TensorSpec } from './checkpoint-layout.ts';

/** Values for one tensor: scaled so activations stay finite through deep stacks (see TensorInit). */
export function fillRandomTensor(spec: TensorSpec, seed: number): Float32Array | BigInt64Array {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const init = spec.init;
  if (init.kind === 'position-ids') return BigInt64Array.from({ length: count }, (_, i) => BigInt(i));
  if (init.kind === 'constant') return new Float32Array(count).fill(init.value);
  const normal = createNormalRandom(deriveSeed(seed, spec.name));
  const [offset, std] =
    init.kind === 'weight' ? [0, 1 / Math.sqrt(init.fanIn)] : init.kind === 'embedding' ? [0, 0.02] : init.kind === 'norm-weight' ? [1, 0.05] : [0, 0.02];
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = offset + std * normal();
  return values;
}

/** Every tensor of a checkpoint with this architecture, in memory (for small models), ready for `writeSafetensors`. */
export function generateRandomCheckpoint(architecture: CheckpointArchitecture, options: { extras: LayoutExtras; seed: number; dtype: 'F32' | 'F16' }): TensorToWrite[] {
  return listCheckpointTensors(architecture, options.extras).map((spec) => {
    const values = fillRandomTensor(spec, options.seed);
    if (values instanceof BigInt64Array) return { name: spec.name, dtype: 'I64', shape: spec.shape, data: values };
    if (options.dtype === 'F32') return { name: spec.name, dtype: 'F32', shape: spec.shape, data: values };
    return { name: spec.name, dtype: 'F16', shape: spec.shape, data: Uint16Array.from(values, (v) => float32ToFloat16Bits(v)) };
  });
}
