/**
 * Loads what a control-LoRA needs for a checkpoint: its ControlNet sessions (the base UNet's weights plus the
 * file's, see control/control-lora.ts: the hint encoder, run once per control image, and the per-step graph) and,
 * once per checkpoint, the UNet graph that takes the residuals.
 */
import path from 'node:path';
import { planControlLora } from '../control/control-lora.ts';
import { buildControlNetGraph, buildHintEncoderGraph, HINT_FEATURES, HINT_INPUT } from '../graphs/control-net.ts';
import { buildUnetGraph, type UnetGraphOptions } from '../graphs/unet.ts';
import { readSafetensorsHeader } from '../io/safetensors-reader.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import type { UnetConfig } from '../models/architecture.ts';
import { encodeOnnxModel } from '../onnx/onnx-proto.ts';
import { createModelSession, type ModelSession, type RuntimeOptions } from '../runtime/onnx-runtime.ts';
import type { Tensor } from '../tensor.ts';

/** Encoded hints kept per net: a job has at most four control images, and its images share them. */
const KEPT_HINTS = 4;

function sameTensor(a: Tensor, b: Tensor): boolean {
  if (a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) return false;
  return Buffer.compare(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength), Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength)) === 0;
}

/** A control-LoRA ControlNet: the hint encoder (with the last hints it encoded) and the per-step graph. */
export class ControlNetModel {
  private readonly encoded: { hint: Tensor; features: Tensor }[] = [];

  constructor(
    /** The per-step graph: x, timesteps, context, y, hint_features, strength -> the residuals. */
    readonly session: ModelSession,
    private readonly hintEncoder: ModelSession,
    /** Residuals for the UNet's skip connections (the middle block's comes after). */
    readonly skips: number,
  ) {}

  /**
   * The hint encoder's output for a control image [1, Ch, H, W] (the per-step graph's `hint_features`). A hint
   * with the same values as one of the last few is not encoded again: the images of a job share their maps.
   */
  async encodeHint(hint: Tensor, signal?: AbortSignal): Promise<Tensor> {
    const kept = this.encoded.find((e) => sameTensor(e.hint, hint));
    if (kept !== undefined) return kept.features;
    const features = (await this.hintEncoder.run({ [HINT_INPUT]: hint }, signal))[HINT_FEATURES];
    if (features === undefined) throw new Error(`the hint encoder graph has no output "${HINT_FEATURES}"`);
    this.encoded.unshift({ hint: { dims: [...hint.dims], data: Float32Array.from(hint.data) }, features });
    this.encoded.length = Math.min(this.encoded.length, KEPT_HINTS);
    return features;
  }

  async release(): Promise<void> {
    this.encoded.length = 0;
    await this.session.release();
    await this.hintEncoder.release();
  }
}

/** The directory both files lie under: ONNX Runtime reads external data only below the session's directory. */
function commonDirectory(files: readonly string[]): string {
  const parts = files.map((f) => path.resolve(path.dirname(f)).split(path.sep));
  const common: string[] = [];
  for (let i = 0; ; i++) {
    const part = parts[0]![i];
    if (part === undefined || parts.some((p) => p[i] !== part)) break;
    common.push(part);
  }
  return common.join(path.sep) || path.sep;
}

/**
 * The ControlNet of `controlFile` over the checkpoint `base` (its header and UNet config). Refuses, naming the
 * file, one that is not a control-LoRA or was made for another UNet (ControlModelError).
 */
export async function loadControlNet(controlFile: string, base: SafetensorsHeader, cfg: UnetConfig, options: RuntimeOptions = {}): Promise<ControlNetModel> {
  const control = await readSafetensorsHeader(controlFile);
  const plan = planControlLora(control, base, cfg);
  const root = commonDirectory([base.file, controlFile]);
  const graphOptions = { ...plan, weightsRoot: root };
  const hintEncoder = await createModelSession(encodeOnnxModel(buildHintEncoderGraph(base, cfg, plan.hintChannels, graphOptions)), root, options);
  try {
    return new ControlNetModel(await createModelSession(encodeOnnxModel(buildControlNetGraph(base, cfg, graphOptions)), root, options), hintEncoder, plan.skips);
  } catch (err) {
    await hintEncoder.release();
    throw err;
  }
}

/** The base UNet with control residual inputs (and the given options: patches, LoRA slots, image prompts). */
export async function loadControlledUnet(base: SafetensorsHeader, cfg: UnetConfig, unetOptions: UnetGraphOptions, weightsDir: string, options: RuntimeOptions = {}): Promise<ModelSession> {
  return createModelSession(encodeOnnxModel(buildUnetGraph(base, cfg, { ...unetOptions, controlResiduals: true })), weightsDir, options);
}
