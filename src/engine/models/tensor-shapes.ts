/**
 * Read-only view of a checkpoint's tensor shapes for architecture detection. Every accessor that a detector
 * relies on throws an UnsupportedCheckpointError naming the exact key that is missing or mis-shaped.
 */
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { UnsupportedCheckpointError } from './checkpoint-errors.ts';

export class TensorShapes {
  readonly file: string;
  private readonly shapes: ReadonlyMap<string, readonly number[]>;
  private readonly names: readonly string[];

  constructor(header: SafetensorsHeader) {
    this.file = header.file;
    this.shapes = new Map([...header.tensors].map(([name, info]) => [name, info.shape]));
    this.names = [...header.tensors.keys()];
  }

  has(name: string): boolean {
    return this.shapes.has(name);
  }

  hasPrefix(prefix: string): boolean {
    return this.names.some((n) => n.startsWith(prefix));
  }

  /** The shape of a required tensor, whatever its rank. */
  dims(name: string): number[] {
    const shape = this.shapes.get(name);
    if (shape === undefined) throw this.unsupported(`missing tensor "${name}"`);
    return [...shape];
  }

  /** The shape of a required tensor of the given rank. */
  shape(name: string, rank: number): number[] {
    const shape = this.dims(name);
    if (shape.length !== rank) {
      throw this.unsupported(`tensor "${name}" has shape [${shape.join(', ')}], expected ${rank} dimensions`);
    }
    return shape;
  }

  /** Requires a tensor to have exactly `expected` as its shape. */
  expect(name: string, expected: readonly number[]): void {
    const shape = this.shape(name, expected.length);
    if (shape.some((d, i) => d !== expected[i])) {
      throw this.unsupported(`tensor "${name}" has shape [${shape.join(', ')}], expected [${expected.join(', ')}]`);
    }
  }

  /**
   * How many numbered children `prefix0.`, `prefix1.`, ... exist: one past the highest index found. Detectors
   * then require each index's keys, so a hole in the numbering is reported as the missing key, not as a
   * shallower model.
   */
  countIndexed(prefix: string): number {
    let count = 0;
    for (const name of this.names) {
      if (!name.startsWith(prefix)) continue;
      const rest = name.slice(prefix.length);
      const dot = rest.indexOf('.');
      const digits = dot === -1 ? rest : rest.slice(0, dot);
      if (/^\d+$/.test(digits)) count = Math.max(count, Number(digits) + 1);
    }
    return count;
  }

  unsupported(reason: string): UnsupportedCheckpointError {
    return new UnsupportedCheckpointError(this.file, reason);
  }
}
