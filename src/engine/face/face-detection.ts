/**
 * Face detection with five landmarks (eyes, nose, mouth corners) by RetinaFace, with the settings Fooocus's
 * FaceSwap uses through facexlib: the image at its own size, BGR minus the means (104, 117, 123), faces whose
 * score is above 0.97, non-maximum suppression at IoU 0.4, best score first.
 */
import path from 'node:path';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { encodeOnnxModel } from '../onnx/onnx-proto.ts';
import { createModelSession, type ModelSession, type RuntimeOptions } from '../runtime/onnx-runtime.ts';
import type { RgbImage } from '../rgb-image.ts';
import type { Tensor } from '../tensor.ts';
import { buildRetinaFaceGraph } from './retinaface-graph.ts';
import { detectRetinaFaceLayout, RETINAFACE_PRIORS } from './retinaface-layout.ts';

export interface DetectedFace {
  /** [x1, y1, x2, y2] in image pixels. */
  box: [number, number, number, number];
  score: number;
  /** Left eye, right eye, nose, left and right mouth corner (as the person faces the camera: image left first). */
  landmarks: [number, number][];
}

export interface FaceDetectionOptions {
  /** Keep faces scoring above this (Fooocus: 0.97). */
  scoreThreshold?: number;
  /** Drop a face overlapping a better one by more than this IoU (Fooocus: 0.4). */
  nmsThreshold?: number;
}

const BGR_MEANS = [104, 117, 123];

export class FaceDetector {
  private constructor(private readonly session: ModelSession) {}

  /** Builds the graph from the checkpoint's tensors (weights read in place) and opens a session on it. */
  static async load(header: SafetensorsHeader, options: RuntimeOptions = {}): Promise<FaceDetector> {
    const model = buildRetinaFaceGraph(header, detectRetinaFaceLayout(header));
    return new FaceDetector(await createModelSession(encodeOnnxModel(model), path.dirname(header.file), options));
  }

  /** The network's raw outputs for one image (for tests and tools); `detect` decodes them. */
  async run(image: RgbImage): Promise<{ boxes: Tensor; scores: Tensor; landmarks: Tensor }> {
    const out = await this.session.run({ image: toDetectorInput(image) });
    return { boxes: out.boxes!, scores: out.scores!, landmarks: out.landmarks! };
  }

  async detect(image: RgbImage, options: FaceDetectionOptions = {}): Promise<DetectedFace[]> {
    const raw = await this.run(image);
    return decodeDetections(raw, image.width, image.height, options);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** RGB bytes -> [1, 3, H, W] BGR floats minus the training means. */
export function toDetectorInput(image: RgbImage): Tensor {
  const { width, height, rgb } = image;
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) data[c * plane + i] = rgb[i * 3 + (2 - c)]! - BGR_MEANS[c]!;
  }
  return { dims: [1, 3, height, width], data };
}

/**
 * Anchor boxes [cx, cy, w, h] relative to the image size, in the order of the heads' outputs: level by level,
 * row-major over the level's ceil(size / stride) grid, its two sizes innermost.
 */
export function buildPriorBoxes(width: number, height: number): Float64Array {
  const out: number[] = [];
  RETINAFACE_PRIORS.steps.forEach((step, level) => {
    const rows = Math.ceil(height / step);
    const cols = Math.ceil(width / step);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        for (const size of RETINAFACE_PRIORS.minSizes[level]!) out.push(((j + 0.5) * step) / width, ((i + 0.5) * step) / height, size / width, size / height);
      }
    }
  });
  return Float64Array.from(out);
}

/** Decodes offsets against the priors (SSD-style, variances 0.1 and 0.2), filters, sorts and suppresses. */
export function decodeDetections(raw: { boxes: Tensor; scores: Tensor; landmarks: Tensor }, width: number, height: number, options: FaceDetectionOptions = {}): DetectedFace[] {
  // Scores are float32, and Fooocus compares them with the threshold in float32: a score equal to it is out.
  const threshold = Math.fround(options.scoreThreshold ?? 0.97);
  const priors = buildPriorBoxes(width, height);
  const count = priors.length / 4;
  if (raw.boxes.dims[1] !== count) throw new Error(`face detector returned ${raw.boxes.dims[1]} anchors for a ${width}x${height} image; ${count} expected`);
  const [v0, v1] = RETINAFACE_PRIORS.variance;
  const faces: DetectedFace[] = [];
  for (let a = 0; a < count; a++) {
    const score = raw.scores.data[a * 2 + 1]!;
    if (!(score > threshold)) continue;
    const [pcx, pcy, pw, ph] = [priors[a * 4]!, priors[a * 4 + 1]!, priors[a * 4 + 2]!, priors[a * 4 + 3]!];
    const d = raw.boxes.data.subarray(a * 4, a * 4 + 4);
    const cx = pcx + d[0]! * v0 * pw;
    const cy = pcy + d[1]! * v0 * ph;
    const w = pw * Math.exp(d[2]! * v1);
    const h = ph * Math.exp(d[3]! * v1);
    const box: DetectedFace['box'] = [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height];
    const l = raw.landmarks.data.subarray(a * 10, a * 10 + 10);
    const landmarks = [0, 1, 2, 3, 4].map((k): [number, number] => [(pcx + l[2 * k]! * v0 * pw) * width, (pcy + l[2 * k + 1]! * v0 * ph) * height]);
    faces.push({ box, score, landmarks });
  }
  faces.sort((a, b) => b.score - a.score);
  return suppressOverlaps(faces, options.nmsThreshold ?? 0.4);
}

/** Greedy non-maximum suppression over faces sorted best first: a face overlapping a kept one by IoU > limit goes. */
export function suppressOverlaps(sorted: readonly DetectedFace[], limit: number): DetectedFace[] {
  const kept: DetectedFace[] = [];
  for (const face of sorted) if (kept.every((k) => intersectionOverUnion(k.box, face.box) <= limit)) kept.push(face);
  return kept;
}

export function intersectionOverUnion(a: DetectedFace['box'], b: DetectedFace['box']): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union <= 0 ? 0 : inter / union;
}
