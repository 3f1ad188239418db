/**
 * Foreground masks from the salient-object models rembg publishes as ONNX files: U²-Net (u2net, u2netp,
 * u2net_human_seg, silueta; Qin et al. 2020) at 320x320 with ImageNet normalisation, and IS-Net
 * (isnet-general-use; Qin et al. 2022) at 1024x1024 with mean 0.5 and standard deviation 1. The file says which by
 * its input size. Preprocessing and read-out follow rembg: Lanczos resize to the square input, divide by the
 * image's largest byte, normalise per channel; the first output's channel 0 is stretched to 0..1 by its own minimum
 * and maximum, truncated to 8 bits and resized back to the image with Lanczos.
 *
 * A file is checked before ONNX Runtime sees it (onnx-model-check.ts: standard operators only, no external data,
 * bounded tensors) and must have the signature the preprocessing feeds: one float32 image input [N, 3, S, S] with S
 * one of the sizes above, and a float32 first output [N, 1, S, S].
 */
import { checkOnnxFile, UnsafeOnnxModelError, type CheckedOnnxModel } from '../onnx/onnx-model-check.ts';
import type { OnnxValueSignature } from '../onnx/onnx-value-info.ts';
import type { GreyMask } from '../inpaint/inpaint-settings.ts';
import { invertMask, MASK_THRESHOLD } from '../inpaint/grey-mask.ts';
import type { RgbImage } from '../rgb-image.ts';
import { createModelSession, type ModelSession, type RuntimeOptions } from '../runtime/onnx-runtime.ts';
import { createTensor, type Tensor } from '../tensor.ts';
import { resampleLanczos } from '../upscale/lanczos-resample.ts';
import type { RegionDetection, RegionDetector, RegionQuery } from './region-detector.ts';

export interface ForegroundNormalisation {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** Input side -> normalisation, as rembg runs each family. */
export const FOREGROUND_INPUT_SIZES: ReadonlyMap<number, ForegroundNormalisation> = new Map([
  [320, { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }],
  [1024, { mean: [0.5, 0.5, 0.5], std: [1, 1, 1] }],
]);

/** The detection prompts a foreground model answers: the foreground itself, or everything else. */
export const FOREGROUND_PROMPTS = ['foreground', 'person', 'subject'] as const;
export const BACKGROUND_PROMPTS = ['background'] as const;

/** Which side of a foreground mask a prompt asks for; null when a foreground model cannot answer it. */
export function classifyForegroundPrompt(prompt: string): 'foreground' | 'background' | null {
  const p = prompt.trim().toLowerCase();
  if ((FOREGROUND_PROMPTS as readonly string[]).includes(p)) return 'foreground';
  if ((BACKGROUND_PROMPTS as readonly string[]).includes(p)) return 'background';
  return null;
}

export interface ForegroundSignature {
  size: number;
  input: string;
  output: string;
  normalisation: ForegroundNormalisation;
}

function describeShape(v: OnnxValueSignature): string {
  return v.shape === null ? `${v.dtype} [unknown]` : `${v.dtype} [${v.shape.map((d) => d ?? '?').join(', ')}]`;
}

/** A batch axis may be 1 or symbolic; a named axis must be the number given. */
function fits(v: OnnxValueSignature, channels: number, size: number | null): boolean {
  if (v.dtype !== 'float32' || v.shape === null || v.shape.length !== 4) return false;
  const [batch, c, h, w] = v.shape;
  const batchOk = batch === 1 || typeof batch !== 'number';
  const side = (d: number | string | null | undefined) => (size === null ? typeof d === 'number' : d === size || typeof d !== 'number');
  return batchOk && c === channels && side(h) && side(w) && (size !== null || h === w);
}

/** Refuses, naming the file, a checked model whose inputs and outputs are not a foreground model's. */
export function checkForegroundSignature(model: CheckedOnnxModel, file: string): ForegroundSignature {
  const sizes = [...FOREGROUND_INPUT_SIZES.keys()].join(' or ');
  if (model.inputs.length !== 1) throw new UnsafeOnnxModelError(file, 'signature', `has ${model.inputs.length} inputs; a foreground-mask model takes one image [1, 3, S, S] (S ${sizes})`);
  const input = model.inputs[0]!;
  if (!fits(input, 3, null)) throw new UnsafeOnnxModelError(file, 'signature', `input "${input.name}" is ${describeShape(input)}; a foreground-mask model takes float32 [1, 3, S, S] (S ${sizes})`);
  const size = input.shape![2] as number;
  const normalisation = FOREGROUND_INPUT_SIZES.get(size);
  if (normalisation === undefined) throw new UnsafeOnnxModelError(file, 'signature', `input "${input.name}" is ${size}x${size}; the foreground-mask models known here take ${sizes}`);
  const output = model.outputs[0];
  if (output === undefined || !fits(output, 1, size)) {
    throw new UnsafeOnnxModelError(file, 'signature', `${output === undefined ? 'has no output' : `output "${output.name}" is ${describeShape(output)}`}; a foreground-mask model gives float32 [1, 1, ${size}, ${size}] first`);
  }
  return { size, input: input.name, output: output.name, normalisation };
}

/** The model input for an image: [1, 3, S, S]. */
export function preprocessForeground(image: RgbImage, size: number, norm: ForegroundNormalisation): Tensor {
  const square = image.width === size && image.height === size ? image : resampleLanczos(image, size, size);
  let largest = 0;
  for (const v of square.rgb) if (v > largest) largest = v;
  const scale = 1 / Math.max(largest, 1e-6);
  const plane = size * size;
  const out = createTensor([1, 3, size, size]); // [1, 3, S, S]
  for (let c = 0; c < 3; c++) {
    const mean = norm.mean[c]!;
    const std = norm.std[c]!;
    for (let i = 0; i < plane; i++) out.data[c * plane + i] = (square.rgb[i * 3 + c]! * scale - mean) / std;
  }
  return out;
}

/** The model's first output channel as a mask of the image's size (soft, 0..255). */
export function readForegroundPrediction(prediction: Float32Array, size: number, width: number, height: number): GreyMask {
  const plane = size * size;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < plane; i++) {
    const v = prediction[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  // A flat prediction has no foreground to stretch to (rembg's division by zero gives NaN, which reads as 0).
  const range = hi - lo;
  const rgb = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    const v = range > 0 && Number.isFinite(range) ? Math.trunc(((prediction[i]! - lo) / range) * 255) : 0;
    rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = v;
  }
  const resized = width === size && height === size ? { width, height, rgb } : resampleLanczos({ width: size, height: size, rgb }, width, height);
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = resized.rgb[i * 3]!;
  return { width, height, data };
}

/** A checked foreground model with its session; `detect` answers the foreground and background prompts. */
export class ForegroundMaskModel implements RegionDetector {
  private constructor(
    readonly name: string,
    private readonly session: ModelSession,
    readonly signature: ForegroundSignature,
  ) {}

  /** Checks the file (refusals name it), then builds its session. */
  static async load(file: string, name: string, runtime: RuntimeOptions = {}): Promise<ForegroundMaskModel> {
    const { model, bytes } = checkOnnxFile(file);
    const signature = checkForegroundSignature(model, file);
    return new ForegroundMaskModel(name, await createModelSession(bytes, null, runtime), signature);
  }

  /** The soft foreground mask (0..255) of an image. */
  async predict(image: RgbImage, signal?: AbortSignal): Promise<GreyMask> {
    const { size, input, output, normalisation } = this.signature;
    const results = await this.session.run({ [input]: preprocessForeground(image, size, normalisation) }, signal);
    return readForegroundPrediction(results[output]!.data, size, image.width, image.height);
  }

  async detect(image: RgbImage, query: RegionQuery, signal?: AbortSignal): Promise<RegionDetection> {
    const side = classifyForegroundPrompt(query.prompt);
    if (side === null) throw new Error(`${this.name} finds the foreground or the background; it cannot find "${query.prompt}"`);
    const soft = await this.predict(image, signal);
    const mask = side === 'background' ? invertMask(soft) : soft;
    const binary = binariseMask(mask);
    return { mask: binary.mask, regions: binary.white ? 1 : 0 };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** 255 over the inpaint threshold, else 0, as every mask the inpaint reads is taken. */
export function binariseMask(mask: GreyMask): { mask: GreyMask; white: boolean } {
  const data = new Uint8Array(mask.data.length);
  let white = false;
  for (let i = 0; i < data.length; i++) {
    if (mask.data[i]! > MASK_THRESHOLD) {
      data[i] = 255;
      white = true;
    }
  }
  return { mask: { width: mask.width, height: mask.height, data }, white };
}
