/**
 * One line for an error the user can act on: any FooocusError but an internal one, and the file-system failures a
 * user causes by naming a path (missing, unreadable, already there). Anything else is a bug or an I/O failure.
 */
import { isUserError } from '../../engine/index.ts';

/** The message as one line (engine messages may wrap), or null when `err` is not a user error. */
export function describeModelUserError(err: unknown): string | null {
  if (isUserError(err)) return err.message.replace(/\s*\n\s*/g, ' ');
  const e = err as NodeJS.ErrnoException | null;
  if (e?.code === 'ENOENT' && typeof e.path === 'string') return `${e.path}: file not found`;
  if ((e?.code === 'EACCES' || e?.code === 'EPERM') && typeof e.path === 'string') return `${e.path}: permission denied`;
  if (e?.code === 'EEXIST' && typeof e.path === 'string') return `${e.path}: already exists; refusing to overwrite it`;
  if (e?.code === 'EXDEV') return 'cannot hard-link across filesystems; import without --link';
  return null;
}
