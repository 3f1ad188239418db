/**
 * Control-LoRA files (Stability's `control-lora-*-rank*.safetensors`, Fooocus's `fooocus_xl_cpds_128`): a
 * ControlNet stored as a difference from the base UNet it was trained on. The file carries a `lora_controlnet`
 * marker; the ControlNet-only parts as full tensors (`input_hint_block.*`, `zero_convs.*`, `middle_block_out.*`);
 * full tensors that replace the UNet's (norms, biases, the first conv); and for adapted conv/linear layers a
 * pair `<module>.up` [out, rank, ...] / `<module>.down` [rank, in, ...] whose product, reshaped, is added to the
 * UNet's `<module>.weight`. Every other ControlNet weight is the UNet's own. Keys have no `model.diffusion_model.`
 * prefix.
 *
 * This module checks a file against the checkpoint's UNet and says where each graph key comes from.
 */
import path from 'node:path';
import { FooocusError } from '../errors/fooocus-error.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import type { UnetConfig } from '../models/architecture.ts';
import type { LowRankDelta, TensorSource } from '../onnx/graph-builder.ts';

export const CONTROL_LORA_MARKER = 'lora_controlnet';
/** Where the ControlNet-only tensors live in the graph's key space (they have no UNet counterpart). */
export const CONTROL_ONLY_PREFIX = 'control_model.';
const CONTROL_ONLY_PARTS = ['input_hint_block.', 'zero_convs.', 'middle_block_out.'];

/** A control model file that does not fit: wrong kind of file, or made for another UNet family or size. */
export class ControlModelError extends FooocusError {
  constructor(file: string, detail: string) {
    super('invalid', `${path.basename(file)}: ${detail}`, { file, rule: 'control-model' });
  }
}

export interface ControlLoraPlan {
  /** Channels of the control image the hint encoder takes (3 for canny and cpds). */
  hintChannels: number;
  tensorSources: Map<string, TensorSource>;
  lowRankDeltas: Map<string, LowRankDelta>;
  /** Graph key prefix of the ControlNet-only tensors (pass to the graph builder as its `controlPrefix`). */
  controlPrefix: string;
  /** How many residuals the ControlNet returns for the skip connections (then one for the middle block). */
  skips: number;
}

function shapeText(shape: readonly number[] | undefined): string {
  return shape === undefined ? 'missing' : `[${shape.join(', ')}]`;
}

/** Channel count of each UNet skip connection, in order (conv_in, each input block, each downsample). */
export function skipChannelsOf(cfg: UnetConfig): number[] {
  const channels = [cfg.modelChannels];
  cfg.channelMult.forEach((mult, level) => {
    for (let r = 0; r < cfg.numResBlocks[level]!; r++) channels.push(mult * cfg.modelChannels);
    if (level < cfg.channelMult.length - 1) channels.push(mult * cfg.modelChannels);
  });
  return channels;
}

/** Checks the ControlNet-only tensors against the UNet's sizes; returns the hint channel count. */
function checkControlOnlyTensors(control: SafetensorsHeader, cfg: UnetConfig): number {
  const shape = (key: string): number[] | undefined => control.tensors.get(key)?.shape;
  const first = shape('input_hint_block.0.weight');
  if (first === undefined || first.length !== 4) throw new ControlModelError(control.file, `tensor "input_hint_block.0.weight" is ${shapeText(first)}; a ControlNet hint encoder starts with a [16, channels, 3, 3] conv`);
  const last = shape('input_hint_block.14.weight');
  if (last?.[0] !== cfg.modelChannels) {
    throw new ControlModelError(control.file, `tensor "input_hint_block.14.weight" is ${shapeText(last)}: made for a UNet with ${last?.[0] ?? '?'} model channels, the checkpoint's has ${cfg.modelChannels}`);
  }
  const skips = skipChannelsOf(cfg);
  skips.forEach((c, i) => {
    const zero = shape(`zero_convs.${i}.0.weight`);
    if (zero?.join() !== [c, c, 1, 1].join()) throw new ControlModelError(control.file, `tensor "zero_convs.${i}.0.weight" is ${shapeText(zero)}, expected [${c}, ${c}, 1, 1] for this checkpoint's UNet`);
  });
  if (control.tensors.has(`zero_convs.${skips.length}.0.weight`)) throw new ControlModelError(control.file, `has more zero convs than the checkpoint's UNet has skip connections (${skips.length})`);
  const mid = skips.at(-1)!;
  const middle = shape('middle_block_out.0.weight');
  if (middle?.join() !== [mid, mid, 1, 1].join()) throw new ControlModelError(control.file, `tensor "middle_block_out.0.weight" is ${shapeText(middle)}, expected [${mid}, ${mid}, 1, 1]`);
  return first[1]!;
}

/**
 * Plans the ControlNet graph of a control-LoRA over a checkpoint's UNet: which graph keys read the control file,
 * which get a low-rank delta (a replaced weight may get one too). Refuses, naming the file, a file without the marker, one sized for another UNet, a
 * replaced tensor whose shape differs from the UNet's, and an `up` without its `down`.
 */
export function planControlLora(control: SafetensorsHeader, base: SafetensorsHeader, cfg: UnetConfig): ControlLoraPlan {
  if (!control.tensors.has(CONTROL_LORA_MARKER)) throw new ControlModelError(control.file, `is not a control-LoRA (it has no "${CONTROL_LORA_MARKER}" tensor)`);
  const hintChannels = checkControlOnlyTensors(control, cfg);
  const tensorSources = new Map<string, TensorSource>();
  const lowRankDeltas = new Map<string, LowRankDelta>();
  const baseShape = (key: string): number[] | undefined => base.tensors.get(key)?.shape;
  for (const [key, info] of control.tensors) {
    if (key === CONTROL_LORA_MARKER || key.endsWith('.down')) continue;
    if (CONTROL_ONLY_PARTS.some((part) => key.startsWith(part))) {
      tensorSources.set(`${CONTROL_ONLY_PREFIX}${key}`, { header: control, key });
      continue;
    }
    if (key.endsWith('.up')) {
      const module = key.slice(0, -'.up'.length);
      const down = `${module}.down`;
      const downInfo = control.tensors.get(down);
      if (downInfo === undefined) throw new ControlModelError(control.file, `tensor "${key}" has no "${down}"`);
      const target = `${cfg.prefix}${module}.weight`;
      const weight = baseShape(target);
      if (weight === undefined) throw new ControlModelError(control.file, `tensor "${key}" adapts "${module}.weight", which the checkpoint's UNet does not have (a control-LoRA for another model family?)`);
      const inner = weight.slice(1).reduce((a, b) => a * b, 1);
      const rank = info.shape[1];
      const downInner = downInfo.shape.slice(1).reduce((a, b) => a * b, 1);
      if (info.shape[0] !== weight[0] || downInfo.shape[0] !== rank || downInner !== inner) {
        throw new ControlModelError(control.file, `tensors "${key}" ${shapeText(info.shape)} and "${down}" ${shapeText(downInfo.shape)} do not make a delta for the UNet's ${shapeText(weight)}`);
      }
      lowRankDeltas.set(target, { header: control, up: key, down });
      continue;
    }
    const target = `${cfg.prefix}${key}`;
    const weight = baseShape(target);
    if (weight === undefined) throw new ControlModelError(control.file, `tensor "${key}" has no counterpart in the checkpoint's UNet (a control-LoRA for another model family?)`);
    if (weight.join() !== info.shape.join()) throw new ControlModelError(control.file, `tensor "${key}" is ${shapeText(info.shape)}; the checkpoint's UNet has ${shapeText(weight)}`);
    tensorSources.set(target, { header: control, key });
  }
  return { hintChannels, tensorSources, lowRankDeltas, controlPrefix: CONTROL_ONLY_PREFIX, skips: skipChannelsOf(cfg).length };
}
