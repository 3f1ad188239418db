/**
 * The ids the API serves images by, built and parsed only here. An output image's id is its job's id, a dash and
 * 8 random characters, so the owner check of an image is its job's; an uploaded image's id is `up-` and 16 random
 * characters (base64url, so neither kind can form a path).
 */
import { randomBytes } from 'node:crypto';

const OUTPUT_IMAGE_ID = /^[A-Za-z0-9_-]+-[A-Za-z0-9_-]{8}$/;
/** Only ids of this shape ever become part of an upload's path. */
const UPLOAD_ID = /^up-[A-Za-z0-9_-]{16}$/;

export function createOutputImageId(jobId: string): string {
  return `${jobId}-${randomBytes(6).toString('base64url')}`;
}

/** The job an output image belongs to, or null when `imageId` is not an output image's id. */
export function parseOutputImageId(imageId: string): string | null {
  return OUTPUT_IMAGE_ID.test(imageId) ? imageId.slice(0, -9) : null;
}

export function createUploadId(): string {
  return `up-${randomBytes(12).toString('base64url')}`;
}

export function isUploadId(id: string): boolean {
  return UPLOAD_ID.test(id);
}
