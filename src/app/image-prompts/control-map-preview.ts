/**
 * The preview of a PyraCanny or CPDS image prompt: the uploaded image decoded in the restricted decoding process
 * (as every upload is), then preprocessed here and returned as a PNG, stored nowhere.
 */
import { computeControlMap, grayToRgb, type ControlPromptType } from '../../engine/index.ts';
import { decodePng, encodePng } from '../../engine/output/png.ts';
import type { DecodedUpload } from '../uploads/upload-decoder.ts';
import { checkUploadSize } from '../uploads/upload-size.ts';

export interface ControlMapPreviewDeps {
  decoder: { decode(bytes: Uint8Array, maxPixels: number): Promise<DecodedUpload> };
  maxPixels: number;
}

/** The preprocessed map of `bytes` (PNG, JPEG or WebP) as an 8-bit PNG of the image's size. */
export async function previewControlMap(deps: ControlMapPreviewDeps, type: ControlPromptType, bytes: Uint8Array): Promise<Uint8Array> {
  const decoded = await deps.decoder.decode(bytes, deps.maxPixels);
  checkUploadSize(decoded.width, decoded.height, deps.maxPixels);
  const image = decodePng(decoded.png, { maxPixels: deps.maxPixels });
  const map = grayToRgb(computeControlMap(type, image));
  return encodePng(map.rgb, map.width, map.height);
}
