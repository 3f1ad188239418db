/**
 * Input images for image-to-image jobs, kept under `outputs/uploads/<owner hash>/<id>.png`.
 *
 * What is stored is never the client's bytes: each upload is decoded fully in a restricted process and its pixels
 * re-encoded as a PNG without metadata, so every stored upload decodes, has a size a job can use, and carries
 * nothing but pixels. Each owner may keep a bounded number (and bytes) of uploads. An upload no job has used for
 * `expireAfterMs` is deleted, unless a queued or running job names it. Files are written under a temporary name and
 * renamed when complete, so a crash leaves no half-written upload; temporary leftovers are swept too.
 */
import { createHash } from 'node:crypto';
import { lstatSync, unlinkSync } from 'node:fs';
import { lstat, lutimes, mkdir, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { decodePng } from '../../engine/output/png.ts';
import { InvalidImageError } from '../../engine/output/image-errors.ts';
import { greyFromRgb, type GreyImage } from '../../engine/output/mask-image.ts';
import { IMAGE_SIZE_LIMITS } from '../../engine/pipeline/generation-request.ts';
import type { RgbImage } from '../../engine/rgb-image.ts';
import { writeFileAtomic } from '../models/atomic-file.ts';
import { ContainedFileError, readContainedFile } from '../outputs/contained-file.ts';
import { createUploadId, isUploadId } from '../outputs/image-ids.ts';
import type { DecodedUpload } from './upload-decoder.ts';
import type { UploadPurpose } from './upload-decoder-protocol.ts';
import { UploadInUseError, UploadQuotaError, UploadUnavailableError } from './upload-errors.ts';
import { checkUploadSize } from './upload-size.ts';

export interface UploadStoreOptions {
  /** The outputs directory's real path. */
  outputsDir: string;
  maxPerOwner: number;
  maxBytesPerOwner: number;
  expireAfterMs: number;
  /** The pixel quota of a job: no stored upload has more. */
  maxPixels: number;
  decoder: { decode(bytes: Uint8Array, maxPixels: number, purpose?: UploadPurpose): Promise<DecodedUpload> };
  /**
   * The upload files (relative to outputs) that queued or running jobs name. Called synchronously right before
   * files are deleted, so no job can start using one between the check and the deletion.
   */
  filesInUse: () => ReadonlySet<string>;
  now?: () => number;
}

export interface StoredUpload {
  id: string;
  /** Relative to the outputs directory, `/`-separated. */
  file: string;
  width: number;
  height: number;
  bytes: number;
}

const UPLOADS_DIR = 'uploads';
const OWNER_DIR = /^[0-9a-f]{24}$/;
const UPLOAD_FILE = /^(up-[A-Za-z0-9_-]{16})\.png$/;
/** Files a crashed or interrupted save left behind; older than this they are swept. */
const TEMP_FILE = /^\.up-[A-Za-z0-9_-]{16}\.png\.[A-Za-z0-9_-]+\.tmp$/;
const TEMP_MAX_AGE_MS = 10 * 60_000;
/** Earlier versions kept the client's JPEG and WebP bytes; they are never used, only expired. */
const LEGACY_FILE = /^up-[A-Za-z0-9_-]{16}\.(jpg|webp)$/;

interface OwnerFile {
  name: string;
  size: number;
  mtimeMs: number;
}

export class UploadStore {
  readonly #options: UploadStoreOptions;
  readonly #now: () => number;
  readonly #root: string;
  /** Saves and deletions of one owner run one at a time, so the quota holds under concurrent uploads. */
  readonly #ownerLocks = new Map<string, Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: UploadStoreOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#root = path.join(options.outputsDir, UPLOADS_DIR);
  }

  /** Sweeps now and then every quarter of the expiry time (at most every 10 minutes) until `close`. */
  start(log: (line: string) => void = () => undefined): void {
    const sweep = (): void => {
      this.sweep().catch((error: unknown) => log(`uploads: sweep failed: ${error instanceof Error ? error.message : String(error)}`));
    };
    sweep();
    this.#timer = setInterval(sweep, Math.max(1000, Math.min(this.#options.expireAfterMs / 4, 10 * 60_000)));
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  /**
   * Decodes, checks and stores an upload. Throws UploadQuotaError when the owner has no room, UploadRefusedError
   * when the bytes do not decode or are a size no job can use; nothing is written then. A `mask` is stored as its
   * grey channel (alpha or luminance), in all three channels of the PNG.
   */
  async save(owner: string, bytes: Uint8Array, purpose: UploadPurpose = 'image'): Promise<StoredUpload> {
    const dirName = ownerDirectory(owner);
    // Refuse early (no decoding process) when the owner is already full.
    await this.#withOwner(dirName, async () => this.#checkRoom(dirName, await this.#expireOwner(dirName), 0));
    const decoded = await this.#options.decoder.decode(bytes, this.#options.maxPixels, purpose);
    checkUploadSize(decoded.width, decoded.height, this.#options.maxPixels);
    return this.#withOwner(dirName, async () => {
      this.#checkRoom(dirName, await this.#expireOwner(dirName), decoded.png.length);
      const dir = await this.#ownerDir(dirName);
      const id = createUploadId();
      await writeFileAtomic(path.join(dir, `${id}.png`), decoded.png, { mode: 0o640, mtimeSeconds: this.#now() / 1000 });
      return { id, file: relativeFile(dirName, id), width: decoded.width, height: decoded.height, bytes: decoded.png.length };
    });
  }

  /**
   * An upload by id, as a path relative to outputs: the owner's own (any owner's when `owner` is null, for admins),
   * or null. Only a regular file with one link counts; a planted link is not an upload.
   */
  async find(owner: string | null, id: string): Promise<string | null> {
    if (!isUploadId(id)) return null;
    const dirs = owner !== null ? [ownerDirectory(owner)] : await this.#listOwnerDirs();
    for (const dirName of dirs) {
      const info = await lstat(path.join(this.#root, dirName, `${id}.png`)).catch(() => null);
      if (info !== null && info.isFile() && info.nlink === 1) return relativeFile(dirName, id);
    }
    return null;
  }

  /** Marks an upload as used now (a job was submitted with it), which restarts its expiry time; false when it is gone. */
  async markUsed(file: string): Promise<boolean> {
    const seconds = this.#now() / 1000;
    // lutimes: never the times of whatever a link planted in its place points to.
    return lutimes(path.join(this.#options.outputsDir, checkedFile(file)), seconds, seconds).then(
      () => true,
      (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      },
    );
  }

  /** Deletes the owner's upload (any owner's when `owner` is null): false when there is none. */
  async remove(owner: string | null, id: string): Promise<boolean> {
    const file = await this.find(owner, id);
    if (file === null) return false;
    const dirName = file.split('/')[1]!;
    return this.#withOwner(dirName, async () => {
      if (this.#options.filesInUse().has(file)) throw new UploadInUseError();
      try {
        unlinkSync(path.join(this.#options.outputsDir, file));
        return true;
      } catch (error) {
        // Expired (or deleted by a concurrent request) since it was found.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
    });
  }

  /**
   * The pixels of an upload for a job, read through the contained-file reader: the exact path under outputs (no
   * link anywhere on the way), a regular file with one link, no larger than a PNG of the pixel quota can be.
   */
  async readPixels(file: string): Promise<RgbImage> {
    const relative = checkedFile(file);
    const maxBytes = pngBytesBound(this.#options.maxPixels);
    try {
      const bytes = await readContainedFile(this.#options.outputsDir, relative, maxBytes, { exact: true });
      const image = decodePng(bytes, { maxPixels: this.#options.maxPixels });
      await this.markUsed(relative).catch(() => undefined);
      return image;
    } catch (error) {
      if (error instanceof ContainedFileError) throw new UploadUnavailableError(error.reason === 'missing' ? 'it was deleted or has expired' : 'it is not a plain file inside the uploads folder');
      if (error instanceof InvalidImageError) throw new UploadUnavailableError('it no longer decodes');
      throw error;
    }
  }

  /** The grey channel of an upload used as a mask (luminance; a mask upload holds its grey in all three channels). */
  async readMask(file: string): Promise<GreyImage> {
    const image = await this.readPixels(file);
    return greyFromRgb(image.rgb, image.width, image.height);
  }

  /** Deletes expired uploads (unless a queued or running job names them) and stale temporary files; returns how many. */
  async sweep(): Promise<number> {
    let removed = 0;
    for (const dirName of await this.#listOwnerDirs()) removed += await this.#withOwner(dirName, async () => (await this.#expireOwner(dirName)).removed);
    return removed;
  }

  async #expireOwner(dirName: string): Promise<{ kept: OwnerFile[]; removed: number }> {
    const files = await this.#listOwnerFiles(dirName);
    const now = this.#now();
    const expired = files.filter((f) => (TEMP_FILE.test(f.name) ? now - f.mtimeMs > TEMP_MAX_AGE_MS : now - f.mtimeMs > this.#options.expireAfterMs));
    let removed = 0;
    if (expired.length > 0) {
      // Synchronous from the in-use snapshot to the last unlink: no job can be queued or started in between.
      const inUse = this.#options.filesInUse();
      for (const f of expired) {
        const full = path.join(this.#root, dirName, f.name);
        const match = UPLOAD_FILE.exec(f.name);
        if (match !== null && inUse.has(relativeFile(dirName, match[1]!))) continue;
        const info = lstatOrNull(full);
        const age = info === null ? 0 : now - info.mtimeMs;
        if (info === null || age <= (TEMP_FILE.test(f.name) ? TEMP_MAX_AGE_MS : this.#options.expireAfterMs)) continue;
        unlinkSync(full);
        removed++;
      }
    }
    const kept = (await this.#listOwnerFiles(dirName)).filter((f) => UPLOAD_FILE.test(f.name));
    return { kept, removed };
  }

  /** Refuses when one more upload of `addBytes` (0: of any size) would not fit the owner's quota. */
  #checkRoom(dirName: string, owner: { kept: OwnerFile[] }, addBytes: number): void {
    const { maxPerOwner, maxBytesPerOwner, expireAfterMs } = this.#options;
    const inUse = this.#options.filesInUse();
    const expiring = owner.kept.filter((f) => !inUse.has(relativeFile(dirName, f.name.slice(0, -'.png'.length))));
    const oldest = Math.min(...expiring.map((f) => f.mtimeMs));
    const retryAfter = expiring.length === 0 ? null : Math.max(1, Math.ceil((oldest + expireAfterMs - this.#now()) / 1000));
    if (owner.kept.length + 1 > maxPerOwner) throw new UploadQuotaError('uploads.maxPerOwner', maxPerOwner, retryAfter);
    const used = owner.kept.reduce((sum, f) => sum + f.size, 0);
    if (used + Math.max(addBytes, 1) > maxBytesPerOwner) throw new UploadQuotaError('uploads.maxBytesPerOwner', maxBytesPerOwner, retryAfter);
  }

  /** The owner's directory, created when missing, refused when it (or `uploads`) is a link. */
  async #ownerDir(dirName: string): Promise<string> {
    const dir = path.join(this.#root, dirName);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    if ((await realpath(dir)) !== dir) throw new Error(`${UPLOADS_DIR}/${dirName} is a link; refusing to write through it`);
    return dir;
  }

  async #listOwnerDirs(): Promise<string[]> {
    const entries = await readdir(this.#root, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && OWNER_DIR.test(e.name)).map((e) => e.name);
  }

  /** The owner's uploads, temporary and legacy files, by lstat (links are neither counted nor followed). */
  async #listOwnerFiles(dirName: string): Promise<OwnerFile[]> {
    const dir = path.join(this.#root, dirName);
    const names = await readdir(dir).catch(() => [] as string[]);
    const files: OwnerFile[] = [];
    for (const name of names) {
      if (!UPLOAD_FILE.test(name) && !TEMP_FILE.test(name) && !LEGACY_FILE.test(name)) continue;
      const info = await lstat(path.join(dir, name)).catch(() => null);
      if (info?.isFile() === true) files.push({ name, size: info.size, mtimeMs: info.mtimeMs });
    }
    return files;
  }

  async #withOwner<T>(dirName: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#ownerLocks.get(dirName) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.#ownerLocks.set(dirName, settled);
    void settled.then(() => {
      if (this.#ownerLocks.get(dirName) === settled) this.#ownerLocks.delete(dirName);
    });
    return next;
  }
}

/** A directory name per owner that reveals nothing about the name and cannot climb out. */
export function ownerDirectory(owner: string): string {
  return createHash('sha256').update(owner).digest('hex').slice(0, 24);
}

function relativeFile(dirName: string, id: string): string {
  return `${UPLOADS_DIR}/${dirName}/${id}.png`;
}

/** A job's input path as the store makes it, or an UploadUnavailableError: nothing else is ever opened. */
function checkedFile(file: string): string {
  const [top, dirName, name, ...rest] = file.split('/');
  if (top !== UPLOADS_DIR || dirName === undefined || !OWNER_DIR.test(dirName) || name === undefined || !UPLOAD_FILE.test(name) || rest.length > 0) {
    throw new UploadUnavailableError('it is not an upload this server made');
  }
  return file;
}

function lstatOrNull(file: string): { mtimeMs: number } | null {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

/**
 * More bytes than an RGB PNG of `pixels` pixels can take as this project encodes it: the filtered rows (a filter
 * byte per row, at most IMAGE_SIZE_LIMITS.max rows) through deflate's worst case (a fraction of a percent), plus the
 * chunks. A larger file was not written by `save`.
 */
function pngBytesBound(pixels: number): number {
  return Math.ceil((pixels * 3 + IMAGE_SIZE_LIMITS.max) * 1.01) + 64 * 1024;
}

