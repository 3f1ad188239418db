/**
 * A standalone VAE file (Fooocus's `models/vae` folder, ComfyUI's VAELoader): the autoencoder alone, used instead of
 * the checkpoint's own. Such files keep the LDM key names without the checkpoint's `first_stage_model.` prefix
 * (`decoder.conv_in.weight`); some are cut from a checkpoint and keep it, so both layouts are read.
 */
import path from 'node:path';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { buildVaeDecoderGraph, buildVaeEncoderGraph } from '../graphs/vae.ts';
import { encodeOnnxModel } from '../onnx/onnx-proto.ts';
import { createModelSession, type ModelSession, type RuntimeOptions } from '../runtime/onnx-runtime.ts';
import type { VaeConfig } from '../models/architecture.ts';
import { UnsupportedCheckpointError } from '../models/checkpoint-errors.ts';
import { getFamilyProfile } from '../models/family-profiles.ts';
import type { ModelFamily } from '../models/architecture.ts';
import { TensorShapes } from '../models/tensor-shapes.ts';
import { detectVae } from '../models/vae-detection.ts';
import { FooocusError } from '../errors/fooocus-error.ts';

const CHECKPOINT_VAE_PREFIX = 'first_stage_model.';

/** A VAE whose latent space is not the model family's: its decoder would read the latent as the wrong shape. */
export class VaeMismatchError extends FooocusError {
  declare readonly file: string;

  constructor(file: string, message: string) {
    super('invalid', message, { file });
  }
}

/** The autoencoder the pipeline decodes with (and encodes input images with), when not the checkpoint's own. */
export interface VaeCodec {
  name: string;
  latentChannels: number;
  decoder: ModelSession | null;
  encoder: ModelSession | null;
}

export interface LoadedVae extends VaeCodec {
  config: VaeConfig;
  release(): Promise<void>;
}

/** Reads a standalone VAE file's configuration from its tensor shapes; refuses a file that holds no autoencoder. */
export function inspectVaeHeader(header: SafetensorsHeader): VaeConfig {
  const shapes = new TensorShapes(header);
  const prefix = shapes.has(`${CHECKPOINT_VAE_PREFIX}decoder.conv_in.weight`) || shapes.has(`${CHECKPOINT_VAE_PREFIX}encoder.conv_in.weight`) ? CHECKPOINT_VAE_PREFIX : '';
  if (!shapes.has(`${prefix}decoder.conv_in.weight`) && !shapes.has(`${prefix}encoder.conv_in.weight`)) {
    throw new UnsupportedCheckpointError(header.file, 'not a VAE file: it has neither "decoder.conv_in.weight" nor "encoder.conv_in.weight"');
  }
  return detectVae(shapes, prefix)!;
}

/** Refuses a VAE whose latent channels differ from the family's (an SD3/Flux 16-channel VAE on SDXL, say). */
export function checkVaeFamily(file: string, latentChannels: number, family: ModelFamily): void {
  const profile = getFamilyProfile(family);
  if (latentChannels !== profile.latentChannels) {
    throw new VaeMismatchError(
      file,
      `${path.basename(file)}: this VAE has ${latentChannels} latent channels and ${profile.label} models use ${profile.latentChannels}; choose a VAE made for ${profile.label}`,
    );
  }
}

export interface LoadVaeOptions {
  runtime?: RuntimeOptions;
  /** Also build the encoder (image-to-image); the decoder is always built when the file has one. */
  encoder?: boolean;
  signal?: AbortSignal;
}

/** Builds the VAE's decoder (and encoder) graphs from the file's own tensors, read in place. */
export async function loadVae(header: SafetensorsHeader, options: LoadVaeOptions = {}): Promise<LoadedVae> {
  const config = inspectVaeHeader(header);
  const weightsDir = path.dirname(path.resolve(header.file));
  // The conv-heavy VAE gains from ONNX Runtime's full optimization at no build cost (see load-checkpoint.ts).
  const runtime: RuntimeOptions = { ...options.runtime, optimization: options.runtime?.optimization ?? 'all' };
  const sessions: ModelSession[] = [];
  try {
    options.signal?.throwIfAborted();
    const decoder = config.hasDecoder ? await createModelSession(encodeOnnxModel(buildVaeDecoderGraph(header, config)), weightsDir, runtime) : null;
    if (decoder) sessions.push(decoder);
    options.signal?.throwIfAborted();
    const encoder = options.encoder !== false && config.hasEncoder ? await createModelSession(encodeOnnxModel(buildVaeEncoderGraph(header, config)), weightsDir, runtime) : null;
    if (encoder) sessions.push(encoder);
    return {
      name: path.basename(header.file),
      config,
      latentChannels: config.latentChannels,
      decoder,
      encoder,
      release: async () => {
        await Promise.all(sessions.map((s) => s.release()));
      },
    };
  } catch (err) {
    await Promise.all(sessions.map((s) => s.release()));
    throw err;
  }
}
