import { MAX_SEED } from '../../engine/index.ts';

/**
 * The seed of image `imageIndex` in a batch: `(seed + index) mod 2^63`, as Fooocus (and the engine) number a
 * batch's images. Prompt-level choices for an image are drawn from this seed, so image 3 of a batch and a single
 * image made with its seed get the same wildcard lines and the same random style.
 */
export function computeImageSeed(seed: bigint, imageIndex: number): bigint {
  if (!Number.isSafeInteger(imageIndex) || imageIndex < 0) throw new RangeError(`imageIndex must be a non-negative integer, got ${imageIndex}`);
  return (seed + BigInt(imageIndex)) % (MAX_SEED + 1n);
}
