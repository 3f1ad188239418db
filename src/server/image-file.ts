/**
 * Opens an image for the image route, only if its real path (symlinks resolved) lies inside the outputs
 * directory, it is a regular file, and its bytes are the image type it will be served as.
 */
import { constants, type FileHandle } from 'node:fs/promises';
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { ImageContentType } from './studio-port.ts';
import { sniffImageType } from './image-header.ts';
import { IMAGE_MEDIA_TYPES } from './request-guards.ts';

export interface OpenedImage {
  handle: FileHandle;
  size: number;
  contentType: ImageContentType;
}

/** Why an image was not served; logged, while the client only sees 404. */
export class ImageRefusedError extends Error {
  override readonly name = 'ImageRefusedError';
}

export async function openImageInside(outputsDir: string, absolutePath: string, contentType: string): Promise<OpenedImage> {
  if (!(IMAGE_MEDIA_TYPES as readonly string[]).includes(contentType)) {
    throw new ImageRefusedError(`content type ${contentType} is not served`);
  }
  if (!path.isAbsolute(absolutePath) || absolutePath.includes('\0')) throw new ImageRefusedError('path is not absolute');
  const root = await realpath(outputsDir);
  const real = await realpath(absolutePath).catch(() => null);
  if (real === null) throw new ImageRefusedError('file does not exist');
  const relative = path.relative(root, real);
  if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    throw new ImageRefusedError('real path is outside the outputs directory');
  }
  // O_NOFOLLOW: if the last component was swapped for a symlink since realpath, the open fails.
  const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ImageRefusedError('not a regular file');
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, 16, 0);
    if (sniffImageType(head.subarray(0, bytesRead)) !== contentType) {
      throw new ImageRefusedError(`bytes are not ${contentType}`);
    }
    return { handle, size: stat.size, contentType: contentType as ImageContentType };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
