/**
 * The two resamplings of Fooocus's pyramid Canny and of the decolorisation's working size, with OpenCV's
 * geometry (`cv2.resize`): INTER_AREA to shrink 8-bit pixels, INTER_LINEAR (half-pixel centres, edge clamp) for
 * float planes.
 */

/** Source taps of one output coordinate: indices and weights summing to 1. */
interface AreaTaps {
  index: number[];
  weight: number[];
}

/**
 * Area weights along one axis for shrinking `sourceSize` to `targetSize` (OpenCV's area table): each output
 * cell covers [d*s, (d+1)*s) of the source, partly covered source pixels weighted by the covered fraction.
 */
function areaTapsOf(sourceSize: number, targetSize: number): AreaTaps[] {
  const scale = sourceSize / targetSize;
  const taps: AreaTaps[] = [];
  for (let d = 0; d < targetSize; d++) {
    const start = d * scale;
    const end = start + scale;
    const cell = Math.min(scale, sourceSize - start);
    const last = Math.min(Math.floor(end), sourceSize - 1);
    const first = Math.min(Math.ceil(start), last);
    const t: AreaTaps = { index: [], weight: [] };
    if (first - start > 1e-3) {
      t.index.push(first - 1);
      t.weight.push((first - start) / cell);
    }
    for (let s = first; s < last; s++) {
      t.index.push(s);
      t.weight.push(1 / cell);
    }
    if (end - last > 1e-3) {
      t.index.push(last);
      t.weight.push(Math.min(end - last, 1, cell) / cell);
    }
    taps.push(t);
  }
  return taps;
}

/** Round half to even, as OpenCV's `saturate_cast<uchar>(float)` (cvRound), then clamp to a byte. */
function roundToByte(v: number): number {
  if (v <= 0) return 0;
  if (v >= 255) return 255;
  const floor = Math.floor(v);
  const frac = v - floor;
  if (frac > 0.5 || (frac === 0.5 && floor % 2 === 1)) return floor + 1;
  return floor;
}

/**
 * Shrinks interleaved 8-bit pixels with OpenCV's INTER_AREA. Same size copies; whole-number factors average
 * their blocks (a 2x2 block rounds half up, as OpenCV's vectorised 2x path does); other factors use the area
 * table above, rounded half to even.
 */
export function shrinkByArea(pixels: Uint8Array, width: number, height: number, channels: number, targetWidth: number, targetHeight: number): Uint8Array {
  if (targetWidth > width || targetHeight > height) throw new Error(`area resampling only shrinks: ${width}x${height} -> ${targetWidth}x${targetHeight}`);
  if (targetWidth < 1 || targetHeight < 1) throw new Error(`cannot shrink ${width}x${height} to ${targetWidth}x${targetHeight}`);
  if (targetWidth === width && targetHeight === height) return pixels.slice();
  const out = new Uint8Array(targetWidth * targetHeight * channels);
  const sx = width / targetWidth;
  const sy = height / targetHeight;
  if (Number.isInteger(sx) && Number.isInteger(sy)) {
    const area = sx * sy;
    for (let y = 0; y < targetHeight; y++) {
      for (let x = 0; x < targetWidth; x++) {
        for (let c = 0; c < channels; c++) {
          let sum = 0;
          for (let j = 0; j < sy; j++) for (let i = 0; i < sx; i++) sum += pixels[((y * sy + j) * width + x * sx + i) * channels + c]!;
          out[(y * targetWidth + x) * channels + c] = area === 4 ? (sum + 2) >> 2 : roundToByte(sum / area);
        }
      }
    }
    return out;
  }
  // OpenCV accumulates in float32 with float32 weights: the same order and rounding keep results bit-equal
  const xTaps = areaTapsOf(width, targetWidth);
  const yTaps = areaTapsOf(height, targetHeight);
  const sum = new Float32Array(targetWidth * channels);
  const buf = new Float32Array(targetWidth * channels);
  for (let y = 0; y < targetHeight; y++) {
    const ty = yTaps[y]!;
    for (let k = 0; k < ty.index.length; k++) {
      const base = ty.index[k]! * width;
      const beta = Math.fround(ty.weight[k]!);
      buf.fill(0);
      for (let x = 0; x < targetWidth; x++) {
        const tx = xTaps[x]!;
        for (let m = 0; m < tx.index.length; m++) {
          const alpha = Math.fround(tx.weight[m]!);
          const src = (base + tx.index[m]!) * channels;
          for (let c = 0; c < channels; c++) buf[x * channels + c] = buf[x * channels + c]! + Math.fround(pixels[src + c]! * alpha);
        }
      }
      for (let i = 0; i < sum.length; i++) sum[i] = k === 0 ? Math.fround(beta * buf[i]!) : sum[i]! + Math.fround(beta * buf[i]!);
    }
    for (let i = 0; i < sum.length; i++) out[y * targetWidth * channels + i] = roundToByte(sum[i]!);
  }
  return out;
}

/** Left tap and weight of the right tap for each output coordinate of a half-pixel-centred linear resampling. */
function linearTapsOf(sourceSize: number, targetSize: number): { left: Int32Array; frac: Float64Array } {
  const scale = sourceSize / targetSize;
  const left = new Int32Array(targetSize);
  const frac = new Float64Array(targetSize);
  for (let d = 0; d < targetSize; d++) {
    const f = (d + 0.5) * scale - 0.5;
    let s = Math.floor(f);
    let t = f - s;
    if (s < 0) {
      s = 0;
      t = 0;
    }
    if (s >= sourceSize - 1) {
      s = sourceSize - 1;
      t = 0;
    }
    left[d] = s;
    frac[d] = t;
  }
  return { left, frac };
}

/** Resizes interleaved float32 pixels with OpenCV's INTER_LINEAR geometry (either direction). */
export function resizeLinear(values: Float32Array, width: number, height: number, channels: number, targetWidth: number, targetHeight: number): Float32Array {
  if (targetWidth === width && targetHeight === height) return values.slice();
  const xs = linearTapsOf(width, targetWidth);
  const ys = linearTapsOf(height, targetHeight);
  const out = new Float32Array(targetWidth * targetHeight * channels);
  for (let y = 0; y < targetHeight; y++) {
    const y0 = ys.left[y]!;
    const y1 = Math.min(y0 + 1, height - 1);
    const fy = ys.frac[y]!;
    for (let x = 0; x < targetWidth; x++) {
      const x0 = xs.left[x]!;
      const x1 = Math.min(x0 + 1, width - 1);
      const fx = xs.frac[x]!;
      for (let c = 0; c < channels; c++) {
        const top = values[(y0 * width + x0) * channels + c]! * (1 - fx) + values[(y0 * width + x1) * channels + c]! * fx;
        const bottom = values[(y1 * width + x0) * channels + c]! * (1 - fx) + values[(y1 * width + x1) * channels + c]! * fx;
        out[(y * targetWidth + x) * channels + c] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return out;
}
