/**
 * The calls a PyTorch state dict pickle makes, read as data: REDUCE on an allowlisted global becomes the value the
 * call would have built (an empty OrderedDict, a tensor view of a storage), with every argument type- and
 * bounds-checked. BINPERSID's storage tuple becomes a reference to a zip entry. Nothing is executed.
 */
import { TorchFileError } from './torch-file-error.ts';
import { describeValue, STORAGE_DTYPES, type PickleValue, type StorageRef, type TensorRef } from './pickle-values.ts';

/** Rank of any tensor a model checkpoint holds is far below this. */
export const MAX_TENSOR_RANK = 8;

export function rebuildFromCall(callable: PickleValue, args: PickleValue, file: string): PickleValue {
  if (typeof callable !== 'object' || callable === null || callable.kind !== 'global' || callable.global.kind !== 'callable') {
    throw new TorchFileError(file, 'call-refused', `REDUCE calls ${describeValue(callable)}; only the allowlisted rebuilds are interpreted`);
  }
  if (typeof args !== 'object' || args === null || args.kind !== 'tuple') {
    throw new TorchFileError(file, 'call-refused', `REDUCE on ${callable.global.name} with ${describeValue(args)} instead of an argument tuple`);
  }
  const name = callable.global.name;
  switch (callable.global.callable) {
    case 'ordered-dict':
      if (args.items.length !== 0) throw new TorchFileError(file, 'call-refused', `${name} with ${args.items.length} arguments (an empty call is expected)`);
      return { kind: 'dict', ordered: true, entries: new Map() };
    case 'rebuild-tensor':
      return rebuildTensor(args.items, name, file);
    case 'rebuild-parameter':
      return rebuildParameter(args.items, name, file);
  }
}

/** `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`. */
function rebuildTensor(args: readonly PickleValue[], name: string, file: string): TensorRef {
  if (args.length !== 6 && args.length !== 7) throw new TorchFileError(file, 'call-refused', `${name} with ${args.length} arguments (6 or 7 expected)`);
  const [storage, offset, size, stride, requiresGrad, hooks, metadata] = args;
  if (typeof storage !== 'object' || storage === null || storage.kind !== 'storage') {
    throw new TorchFileError(file, 'call-refused', `${name}: the first argument is ${describeValue(storage!)}, not a storage`);
  }
  if (typeof requiresGrad !== 'boolean') throw new TorchFileError(file, 'call-refused', `${name}: requires_grad is ${describeValue(requiresGrad!)}`);
  checkEmptyHooks(hooks!, name, file);
  if (metadata !== undefined && metadata !== null && !(typeof metadata === 'object' && metadata.kind === 'dict' && metadata.entries.size === 0)) {
    throw new TorchFileError(file, 'call-refused', `${name}: tensor metadata ${describeValue(metadata)} is not read`);
  }
  const shape = toIndexList(size!, `${name}: size`, file);
  const strides = toIndexList(stride!, `${name}: stride`, file);
  if (shape.length !== strides.length) throw new TorchFileError(file, 'tensor-layout', `${name}: size has ${shape.length} dims but stride has ${strides.length}`);
  const start = toIndex(offset!, `${name}: storage_offset`, file);
  checkInsideStorage(storage, start, shape, strides, file);
  return { kind: 'tensor', storage, offset: start, shape, stride: strides };
}

/** `_rebuild_parameter(data, requires_grad, backward_hooks)`: a Parameter is its tensor. */
function rebuildParameter(args: readonly PickleValue[], name: string, file: string): TensorRef {
  if (args.length !== 3) throw new TorchFileError(file, 'call-refused', `${name} with ${args.length} arguments (3 expected)`);
  const [data, requiresGrad, hooks] = args;
  if (typeof data !== 'object' || data === null || data.kind !== 'tensor') throw new TorchFileError(file, 'call-refused', `${name}: data is ${describeValue(data!)}`);
  if (typeof requiresGrad !== 'boolean') throw new TorchFileError(file, 'call-refused', `${name}: requires_grad is ${describeValue(requiresGrad!)}`);
  checkEmptyHooks(hooks!, name, file);
  return data;
}

/** Backward hooks would be code to run; a saved state dict has none (an empty OrderedDict). */
function checkEmptyHooks(hooks: PickleValue, name: string, file: string): void {
  if (typeof hooks !== 'object' || hooks === null || hooks.kind !== 'dict' || hooks.entries.size !== 0) {
    throw new TorchFileError(file, 'call-refused', `${name}: backward_hooks is ${describeValue(hooks)}, not an empty OrderedDict`);
  }
}

/** Every element the view can address must lie in the storage: max index = offset + sum((size-1) * stride). */
function checkInsideStorage(storage: StorageRef, offset: number, shape: number[], stride: number[], file: string): void {
  if (shape.some((d) => d === 0)) return;
  let last = offset;
  for (let i = 0; i < shape.length; i++) last += (shape[i]! - 1) * stride[i]!;
  if (!Number.isSafeInteger(last) || last >= storage.numel) {
    throw new TorchFileError(file, 'tensor-layout', `a tensor of shape [${shape}] with stride [${stride}] at offset ${offset} reaches past its storage ${storage.key} (${storage.numel} elements)`);
  }
}

/**
 * BINPERSID's id for a storage: ('storage', <storage class>, key, location, numel), with a sixth item in the legacy
 * format (view metadata), which must be None: views of storages are not read.
 */
export function readPersistentStorage(pid: PickleValue, file: string): StorageRef {
  const isTuple = typeof pid === 'object' && pid !== null && pid.kind === 'tuple';
  if (!isTuple || !(pid.items.length === 5 || (pid.items.length === 6 && pid.items[5] === null)) || pid.items[0] !== 'storage') {
    throw new TorchFileError(file, 'persistent-id', `a persistent id is ${describeValue(pid)}; only ('storage', type, key, location, numel) is read`);
  }
  const [, type, key, location, numel] = pid.items;
  if (typeof type !== 'object' || type === null || type.kind !== 'global' || type.global.kind !== 'storage-class') {
    throw new TorchFileError(file, 'persistent-id', `a persistent id names storage type ${describeValue(type!)}, which is not an allowlisted storage class`);
  }
  if (typeof key !== 'string' || !/^[A-Za-z0-9_]{1,64}$/.test(key)) throw new TorchFileError(file, 'persistent-id', `a storage key is ${describeValue(key!)}, not a short name`);
  if (typeof location !== 'string') throw new TorchFileError(file, 'persistent-id', `storage ${key}: location is ${describeValue(location!)}`);
  return { kind: 'storage', key, dtype: STORAGE_DTYPES[type.global.storageClass], numel: toIndex(numel!, `storage ${key}: numel`, file) };
}

function toIndexList(value: PickleValue, what: string, file: string): number[] {
  if (typeof value !== 'object' || value === null || value.kind !== 'tuple') throw new TorchFileError(file, 'call-refused', `${what} is ${describeValue(value)}, not a tuple`);
  if (value.items.length > MAX_TENSOR_RANK) throw new TorchFileError(file, 'limit', `${what} has ${value.items.length} dims (at most ${MAX_TENSOR_RANK})`);
  return value.items.map((v) => toIndex(v, what, file));
}

function toIndex(value: PickleValue, what: string, file: string): number {
  if (typeof value !== 'bigint' || value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new TorchFileError(file, 'tensor-layout', `${what} is ${typeof value === 'bigint' ? value.toString() : describeValue(value)}, not a non-negative integer`);
  }
  return Number(value);
}
