/**
 * Fooocus's inpaint model files, as the converter writes them (.safetensors, keys kept from the PyTorch file):
 *
 * - the head (`fooocus_inpaint_head.pth`): one tensor `head` [320, 5, 3, 3], a bias-free 3x3 convolution over
 *   [latent mask (1 channel), masked-image latent times the latent scale (4 channels)], its input padded by one
 *   pixel with edge replication. Its output is added to the UNet's conv_in output (the "input block 0" patch),
 *   so it reaches every later layer, the first skip connection included.
 * - the patch (`inpaint_v26.fooocus.patch`): per UNet weight `diffusion_model.<name>` a tuple (uint8 codes, min,
 *   max), stored as `<key>.0` (U8, the weight's shape) and `<key>.1` / `<key>.2` (0-d floats). Fooocus adds
 *   `(u8 / 255) * (max - min) + min` to the weight, like a LoRA at strength 1.
 */
import path from 'node:path';
import { FooocusError } from '../errors/fooocus-error.ts';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../io/safetensors-reader.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import type { CheckpointArchitecture } from '../models/architecture.ts';
import type { WeightPatch } from '../onnx/graph-builder.ts';
import type { Tensor } from '../tensor.ts';

/** An inpaint head or patch file that cannot be used with this model; names the file. */
export class InpaintModelError extends FooocusError {
  constructor(file: string, detail: string) {
    super('invalid', `${path.basename(file)}: ${detail}`, { file });
  }
}

export interface InpaintHead {
  file: string;
  /** [out, 5, 3, 3]: out is the UNet's model channels (320 for SDXL). */
  weight: Float32Array;
  outChannels: number;
}

const HEAD_KEY = 'head';
const HEAD_INPUTS = 5; // latent mask + 4 latent channels
/** The patch's keys are the UNet's state dict keys under the diffusion model; checkpoints add `model.` before them. */
const PATCH_PREFIX = 'diffusion_model.';

/** Cross-attention context widths of the UNets a patch could be made for, at their published sizes. */
const CONTEXT_FAMILIES: Readonly<Record<number, string>> = { 768: 'SD 1.5', 1024: 'SD 2.x', 1280: 'the SDXL refiner', 2048: 'SDXL' };

/**
 * What an inpaint file is, from its tensors alone, as it enters the model store: Fooocus's head or an SDXL inpaint
 * patch. Anything else is refused naming the file and what was expected, as is a patch made for another family:
 * one whose cross-attention takes another published width (768 SD 1.5, 1024 SD 2.x, 1280 the refiner), or with
 * attention at the UNet's first level (`input_blocks.1.1`, which SDXL does not have).
 */
export function checkInpaintFileLayout(header: SafetensorsHeader): 'head' | 'patch' {
  const head = header.tensors.get(HEAD_KEY);
  if (head !== undefined) {
    const [, inputs, kh, kw] = head.shape;
    if (header.tensors.size !== 1 || head.shape.length !== 4 || inputs !== HEAD_INPUTS || kh !== 3 || kw !== 3) {
      throw new InpaintModelError(header.file, `not a Fooocus inpaint head: expected exactly one tensor "${HEAD_KEY}" [channels, ${HEAD_INPUTS}, 3, 3], found ${header.tensors.size} tensors with "${HEAD_KEY}" [${head.shape}]`);
    }
    return 'head';
  }
  const codes = [...header.tensors].filter(([key, info]) => key.endsWith('.0') && info.dtype === 'U8');
  const complete = codes.length > 0 && codes.every(([key]) => key.startsWith(PATCH_PREFIX) && header.tensors.has(`${key.slice(0, -2)}.1`) && header.tensors.has(`${key.slice(0, -2)}.2`));
  if (!complete) {
    throw new InpaintModelError(
      header.file,
      `not a Fooocus inpaint head or patch: expected one tensor "${HEAD_KEY}" [channels, ${HEAD_INPUTS}, 3, 3], or UNet weights "${PATCH_PREFIX}<weight>.0" (U8) each with ".1" and ".2" (min, max)`,
    );
  }
  for (const [key, info] of codes) {
    const width = key.endsWith('.attn2.to_k.weight.0') ? info.shape[1] : undefined;
    const family = width === undefined ? undefined : CONTEXT_FAMILIES[width];
    if (family !== undefined && width !== 2048) throw new InpaintModelError(header.file, `a patch for ${family} (cross-attention width ${width} in "${key}"); the Fooocus inpaint patch is for SDXL base models (width 2048)`);
    if (key.startsWith(`${PATCH_PREFIX}input_blocks.1.1.`)) throw new InpaintModelError(header.file, `a patch for a UNet with attention at its first level ("${key}"), as SD 1.5 and 2.x have; the Fooocus inpaint patch is for SDXL base models`);
  }
  return 'patch';
}

/** Reads the head and checks it fits a UNet of `modelChannels` channels. */
export async function readInpaintHead(file: string, modelChannels: number): Promise<InpaintHead> {
  const header = await readSafetensorsHeader(file);
  const info = header.tensors.get(HEAD_KEY);
  if (info === undefined) throw new InpaintModelError(file, `has no tensor "${HEAD_KEY}": not a Fooocus inpaint head`);
  const [out, inputs, kh, kw] = info.shape;
  if (info.shape.length !== 4 || inputs !== HEAD_INPUTS || kh !== 3 || kw !== 3) {
    throw new InpaintModelError(file, `tensor "${HEAD_KEY}" is [${info.shape}], expected [channels, ${HEAD_INPUTS}, 3, 3]`);
  }
  if (out !== modelChannels) throw new InpaintModelError(file, `the head makes ${out} channels but the model's UNet starts with ${modelChannels} (a head for another model family?)`);
  return { file, weight: await readTensorAsFloat32(header, HEAD_KEY), outChannels: out };
}

/** Reads a 0-d (or one-element) float tensor of the patch. */
async function readScalar(header: SafetensorsHeader, key: string): Promise<number> {
  const info = header.tensors.get(key);
  if (info === undefined) throw new InpaintModelError(header.file, `has no tensor "${key}" (each patched weight needs .0, .1 and .2)`);
  if (info.shape.reduce((a, b) => a * b, 1) !== 1) throw new InpaintModelError(header.file, `tensor "${key}" is [${info.shape}], expected one value`);
  const value = (await readTensorAsFloat32(header, key))[0]!;
  if (!Number.isFinite(value)) throw new InpaintModelError(header.file, `tensor "${key}" is ${value}`);
  return value;
}

/**
 * Reads the patch and matches every entry to the checkpoint's UNet weight of the same name and shape. A patch
 * for another model (an SD 1.5 checkpoint, a different UNet layout) is refused whole, naming the file: applying
 * part of it would give a model that was never trained.
 */
export async function readInpaintPatch(file: string, checkpoint: SafetensorsHeader, architecture: CheckpointArchitecture): Promise<Map<string, WeightPatch>> {
  const header = await readSafetensorsHeader(file);
  if (architecture.family !== 'sdxl' || architecture.unet === null) {
    throw new InpaintModelError(file, `the Fooocus inpaint patch is made for SDXL base models; ${path.basename(checkpoint.file)} is ${architecture.family}`);
  }
  const prefix = architecture.unet.prefix;
  const patches = new Map<string, WeightPatch>();
  const mismatched: string[] = [];
  for (const [key, info] of header.tensors) {
    if (!key.endsWith('.0')) continue;
    const name = key.slice(0, -2);
    if (!name.startsWith(PATCH_PREFIX) || info.dtype !== 'U8') {
      mismatched.push(key);
      continue;
    }
    const target = `${prefix}${name.slice(PATCH_PREFIX.length)}`;
    const weight = checkpoint.tensors.get(target);
    if (weight === undefined || weight.shape.join() !== info.shape.join()) {
      mismatched.push(key);
      continue;
    }
    patches.set(target, { header, key, min: await readScalar(header, `${name}.1`), max: await readScalar(header, `${name}.2`) });
  }
  const orphans = [...header.tensors.keys()].filter((k) => !k.endsWith('.0') && !header.tensors.has(`${k.slice(0, -2)}.0`));
  if (mismatched.length > 0 || orphans.length > 0) {
    const bad = [...mismatched, ...orphans];
    const shown = bad.slice(0, 3).map((k) => `"${k}"`).join(', ');
    throw new InpaintModelError(file, `${bad.length} of ${header.tensors.size} tensors match no UNet weight of ${path.basename(checkpoint.file)} (${shown}${bad.length > 3 ? ', ...' : ''}); a patch for another model?`);
  }
  if (patches.size === 0) throw new InpaintModelError(file, 'holds no patched weights (keys "<weight>.0" of type U8)');
  return patches;
}

/**
 * The head's output for one image: conv3x3 without bias over [mask, latent] padded by edge replication.
 * mask [1, 1, h, w] (0 / 1), latent [1, 4, h, w] (already times the latent scale) -> [1, out, h, w].
 */
export function computeHeadFeature(head: InpaintHead, mask: Tensor, latent: Tensor): Tensor {
  const [, , h, w] = latent.dims as [number, number, number, number];
  const plane = h * w;
  // The five input planes padded by one pixel of edge replication: [5, h + 2, w + 2].
  const pw = w + 2;
  const padPlane = (h + 2) * pw;
  const padded = new Float32Array(HEAD_INPUTS * padPlane);
  for (let c = 0; c < HEAD_INPUTS; c++) {
    const src = c === 0 ? mask.data.subarray(0, plane) : latent.data.subarray((c - 1) * plane, c * plane);
    for (let y = -1; y <= h; y++) {
      const sy = Math.min(h - 1, Math.max(0, y));
      for (let x = -1; x <= w; x++) padded[c * padPlane + (y + 1) * pw + x + 1] = src[sy * w + Math.min(w - 1, Math.max(0, x))]!;
    }
  }
  const out = new Float32Array(head.outChannels * plane);
  for (let o = 0; o < head.outChannels; o++) {
    const acc = out.subarray(o * plane, (o + 1) * plane);
    for (let c = 0; c < HEAD_INPUTS; c++) {
      for (let ky = 0; ky < 3; ky++) {
        for (let kx = 0; kx < 3; kx++) {
          const k = head.weight[((o * HEAD_INPUTS + c) * 3 + ky) * 3 + kx]!;
          if (k === 0) continue;
          for (let y = 0; y < h; y++) {
            const from = c * padPlane + (y + ky) * pw + kx;
            const to = y * w;
            for (let x = 0; x < w; x++) acc[to + x]! += k * padded[from + x]!;
          }
        }
      }
    }
  }
  return { dims: [1, head.outChannels, h, w], data: out };
}
