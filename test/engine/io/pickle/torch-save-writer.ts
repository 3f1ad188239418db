/**
 * Test-only writer of the PyTorch checkpoint format: a pickle emitter that lays out values the way torch.save does
 * (protocol 2 with GLOBAL and BINPUT, or protocol 4 with FRAME, STACK_GLOBAL and MEMOIZE; tensors as
 * _rebuild_tensor_v2 over BINPERSID storages; OrderedDict with its `_metadata` BUILD state) and a zip writer that
 * stores `<archive>/data.pkl`, `<archive>/data/<key>`, `version` and `byteorder` uncompressed. Raw opcodes are
 * exposed so tests can also write the hostile pickles a reader must refuse.
 */
import { crc32 } from 'node:zlib';

export type TestDtype = 'F32' | 'F16' | 'BF16' | 'U8' | 'I64' | 'F64';

export const STORAGE_CLASS: Record<TestDtype, string> = {
  F32: 'FloatStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  U8: 'ByteStorage',
  I64: 'LongStorage',
  F64: 'DoubleStorage',
};

export interface TestTensor {
  tensor: { dtype: TestDtype; shape: number[]; bytes: Uint8Array; stride?: number[]; offset?: number; storageKey?: string; parameter?: boolean };
}

export type TestValue =
  | null
  | boolean
  | string
  | bigint
  | { float: number }
  | { tuple: TestValue[] }
  | { list: TestValue[] }
  | { dict: [string | bigint, TestValue][]; ordered?: boolean }
  | TestTensor;

/** Low-level pickle emission: each method appends opcodes. */
export class PickleEmitter {
  readonly out: number[] = [];
  private memoCount = 0;

  constructor(readonly protocol: 2 | 3 | 4 | 5 = 2) {}

  op(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }

  header(): this {
    this.op(0x80, this.protocol);
    // A FRAME of unknown size is legal to announce only as a hint; 0 keeps the writer simple.
    if (this.protocol >= 4) this.op(0x95, ...u64(0));
    return this;
  }

  memoize(): this {
    if (this.protocol >= 4) this.op(0x94);
    else if (this.memoCount < 256) this.op(0x71, this.memoCount);
    else this.op(0x72, ...u32(this.memoCount));
    this.memoCount++;
    return this;
  }

  str(text: string): this {
    const bytes = [...Buffer.from(text, 'utf8')];
    if (bytes.length < 256 && this.protocol >= 4) return this.op(0x8c, bytes.length, ...bytes);
    return this.op(0x58, ...u32(bytes.length), ...bytes);
  }

  int(value: bigint): this {
    if (value >= 0n && value < 256n) return this.op(0x4b, Number(value));
    if (value >= 0n && value < 65536n) return this.op(0x4d, ...u16(Number(value)));
    if (value >= -(2n ** 31n) && value < 2n ** 31n) return this.op(0x4a, ...i32(Number(value)));
    const bytes: number[] = [];
    let v = value;
    while (bytes.length === 0 || !(v === 0n && (bytes.at(-1)! & 0x80) === 0) && !(v === -1n && (bytes.at(-1)! & 0x80) !== 0)) {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
    }
    return this.op(0x8a, bytes.length, ...bytes);
  }

  float(value: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(value);
    return this.op(0x47, ...b);
  }

  global(module: string, name: string): this {
    if (this.protocol >= 4) return this.str(module).memoize().str(name).memoize().op(0x93).memoize();
    return this.op(0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1')).memoize();
  }

  /** A whole value, emitted as torch.save would. */
  value(v: TestValue): this {
    if (v === null) return this.op(0x4e);
    if (v === true) return this.op(0x88);
    if (v === false) return this.op(0x89);
    if (typeof v === 'string') return this.str(v).memoize();
    if (typeof v === 'bigint') return this.int(v);
    if ('float' in v) return this.float(v.float);
    if ('tuple' in v) return this.tuple(v.tuple.map((item) => () => this.value(item)));
    if ('list' in v) {
      this.op(0x5d).memoize();
      if (v.list.length > 0) {
        this.op(0x28);
        for (const item of v.list) this.value(item);
        this.op(0x65);
      }
      return this;
    }
    if ('dict' in v) return this.dict(v.dict, v.ordered ?? true);
    return this.tensor(v.tensor);
  }

  tuple(items: (() => unknown)[]): this {
    if (items.length === 0) return this.op(0x29);
    if (items.length <= 3) {
      for (const item of items) item();
      return this.op(0x84 + items.length).memoize();
    }
    this.op(0x28);
    for (const item of items) item();
    return this.op(0x74).memoize();
  }

  dict(entries: [string | bigint, TestValue][], ordered: boolean): this {
    if (ordered) this.global('collections', 'OrderedDict').op(0x29, 0x52).memoize();
    else this.op(0x7d).memoize();
    if (entries.length > 0) {
      this.op(0x28);
      for (const [k, value] of entries) {
        if (typeof k === 'string') this.str(k).memoize();
        else this.int(k);
        this.value(value);
      }
      this.op(0x75);
    }
    // state_dict() attaches `_metadata` (per-module versions) as an attribute, which pickles as BUILD.
    if (ordered) {
      this.op(0x7d).memoize().str('_metadata').memoize();
      this.global('collections', 'OrderedDict').op(0x29, 0x52).memoize();
      this.op(0x73, 0x62);
    }
    return this;
  }

  tensor(t: TestTensor['tensor']): this {
    const numel = t.bytes.length / ITEM_SIZE[t.dtype];
    if (t.parameter === true) this.global('torch._utils', '_rebuild_parameter').op(0x28);
    this.global('torch._utils', '_rebuild_tensor_v2').op(0x28);
    this.op(0x28).str('storage').memoize().global('torch', STORAGE_CLASS[t.dtype]).str(t.storageKey ?? '0').memoize().str('cpu').memoize().int(BigInt(numel)).op(0x74).memoize();
    this.op(0x51);
    this.int(BigInt(t.offset ?? 0));
    this.tuple(t.shape.map((d) => () => this.int(BigInt(d))));
    this.tuple((t.stride ?? contiguousStride(t.shape)).map((d) => () => this.int(BigInt(d))));
    this.op(0x89);
    this.global('collections', 'OrderedDict').op(0x29, 0x52).memoize();
    this.op(0x74).memoize().op(0x52).memoize();
    if (t.parameter === true) this.op(0x89).global('collections', 'OrderedDict').op(0x29, 0x52).memoize().op(0x74).memoize().op(0x52).memoize();
    return this;
  }

  stop(): Uint8Array {
    this.op(0x2e);
    return Uint8Array.from(this.out);
  }
}

export const ITEM_SIZE: Record<TestDtype, number> = { F32: 4, F16: 2, BF16: 2, U8: 1, I64: 8, F64: 8 };

export function contiguousStride(shape: number[]): number[] {
  const stride = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) stride[i] = stride[i + 1]! * shape[i + 1]!;
  return stride;
}

/** Gives every tensor in `value` its own storage key (as torch.save does for distinct storages). */
export function assignStorageKeys(value: TestValue, storages: Map<string, Uint8Array> = new Map()): Map<string, Uint8Array> {
  if (value === null || typeof value !== 'object') return storages;
  if ('tensor' in value) {
    value.tensor.storageKey ??= String(storages.size);
    storages.set(value.tensor.storageKey, value.tensor.bytes);
  } else if ('tuple' in value) value.tuple.forEach((v) => assignStorageKeys(v, storages));
  else if ('list' in value) value.list.forEach((v) => assignStorageKeys(v, storages));
  else if ('dict' in value) value.dict.forEach(([, v]) => assignStorageKeys(v, storages));
  return storages;
}

/** A whole torch.save file for `value`. */
export function writeTorchSave(value: TestValue, options: { protocol?: 2 | 3 | 4 | 5; archive?: string } = {}): Uint8Array {
  const storages = assignStorageKeys(value);
  const pickle = new PickleEmitter(options.protocol ?? 2).header().value(value).stop();
  return writeTorchZip(pickle, storages, options.archive);
}

/** The zip layout torch.save writes around a pickle and its storages. */
export function writeTorchZip(pickle: Uint8Array, storages: Map<string, Uint8Array>, archive = 'archive'): Uint8Array {
  const entries: [string, Uint8Array][] = [[`${archive}/data.pkl`, pickle]];
  entries.push([`${archive}/byteorder`, Buffer.from('little')]);
  for (const [key, bytes] of storages) entries.push([`${archive}/data/${key}`, bytes]);
  entries.push([`${archive}/version`, Buffer.from('3\n')]);
  return writeStoredZip(entries);
}

/** A zip archive of stored (uncompressed) entries. */
export function writeStoredZip(entries: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, nameBytes);
    parts.push(local, nameBytes, data);
    offset += 30 + nameBytes.length + data.length;
  }
  const centralBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, centralBytes, end]);
}

function u16(v: number): number[] {
  return [v & 0xff, (v >> 8) & 0xff];
}
function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
function i32(v: number): number[] {
  return u32(v >>> 0);
}
function u64(v: number): number[] {
  return [...u32(v), 0, 0, 0, 0];
}
