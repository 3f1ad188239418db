/**
 * `fooocus audit`: a full integrity and hygiene check of the model store, for a cron job or before exposing the
 * server. Every model is re-hashed in full (the hash cache is ignored: it lives beside the files it vouches for),
 * directory permissions are checked, the catalog signature and rollback state are verified, and files the
 * manifest does not know are listed. Each check is one row; any finding makes the audit fail.
 */
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { CATALOG_STATE_FILE } from './models/catalog-state.ts';
import { loadCatalog } from './models/catalog.ts';
import type { CatalogKey } from './models/catalog-signature.ts';
import { HASH_CACHE_FILE, type FileHasher } from './models/hash-cache.ts';
import { MODEL_KINDS } from './models/model-kinds.ts';
import { checkContainedFile, toAbsoluteModelPath } from './models/model-path.ts';
import { openModelStore, verifyModelFile, type ModelStore } from './models/model-store.ts';
import { readTrustManifest, TRUST_MANIFEST_FILE, type TrustManifest } from './models/trust-manifest.ts';
import { describeModelUserError } from './models/user-errors.ts';

export type AuditStatus = 'ok' | 'finding' | 'skipped';

export interface AuditRow {
  check: 'manifest' | 'model' | 'permissions' | 'catalog' | 'untracked' | 'config-lock';
  subject: string;
  status: AuditStatus;
  detail: string;
}

export interface AuditReport {
  rows: AuditRow[];
  findings: number;
}

/** What the config module reports about its lock (wired in by the composition root when config exists). */
export interface ConfigLockStatus {
  ok: boolean;
  subject: string;
  detail: string;
}

export interface AuditOptions {
  modelsDir: string;
  outputsDir?: string;
  /** A catalog to verify (with its .sig beside it); skipped when absent. */
  catalogFile?: string;
  /** Catalog keys the user added, accepted besides the pinned ones. */
  catalogKeys?: readonly CatalogKey[];
  checkConfigLock?: () => Promise<ConfigLockStatus>;
  hashFile?: FileHasher;
  signal?: AbortSignal;
  onHashProgress?(file: string, bytesDone: number, total: number): void;
}

/** Files the store itself keeps at the top of the models directory. */
const STORE_FILES = new Set([TRUST_MANIFEST_FILE, HASH_CACHE_FILE, CATALOG_STATE_FILE]);

export async function runAudit(options: AuditOptions): Promise<AuditReport> {
  const store = await openModelStore(options.modelsDir, { hashFile: options.hashFile });
  const rows: AuditRow[] = [];
  const manifest = await auditManifest(store, rows);
  if (manifest !== null) await auditModels(store, manifest, options, rows);
  await auditPermissions(store.dir, options.outputsDir, rows);
  await auditCatalog(store.dir, options, rows);
  if (manifest !== null) await auditUntracked(store.dir, manifest, rows);
  if (options.checkConfigLock !== undefined) {
    const lock = await options.checkConfigLock();
    rows.push({ check: 'config-lock', subject: lock.subject, status: lock.ok ? 'ok' : 'finding', detail: lock.detail });
  }
  return { rows, findings: rows.filter((r) => r.status === 'finding').length };
}

async function auditManifest(store: ModelStore, rows: AuditRow[]): Promise<TrustManifest | null> {
  const subject = path.join(store.dir, TRUST_MANIFEST_FILE);
  try {
    const manifest = await readTrustManifest(store.dir);
    rows.push({ check: 'manifest', subject, status: 'ok', detail: `${Object.keys(manifest.models).length} trusted files` });
    return manifest;
  } catch (err) {
    rows.push({ check: 'manifest', subject, status: 'finding', detail: describeOrThrow(err) });
    return null;
  }
}

async function auditModels(store: ModelStore, manifest: TrustManifest, options: AuditOptions, rows: AuditRow[]): Promise<void> {
  for (const [key, entry] of Object.entries(manifest.models)) {
    const file = toAbsoluteModelPath(store.dir, key);
    try {
      if ((await checkContainedFile(store.dir, file)) === null) {
        rows.push({ check: 'model', subject: key, status: 'finding', detail: 'listed in trust.json but missing' });
        continue;
      }
      const onHashProgress = options.onHashProgress === undefined ? undefined : (d: number, t: number) => options.onHashProgress?.(key, d, t);
      await verifyModelFile(store, key, entry, { useCache: false, signal: options.signal, onHashProgress });
      rows.push({ check: 'model', subject: key, status: 'ok', detail: `size and SHA-256 match (${entry.sha256.slice(0, 12)}…)` });
    } catch (err) {
      rows.push({ check: 'model', subject: key, status: 'finding', detail: describeOrThrow(err) });
    }
  }
}

/** Group- or world-writable directories let another account swap a model or rewrite trust.json. */
async function auditPermissions(modelsDir: string, outputsDir: string | undefined, rows: AuditRow[]): Promise<void> {
  const targets = [modelsDir, path.join(modelsDir, TRUST_MANIFEST_FILE), ...MODEL_KINDS.map((k) => path.join(modelsDir, k))];
  if (outputsDir !== undefined) targets.push(path.resolve(outputsDir));
  for (const target of targets) {
    const s = await stat(target).catch(() => null);
    if (s === null) {
      if (target === modelsDir || target === outputsDir) rows.push({ check: 'permissions', subject: target, status: 'skipped', detail: 'does not exist' });
      continue;
    }
    if (process.platform === 'win32') {
      rows.push({ check: 'permissions', subject: target, status: 'skipped', detail: 'POSIX modes do not apply on Windows; check the ACLs' });
      continue;
    }
    const mode = (s.mode & 0o777).toString(8).padStart(3, '0');
    const writable = (s.mode & 0o022) !== 0;
    rows.push({
      check: 'permissions',
      subject: target,
      status: writable ? 'finding' : 'ok',
      detail: writable ? `mode ${mode}: writable by group or others; run chmod go-w ${JSON.stringify(target)}` : `mode ${mode}`,
    });
  }
}

async function auditCatalog(modelsDir: string, options: AuditOptions, rows: AuditRow[]): Promise<void> {
  const file = options.catalogFile;
  if (file === undefined || (await stat(file).catch(() => null)) === null) {
    rows.push({ check: 'catalog', subject: file ?? '(none)', status: 'skipped', detail: 'no catalog present' });
    return;
  }
  try {
    const stateFile = path.join(modelsDir, CATALOG_STATE_FILE);
    const catalog = await loadCatalog(file, { stateFile, extraKeys: options.catalogKeys, recordVersion: false });
    rows.push({ check: 'catalog', subject: file, status: 'ok', detail: `signature valid (${catalog.keyId}), version ${catalog.version}, ${catalog.entries.length} entries` });
  } catch (err) {
    rows.push({ check: 'catalog', subject: file, status: 'finding', detail: describeOrThrow(err) });
  }
}

/** Every file or link under the models directory that trust.json does not list (store files and kinds' dirs aside). */
async function auditUntracked(modelsDir: string, manifest: TrustManifest, rows: AuditRow[]): Promise<void> {
  const exists = await stat(modelsDir).catch(() => null);
  if (exists === null) return;
  const entries = (await readdir(modelsDir, { recursive: true, withFileTypes: true }))
    .filter((e) => !e.isDirectory())
    .map((e) => ({ entry: e, relative: path.relative(modelsDir, path.join(e.parentPath, e.name)).split(path.sep).join('/') }))
    .sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
  let found = 0;
  for (const { entry, relative } of entries) {
    if (STORE_FILES.has(relative) || manifest.models[relative] !== undefined) continue;
    const what = entry.isSymbolicLink() ? 'symlink' : entry.isFile() ? 'file' : 'special file';
    const size = entry.isFile() ? ` (${(await lstat(path.join(modelsDir, relative))).size} bytes)` : '';
    rows.push({ check: 'untracked', subject: relative, status: 'finding', detail: `${what}${size} not in trust.json; import it or remove it` });
    found++;
  }
  if (found === 0) rows.push({ check: 'untracked', subject: modelsDir, status: 'ok', detail: 'every file is in trust.json' });
}

function describeOrThrow(err: unknown): string {
  const message = describeModelUserError(err);
  if (message === null) throw err;
  return message;
}
