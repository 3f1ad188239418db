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
import type { ComponentHost } from './component-residency.ts';
import { componentRuntimeOptions } from './load-checkpoint.ts';

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
  readonly decoder: ModelSession | null;
  readonly encoder: ModelSession | null;
  /** Builds and releases the decoder and encoder as the pipeline's phases need them. */
  components?: ComponentHost;
}

export interface LoadedVae extends VaeCodec {
  config: VaeConfig;
  /** How many times the decoder and encoder sessions were built (see LoadedCheckpoint.sessionsBuilt). */
  readonly sessionsBuilt: Readonly<Record<VaePart, number>>;
  release(): Promise<void>;
}

type VaePart = 'vae-decoder' | 'vae-encoder';

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
  /** Build the encoder now (default: only when asked for through `components`, as image-to-image does). */
  encoder?: boolean;
  /** Build the decoder now (default true). */
  decoder?: boolean;
  signal?: AbortSignal;
}

/** Builds the VAE's decoder (and encoder) graphs from the file's own tensors, read in place; either part on demand. */
export async function loadVae(header: SafetensorsHeader, options: LoadVaeOptions = {}): Promise<LoadedVae> {
  const config = inspectVaeHeader(header);
  const weightsDir = path.dirname(path.resolve(header.file));
  const sessions = new Map<VaePart, ModelSession>();
  const sessionsBuilt: Record<VaePart, number> = { 'vae-decoder': 0, 'vae-encoder': 0 };
  const has = (part: VaePart): boolean => (part === 'vae-decoder' ? config.hasDecoder : config.hasEncoder);
  const components: ComponentHost = {
    ensureComponents: async (wanted, build = {}) => {
      const missing = (['vae-decoder', 'vae-encoder'] as const).filter((p) => wanted.includes(p) && has(p) && !sessions.has(p));
      for (const [index, part] of missing.entries()) {
        build.signal?.throwIfAborted();
        build.onComponent?.(part, index, missing.length);
        const graph = part === 'vae-decoder' ? buildVaeDecoderGraph(header, config) : buildVaeEncoderGraph(header, config);
        // The same session settings as a checkpoint's own VAE (load-checkpoint.ts: full optimization, no memory pattern).
        sessions.set(part, await createModelSession(encodeOnnxModel(graph), weightsDir, componentRuntimeOptions(part, options.runtime)));
        sessionsBuilt[part]++;
      }
    },
    releaseComponents: async (parts) => {
      for (const part of parts) {
        const session = sessions.get(part as VaePart);
        sessions.delete(part as VaePart);
        await session?.release();
      }
    },
  };
  const release = (): Promise<void> => components.releaseComponents(['vae-decoder', 'vae-encoder']);
  try {
    const now: VaePart[] = [...(options.decoder !== false ? ['vae-decoder' as const] : []), ...(options.encoder === true ? ['vae-encoder' as const] : [])];
    await components.ensureComponents(now, options.signal ? { signal: options.signal } : {});
  } catch (err) {
    await release();
    throw err;
  }
  return {
    name: path.basename(header.file),
    config,
    latentChannels: config.latentChannels,
    get decoder() {
      return sessions.get('vae-decoder') ?? null;
    },
    get encoder() {
      return sessions.get('vae-encoder') ?? null;
    },
    components,
    sessionsBuilt,
    release,
  };
}
