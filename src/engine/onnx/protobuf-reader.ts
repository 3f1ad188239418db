/**
 * Bounded protocol-buffers decoder, the counterpart of protobuf-writer.ts, for checking ONNX files that come from
 * outside. Every read is checked against the end of its message, so a hostile length or a truncated file is an
 * error, never an out-of-range read or an allocation of a claimed size; the reader always moves forward, so a
 * loop over fields ends.
 */

/** The bytes are not well-formed protobuf (the message says where). */
export class ProtoFormatError extends Error {}

/** Protobuf wire types the ONNX schema uses; 3 and 4 (groups) are refused. */
export type WireType = 0 | 1 | 2 | 5;

export interface ProtoField {
  field: number;
  wireType: WireType;
  /** Varint value (wire type 0); 0n otherwise. */
  varint: bigint;
  /** Payload of a length-delimited (2) or fixed-width (1, 5) field, a view into the input. */
  bytes: Uint8Array;
}

export class ProtoReader {
  private at = 0;

  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.at >= this.buf.length;
  }

  /** One bare varint (the items of a packed run). */
  nextVarint(): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.at >= this.buf.length) throw new ProtoFormatError(`varint runs past the end of its message at byte ${this.at}`);
      const b = this.buf[this.at++]!;
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, value);
    }
    throw new ProtoFormatError(`varint longer than 10 bytes at byte ${this.at}`);
  }

  private take(length: number): Uint8Array {
    if (length > this.buf.length - this.at) {
      throw new ProtoFormatError(`field of ${length} bytes at byte ${this.at} runs past the end of its message (${this.buf.length - this.at} left)`);
    }
    const out = this.buf.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }

  /** The next field of the message; call only while `!done`. */
  next(): ProtoField {
    const key = this.nextVarint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field === 0 || field > 0x1fffffff) throw new ProtoFormatError(`invalid field number ${field}`);
    switch (wireType) {
      case 0:
        return { field, wireType, varint: this.nextVarint(), bytes: EMPTY };
      case 1:
        return { field, wireType, varint: 0n, bytes: this.take(8) };
      case 5:
        return { field, wireType, varint: 0n, bytes: this.take(4) };
      case 2: {
        const length = this.nextVarint();
        if (length > BigInt(this.buf.length)) throw new ProtoFormatError(`field ${field} claims ${length} bytes, more than its message holds`);
        return { field, wireType, varint: 0n, bytes: this.take(Number(length)) };
      }
      default:
        throw new ProtoFormatError(`field ${field} has wire type ${wireType}, which this schema never uses`);
    }
  }

  /** Every field of the message, in order. */
  *fields(): Generator<ProtoField> {
    while (!this.done) yield this.next();
  }
}

const EMPTY = new Uint8Array(0);

/** Decodes a field's bytes as UTF-8, refusing malformed text. */
export function decodeProtoString(f: ProtoField): string {
  if (f.wireType !== 2) throw new ProtoFormatError(`field ${f.field} should be a string`);
  try {
    return UTF8.decode(f.bytes);
  } catch {
    throw new ProtoFormatError(`field ${f.field} is not valid UTF-8`);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A varint field as a signed 64-bit integer (int64 fields use two's complement). */
export function readProtoInt(f: ProtoField): bigint {
  if (f.wireType !== 0) throw new ProtoFormatError(`field ${f.field} should be an integer`);
  return BigInt.asIntN(64, f.varint);
}

/** A repeated int64 field, packed (one length-delimited run) or not (one varint per field). */
export function readProtoInts(f: ProtoField): bigint[] {
  if (f.wireType === 0) return [readProtoInt(f)];
  if (f.wireType !== 2) throw new ProtoFormatError(`field ${f.field} should be a list of integers`);
  const out: bigint[] = [];
  const r = new ProtoReader(f.bytes);
  while (!r.done) out.push(BigInt.asIntN(64, r.nextVarint()));
  return out;
}

/** Number of values in a packed varint run, counted without decoding them (a run may hold millions). */
export function countPackedVarints(f: ProtoField): number {
  if (f.wireType !== 2) throw new ProtoFormatError(`field ${f.field} should be a packed list`);
  const b = f.bytes;
  if (b.length > 0 && (b[b.length - 1]! & 0x80) !== 0) throw new ProtoFormatError(`packed field ${f.field} ends inside a varint`);
  let n = 0;
  for (let i = 0; i < b.length; i++) if ((b[i]! & 0x80) === 0) n++;
  return n;
}
