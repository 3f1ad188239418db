/**
 * Checkpoint inspection: which model family a safetensors file holds and its complete architecture, read from key
 * names and tensor shapes only (sd.cpp's `detect_from_weights` approach), so a tiny test checkpoint and a released
 * SDXL file go through the same code. No tensor data is read except for the SHA-256.
 */
import { readSafetensorsHeader } from '../io/safetensors-reader.ts';
import type { SafetensorsDtype, SafetensorsHeader } from '../io/safetensors-types.ts';
import { sha256File } from '../io/sha256.ts';
import type { CheckpointArchitecture, ClipTextConfig, ModelFamily, UnetConfig } from './architecture.ts';
import { FAMILY_PROFILES, type FamilyProfile, type TextEncoderSlot } from './family-profiles.ts';
import { detectTextEncoder, findTextEncoderSlots } from './text-encoder-detection.ts';
import { TensorShapes } from './tensor-shapes.ts';
import { detectUnet } from './unet-detection.ts';
import { detectVae } from './vae-detection.ts';

/** Every family uses the same UNet and VAE prefixes; only the text towers move between LDM and SGM files. */
const UNET_PREFIX = FAMILY_PROFILES.sd15.unetPrefix;
const VAE_PREFIX = FAMILY_PROFILES.sd15.vaePrefix;

/** Trainable parameters (floating-point elements) per component. Integer buffers such as `position_ids` are not counted. */
export interface ParameterCounts {
  unet: number;
  /** One entry per text encoder, in `architecture.textEncoders` order (the whole tower prefix, `logit_scale` included). */
  textEncoders: number[];
  vae: number;
  /** Floating-point tensors outside the components (EMA copies, training leftovers). */
  other: number;
  total: number;
}

export interface CheckpointInspection {
  file: string;
  /** Lowercase hex SHA-256 of the whole file; null when only the header was inspected. */
  sha256: string | null;
  fileSize: number;
  tensorCount: number;
  /** Number of tensors per element type. */
  dtypes: Partial<Record<SafetensorsDtype, number>>;
  parameterCounts: ParameterCounts;
  architecture: CheckpointArchitecture;
  metadata: Record<string, string>;
}

export interface InspectCheckpointOptions {
  /** Progress of the SHA-256 pass, the only part that reads the whole file. */
  onHashProgress?(bytesDone: number, total: number): void;
  signal?: AbortSignal;
}

const FLOAT_DTYPES: ReadonlySet<SafetensorsDtype> = new Set(['F8_E4M3', 'F8_E5M2', 'F16', 'BF16', 'F32', 'F64']);

function sameSlots(a: readonly TextEncoderSlot[], b: readonly TextEncoderSlot[]): boolean {
  return a.length === b.length && a.every((s, i) => s.prefix === b[i]!.prefix && s.layout === b[i]!.layout);
}

/** The family whose text towers sit exactly at `slots`, or (UNet-only files) the one the UNet's shapes point to. */
function chooseFamily(shapes: TensorShapes, slots: readonly TextEncoderSlot[], unet: UnetConfig | null): ModelFamily {
  if (slots.length > 0) {
    const profile = Object.values(FAMILY_PROFILES).find((f) => sameSlots(f.textEncoders, slots));
    if (profile === undefined) {
      throw shapes.unsupported(`text encoders under ${slots.map((s) => `"${s.prefix}"`).join(', ')} match no known model family`);
    }
    return profile.family;
  }
  if (unet === null) {
    const vaeOnly = shapes.hasPrefix(VAE_PREFIX);
    throw shapes.unsupported(
      vaeOnly
        ? `only a VAE ("${VAE_PREFIX}*"): the model family cannot be told from it`
        : `no UNet ("${UNET_PREFIX}*"), text encoder or VAE ("${VAE_PREFIX}*") tensors: not a Stable Diffusion checkpoint`,
    );
  }
  // Released widths decide; tiny or unusual UNets fall back to the structural hints (ADM, linear projections).
  if (unet.admInChannels !== null) return unet.contextDim === FAMILY_PROFILES['sdxl-refiner'].contextDim ? 'sdxl-refiner' : 'sdxl';
  if (unet.contextDim === FAMILY_PROFILES.sd2x.contextDim || unet.linearProjection) return 'sd2x';
  return 'sd15';
}

/** SDXL-style families need the ADM input; SD1.x/2.x UNets must not have one. */
function checkAdm(shapes: TensorShapes, profile: FamilyProfile, unet: UnetConfig): void {
  const wantsAdm = profile.admValueCount !== null;
  if (wantsAdm && unet.admInChannels === null) throw shapes.unsupported(`missing tensor "${unet.prefix}label_emb.0.0.weight"`);
  if (!wantsAdm && unet.admInChannels !== null) {
    throw shapes.unsupported(`tensor "${unet.prefix}label_emb.0.0.weight" (ADM input) does not belong in a ${profile.family} checkpoint`);
  }
}

function countParameters(header: SafetensorsHeader, textEncoders: readonly ClipTextConfig[], arch: CheckpointArchitecture): ParameterCounts {
  const counts: ParameterCounts = { unet: 0, textEncoders: textEncoders.map(() => 0), vae: 0, other: 0, total: 0 };
  for (const [name, info] of header.tensors) {
    if (!FLOAT_DTYPES.has(info.dtype)) continue;
    const n = info.shape.reduce((a, b) => a * b, 1);
    counts.total += n;
    const text = textEncoders.findIndex((t) => name.startsWith(t.prefix));
    if (arch.unet !== null && name.startsWith(arch.unet.prefix)) counts.unet += n;
    else if (text !== -1) counts.textEncoders[text]! += n;
    else if (arch.vae !== null && name.startsWith(arch.vae.prefix)) counts.vae += n;
    else counts.other += n;
  }
  return counts;
}

/**
 * Detects the family and architecture of a checkpoint from its header. Throws UnsupportedCheckpointError naming
 * the first missing or mis-shaped tensor, or why the parts do not make one known model. Extra keys are tolerated
 * and counted under `other`.
 */
export function inspectHeader(header: SafetensorsHeader): CheckpointInspection {
  const shapes = new TensorShapes(header);
  const slots = findTextEncoderSlots(header.tensors.keys());
  // The head rule is not in the weights: detect with a placeholder, then apply the family's rule.
  const detected = detectUnet(shapes, UNET_PREFIX, { numHeads: 0 });
  const family = chooseFamily(shapes, slots, detected);
  const profile = FAMILY_PROFILES[family];
  const unet = detected === null ? null : { ...detected, attention: profile.unetAttention };
  if (unet !== null) checkAdm(shapes, profile, unet);
  const textEncoders = slots.map((slot) => detectTextEncoder(shapes, slot));
  const vae = detectVae(shapes, VAE_PREFIX);
  const architecture: CheckpointArchitecture = { family, inpaint: unet?.inChannels === 9, unet, textEncoders, vae };

  const dtypes: Partial<Record<SafetensorsDtype, number>> = {};
  for (const info of header.tensors.values()) dtypes[info.dtype] = (dtypes[info.dtype] ?? 0) + 1;
  return {
    file: header.file,
    sha256: null,
    fileSize: header.fileSize,
    tensorCount: header.tensors.size,
    dtypes,
    parameterCounts: countParameters(header, textEncoders, architecture),
    architecture,
    metadata: header.metadata,
  };
}

/** Reads and validates the header, inspects it, then hashes the whole file (streamed, cancellable). */
export async function inspectCheckpoint(file: string, options: InspectCheckpointOptions = {}): Promise<CheckpointInspection> {
  const header = await readSafetensorsHeader(file);
  const inspection = inspectHeader(header);
  const sha256 = await sha256File(file, { onProgress: options.onHashProgress, signal: options.signal });
  return { ...inspection, sha256 };
}
