/**
 * Images a worker machine made, put into the studio's outputs. The worker is another machine reached through Redis,
 * so what it sends is checked like an upload before it becomes a file the studio serves: a plain relative path
 * under outputs with an image extension, bytes that start like that format, a SHA-256 that matches them, and a
 * name no file has yet (written to a temporary name, then linked into place, which fails rather than overwrite).
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, realpath, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FooocusError } from '../../engine/index.ts';
import type { JobResult } from '../jobs/job-types.ts';
import { isInside, readContainedFile } from './contained-file.ts';

/** A worker's image the studio will not record; names the rule. */
export class ReceivedImageError extends FooocusError {
  constructor(file: string, rule: string) {
    super('invalid', `image ${JSON.stringify(file)} from a worker: ${rule}`, { field: 'file', rule });
  }
}

const SIGNATURES: Record<string, (b: Buffer) => boolean> = {
  '.png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  '.jpg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  '.jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  '.webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
};

function checkName(result: JobResult): (b: Buffer) => boolean {
  const parts = result.file.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\0') || p.includes(':'))) {
    throw new ReceivedImageError(result.file, 'must be a plain relative path inside outputs');
  }
  const signature = SIGNATURES[path.extname(result.file).toLowerCase()];
  if (signature === undefined) throw new ReceivedImageError(result.file, 'must end in .png, .jpg, .jpeg or .webp');
  if (result.sha256 === undefined) throw new ReceivedImageError(result.file, 'must come with its SHA-256');
  return signature;
}

function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes a worker's image into `outputsDir` (real path) at `result.file`, after every check above. */
export async function writeReceivedImage(outputsDir: string, result: JobResult, bytes: Buffer): Promise<void> {
  const signature = checkName(result);
  if (!signature(bytes)) throw new ReceivedImageError(result.file, `its bytes are not a ${path.extname(result.file).slice(1).toUpperCase()} image`);
  if (sha256Of(bytes) !== result.sha256) throw new ReceivedImageError(result.file, 'its bytes do not match its SHA-256');
  const target = path.join(outputsDir, ...result.file.split('/'));
  const dir = path.dirname(target);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const realDir = await realpath(dir);
  if (realDir !== outputsDir && !isInside(outputsDir, realDir)) throw new ReceivedImageError(result.file, 'its folder leads outside outputs');
  const temp = path.join(dir, `.receiving-${randomBytes(6).toString('hex')}.part`);
  await writeFile(temp, bytes, { flag: 'wx', mode: 0o644 });
  try {
    await link(temp, target).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? new ReceivedImageError(result.file, 'a file of that name already exists') : err;
    });
  } finally {
    await rm(temp, { force: true });
  }
}

/** The studio's own worker wrote the file in place: it must be there, inside outputs, with the SHA-256 reported. */
export async function checkLocalImage(outputsDir: string, result: JobResult, maxBytes: number): Promise<void> {
  checkName(result);
  const bytes = await readContainedFile(outputsDir, result.file, maxBytes).catch((err: Error) => {
    throw new ReceivedImageError(result.file, `cannot be read inside outputs (${err.message})`);
  });
  if (sha256Of(bytes) !== result.sha256) throw new ReceivedImageError(result.file, 'the file does not match its SHA-256');
}
