/**
 * Rollback protection for catalogs: `<models>/.catalog-state.json` remembers the highest catalog version accepted
 * and the SHA-256 of its bytes. An older version is refused, and so is the same version with different bytes (two
 * validly signed catalogs claiming one version means a signing mistake or a key compromise).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { writeFileAtomic } from './atomic-file.ts';
import { CatalogDowngradeError } from './catalog-errors.ts';

export const CATALOG_STATE_FILE = '.catalog-state.json';

const CatalogStateSchema = Type.Object(
  {
    highestVersion: Type.Integer({ minimum: 0 }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    keyId: Type.String(),
    acceptedAt: Type.String(),
  },
  { additionalProperties: false },
);

export type CatalogState = Static<typeof CatalogStateSchema>;

/**
 * Reads the state; null when there is none yet. A damaged state file is refused rather than treated as "no
 * version seen", which would reopen rollbacks.
 */
export async function readCatalogState(file: string): Promise<CatalogState | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // reported below
  }
  if (!Value.Check(CatalogStateSchema, parsed)) {
    throw new CatalogDowngradeError(file, 0, 0, 'the catalog state file is damaged, so a rollback cannot be ruled out; restore it or remove it knowingly');
  }
  return parsed;
}

/** Throws CatalogDowngradeError when (version, sha256) would roll back from `state`. */
export function checkCatalogVersion(catalogFile: string, state: CatalogState | null, version: number, sha256: string): void {
  if (state === null) return;
  if (version < state.highestVersion) throw new CatalogDowngradeError(catalogFile, version, state.highestVersion);
  if (version === state.highestVersion && sha256 !== state.sha256) {
    throw new CatalogDowngradeError(catalogFile, version, state.highestVersion, `catalog version ${version} was already seen with different content`);
  }
}

export async function writeCatalogState(file: string, state: CatalogState): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(state, null, 2) + '\n');
}

export function defaultCatalogStateFile(storeDir: string): string {
  return path.join(storeDir, CATALOG_STATE_FILE);
}
