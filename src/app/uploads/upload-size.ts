/**
 * Which image sizes a job can use as its input: a job crops its input to the 8-pixel grid and generates at that
 * size, so an upload must fit what a request may ask for (the engine's side limits, the server's pixel quota).
 * Checked on the header before decoding and again on the decoded pixels.
 */
import { IMAGE_SIZE_LIMITS } from '../../engine/pipeline/generation-request.ts';
import { UploadRefusedError } from './upload-errors.ts';

/** Throws UploadRefusedError naming the first rule `width` x `height` breaks. */
export function checkUploadSize(width: number, height: number, maxPixels: number): void {
  const size = `${width}x${height}`;
  if (width * height > maxPixels) {
    throw new UploadRefusedError('maxPixels', `the image is ${size}, more than the ${maxPixels} pixels a job may have`, maxPixels, true);
  }
  const { min, max } = IMAGE_SIZE_LIMITS;
  if (width > max || height > max) throw new UploadRefusedError('maxSide', `the image is ${size}; a side of a job's image is at most ${max}`, max, true);
  if (width < min || height < min) throw new UploadRefusedError('minSide', `the image is ${size}; a side of a job's image is at least ${min}`, min);
}
