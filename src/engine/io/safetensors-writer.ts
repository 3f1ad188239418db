import { writeFileStreamAtomic } from './atomic-write.ts';
import { SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype, type TensorToWrite } from './safetensors-types.ts';

/**
 * Writes a safetensors file: 8-byte little-endian header length, JSON header padded with spaces to a multiple
 * of 8, then the tensors back to back in the given order. The file appears under `file` only once complete
 * (written to a temporary name, then renamed).
 */
export async function writeSafetensors(
  file: string,
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string> = {},
): Promise<void> {
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== bytes) {
      throw new Error(`tensor "${t.name}": ${t.data.byteLength} bytes of data for shape [${t.shape}] ${t.dtype} (${bytes} expected)`);
    }
  }
  const prefix = encodeSafetensorsHeader(tensors, metadata);

  await writeFileStreamAtomic(file, async (write) => {
    await write(prefix);
    for (const t of tensors) await write(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  });
}

/** A tensor as the header describes it: name, element type and shape, its bytes following in list order. */
export interface TensorHeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
}

/**
 * The first bytes of a safetensors file: the 8-byte little-endian header length, then the JSON header padded with
 * spaces to a multiple of 8. Tensors are laid out back to back in the given order.
 */
export function encodeSafetensorsHeader(tensors: readonly TensorHeaderEntry[], metadata: Record<string, string> = {}): Uint8Array {
  // A null-prototype object keeps a tensor named `__proto__` an ordinary key.
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '' || t.name === '__metadata__' || Object.hasOwn(header, t.name)) {
      throw new Error(`tensor name "${t.name}" is empty, reserved or listed twice`);
    }
    const bytes = t.shape.reduce((a, b) => a * b, 1) * SAFETENSORS_DTYPE_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([prefix, json]);
}
