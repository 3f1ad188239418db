/**
 * An upscaler model file (the store's `upscalers` kind) as a runnable session: layout from the tensors, graph from
 * the file's keys, weights read in place.
 */
import path from 'node:path';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { buildUpscalerGraph } from '../graphs/upscaler.ts';
import { encodeOnnxModel } from '../onnx/onnx-proto.ts';
import { createModelSession, type ModelSession, type RuntimeOptions } from '../runtime/onnx-runtime.ts';
import { detectUpscalerLayout, type UpscalerLayout } from './upscaler-layout.ts';

export interface LoadedUpscaler {
  name: string;
  layout: UpscalerLayout;
  /** Output size / input size. */
  scale: number;
  session: ModelSession;
  release(): Promise<void>;
}

export async function loadUpscaler(header: SafetensorsHeader, options: { runtime?: RuntimeOptions } = {}): Promise<LoadedUpscaler> {
  const layout = detectUpscalerLayout(header);
  const model = encodeOnnxModel(buildUpscalerGraph(header, layout));
  const session = await createModelSession(model, path.dirname(path.resolve(header.file)), { ...options.runtime, optimization: options.runtime?.optimization ?? 'all' });
  return { name: path.basename(header.file), layout, scale: layout.scale, session, release: () => session.release() };
}
