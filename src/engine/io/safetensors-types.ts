/** Element types the safetensors format defines, with their size in bytes (sub-byte types are not accepted). */
export const SAFETENSORS_DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
} as const;

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_BYTES;

/** One tensor's entry in the header. Offsets are relative to the start of the data buffer. */
export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offset of the first element, relative to the data buffer. */
  begin: number;
  /** Byte offset one past the last element, relative to the data buffer. */
  end: number;
}

/** A validated header: everything needed to locate any tensor without reading the data. */
export interface SafetensorsHeader {
  /** The file the header was read from (as given by the caller). */
  file: string;
  /** Total file size in bytes. */
  fileSize: number;
  /** Absolute file offset where the data buffer starts (8 + header length). */
  dataOffset: number;
  metadata: Record<string, string>;
  /** Tensors by name, in data-buffer order. */
  tensors: Map<string, TensorInfo>;
}

/** A tensor to write: raw little-endian bytes, or a typed array whose element type matches `dtype`. */
export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  data: Uint8Array | Uint16Array | Float32Array | Int32Array | Float64Array | BigInt64Array;
}
