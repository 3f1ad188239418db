/**
 * Opens an image for the image route through the app's contained-file reader (real path inside the outputs
 * directory, regular file, one link, not swapped while opening), and only if its bytes are the image type it will
 * be served as.
 */
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ContainedFileError, openContainedFile } from '../app/outputs/contained-file.ts';
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
  const file = await openContainedFile(outputsDir, absolutePath).catch((error: unknown) => {
    if (error instanceof ContainedFileError) throw new ImageRefusedError(error.message);
    throw error;
  });
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await file.handle.read(head, 0, 16, 0);
    if (sniffImageType(head.subarray(0, bytesRead)) !== contentType) {
      throw new ImageRefusedError(`bytes are not ${contentType}`);
    }
    return { handle: file.handle, size: file.size, contentType: contentType as ImageContentType };
  } catch (error) {
    await file.handle.close();
    throw error;
  }
}
