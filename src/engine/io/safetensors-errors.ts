/**
 * The rules a safetensors file must satisfy before any of its bytes are trusted. Each rejection names one, so a
 * user (or a test) can tell exactly which promise of the format the file broke.
 */
import { FooocusError } from '../errors/fooocus-error.ts';

export type SafetensorsRule =
  /** Fewer than the 8 bytes that hold the header length. */
  | 'file-too-small'
  /** The path is a directory, device or pipe rather than a regular file. */
  | 'not-regular-file'
  /** The little-endian u64 header length is over the 100 MB cap or runs past the end of the file. */
  | 'header-length-bounds'
  | 'header-utf8'
  /** Not JSON, JSON that does not start at the first header byte, or nesting deeper than any header needs. */
  | 'header-json'
  | 'header-not-object'
  /** A key repeated in one JSON object: JSON.parse would silently keep the last, so two readers could disagree. */
  | 'duplicate-key'
  | 'invalid-tensor-name'
  /** A tensor entry that is not a JSON object. */
  | 'tensor-not-object'
  /** A tensor entry without exactly the fields dtype, shape and data_offsets. */
  | 'unknown-field'
  | 'unknown-dtype'
  | 'invalid-shape'
  /** The tensor's byte size is not a safe integer. */
  | 'size-overflow'
  | 'invalid-offsets'
  /** data_offsets span a different number of bytes than shape x dtype size. */
  | 'byte-length-mismatch'
  /** Tensors must tile the data buffer from 0 with no overlap and no hole. */
  | 'offsets-contiguous'
  /** Bytes after the last tensor: room for a second file (zip, HTML) hiding in the same bytes. */
  | 'trailing-bytes'
  /** Tensors claim bytes past the end of the file (truncated download), or the file changed after its header was read. */
  | 'data-size-mismatch'
  | 'metadata-type';

/** A file that is not a well-formed safetensors file. The message names the file, the tensor (if any) and the rule. */
export class InvalidSafetensorsError extends FooocusError {
  declare readonly rule: SafetensorsRule;

  constructor(file: string, readonly tensor: string | null, rule: SafetensorsRule, detail: string) {
    const where = tensor === null ? '' : ` tensor ${JSON.stringify(tensor)}:`;
    super('invalid', `${file}:${where} ${detail} (rule: ${rule})`, { file, rule });
  }
}

/** A pickle-based checkpoint (by extension or by content). Loading one means running code its author chose. */
export class PickleFormatError extends FooocusError {
  constructor(file: string, detected: 'extension' | 'content') {
    const how = detected === 'extension' ? 'has a pickle-format extension' : 'contains pickle or PyTorch zip data';
    super(
      'invalid',
      `${file}: ${how}. Pickle formats (.ckpt, .pt, .pth, .bin) can execute arbitrary code when loaded, ` +
        'so Fooocus-TS only loads .safetensors files. Download the .safetensors release of this model, or convert ' +
        'an upscaler or inpaint file with `npm run fooocus -- models convert <file>` (it reads the tensors without ' +
        'running anything in the file and stores a verified .safetensors).',
      { file },
    );
  }
}

/** A tensor name that the checkpoint does not contain (usually a model of another family or a broken export). */
export class MissingTensorError extends FooocusError {
  constructor(file: string, readonly tensor: string) {
    super('invalid', `${file}: no tensor named ${JSON.stringify(tensor)}`, { file });
  }
}
