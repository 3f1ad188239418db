/**
 * The built-in demo model: a tiny checkpoint in the real SD 1.5 layout with deterministic random weights, so every
 * part of the studio (queue, previews, outputs, metadata) works offline before the user has a real model. Its
 * pictures are abstract noise, and it is named "demo" everywhere it appears. It uses the byte-level vocabulary
 * (its text encoder has 514 token embeddings), which the engine generates, so it needs no tokenizer file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { ClipTokenizer, generateRandomCheckpoint, writeSafetensors, type CheckpointArchitecture } from '../../engine/index.ts';
import { importModel } from '../models/import-model.ts';
import type { ModelStore } from '../models/model-store.ts';

export const DEMO_MODEL_NAME = 'fooocus-ts-demo.safetensors';
const DEMO_SEED = 20261122;

/** SD 1.5's layout at toy sizes: 32-channel UNet with two levels, a 2-layer CLIP-L-style encoder, an 8x VAE. */
export function demoArchitecture(): CheckpointArchitecture {
  const vocabSize = ClipTokenizer.byteLevel().vocabSize;
  return {
    family: 'sd15',
    inpaint: false,
    unet: {
      prefix: 'model.diffusion_model.',
      inChannels: 4,
      outChannels: 4,
      modelChannels: 32,
      channelMult: [1, 2],
      numResBlocks: [1, 1],
      inputTransformerDepth: [0, 1, 0, 1],
      middleTransformerDepth: 1,
      outputTransformerDepth: [1, 1, 1, 1],
      attention: { numHeads: 8 },
      contextDim: 64,
      admInChannels: null,
      linearProjection: false,
      groups: 32,
    },
    textEncoders: [
      {
        layout: 'clip-l',
        prefix: 'cond_stage_model.transformer.text_model.',
        vocabSize,
        maxPositions: 77,
        width: 64,
        layers: 2,
        heads: 1,
        mlpWidth: 256,
        activation: 'quick_gelu',
        projectionDim: null,
      },
    ],
    vae: {
      prefix: 'first_stage_model.',
      baseChannels: 32,
      channelMult: [1, 1, 1, 1],
      numResBlocks: 1,
      latentChannels: 4,
      imageChannels: 3,
      attentionAsLinear: false,
      groups: 32,
      hasEncoder: true,
      hasDecoder: true,
    },
  };
}

/**
 * Puts the demo model into the store when the store has no checkpoint at all (once; the bytes are the same on
 * every machine). Returns the demo's name when it is (or already was) there, else null.
 */
export async function ensureDemoModel(store: ModelStore): Promise<string | null> {
  const checkpoints = (await store.list()).filter((m) => m.kind === 'checkpoints');
  if (checkpoints.some((m) => m.name === DEMO_MODEL_NAME)) return DEMO_MODEL_NAME;
  if (checkpoints.length > 0) return null;
  const dir = await mkdtemp(path.join(store.dir, '.demo-'));
  try {
    const file = path.join(dir, DEMO_MODEL_NAME);
    const tensors = generateRandomCheckpoint(demoArchitecture(), { extras: { clipPositionIds: true, openClipLogitScale: false }, seed: DEMO_SEED, dtype: 'F32' });
    await writeSafetensors(file, tensors, { 'fooocus-ts.demo': 'true', 'fooocus-ts.note': 'random weights: abstract images only' });
    await importModel(store, file, { kind: 'checkpoints', name: DEMO_MODEL_NAME });
    return DEMO_MODEL_NAME;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function isDemoModel(name: string): boolean {
  return name === DEMO_MODEL_NAME;
}
