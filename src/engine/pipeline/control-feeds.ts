/**
 * The UNet inputs of the control-LoRA ControlNets active at a step: each active net runs on the same x,
 * timesteps, context and y as the UNet plus its encoded control map (one row, added to every row; encoded once
 * per control image, control-lora-model.ts), its residuals scaled by its weight, and the
 * residuals of several nets are summed (as ControlNets chain). A step where none is active runs the plain UNet
 * graph, so weight 0 or a step past "stop at" is the plain generation bit for bit.
 */
import { controlOutputNames, HINT_FEATURES } from '../graphs/control-net.ts';
import type { ModelSession } from '../runtime/onnx-runtime.ts';
import type { Tensor } from '../tensor.ts';
import { isGuidanceActive, type ControlMap, type GuidanceWindow } from './image-guidance.ts';

/** One control-LoRA ControlNet's per-step graph with its map, encoded by the net's hint encoder: [1, C, h, w]. */
export interface StageControlNet extends GuidanceWindow {
  session: ModelSession;
  features: Tensor;
}

/** What a denoiser stage needs to apply controls: the UNet graph with residual inputs, and the nets. */
export interface StageControls {
  unet: ModelSession;
  /** The UNet graph with both residual and image prompt inputs, for steps where both kinds are active. */
  unetWithImagePrompts?: ModelSession;
  nets: readonly StageControlNet[];
  /** Residual count of the UNet's skip connections (the middle block's comes after). */
  skips: number;
  /** Steps of the whole schedule, for "stop at". */
  steps: number;
}

/** A control map as the ControlNet's hint: [1, 3, height, width] in 0..1 (a grey map fills all three planes). */
export function toHintTensor(map: ControlMap): Tensor {
  const { width, height } = map;
  const n = width * height;
  if ('planes' in map) {
    if (map.planes.length !== 3 * n) throw new Error(`control map has ${map.planes.length} values, expected 3x${height}x${width}`);
    return { dims: [1, 3, height, width], data: Float32Array.from(map.planes) };
  }
  const data = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) data[c * n + i] = map.rgb[i * 3 + c]! / 255;
  return { dims: [1, 3, height, width], data };
}

export function selectActiveControls(stage: StageControls | undefined, step: number): StageControlNet[] {
  return stage === undefined ? [] : stage.nets.filter((net) => isGuidanceActive(net, step, stage.steps));
}

/** Runs the active nets on the UNet's own feeds (x, timesteps, context, y); the summed residuals, by UNet input name. */
export async function runControlNets(active: readonly StageControlNet[], unetFeeds: Record<string, Tensor>, skips: number, signal?: AbortSignal): Promise<Record<string, Tensor>> {
  const names = controlOutputNames(skips);
  const sums: Record<string, Tensor> = {};
  for (const net of active) {
    const feeds: Record<string, Tensor> = {
      x: unetFeeds.x!,
      timesteps: unetFeeds.timesteps!,
      context: unetFeeds.context!,
      [HINT_FEATURES]: net.features,
      strength: { dims: [1], data: Float32Array.of(net.weight) },
    };
    if (unetFeeds.y !== undefined) feeds.y = unetFeeds.y;
    const out = await net.session.run(feeds, signal);
    for (const name of names) {
      const residual = out[name];
      if (residual === undefined) throw new Error(`the ControlNet graph has no output "${name}"`);
      const sum = sums[name];
      if (sum === undefined) sums[name] = { dims: residual.dims, data: Float32Array.from(residual.data) };
      else for (let i = 0; i < sum.data.length; i++) sum.data[i]! += residual.data[i]!;
    }
  }
  return sums;
}
