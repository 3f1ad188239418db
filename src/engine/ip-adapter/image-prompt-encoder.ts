/**
 * Turns an image into an image prompt the UNet takes (image-guidance.ts): the CLIP vision encoder's penultimate
 * features, the IP-Adapter's Resampler to image tokens, and the tokens' keys and values for every cross-attention
 * layer. The unconditional side is Fooocus's `fooocus_ip_negative.safetensors` (a `data` tensor of vision features)
 * through the same Resampler and projections, computed once per adapter.
 */
import path from 'node:path';
import { ipAdapterLayerOrder } from '../graphs/decoupled-attention.ts';
import { buildClipVisionGraph } from '../graphs/clip-vision.ts';
import { buildIpKeyValueGraph } from '../graphs/ip-key-value.ts';
import { buildResamplerGraph } from '../graphs/ip-resampler.ts';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../io/safetensors-reader.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import type { UnetConfig } from '../models/architecture.ts';
import { encodeOnnxModel, type OnnxModel } from '../onnx/onnx-proto.ts';
import type { AdapterKeysValues, AdapterPromptType, GuidanceWindow, ImagePromptEmbedding } from '../pipeline/image-guidance.ts';
import type { RgbImage } from '../rgb-image.ts';
import { createModelSession, type ModelSession, type RuntimeOptions } from '../runtime/onnx-runtime.ts';
import type { Tensor } from '../tensor.ts';
import { preprocessClipImage } from './clip-image-preprocess.ts';
import { ImagePromptModelError } from './image-prompt-model-error.ts';
import { detectIpAdapter, type IpAdapterConfig } from './ip-adapter-layout.ts';
import { detectVisionEncoder, type VisionEncoderConfig } from './vision-encoder-layout.ts';

export interface ImagePromptModelFiles {
  visionEncoder: string;
  adapter: string;
  /** Fooocus's unconditional image features. */
  negative: string;
}

export interface ImagePromptEncoder {
  encode(image: RgbImage, type: AdapterPromptType, window: GuidanceWindow): Promise<ImagePromptEmbedding>;
  release(): Promise<void>;
}

/** The adapter must have been trained for this UNet: one projection per cross-attention layer, of its width. */
export function checkAdapterFitsUnet(adapter: IpAdapterConfig, unet: UnetConfig, unetLayerWidths: readonly number[], file: string): void {
  const layers = ipAdapterLayerOrder(unet).length;
  if (adapter.resampler.outputWidth !== unet.contextDim || adapter.layerWidths.length !== layers || adapter.layerWidths.some((w, i) => w !== unetLayerWidths[i])) {
    throw new ImagePromptModelError(
      file,
      `this IP-Adapter is for a UNet with ${adapter.layerWidths.length} cross-attention layers and ${adapter.resampler.outputWidth}-wide context; ` +
        `the model has ${layers} layers and ${unet.contextDim}-wide context (an adapter of another model family?)`,
    );
  }
}

async function readNegativeFeatures(file: string, vision: VisionEncoderConfig): Promise<Tensor> {
  const header = await readSafetensorsHeader(file);
  const shape = header.tensors.get('data')?.shape;
  if (shape === undefined || shape.join() !== [1, vision.tokens, vision.width].join()) {
    throw new ImagePromptModelError(file, `"data" ${shape === undefined ? 'is missing' : `has shape [${shape}]`}, expected [1, ${vision.tokens}, ${vision.width}] (the vision encoder's features)`);
  }
  return { dims: shape, data: await readTensorAsFloat32(header, 'data') };
}

async function openSession(model: OnnxModel, header: SafetensorsHeader, runtime: RuntimeOptions): Promise<ModelSession> {
  return createModelSession(encodeOnnxModel(model), path.dirname(header.file), runtime);
}

export interface ImagePromptEncoderOptions {
  runtime?: RuntimeOptions;
  /** Head count and activation of a vision tower of unpublished width (see detectVisionEncoder). */
  visionOverrides?: Parameters<typeof detectVisionEncoder>[1];
}

/** `unetLayerWidths`: the width of each cross-attention layer of the UNet, in ipAdapterLayerOrder. */
export async function loadImagePromptEncoder(files: ImagePromptModelFiles, unet: UnetConfig, unetLayerWidths: readonly number[], options: ImagePromptEncoderOptions = {}): Promise<ImagePromptEncoder> {
  const runtime = options.runtime ?? {};
  const visionHeader = await readSafetensorsHeader(files.visionEncoder);
  const vision = detectVisionEncoder(visionHeader, options.visionOverrides);
  const adapterHeader = await readSafetensorsHeader(files.adapter);
  const adapter = detectIpAdapter(adapterHeader);
  if (adapter.resampler.inputWidth !== vision.width) {
    throw new ImagePromptModelError(files.adapter, `this IP-Adapter reads ${adapter.resampler.inputWidth}-wide vision features; ${path.basename(files.visionEncoder)} gives ${vision.width}-wide ones`);
  }
  checkAdapterFitsUnet(adapter, unet, unetLayerWidths, files.adapter);
  const negativeFeatures = await readNegativeFeatures(files.negative, vision);
  const sessions: ModelSession[] = [];
  try {
    const visionSession = await openSession(buildClipVisionGraph(visionHeader, vision), visionHeader, runtime);
    sessions.push(visionSession);
    const resampler = await openSession(buildResamplerGraph(adapterHeader, adapter.resampler), adapterHeader, runtime);
    sessions.push(resampler);
    const keyValues = await openSession(buildIpKeyValueGraph(adapterHeader, adapter), adapterHeader, runtime);
    sessions.push(keyValues);
    const project = async (features: Tensor): Promise<AdapterKeysValues> => {
      const tokens = (await resampler.run({ image_embeds: features })).image_tokens!;
      const out = await keyValues.run({ image_tokens: tokens });
      return { keys: adapter.layerWidths.map((_, i) => out[`k.${i}`]!), values: adapter.layerWidths.map((_, i) => out[`v.${i}`]!) };
    };
    const negative = await project(negativeFeatures);
    return {
      encode: async (image, type, window) => {
        const features = (await visionSession.run({ pixel_values: preprocessClipImage(image, vision.imageSize) })).hidden!;
        return { type, stopAt: window.stopAt, weight: window.weight, positive: await project(features), negative };
      },
      release: async () => {
        for (const s of sessions) await s.release();
      },
    };
  } catch (err) {
    for (const s of sessions) await s.release();
    throw err;
  }
}
