/**
 * The folders the application writes to, created on first use by every entry point (studio, `generate`,
 * `models pull|import`), so a fresh checkout works before anything else has run. The modes are what the
 * permission checks expect (file-permissions.ts): never writable by group or others; outputs and the cache hold
 * the user's images, prompts and job database, so they are not readable by others either.
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AppConfig } from './config-schema.ts';

export type AppDirectory = keyof Pick<AppConfig['paths'], 'models' | 'outputs' | 'cache'>;

export const APP_DIRECTORY_MODES: Readonly<Record<AppDirectory, number>> = { models: 0o755, outputs: 0o750, cache: 0o750 };

const LABEL: Record<AppDirectory, string> = { models: 'models folder', outputs: 'outputs folder', cache: 'cache folder' };

/**
 * Creates each of `which` that does not exist yet (parents included) and returns one line per folder it created,
 * for the caller to print or log. An existing folder is left exactly as it is.
 */
export async function ensureAppDirectories(paths: Readonly<Partial<Record<AppDirectory, string>>>, which: readonly AppDirectory[]): Promise<string[]> {
  const created: string[] = [];
  for (const kind of which) {
    const configured = paths[kind];
    if (configured === undefined) continue;
    const dir = path.resolve(configured);
    if (await isPresent(dir)) continue;
    await mkdir(dir, { recursive: true, mode: APP_DIRECTORY_MODES[kind] });
    created.push(`created the ${LABEL[kind]} ${dir}`);
  }
  return created;
}

/** Whether `dir` exists (anything there counts; what it is, and its permissions, are checked elsewhere). */
export async function isPresent(dir: string): Promise<boolean> {
  try {
    await stat(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
