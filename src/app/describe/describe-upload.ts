/**
 * Describe for the studio: an uploaded image's bytes decoded in the restricted decoding process (as every upload
 * is), then described; nothing is stored. A type that is not installed is refused before any decoding.
 */
import { decodePng } from '../../engine/output/png.ts';
import type { DecodedUpload } from '../uploads/upload-decoder.ts';
import { checkUploadSize } from '../uploads/upload-size.ts';
import type { ImageDescribers, ImageDescriptionResult } from './describe-image.ts';
import type { DescribeType } from './describer-registry.ts';

export interface DescribeUploadDeps {
  decoder: { decode(bytes: Uint8Array, maxPixels: number): Promise<DecodedUpload> };
  maxPixels: number;
  describers: ImageDescribers;
}

export async function describeUpload(deps: DescribeUploadDeps, type: DescribeType, bytes: Uint8Array): Promise<ImageDescriptionResult> {
  await deps.describers.checkInstalled(type);
  const decoded = await deps.decoder.decode(bytes, deps.maxPixels);
  checkUploadSize(decoded.width, decoded.height, deps.maxPixels);
  return deps.describers.describe(type, decodePng(decoded.png, { maxPixels: deps.maxPixels }));
}
