/** A dense float32 tensor in row-major (NCHW for images) order: what flows between the engine's stages. */
export interface Tensor {
  dims: readonly number[];
  data: Float32Array;
}

/** Token ids and other integer inputs of ONNX graphs. */
export interface Int64Tensor {
  dims: readonly number[];
  data: BigInt64Array;
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function createTensor(dims: readonly number[], data?: Float32Array): Tensor {
  const n = elementCount(dims);
  if (data !== undefined && data.length !== n) throw new Error(`tensor data has ${data.length} values for shape [${dims}] (${n} expected)`);
  return { dims: [...dims], data: data ?? new Float32Array(n) };
}
