/**
 * `trust.json`: the list of files the user (or a signed catalog) vouched for, with the size and SHA-256 they had
 * when they were verified. Nothing outside it is loaded. It is validated with unknown keys refused, read on every
 * use, and written only by explicit commands (import, pull), atomically.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { writeFileAtomic } from './atomic-file.ts';
import { InvalidTrustManifestError } from './model-errors.ts';
import { MODEL_KINDS } from './model-kinds.ts';
import { parseModelKey } from './model-path.ts';

export const TRUST_MANIFEST_FILE = 'trust.json';
export const TRUST_MANIFEST_VERSION = 1;

const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });
const HttpsUrl = Type.String({ pattern: '^https://[^\\s]+$', maxLength: 2048 });

/** Where a file came from: a URL the user gave, a local file, or a signed catalog entry (and the URL used). */
export const ModelSourceSchema = Type.Union([
  Type.Literal('local-import'),
  Type.Object({ url: HttpsUrl }, { additionalProperties: false }),
  Type.Object({ catalog: Type.String({ minLength: 1, maxLength: 200 }), url: Type.Optional(HttpsUrl) }, { additionalProperties: false }),
]);

export const TrustEntrySchema = Type.Object(
  {
    kind: Type.Union(MODEL_KINDS.map((k) => Type.Literal(k))),
    size: Type.Integer({ minimum: 0 }),
    sha256: Sha256Hex,
    source: ModelSourceSchema,
    verifiedAt: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' }),
    /** Checkpoints only: the family found when the file was inspected at import, so listing never parses a file. */
    family: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /**
     * Set when the file was converted from a PyTorch pickle (`models convert`, or a catalog pull of a pickle): the
     * SHA-256 and base name of the file it was converted from. `sha256` and `size` are those of the converted file.
     */
    convertedFrom: Type.Optional(Type.Object({ sha256: Sha256Hex, fileName: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

export const TrustManifestSchema = Type.Object(
  {
    version: Type.Literal(TRUST_MANIFEST_VERSION),
    /** Keyed by `<kind>/<name>`, relative to the models directory with forward slashes. */
    models: Type.Record(Type.String(), TrustEntrySchema),
  },
  { additionalProperties: false },
);

export type ModelSource = Static<typeof ModelSourceSchema>;
export type TrustEntry = Static<typeof TrustEntrySchema>;
export type TrustManifest = Static<typeof TrustManifestSchema>;

export function createEmptyManifest(): TrustManifest {
  return { version: TRUST_MANIFEST_VERSION, models: {} };
}

/** Validates parsed JSON as a manifest: schema, unknown keys, safe paths, and each entry filed under its own kind. */
export function validateTrustManifest(value: unknown, file: string): TrustManifest {
  if (!Value.Check(TrustManifestSchema, value)) {
    const first = Value.Errors(TrustManifestSchema, value).First();
    const where = first === undefined ? '' : ` at ${first.path || '/'}`;
    throw new InvalidTrustManifestError(file, `${first?.message ?? 'schema mismatch'}${where}`);
  }
  for (const [key, entry] of Object.entries(value.models)) {
    let kind;
    try {
      kind = parseModelKey(key).kind;
    } catch (err) {
      throw new InvalidTrustManifestError(file, `entry ${JSON.stringify(key)}: ${(err as Error).message}`);
    }
    if (kind !== entry.kind) throw new InvalidTrustManifestError(file, `entry ${JSON.stringify(key)} is filed under ${kind} but has kind ${entry.kind}`);
  }
  return value;
}

/** Reads `<dir>/trust.json`; a missing file is an empty manifest (nothing trusted yet). */
export async function readTrustManifest(storeDir: string): Promise<TrustManifest> {
  const file = path.join(storeDir, TRUST_MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return createEmptyManifest();
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InvalidTrustManifestError(file, `not JSON: ${(err as Error).message}`);
  }
  return validateTrustManifest(parsed, file);
}

export async function writeTrustManifest(storeDir: string, manifest: TrustManifest): Promise<void> {
  const file = path.join(storeDir, TRUST_MANIFEST_FILE);
  validateTrustManifest(manifest, file);
  const sorted = Object.fromEntries(Object.entries(manifest.models).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await writeFileAtomic(file, JSON.stringify({ version: manifest.version, models: sorted }, null, 2) + '\n');
}

/** Adds or replaces one entry: read, modify, write atomically. */
export async function recordTrustEntry(storeDir: string, key: string, entry: TrustEntry): Promise<void> {
  const manifest = await readTrustManifest(storeDir);
  manifest.models[key] = entry;
  await writeTrustManifest(storeDir, manifest);
}
