/**
 * What a failed job says to its owner. Only errors the user can act on are shown, in their public form (models by
 * store name); anything else is one generic line, and the full error goes to the server log. The studio's folders
 * are masked as a last guard: a job's error is read over the API, where absolute paths never go.
 */
import { isUserError } from '../../engine/index.ts';

export const GENERIC_FAILURE = 'Generation failed. The server log has the details.';

/** A folder to mask in messages and the name that replaces it (`/srv/fooocus/models` → `models`). */
export interface MaskedFolder {
  dir: string;
  label: string;
}

export function describeJobFailure(error: unknown, folders: readonly MaskedFolder[]): string {
  if (!isUserError(error)) return GENERIC_FAILURE;
  // Longest first, so a folder inside another is masked by its own name.
  const ordered = [...folders].filter((f) => f.dir.length > 1).sort((a, b) => b.dir.length - a.dir.length);
  return ordered.reduce((text, f) => text.replaceAll(f.dir, f.label), error.publicMessage);
}
