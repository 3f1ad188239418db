/**
 * The signed model catalog: entries (id, kind, family, fileName, size, sha256, https URLs, licence, where the
 * hash was published, and for PyTorch files the .safetensors name they are converted to) that `pullModel` downloads and verifies. The catalog's bytes are verified against a detached
 * Ed25519 signature (catalog.json.sig) BEFORE they are parsed, the signing key must be one the app pins (or the
 * user added) and the one the catalog names in `keyId`, and an older version than one already seen is refused.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CatalogSignatureError, InvalidCatalogError } from './catalog-errors.ts';
import { TRUSTED_CATALOG_KEYS } from './catalog-keys.ts';
import { computeCatalogKeyId, findVerifyingKeys, importCatalogPublicKey, type CatalogKey } from './catalog-signature.ts';
import { checkCatalogVersion, readCatalogState, writeCatalogState } from './catalog-state.ts';
import { CONVERTIBLE_KINDS, isConvertibleKind } from './convert-model.ts';
import { MODEL_KINDS } from './model-kinds.ts';
import { KNOWN_TOKENIZER_ASSETS } from './tokenizer-assets.ts';

const HttpsUrl = Type.String({ pattern: '^https://[^\\s]+$', maxLength: 2048 });

export const CatalogEntrySchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,99}$' }),
    kind: Type.Union(MODEL_KINDS.map((k) => Type.Literal(k))),
    family: Type.String({ minLength: 1, maxLength: 64 }),
    /** A plain file name: it becomes `<models>/<kind>/<fileName>`. */
    fileName: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$' }),
    size: Type.Integer({ minimum: 1 }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    urls: Type.Array(HttpsUrl, { minItems: 1, maxItems: 8 }),
    licence: Type.String({ minLength: 1, maxLength: 200 }),
    /** Where the SHA-256 was published (a model page, an LFS pointer, a README), so anyone can check it. */
    hashSource: Type.String({ minLength: 1, maxLength: 2000 }),
    /**
     * For a file published only as a PyTorch pickle (upscalers, inpaint): the .safetensors name `models pull`
     * converts it to, after the download matched `size` and `sha256` (which describe the published file). Only the
     * converted file enters the store.
     */
    convertTo: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\\.safetensors$' })),
  },
  { additionalProperties: false },
);

export const CatalogSchema = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    keyId: Type.String({ minLength: 1, maxLength: 100 }),
    entries: Type.Array(CatalogEntrySchema, { maxItems: 10_000 }),
  },
  { additionalProperties: false },
);

export type CatalogEntry = Static<typeof CatalogEntrySchema>;
export type Catalog = Static<typeof CatalogSchema>;

export interface VerifiedCatalog {
  catalog: Catalog;
  keyId: string;
  /** SHA-256 of the exact signed bytes. */
  sha256: string;
}

export interface VerifyCatalogInput {
  bytes: Uint8Array;
  signature: string;
  /** For messages only. */
  file: string;
  /** Defaults to TRUSTED_CATALOG_KEYS. */
  keys?: readonly CatalogKey[];
}

/** Checks each key's id is the id of its key material, so a list entry cannot claim another key's name. */
function checkKeyIds(keys: readonly CatalogKey[]): void {
  for (const k of keys) {
    const actual = computeCatalogKeyId(importCatalogPublicKey(k.publicKey, `catalog key ${k.keyId}`));
    if (actual !== k.keyId) throw new CatalogSignatureError(`catalog key ${k.keyId}`, `key id does not match its public key (${actual})`);
  }
}

/** Verifies the signature over the raw bytes, then (and only then) parses and validates the catalog. */
export function verifyCatalog(input: VerifyCatalogInput): VerifiedCatalog {
  const keys = input.keys ?? TRUSTED_CATALOG_KEYS;
  checkKeyIds(keys);
  const signers = findVerifyingKeys(input.bytes, input.signature, keys);
  if (signers.length === 0) {
    throw new CatalogSignatureError(input.file, `signature does not verify with any trusted key (${keys.map((k) => k.keyId).join(', ') || 'none'})`);
  }
  const catalog = parseCatalog(input.bytes, input.file);
  const signer = signers.find((k) => k.keyId === catalog.keyId);
  if (signer === undefined) {
    throw new CatalogSignatureError(input.file, `catalog names key ${catalog.keyId}, but it is signed by ${signers.map((k) => k.keyId).join(', ')}`);
  }
  return { catalog, keyId: signer.keyId, sha256: createHash('sha256').update(input.bytes).digest('hex') };
}

/** Parses and validates catalog bytes. Only for bytes whose signature was verified, or for a maintainer about to sign. */
export function parseCatalog(bytes: Uint8Array, file: string): Catalog {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new InvalidCatalogError(file, `not UTF-8 JSON: ${(err as Error).message}`);
  }
  if (!Value.Check(CatalogSchema, parsed)) {
    const first = Value.Errors(CatalogSchema, parsed).First();
    throw new InvalidCatalogError(file, `${first?.message ?? 'schema mismatch'} at ${first?.path || '/'}`);
  }
  checkEntries(parsed, file);
  return parsed;
}

function checkEntries(catalog: Catalog, file: string): void {
  const ids = new Set<string>();
  const targets = new Set<string>();
  for (const e of catalog.entries) {
    if (ids.has(e.id)) throw new InvalidCatalogError(file, `duplicate id ${e.id}`);
    ids.add(e.id);
    const target = `${e.kind}/${e.convertTo ?? e.fileName}`;
    if (targets.has(target)) throw new InvalidCatalogError(file, `two entries write ${target}`);
    targets.add(target);
    for (const url of e.urls) {
      const parsed = URL.canParse(url) ? new URL(url) : null;
      if (parsed?.protocol !== 'https:' || parsed.username !== '' || parsed.password !== '') {
        throw new InvalidCatalogError(file, `entry ${e.id}: ${url} is not a plain https URL`);
      }
    }
    if (e.convertTo !== undefined) {
      if (!isConvertibleKind(e.kind) || e.fileName.endsWith('.safetensors')) {
        throw new InvalidCatalogError(file, `entry ${e.id}: only a PyTorch file of kind ${Object.keys(CONVERTIBLE_KINDS).join(' or ')} is converted`);
      }
      continue;
    }
    const pinned = e.kind === 'tokenizers' ? KNOWN_TOKENIZER_ASSETS[e.fileName] : undefined;
    if (e.kind === 'tokenizers' ? pinned?.sha256 !== e.sha256 : !e.fileName.endsWith('.safetensors')) {
      throw new InvalidCatalogError(file, `entry ${e.id}: ${e.fileName} is not a .safetensors file or a pinned tokenizer asset`);
    }
  }
}

/** Reads `file` and `file.sig` and verifies them (no rollback check). */
export async function readVerifiedCatalog(file: string, keys?: readonly CatalogKey[]): Promise<VerifiedCatalog> {
  const bytes = await readFile(file);
  const signature = await readFile(`${file}.sig`, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new CatalogSignatureError(file, `no signature file ${file}.sig`);
    throw err;
  });
  return verifyCatalog({ bytes, signature, file, keys });
}

export interface LoadCatalogOptions {
  /** The state file holding the highest version seen, normally `<models>/.catalog-state.json`. */
  stateFile: string;
  /** Keys the user added (a config key later); they are accepted in addition to TRUSTED_CATALOG_KEYS. */
  extraKeys?: readonly CatalogKey[];
  /** false: check against the state but do not record (audit). */
  recordVersion?: boolean;
  now?: () => Date;
}

/** Verifies signature, then content, then rollback; records a newer version as the highest seen. */
export async function loadCatalog(file: string, options: LoadCatalogOptions): Promise<Catalog> {
  const verified = await readVerifiedCatalog(file, [...TRUSTED_CATALOG_KEYS, ...(options.extraKeys ?? [])]);
  const state = await readCatalogState(options.stateFile);
  const { version } = verified.catalog;
  checkCatalogVersion(file, state, version, verified.sha256);
  if ((options.recordVersion ?? true) && (state === null || version > state.highestVersion)) {
    await writeCatalogState(options.stateFile, {
      highestVersion: version,
      sha256: verified.sha256,
      keyId: verified.keyId,
      acceptedAt: (options.now?.() ?? new Date()).toISOString(),
    });
  }
  return verified.catalog;
}
