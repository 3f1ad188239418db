/**
 * The one error the PyTorch checkpoint reader throws. Every refusal names the file and the rule it broke; a refused
 * pickle global is also named as `module.name`, so a user can see exactly what the file asked for.
 */
import { FooocusError } from '../../errors/fooocus-error.ts';

export type TorchFileRule =
  /** Neither a zip archive nor a legacy (pickle-stream) checkpoint. */
  | 'not-zip'
  /** The tar-based format of PyTorch 0.x, or a legacy stream of another protocol version: not read. */
  | 'legacy-format'
  /** A zip structure that is malformed, inconsistent or runs past the end of the file. */
  | 'zip-structure'
  /** A compressed zip entry: torch.save stores entries uncompressed, so anything else is not its output. */
  | 'zip-compressed'
  /** No `<archive>/data.pkl`, or more than one. */
  | 'no-data-pkl'
  /** A declared size, count or depth past the reader's bounds. */
  | 'limit'
  /** The pickle stream ends before STOP, or an operand runs past its end. */
  | 'pickle-truncated'
  /** An opcode the reader does not interpret (code-running and legacy text opcodes among them). */
  | 'pickle-opcode'
  /** A global (module.name) outside the allowlist. */
  | 'global-refused'
  /** A call (REDUCE/BUILD) that is not one of the allowlisted data rebuilds, or one with unexpected arguments. */
  | 'call-refused'
  /** A persistent id that is not a storage of an allowlisted type. */
  | 'persistent-id'
  /** A stack, mark or memo misuse, or a value of the wrong type for its place. */
  | 'pickle-structure'
  /** A tensor whose shape, strides or offset do not fit its storage. */
  | 'tensor-layout'
  /** A storage named by the pickle but missing from the archive, or of the wrong size. */
  | 'storage-missing'
  /** Two tensors flatten to the same name, or a name is empty or reserved. */
  | 'tensor-name'
  /** The archive records big-endian storages. */
  | 'byte-order'
  /** The file holds no tensor at all. */
  | 'no-tensors';

export class TorchFileError extends FooocusError {
  declare readonly rule: TorchFileRule;

  constructor(
    file: string,
    rule: TorchFileRule,
    detail: string,
    /** The refused global as `module.name`, for `global-refused`. */
    readonly global: string | null = null,
  ) {
    super('invalid', `${file}: ${detail} (rule: ${rule})`, { file, rule });
  }
}
