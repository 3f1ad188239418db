/**
 * The model-trust errors a user can act on (fix the file, import it, get the right catalog): the CLI prints them as
 * one `error:` line with exit code 2, the server maps them to a 4xx. Anything else is a bug or an I/O failure.
 */
import { InvalidSafetensorsError, LoraFormatError, LoraMismatchError, PickleFormatError, UnsupportedCheckpointError, VaeMismatchError } from '../../engine/index.ts';
import { LoraNotInstalledError } from '../generation/lora-selection.ts';
import { CatalogDowngradeError, CatalogKeyError, CatalogSignatureError, InvalidCatalogError } from './catalog-errors.ts';
import {
  InvalidTrustManifestError,
  ModelChangedError,
  ModelExistsError,
  ModelNotFoundError,
  UnsafeModelPathError,
  UnsupportedModelFileError,
  UntrustedModelError,
} from './model-errors.ts';

const USER_ERRORS = [
  UntrustedModelError,
  ModelChangedError,
  ModelNotFoundError,
  UnsafeModelPathError,
  InvalidTrustManifestError,
  UnsupportedModelFileError,
  ModelExistsError,
  CatalogSignatureError,
  CatalogDowngradeError,
  InvalidCatalogError,
  CatalogKeyError,
  PickleFormatError,
  InvalidSafetensorsError,
  UnsupportedCheckpointError,
  LoraFormatError,
  LoraMismatchError,
  LoraNotInstalledError,
  VaeMismatchError,
] as const;

export function isModelUserError(err: unknown): err is Error {
  return USER_ERRORS.some((type) => err instanceof type);
}

/** The message as one line (engine messages may wrap), or null when `err` is not a user error. */
export function describeModelUserError(err: unknown): string | null {
  if (isModelUserError(err)) return err.message.replace(/\s*\n\s*/g, ' ');
  const e = err as NodeJS.ErrnoException | null;
  if (e?.code === 'ENOENT' && typeof e.path === 'string') return `${e.path}: file not found`;
  if ((e?.code === 'EACCES' || e?.code === 'EPERM') && typeof e.path === 'string') return `${e.path}: permission denied`;
  if (e?.code === 'EEXIST' && typeof e.path === 'string') return `${e.path}: already exists; refusing to overwrite it`;
  if (e?.code === 'EXDEV') return 'cannot hard-link across filesystems; import without --link';
  return null;
}
