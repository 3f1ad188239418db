/**
 * Reads a LoRA file (.safetensors) into low-rank pairs per module: `down` [rank, in(, k, k)] and `up`
 * [out, rank(, 1, 1)] with the optional `alpha`, whatever the dialect (kohya `lora_down`/`lora_up`, PEFT
 * `lora_A`/`lora_B`, diffusers `lora.down`/`lora.up` or processor `…_lora.down`). Adapter types this engine
 * does not implement (LoHa, LoKr, DoRA, CP-decomposed LoCon, full diffs) are refused by key name, as is any key it
 * cannot place: silently skipping part of a LoRA would give a different image than its author intended.
 */
import { decodeAsFloat32 } from '../io/dtype-decoding.ts';
import { readSafetensorsHeader } from '../io/safetensors-reader.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { canonicalModuleName } from './lora-targets.ts';
import { FooocusError } from '../errors/fooocus-error.ts';

export interface LowRankTensor {
  shape: readonly number[];
  data: Float32Array;
}

export interface LoraModule {
  /** Canonical (kohya-spelled) module name, see `canonicalModuleName`. */
  name: string;
  down: LowRankTensor;
  up: LowRankTensor;
  /** Scale numerator: the effective scale is weight * alpha / rank; null means alpha = rank. */
  alpha: number | null;
  /** The file's own key of the down tensor, for messages. */
  sourceKey: string;
}

export interface LoraFile {
  file: string;
  modules: Map<string, LoraModule>;
  metadata: Record<string, string>;
}

/** The file is a safetensors file but not a LoRA this engine can apply; names the file and the key. */
export class LoraFormatError extends FooocusError {
  constructor(file: string, readonly key: string | null, detail: string) {
    super('invalid', `${path.basename(file)}: ${key === null ? '' : `key "${key}" `}${detail}`, { file });
  }
}

type Role = 'down' | 'up' | 'alpha';

const SUFFIXES: [suffix: string, role: Role][] = [
  ['.lora_down.weight', 'down'],
  ['.lora_up.weight', 'up'],
  ['.lora_A.weight', 'down'],
  ['.lora_B.weight', 'up'],
  ['.lora_A.default.weight', 'down'],
  ['.lora_B.default.weight', 'up'],
  ['.lora.down.weight', 'down'],
  ['.lora.up.weight', 'up'],
  ['.lora_linear_layer.down.weight', 'down'],
  ['.lora_linear_layer.up.weight', 'up'],
  ['_lora.down.weight', 'down'],
  ['_lora.up.weight', 'up'],
  ['.alpha', 'alpha'],
];

const UNSUPPORTED: [RegExp, string][] = [
  [/\.hada_(w|t)\d/, 'LoHa (hadamard product) adapters are not supported'],
  [/\.lokr_(w|t)\d/, 'LoKr (Kronecker product) adapters are not supported'],
  [/\.dora_scale$/, 'DoRA adapters are not supported'],
  [/\.lora_mid\.weight$/, 'CP-decomposed LoCon (lora_mid) is not supported'],
  [/\.(diff|diff_b)$/, 'full weight differences are not supported'],
  [/\.(w_norm|b_norm)$/, 'norm-layer adapters are not supported'],
];

function classify(key: string): { module: string; role: Role } | null {
  for (const [suffix, role] of SUFFIXES) {
    if (!key.endsWith(suffix)) continue;
    const module = key.slice(0, -suffix.length);
    // `_lora.down.weight` is the processor form (`…attn1.processor.to_q_lora.down.weight`): keep the `_lora` marker.
    return { module: suffix.startsWith('_lora') ? `${module}_lora` : module, role };
  }
  return null;
}

function tensorOf(header: SafetensorsHeader, bytes: Buffer, key: string): LowRankTensor {
  const info = header.tensors.get(key)!;
  if (!['F32', 'F16', 'BF16', 'F64'].includes(info.dtype)) throw new LoraFormatError(header.file, key, `has dtype ${info.dtype}; LoRA weights must be F32, F16, BF16 or F64`);
  const start = header.dataOffset + info.begin;
  const own = new Uint8Array(info.end - info.begin); // decodeAsFloat32 wants an aligned buffer of its own
  own.set(bytes.subarray(start, header.dataOffset + info.end));
  return { shape: [...info.shape], data: decodeAsFloat32(info.dtype, own) };
}

/** Parses a LoRA file; every key must be a low-rank pair member or an alpha, or the file is refused by key name. */
export async function readLoraFile(file: string): Promise<LoraFile> {
  const header = await readSafetensorsHeader(file);
  const bytes = await readFile(file);
  if (bytes.length !== header.fileSize) throw new LoraFormatError(file, null, 'changed while it was read');
  const parts = new Map<string, Partial<Record<Role, string>>>();
  for (const key of header.tensors.keys()) {
    const unsupported = UNSUPPORTED.find(([pattern]) => pattern.test(key));
    if (unsupported !== undefined) throw new LoraFormatError(file, key, unsupported[1]);
    const found = classify(key);
    if (found === null) throw new LoraFormatError(file, key, 'is not a LoRA tensor (expected lora_down/lora_up, lora_A/lora_B, lora.down/lora.up or alpha)');
    const name = canonicalModuleName(found.module);
    const entry = parts.get(name) ?? {};
    if (entry[found.role] !== undefined) throw new LoraFormatError(file, key, `names the same module as "${entry[found.role]}"`);
    entry[found.role] = key;
    parts.set(name, entry);
  }
  if (parts.size === 0) throw new LoraFormatError(file, null, 'holds no LoRA tensors');

  const modules = new Map<string, LoraModule>();
  for (const [name, { down, up, alpha }] of parts) {
    if (down === undefined || up === undefined) throw new LoraFormatError(file, (down ?? up ?? alpha)!, `has no matching ${down === undefined ? 'down (A)' : 'up (B)'} tensor`);
    const d = tensorOf(header, bytes, down);
    const u = tensorOf(header, bytes, up);
    const rank = d.shape[0]!;
    // Linear pairs are 2-D; LoCon pairs [rank, in, k, k] with [out, rank, 1, 1]; 1x1 layers come either way.
    const downOk = d.shape.length === 2 || d.shape.length === 4;
    const upOk = u.shape.length === 2 || (u.shape.length === 4 && u.shape[2] === 1 && u.shape[3] === 1);
    if (!downOk || !upOk) throw new LoraFormatError(file, down, `and "${up}" have shapes [${d.shape}] and [${u.shape}]; expected [rank, in] with [out, rank], or [rank, in, k, k] with [out, rank, 1, 1]`);
    if (u.shape[1] !== rank) throw new LoraFormatError(file, up, `has rank ${u.shape[1]} but "${down}" has rank ${rank}`);
    let alphaValue: number | null = null;
    if (alpha !== undefined) {
      const a = tensorOf(header, bytes, alpha);
      if (a.data.length !== 1 || !Number.isFinite(a.data[0])) throw new LoraFormatError(file, alpha, 'must be one finite number');
      alphaValue = a.data[0]!;
    }
    for (const t of [d, u]) if (!t.data.every(Number.isFinite)) throw new LoraFormatError(file, t === d ? down : up, 'holds NaN or infinite values');
    modules.set(name, { name, down: d, up: u, alpha: alphaValue, sourceKey: down });
  }
  return { file, modules, metadata: header.metadata };
}
