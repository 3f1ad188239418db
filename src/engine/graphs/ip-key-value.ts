/**
 * The image tokens' keys and values for every cross-attention layer (IP-Adapter's `to_k_ip` / `to_v_ip`, no bias),
 * computed once per image prompt and fed to the UNet graph as inputs (decoupled-attention.ts).
 *
 * Input:   image_tokens [B, T, context width]
 * Outputs: k.<i>, v.<i> [B, T, layer width] for each layer i in the IP-Adapter's order
 */
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { ipLayerKey, type IpAdapterConfig } from '../ip-adapter/ip-adapter-layout.ts';
import { GraphBuilder } from '../onnx/graph-builder.ts';
import type { OnnxModel } from '../onnx/onnx-proto.ts';
import { projectLastAxis } from './layers.ts';

export function buildIpKeyValueGraph(checkpoint: SafetensorsHeader, cfg: IpAdapterConfig): OnnxModel {
  const g = new GraphBuilder('ip-key-value', checkpoint);
  const width = cfg.resampler.outputWidth;
  const tokens = g.input('image_tokens', 'float32', ['batch', 'tokens', width]);
  cfg.layerWidths.forEach((layerWidth, i) => {
    for (const which of ['k', 'v'] as const) {
      const w = g.weight(ipLayerKey(i, which), [layerWidth, width]);
      g.output(projectLastAxis(g, tokens, w, null, layerWidth, width), `${which}.${i}`, 'float32', ['batch', 'tokens', layerWidth]);
    }
  });
  return g.build({ 'fooocus.graph': 'ip-key-value' });
}
