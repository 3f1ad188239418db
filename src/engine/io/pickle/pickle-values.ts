/**
 * What the restricted pickle interpreter produces: plain data only. Python ints are bigints and Python floats are
 * numbers, so the two stay apart (they convert to I64 and F32 tensors respectively). Objects exist only for the
 * allowlisted rebuilds: storages, tensors, and OrderedDict (as an ordered dict).
 */
import type { SafetensorsDtype } from '../safetensors-types.ts';

/** The storage classes torch.save names, with the element type each holds. */
export const STORAGE_DTYPES = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  ByteStorage: 'U8',
  // Not weights, but plain numbers that ordinary state dicts carry (BatchNorm's num_batches_tracked, fp64 stats).
  LongStorage: 'I64',
  DoubleStorage: 'F64',
} as const satisfies Record<string, SafetensorsDtype>;

export type StorageClass = keyof typeof STORAGE_DTYPES;

/** A callable the interpreter knows how to turn into data (it never runs anything). */
export type AllowedCallable = 'rebuild-tensor' | 'rebuild-parameter' | 'ordered-dict';

export type AllowedGlobal =
  | { kind: 'callable'; name: string; callable: AllowedCallable }
  | { kind: 'storage-class'; name: string; storageClass: StorageClass };

export interface StorageRef {
  kind: 'storage';
  /** The zip entry holding the bytes is `<archive>/data/<key>`. */
  key: string;
  dtype: SafetensorsDtype;
  /** Elements, as the pickle declares them; checked against the zip entry's size later. */
  numel: number;
}

export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  /** In elements. */
  offset: number;
  shape: number[];
  /** In elements. */
  stride: number[];
}

export type DictKey = string | bigint;

export type PickleValue =
  | null
  | boolean
  | bigint
  | number
  | string
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'list'; items: PickleValue[] }
  | { kind: 'tuple'; items: readonly PickleValue[] }
  | { kind: 'dict'; ordered: boolean; entries: Map<DictKey, PickleValue> }
  | { kind: 'global'; global: AllowedGlobal }
  | StorageRef
  | TensorRef;

export type PickleObject = Extract<PickleValue, { kind: string }>;
export type PickleDict = Extract<PickleValue, { kind: 'dict' }>;

/**
 * The allowlist: `module.name` of every global a tensor state dict needs. Anything else (os.system, builtins.eval,
 * numpy scalars, custom classes) is refused where the pickle names it.
 */
export const ALLOWED_GLOBALS: ReadonlyMap<string, AllowedGlobal> = new Map<string, AllowedGlobal>([
  ['torch._utils._rebuild_tensor_v2', { kind: 'callable', name: 'torch._utils._rebuild_tensor_v2', callable: 'rebuild-tensor' }],
  ['torch._utils._rebuild_parameter', { kind: 'callable', name: 'torch._utils._rebuild_parameter', callable: 'rebuild-parameter' }],
  ['collections.OrderedDict', { kind: 'callable', name: 'collections.OrderedDict', callable: 'ordered-dict' }],
  ...Object.keys(STORAGE_DTYPES).map((c): [string, AllowedGlobal] => [`torch.${c}`, { kind: 'storage-class', name: `torch.${c}`, storageClass: c as StorageClass }]),
]);

export function describeValue(value: PickleValue): string {
  if (value === null) return 'None';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return 'float';
  if (typeof value !== 'object') return typeof value === 'string' ? 'str' : 'bool';
  return value.kind === 'global' ? `global ${value.global.name}` : value.kind;
}
