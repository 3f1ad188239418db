/** An 8-bit single-channel image: the preprocessed control maps (PyraCanny edges, CPDS structure). */
export interface GrayImage {
  width: number;
  height: number;
  /** Row-major luminance, [height, width]. */
  data: Uint8Array;
}

/** A float32 single-channel plane, the working precision of the preprocessors between their 8-bit steps. */
export interface FloatPlane {
  width: number;
  height: number;
  data: Float32Array;
}

/** One channel of an interleaved 8-bit image, as its own row-major plane. */
export function extractChannel(pixels: Uint8Array, width: number, height: number, channels: number, channel: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = pixels[i * channels + channel]!;
  return out;
}
