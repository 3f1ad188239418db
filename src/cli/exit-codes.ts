/**
 * The one place errors become exit codes. What the user can fix (bad input, a refused file, a missing model,
 * a full quota) is exit code 2 and one line naming the problem; anything else is a bug or an environment failure
 * (exit 1). The command line is the operator's own: messages keep their absolute paths.
 */
import { FooocusError, type ErrorKind } from '../engine/index.ts';
import { describeModelUserError } from '../app/models/user-errors.ts';

export const EXIT_USER_ERROR = 2;
export const EXIT_FAILURE = 1;

const EXIT_CODE_BY_KIND: Record<ErrorKind, number> = {
  invalid: EXIT_USER_ERROR,
  'too-large': EXIT_USER_ERROR,
  'not-found': EXIT_USER_ERROR,
  conflict: EXIT_USER_ERROR,
  quota: EXIT_USER_ERROR,
  unavailable: EXIT_FAILURE,
  internal: EXIT_FAILURE,
};

export function describeFailure(err: unknown): { code: number; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof FooocusError) return { code: EXIT_CODE_BY_KIND[err.kind], message: describeModelUserError(err) ?? message };
  const fileProblem = describeModelUserError(err);
  if (fileProblem !== null) return { code: EXIT_USER_ERROR, message: fileProblem };
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return { code: EXIT_USER_ERROR, message };
  return { code: EXIT_FAILURE, message };
}
