/**
 * The FaceSwap crop: the best face's five landmarks mapped by a similarity transform (rotation, uniform scale,
 * translation) onto facexlib's 512x512 face template, and the image resampled through it, as Fooocus crops a
 * FaceSwap image prompt before IP-Adapter Plus-Face sees it.
 */
import { FooocusError } from '../errors/fooocus-error.ts';
import type { RgbImage } from '../rgb-image.ts';
import type { DetectedFace, FaceDetectionOptions, FaceDetector } from './face-detection.ts';

/** Where the five landmarks land in the 512x512 crop (facexlib's FFHQ-style template). */
export const FACE_TEMPLATE_512: readonly (readonly [number, number])[] = [
  [192.98138, 239.94708],
  [318.90277, 240.1936],
  [256.63416, 314.01935],
  [201.26117, 371.41043],
  [313.08905, 371.15118],
];
export const FACE_CROP_SIZE = 512;
/** Fill outside the source image, RGB (Fooocus passes (135, 133, 132) to OpenCV, which reads it as BGR). */
export const FACE_CROP_BORDER: readonly [number, number, number] = [132, 133, 135];

/** A FaceSwap image prompt in which the detector found no face. */
export class NoFaceFoundError extends FooocusError {
  constructor(field: string) {
    super('invalid', `${field}: no face was found in this FaceSwap image; use a photo where one face is clearly visible, or another image prompt type`, { field, rule: 'face' });
  }
}

/** x' = a x - b y + tx, y' = b x + a y + ty */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** Least-squares similarity from `src` to `dst` over the given point indices (closed form; Umeyama 1991 without reflection). */
function fitSimilarity(src: readonly (readonly [number, number])[], dst: readonly (readonly [number, number])[], use: readonly number[]): Similarity | null {
  const n = use.length;
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (const i of use) {
    sx += src[i]![0]; sy += src[i]![1]; dx += dst[i]![0]; dy += dst[i]![1];
  }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let num = 0, cross = 0, den = 0;
  for (const i of use) {
    const px = src[i]![0] - sx, py = src[i]![1] - sy, qx = dst[i]![0] - dx, qy = dst[i]![1] - dy;
    num += px * qx + py * qy;
    cross += px * qy - py * qx;
    den += px * px + py * py;
  }
  if (den < 1e-12) return null;
  const a = num / den;
  const b = cross / den;
  return { a, b, tx: dx - (a * sx - b * sy), ty: dy - (b * sx + a * sy) };
}

function squaredErrors(m: Similarity, src: readonly (readonly [number, number])[], dst: readonly (readonly [number, number])[]): number[] {
  return src.map(([x, y], i) => (m.a * x - m.b * y + m.tx - dst[i]![0]) ** 2 + (m.b * x + m.a * y + m.ty - dst[i]![1]) ** 2);
}

/**
 * Robust similarity estimate in the manner of OpenCV's `estimateAffinePartial2D(method=LMEDS)`, which Fooocus
 * calls: least median of squares (Rousseeuw 1984) over two-point models (all 10 pairs of 5 points, where OpenCV
 * samples pairs at random), inliers within 2.5 robust standard deviations of the best model, then a least-squares
 * fit over the inliers.
 */
export function estimateSimilarity(src: readonly (readonly [number, number])[], dst: readonly (readonly [number, number])[]): Similarity {
  const n = src.length;
  let best: { model: Similarity; median: number } | null = null;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const model = fitSimilarity(src, dst, [i, j]);
      if (model === null) continue;
      const median = squaredErrors(model, src, dst).sort((p, q) => p - q)[Math.floor(n / 2)]!;
      if (best === null || median < best.median) best = { model, median };
    }
  }
  if (best === null) throw new Error('the face landmarks coincide; no transform fits them');
  const sigma = Math.max(2.5 * 1.4826 * (1 + 5 / (n - 2)) * Math.sqrt(best.median), 0.001);
  const inliers = squaredErrors(best.model, src, dst).flatMap((e, i) => (e <= sigma * sigma ? [i] : []));
  return (inliers.length >= 2 ? fitSimilarity(src, dst, inliers) : null) ?? best.model;
}

/** Resamples `image` into a size x size crop through `m` (source -> crop), bilinear, the border colour outside. */
export function warpSimilarity(image: RgbImage, m: Similarity, size: number, border: readonly [number, number, number] = FACE_CROP_BORDER): RgbImage {
  // Invert x' = A x + t: x = A^-1 (x' - t), with A^-1 = [a b; -b a] / (a^2 + b^2).
  const det = m.a * m.a + m.b * m.b;
  const out = new Uint8Array(size * size * 3);
  const { width, height, rgb } = image;
  const tap = (x: number, y: number, c: number): number => (x < 0 || y < 0 || x >= width || y >= height ? border[c]! : rgb[(y * width + x) * 3 + c]!);
  for (let oy = 0; oy < size; oy++) {
    for (let ox = 0; ox < size; ox++) {
      const u = ox - m.tx;
      const v = oy - m.ty;
      const sx = (m.a * u + m.b * v) / det;
      const sy = (-m.b * u + m.a * v) / det;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < 3; c++) {
        const top = tap(x0, y0, c) * (1 - fx) + tap(x0 + 1, y0, c) * fx;
        const bottom = tap(x0, y0 + 1, c) * (1 - fx) + tap(x0 + 1, y0 + 1, c) * fx;
        out[(oy * size + ox) * 3 + c] = Math.min(255, Math.max(0, Math.round(top * (1 - fy) + bottom * fy)));
      }
    }
  }
  return { width: size, height: size, rgb: out };
}

/** The 512x512 aligned crop of a detected face. */
export function alignFace(image: RgbImage, face: DetectedFace): RgbImage {
  return warpSimilarity(image, estimateSimilarity(face.landmarks, FACE_TEMPLATE_512), FACE_CROP_SIZE);
}

/**
 * Fooocus's FaceSwap preprocessing: detect, take the best-scoring face, align it. `field` names the image prompt
 * slot (`imagePrompts[1].image`) in the error when no face is found.
 */
export async function cropFaceForFaceSwap(detector: FaceDetector, image: RgbImage, field: string, options: FaceDetectionOptions = {}): Promise<RgbImage> {
  const faces = await detector.detect(image, options);
  if (faces.length === 0) throw new NoFaceFoundError(field);
  return alignFace(image, faces[0]!);
}
