/**
 * The reference implementations' own tensor: a shape and a dense row-major Float32Array, nothing else. Deliberately
 * independent of the engine's tensor type so that a layout bug there cannot hide behind a shared helper here.
 */

export interface RefTensor {
  shape: number[];
  data: Float32Array;
}

/** Looks up a checkpoint tensor by its full key; throws an error naming the key when it is missing. */
export type WeightSource = (name: string) => RefTensor;

export function numel(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function zeros(shape: readonly number[]): RefTensor {
  return { shape: [...shape], data: new Float32Array(numel(shape)) };
}

/** A tensor holding `values` (row-major); the count must match the shape. */
export function fromValues(shape: readonly number[], values: ArrayLike<number>): RefTensor {
  if (values.length !== numel(shape)) {
    throw new Error(`fromValues: ${values.length} values do not fill shape [${shape.join(', ')}]`);
  }
  return { shape: [...shape], data: Float32Array.from(values) };
}

/** Same data, new shape (row-major view semantics, data is shared). */
export function reshape(t: RefTensor, shape: readonly number[]): RefTensor {
  if (numel(shape) !== t.data.length) {
    throw new Error(`reshape: [${t.shape.join(', ')}] cannot become [${shape.join(', ')}]`);
  }
  return { shape: [...shape], data: t.data };
}

/** Throws unless `t` has exactly `shape`; `what` names the tensor in the message. */
export function expectShape(t: RefTensor, shape: readonly number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${what}: expected shape [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
  }
}

/** The dimension `axis` of `t` (negative counts from the end); throws when the tensor has no such axis. */
export function dim(t: RefTensor, axis: number): number {
  const d = t.shape[axis < 0 ? t.shape.length + axis : axis];
  if (d === undefined) throw new Error(`tensor of shape [${t.shape.join(', ')}] has no axis ${axis}`);
  return d;
}

/** A WeightSource over an in-memory map of checkpoint keys. */
export function weightSourceFromMap(weights: ReadonlyMap<string, RefTensor>): WeightSource {
  return (name) => {
    const t = weights.get(name);
    if (t === undefined) throw new Error(`missing weight: ${name}`);
    return t;
  };
}

