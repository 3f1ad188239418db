/**
 * What an image file can get wrong. Each rejection names one, so a user (or a test) can tell which promise of the
 * format the bytes broke, and whether another file (or another export setting) would do.
 */
import { FooocusError } from '../errors/fooocus-error.ts';

export type ImageProblem =
  /** Not a PNG signature, or not a format this project reads at all. */
  | 'signature'
  /** The bytes end inside a chunk, before IEND, or before the pixel data is complete. */
  | 'truncated'
  /** A chunk's length field is over 2^31-1 or runs past the end of the file. */
  | 'chunk-length'
  | 'chunk-type'
  | 'crc'
  /** IHDR missing, not first, repeated, or holding values the PNG spec forbids. */
  | 'ihdr'
  /** Chunks in an order the PNG spec forbids (PLTE after IDAT, IDAT split by another chunk, ...). */
  | 'chunk-order'
  | 'palette'
  /** A valid PNG feature this decoder does not implement (16-bit samples, interlacing, ...). */
  | 'unsupported'
  /** Width x height over the decoder's pixel limit: refusing is cheaper than allocating. */
  | 'too-large'
  /** The zlib stream is corrupt, or inflates to more or fewer bytes than width x height promise. */
  | 'pixel-data'
  | 'text-chunk'
  /** A text chunk inflating to more bytes than the whole file: a decompression bomb, not metadata. */
  | 'text-too-large'
  | 'exif';

/** Bytes that are not an image this project can read. The message names the problem and where it was found. */
export class InvalidImageError extends FooocusError {
  constructor(readonly problem: ImageProblem, detail: string) {
    super('invalid', `${detail} (problem: ${problem})`, { rule: problem });
  }
}
