/** An 8-bit RGB image: what the pipeline decodes to and the image codecs read and write. */
export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved 8-bit RGB, row-major: [height, width, 3]. */
  rgb: Uint8Array;
}
