/**
 * Loads what a control-LoRA needs for a checkpoint: its ControlNet session (the base UNet's weights plus the
 * file's, see control/control-lora.ts) and, once per checkpoint, the UNet graph that takes the residuals.
 */
import path from 'node:path';
import { planControlLora } from '../control/control-lora.ts';
import { buildControlNetGraph } from '../graphs/control-net.ts';
import { buildUnetGraph, type UnetGraphOptions } from '../graphs/unet.ts';
import { readSafetensorsHeader } from '../io/safetensors-reader.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import type { UnetConfig } from '../models/architecture.ts';
import { encodeOnnxModel } from '../onnx/onnx-proto.ts';
import { createModelSession, type ModelSession, type RuntimeOptions } from '../runtime/onnx-runtime.ts';

export interface ControlNetModel {
  session: ModelSession;
  /** Residuals for the UNet's skip connections (the middle block's comes after). */
  skips: number;
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
  const model = buildControlNetGraph(base, cfg, plan.hintChannels, { ...plan, weightsRoot: root });
  return { session: await createModelSession(encodeOnnxModel(model), root, options), skips: plan.skips };
}

/** The base UNet with control residual inputs (and the given options: patches, LoRA slots, image prompts). */
export async function loadControlledUnet(base: SafetensorsHeader, cfg: UnetConfig, unetOptions: UnetGraphOptions, weightsDir: string, options: RuntimeOptions = {}): Promise<ModelSession> {
  return createModelSession(encodeOnnxModel(buildUnetGraph(base, cfg, { ...unetOptions, controlResiduals: true })), weightsDir, options);
}
