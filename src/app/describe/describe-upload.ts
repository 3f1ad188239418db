/**
 * Describe for the studio: an uploaded image's bytes decoded in the restricted decoding process (as every upload
 * is), then described by `describe` (the studio's inference process, so the server's event loop stays free while
 * ONNX Runtime runs); nothing is stored. A type that is not installed is refused before any decoding.
 */
import { decodePng } from '../../engine/output/png.ts';
import type { DecodedUpload } from '../uploads/upload-decoder.ts';
import { checkUploadSize } from '../uploads/upload-size.ts';
import type { RgbImage } from '../../engine/index.ts';
import type { ImageDescriptionResult } from './describe-image.ts';
import type { DescribeType } from './describer-registry.ts';

export interface DescribeUploadDeps {
  decoder: { decode(bytes: Uint8Array, maxPixels: number): Promise<DecodedUpload> };
  maxPixels: number;
  /** Refuses (naming the field `type`) a type whose files are not all trusted in the store. */
  checkInstalled: (type: DescribeType) => Promise<void>;
  describe: (type: DescribeType, image: RgbImage) => Promise<ImageDescriptionResult>;
}

export async function describeUpload(deps: DescribeUploadDeps, type: DescribeType, bytes: Uint8Array): Promise<ImageDescriptionResult> {
  await deps.checkInstalled(type);
  const decoded = await deps.decoder.decode(bytes, deps.maxPixels);
  checkUploadSize(decoded.width, decoded.height, deps.maxPixels);
  return deps.describe(type, decodePng(decoded.png, { maxPixels: deps.maxPixels }));
}
