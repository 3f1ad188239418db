/**
 * Flattens the object a checkpoint pickles into named leaves, by the converted-pickle convention: dict keys are
 * joined with ".", list and tuple elements are named by index (`k.0`, `k.1`), Python floats become 0-d F32
 * tensors and Python ints 0-d I64 tensors. A Fooocus inpaint patch value (uint8 weight, min, max) thus becomes
 * `<key>.0`, `<key>.1`, `<key>.2`. Values that are not numbers (None, strings, booleans) have no tensor form and
 * are reported as skipped. Depth is bounded and cycles (a list appended to itself through the memo) are refused.
 */
import { TorchFileError } from './torch-file-error.ts';
import type { PickleValue, TensorRef } from './pickle-values.ts';

/** Real checkpoints nest a handful of levels (`params_ema` / `state_dict` wrappers, the patch's tuples). */
export const MAX_NESTING = 32;
/** Tensors per checkpoint; SDXL's UNet patch has about 1,700. */
export const MAX_TENSORS = 1_000_000;
/**
 * Values visited in all. The memo lets one list appear many times in another, so a short pickle can describe an
 * exponentially large tree ("billion laughs"); this bound stops the walk long before that matters.
 */
export const MAX_VISITS = 4_000_000;

export type FlatLeaf =
  | { name: string; kind: 'tensor'; tensor: TensorRef }
  | { name: string; kind: 'float'; value: number }
  | { name: string; kind: 'int'; value: bigint };

export interface FlatStateDict {
  leaves: FlatLeaf[];
  /** Names of values with no tensor form (None, str, bool, bytes, a bare storage or class), in file order. */
  skipped: string[];
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

export function flattenStateDict(root: PickleValue, file: string): FlatStateDict {
  if (typeof root !== 'object' || root === null || root.kind !== 'dict') {
    throw new TorchFileError(file, 'pickle-structure', 'the checkpoint does not hold a dict at its top level (a state dict is expected)');
  }
  const out: FlatStateDict = { leaves: [], skipped: [] };
  const names = new Set<string>();
  const active = new Set<object>();
  let visits = 0;

  const visit = (value: PickleValue, name: string, depth: number): void => {
    if (++visits > MAX_VISITS) throw new TorchFileError(file, 'limit', `the pickle describes more than ${MAX_VISITS} values (shared references multiply them)`);
    if (depth > MAX_NESTING) throw new TorchFileError(file, 'limit', `${JSON.stringify(name)} is nested more than ${MAX_NESTING} levels deep`);
    if (typeof value === 'object' && value !== null && (value.kind === 'dict' || value.kind === 'list' || value.kind === 'tuple')) {
      if (active.has(value)) throw new TorchFileError(file, 'pickle-structure', `${JSON.stringify(name)} contains itself`);
      active.add(value);
      const children = value.kind === 'dict' ? [...value.entries] : value.items.map((v, i): [bigint, PickleValue] => [BigInt(i), v]);
      for (const [key, child] of children) visit(child, name === '' ? String(key) : `${name}.${String(key)}`, depth + 1);
      active.delete(value);
      return;
    }
    const leaf = toLeaf(value, name, file);
    if (leaf === null) {
      out.skipped.push(name);
      return;
    }
    if (name === '' || name === '__metadata__' || names.has(name)) {
      throw new TorchFileError(file, 'tensor-name', `two values flatten to the name ${JSON.stringify(name)}, or the name is empty or reserved`);
    }
    if (out.leaves.length >= MAX_TENSORS) throw new TorchFileError(file, 'limit', `more than ${MAX_TENSORS} tensors`);
    names.add(name);
    out.leaves.push(leaf);
  };
  visit(root, '', 0);
  return out;
}

function toLeaf(value: PickleValue, name: string, file: string): FlatLeaf | null {
  if (typeof value === 'number') return { name, kind: 'float', value };
  if (typeof value === 'bigint') {
    if (value < INT64_MIN || value > INT64_MAX) throw new TorchFileError(file, 'limit', `${JSON.stringify(name)} is an integer outside int64`);
    return { name, kind: 'int', value };
  }
  if (typeof value === 'object' && value !== null && value.kind === 'tensor') return { name, kind: 'tensor', tensor: value };
  return null;
}
