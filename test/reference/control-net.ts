/**
 * Reference ControlNet forward pass (`cldm.ControlNet`) and the control-LoRA weight merge, transcribed from the
 * published descriptions: every ControlNet weight is the control file's tensor when it has one, else the UNet's,
 * plus `up.flatten(1) @ down.flatten(1)` reshaped when the file adapts that layer.
 */
import type { UnetConfig } from '../../src/engine/models/architecture.ts';
import { add, conv2d, linear, silu, timestepEmbedding } from './ops.ts';
import { dim, type RefTensor, type WeightSource } from './tensor.ts';
import { downsampleReference, levelResBlocks, resBlockReference, spatialTransformerReference, unetHeads } from './unet.ts';

/** Weights of the ControlNet under UNet key names, with the ControlNet-only ones under `controlPrefix`. */
export function mergeControlLoraWeights(unet: WeightSource, control: ReadonlyMap<string, RefTensor>, cfg: UnetConfig, controlPrefix: string): WeightSource {
  return (name: string): RefTensor => {
    if (name.startsWith(controlPrefix)) {
      const t = control.get(name.slice(controlPrefix.length));
      if (t === undefined) throw new Error(`control file has no ${name}`);
      return t;
    }
    const key = name.slice(cfg.prefix.length);
    const base = control.get(key) ?? unet(name);
    if (!key.endsWith('.weight')) return base;
    const module = key.slice(0, -'.weight'.length);
    const up = control.get(`${module}.up`);
    const down = control.get(`${module}.down`);
    if (up === undefined || down === undefined) return base;
    const rows = up.shape[0]!;
    const rank = up.shape[1]!;
    const cols = down.data.length / rank;
    const data = Float32Array.from(base.data);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let r = 0; r < rank; r++) s += up.data[i * rank + r]! * down.data[r * cols + j]!;
        data[i * cols + j]! += s;
      }
    }
    return { shape: base.shape, data };
  };
}

function scale(t: RefTensor, k: number): RefTensor {
  return { shape: t.shape, data: t.data.map((v) => v * k) };
}

/** `ControlNet.forward(x, hint, timesteps, context, y)`, residuals scaled by `strength`. */
export function controlNetReference(
  weights: WeightSource,
  cfg: UnetConfig,
  controlPrefix: string,
  inputs: { x: RefTensor; hint: RefTensor; timesteps: readonly number[]; context: RefTensor; y: RefTensor | null; strength: number },
): { skips: RefTensor[]; middle: RefTensor } {
  const p = cfg.prefix;
  const w = (name: string): RefTensor => weights(name);
  const mlp = (a: string, b: string, v: RefTensor): RefTensor => linear(silu(linear(v, w(`${p}${a}.weight`), w(`${p}${a}.bias`))), w(`${p}${b}.weight`), w(`${p}${b}.bias`));
  let emb = mlp('time_embed.0', 'time_embed.2', timestepEmbedding(inputs.timesteps, cfg.modelChannels));
  if (cfg.admInChannels !== null) emb = add(emb, mlp('label_emb.0.0', 'label_emb.0.2', inputs.y!));

  // hint encoder: 3x3 convs with SiLU between; 4, 8 and 12 stride 2
  let hint = inputs.hint;
  [0, 2, 4, 6, 8, 10, 12, 14].forEach((i, n) => {
    if (n > 0) hint = silu(hint);
    hint = conv2d(hint, w(`${controlPrefix}input_hint_block.${i}.weight`), w(`${controlPrefix}input_hint_block.${i}.bias`), { padding: 1, stride: [4, 8, 12].includes(i) ? 2 : 1 });
  });

  const transformer = (prefix: string, h: RefTensor, depth: number): RefTensor =>
    spatialTransformerReference(weights, prefix, h, inputs.context, { heads: unetHeads(cfg, dim(h, 1)), depth, linearProjection: cfg.linearProjection, groups: cfg.groups });
  const zero = (i: number, h: RefTensor): RefTensor => scale(conv2d(h, w(`${controlPrefix}zero_convs.${i}.0.weight`), w(`${controlPrefix}zero_convs.${i}.0.bias`)), inputs.strength);

  let h = add(conv2d(inputs.x, w(`${p}input_blocks.0.0.weight`), w(`${p}input_blocks.0.0.bias`), { padding: 1 }), hint);
  const skips = [zero(0, h)];
  let block = 0;
  for (let level = 0; level < cfg.channelMult.length; level++) {
    for (let r = 0; r < levelResBlocks(cfg, level); r++) {
      block += 1;
      h = resBlockReference(weights, `${p}input_blocks.${block}.0.`, h, emb, cfg.groups);
      const depth = cfg.inputTransformerDepth[block] ?? 0;
      if (depth > 0) h = transformer(`${p}input_blocks.${block}.1.`, h, depth);
      skips.push(zero(block, h));
    }
    if (level !== cfg.channelMult.length - 1) {
      block += 1;
      h = downsampleReference(weights, `${p}input_blocks.${block}.0.`, h);
      skips.push(zero(block, h));
    }
  }
  h = resBlockReference(weights, `${p}middle_block.0.`, h, emb, cfg.groups);
  let mid = 1;
  if (cfg.middleTransformerDepth > 0) {
    h = transformer(`${p}middle_block.1.`, h, cfg.middleTransformerDepth);
    mid = 2;
  }
  h = resBlockReference(weights, `${p}middle_block.${mid}.`, h, emb, cfg.groups);
  const middle = scale(conv2d(h, w(`${controlPrefix}middle_block_out.0.weight`), w(`${controlPrefix}middle_block_out.0.bias`)), inputs.strength);
  return { skips, middle };
}
