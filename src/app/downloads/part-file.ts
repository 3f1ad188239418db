/**
 * The `<destination>.part` file a download streams into, hashed as it grows. It is opened without following
 * symlinks, only as a regular file and only with a single link, so a planted symlink or hard link cannot redirect
 * the write outside the destination's directory. Reopening an existing part hashes its bytes first, which is what makes resuming verifiable.
 */
import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, rm, type FileHandle } from 'node:fs/promises';
import { InvalidDownloadRequestError } from './download-errors.ts';

const READ_CHUNK_BYTES = 1 << 20;

export class PartFile {
  readonly path: string;
  #handle: FileHandle;
  #hash: Hash;
  #size: number;

  private constructor(path: string, handle: FileHandle, hash: Hash, size: number) {
    this.path = path;
    this.#handle = handle;
    this.#hash = hash;
    this.#size = size;
  }

  /**
   * Opens (or creates) the part file and hashes the bytes already in it. A part larger than `maxSize` cannot be a
   * prefix of the expected file, so it is emptied.
   */
  static async open(path: string, maxSize: number, signal?: AbortSignal): Promise<PartFile> {
    const existing = await lstat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (existing !== undefined && !existing.isFile()) {
      throw new InvalidDownloadRequestError('destination', `${path} exists and is not a regular file`);
    }
    const flags = constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW;
    const handle = await open(path, flags, 0o644);
    try {
      const { size, nlink } = await handle.stat();
      if (nlink > 1) {
        // A hard link would let appends and truncation reach a file that lives somewhere else.
        throw new InvalidDownloadRequestError('destination', `${path} has other hard links; remove it first`);
      }
      const part = new PartFile(path, handle, createHash('sha256'), 0);
      if (size > maxSize) await part.restart();
      else await part.#hashExisting(size, signal);
      return part;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Bytes in the part file, all of them already hashed. */
  get size(): number {
    return this.#size;
  }

  async append(chunk: Buffer): Promise<void> {
    let written = 0;
    while (written < chunk.length) {
      const { bytesWritten } = await this.#handle.write(chunk, written, chunk.length - written);
      written += bytesWritten;
    }
    this.#hash.update(chunk);
    this.#size += chunk.length;
  }

  /** Empties the part, for a server that ignored the Range request or answered one inconsistently. */
  async restart(): Promise<void> {
    await this.#handle.truncate(0);
    this.#hash = createHash('sha256');
    this.#size = 0;
  }

  /** Lowercase hex SHA-256 of every byte in the part; call once, when the transfer is complete. */
  digest(): string {
    return this.#hash.digest('hex');
  }

  async sync(): Promise<void> {
    await this.#handle.sync();
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }

  /** Closes and deletes the part: its bytes are known to be wrong. */
  async remove(): Promise<void> {
    await this.#handle.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }

  async #hashExisting(size: number, signal?: AbortSignal): Promise<void> {
    const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, Math.max(size, 1)));
    let position = 0;
    while (position < size) {
      signal?.throwIfAborted();
      const { bytesRead } = await this.#handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
      if (bytesRead === 0) break;
      this.#hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
    this.#size = position;
  }
}
