/**
 * Errors the user can fix (bad input, a refused file) become exit code 2 and one line naming the problem;
 * anything else is a bug or an environment failure (exit 1).
 */
import {
  CheckpointKeyError,
  ExecutionProviderUnavailableError,
  InvalidGenerationRequestError,
  InvalidImageError,
  InvalidMetadataError,
  InvalidSafetensorsError,
  PickleFormatError,
  UnsupportedCheckpointError,
} from '../engine/index.ts';
import { CredentialError } from '../app/auth/credential-store.ts';
import { ConfigError, ConfigLockMismatchError, InsecurePermissionsError } from '../app/config/config-errors.ts';
import {
  MissingPerformanceLoraError,
  PresetModelsMissingError,
  PromptSyntaxError,
  UnknownPerformanceModeError,
  UnknownStyleError,
  WildcardDepthError,
  WildcardFileError,
} from '../app/creative/creative-errors.ts';
import { describeModelUserError } from '../app/models/user-errors.ts';
import { UsageError } from './command.ts';

const USER_ERRORS = [
  UsageError,
  InvalidSafetensorsError,
  PickleFormatError,
  UnsupportedCheckpointError,
  CheckpointKeyError,
  InvalidImageError,
  InvalidMetadataError,
  InvalidGenerationRequestError,
  ExecutionProviderUnavailableError,
  ConfigError,
  ConfigLockMismatchError,
  InsecurePermissionsError,
  CredentialError,
  PromptSyntaxError,
  WildcardDepthError,
  WildcardFileError,
  UnknownStyleError,
  UnknownPerformanceModeError,
  MissingPerformanceLoraError,
  PresetModelsMissingError,
];

export const EXIT_USER_ERROR = 2;
export const EXIT_FAILURE = 1;

export function describeFailure(err: unknown): { code: number; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (USER_ERRORS.some((cls) => err instanceof cls)) return { code: EXIT_USER_ERROR, message };
  const modelProblem = describeModelUserError(err);
  if (modelProblem !== null) return { code: EXIT_USER_ERROR, message: modelProblem };
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return { code: EXIT_USER_ERROR, message };
  return { code: EXIT_FAILURE, message };
}
