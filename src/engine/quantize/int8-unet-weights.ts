import type { UnetConfig } from '../models/architecture.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';

/**
 * The UNet weights that run in int8: every linear and convolution weight except the first and last
 * convolutions. Those two see the latent itself (4 channels in, 4 out), cost well under 1% of the FLOPs, and are
 * where a quantization error would reach the sampler undamped.
 */
export function selectInt8UnetWeights(checkpoint: SafetensorsHeader, cfg: UnetConfig): string[] {
  const kept = new Set([`${cfg.prefix}input_blocks.0.0.weight`, `${cfg.prefix}out.2.weight`]);
  const keys: string[] = [];
  for (const [key, info] of checkpoint.tensors) {
    if (!key.startsWith(cfg.prefix) || !key.endsWith('.weight') || kept.has(key)) continue;
    if (info.shape.length === 2 || (info.shape.length === 4 && info.shape[2] === info.shape[3])) keys.push(key);
  }
  return keys;
}
