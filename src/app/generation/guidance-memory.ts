/**
 * What `runtime.memory: auto` must count for a job with image prompts or PyraCanny/CPDS besides the base model's
 * phases: the sessions the image prompt and control runners build and keep while the job samples. Read from the
 * files' safetensors headers (shapes only, no weights), in fp32 bytes like the base model's components:
 * - one guided UNet (a second copy of the base UNet's weights, built with the image prompt and/or control residual
 *   inputs the job uses: the guided-UNet cache builds one graph for both kinds);
 * - IP-Adapter prompts: the vision encoder, each adapter (Resampler and per-layer K/V), the unconditional
 *   embedding, the face detector;
 * - control prompts: per control type a ControlNet, which copies the base UNet's encoder half (time and label
 *   embeddings, input blocks, middle block) and adds the control-LoRA file's own tensors (counted whole: its
 *   low-rank factors are merged, not kept, so this errs on the side of `per-phase`).
 */
import { readSafetensorsHeader, type SafetensorsHeader } from '../../engine/index.ts';
import type { VerifiedFile } from './image-prompt-runner.ts';

export interface GuidanceFiles {
  /** The base checkpoint and its UNet's key prefix (`model.diffusion_model.`). */
  base: { path: string; unetPrefix: string };
  /** The IP-Adapter files the job's image prompts use; none without IP-Adapter prompts. */
  imagePromptFiles: readonly VerifiedFile[];
  /** One control-LoRA file per control type the job uses. */
  controlFiles: readonly VerifiedFile[];
}

/** The parts of the UNet a ControlNet is a copy of. */
const ENCODER_PARTS = ['time_embed.', 'label_emb.', 'input_blocks.', 'middle_block.'];

export function countFp32Bytes(header: SafetensorsHeader, keep: (name: string) => boolean = () => true): number {
  let bytes = 0;
  for (const [name, info] of header.tensors) if (keep(name)) bytes += info.shape.reduce((a, b) => a * b, 1) * 4;
  return bytes;
}

/** fp32 bytes the job's image prompt and control sessions hold beyond the base model's phases; 0 for a plain job. */
export async function measureGuidanceBytes(files: GuidanceFiles, readHeader: (file: string) => Promise<SafetensorsHeader> = readSafetensorsHeader): Promise<number> {
  const adapters = files.imagePromptFiles.length > 0;
  const controls = files.controlFiles.length > 0;
  if (!adapters && !controls) return 0;
  const prefix = files.base.unetPrefix;
  const baseHeader = await readHeader(files.base.path);
  const unet = countFp32Bytes(baseHeader, (name) => name.startsWith(prefix));
  const encoderHalf = countFp32Bytes(baseHeader, (name) => name.startsWith(prefix) && ENCODER_PARTS.some((p) => name.startsWith(p, prefix.length)));
  let bytes = unet;
  if (adapters) {
    for (const f of new Map(files.imagePromptFiles.map((v) => [v.sha256, v])).values()) bytes += countFp32Bytes(await readHeader(f.path));
  }
  if (controls) {
    for (const f of files.controlFiles) bytes += encoderHalf + countFp32Bytes(await readHeader(f.path));
  }
  return bytes;
}
