/** Tiny models, pictures and masks for the inpaint pipeline tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GreyMask, InpaintSettings } from '../../../src/engine/inpaint/inpaint-settings.ts';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { inspectHeader } from '../../../src/engine/models/inspect.ts';
import { preparePipelineModel, type PipelineModel } from '../../../src/engine/pipeline/generate.ts';
import { loadCheckpoint, type LoadCheckpointOptions } from '../../../src/engine/pipeline/load-checkpoint.ts';
import type { RgbImage } from '../../../src/engine/rgb-image.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { writeTinyCheckpoint, type TinyCheckpointOptions, type TinyFamily } from '../../fixtures/checkpoints.ts';

export function makeTempDir(tag: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fooocus-inpaint-${tag}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Loads a checkpoint file with every component (byte-level tokenizer, as the other pipeline tests). */
export async function loadModelFile(file: string, name: string, options: Pick<LoadCheckpointOptions, 'unet'> = {}): Promise<{ model: PipelineModel; release(): Promise<void> }> {
  const header = await readSafetensorsHeader(file);
  const { architecture } = inspectHeader(header);
  const loaded = await loadCheckpoint(header, architecture, {
    components: ['unet', 'text', 'vae-decoder', 'vae-encoder'],
    text: architecture.textEncoders.map(() => ({ clipSkip: 1, finalLayerNorm: architecture.family === 'sd15' })),
    runtime: { threads: 2 },
    ...options,
  });
  return { model: preparePipelineModel(name, loaded, ClipTokenizer.byteLevel()), release: () => loaded.release() };
}

export async function writeTinyModel(dir: string, family: TinyFamily, options: TinyCheckpointOptions = {}): Promise<string> {
  return writeTinyCheckpoint(path.join(dir, 'checkpoints'), family, options);
}

/** A picture with structure in every region (gradients and a checker), so a changed pixel shows. */
export function makePicture(width: number, height: number): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      rgb[p] = (x * 255) / (width - 1);
      rgb[p + 1] = (y * 255) / (height - 1);
      rgb[p + 2] = ((x >> 3) + (y >> 3)) % 2 === 0 ? 40 : 220;
    }
  }
  return { width, height, rgb };
}

/** A mask, white inside the rectangle [left, right) x [top, bottom). */
export function rectangleMask(width: number, height: number, box: { left: number; right: number; top: number; bottom: number }): GreyMask {
  const data = new Uint8Array(width * height);
  for (let y = box.top; y < box.bottom; y++) data.fill(255, y * width + box.left, y * width + box.right);
  return { width, height, data };
}

/**
 * Indices of the pixels farther than `reach` (Chebyshev distance) from every white pixel, found by brute force:
 * the pixels the paste-back must leave untouched.
 */
export function pixelsFarFrom(mask: GreyMask, reach: number): number[] {
  const white: [number, number][] = [];
  for (let y = 0; y < mask.height; y++) for (let x = 0; x < mask.width; x++) if (mask.data[y * mask.width + x]! > 127) white.push([x, y]);
  const far: number[] = [];
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (white.every(([wx, wy]) => Math.max(Math.abs(wx - x), Math.abs(wy - y)) > reach)) far.push(y * mask.width + x);
    }
  }
  return far;
}

export function inpaintSettings(overrides: Partial<InpaintSettings> = {}): InpaintSettings {
  return { mask: null, engine: 'latent-blend', maskErode: 0, invertMask: false, padding: null, respectiveField: 0.618, initialLatent: true, workingSize: 64, ...overrides };
}
