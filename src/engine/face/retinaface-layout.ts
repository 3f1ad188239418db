/**
 * The layout of a RetinaFace checkpoint (Deng et al. 2019, "RetinaFace: Single-stage Dense Face Localisation in
 * the Wild") with a ResNet-50 body, as in facexlib's `detection_Resnet50_Final.pth` after `models convert`:
 * `body.*` (torchvision ResNet up to layer4), `fpn.*`, `ssh1..3.*`, `ClassHead|BboxHead|LandmarkHead.{0,1,2}.*`,
 * optionally all under `module.` (the file was saved from a DataParallel wrapper). Sizes come from the tensors,
 * so a tiny test file runs through the same code as the real one.
 */
import path from 'node:path';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { FooocusError } from '../errors/fooocus-error.ts';

/** The file does not have RetinaFace's keys or shapes. */
export class RetinaFaceLayoutError extends FooocusError {
  constructor(file: string, detail: string) {
    super('invalid', `${path.basename(file)} is not a RetinaFace ResNet-50 face detector: ${detail}`, { file, rule: 'face-detector' });
  }
}

export interface RetinaFaceLayout {
  /** '' or 'module.' */
  prefix: string;
  /** Bottleneck blocks in layer1..layer4 (ResNet-50: 3, 4, 6, 3). */
  blocks: [number, number, number, number];
  /** Channels of the FPN and SSH outputs (256 in the real file). */
  channels: number;
  /** The FPN and SSH activations' negative slope: 0.1 for narrow models (<= 64 channels), else plain ReLU. */
  leaky: number;
  /** Anchors per feature-map position (2: two box sizes per level). */
  anchors: number;
}

/** Anchor sizes in pixels per pyramid level and the levels' strides (facexlib's `cfg_re50`). */
export const RETINAFACE_PRIORS = {
  minSizes: [
    [16, 32],
    [64, 128],
    [256, 512],
  ],
  steps: [8, 16, 32],
  variance: [0.1, 0.2],
} as const;

export function detectRetinaFaceLayout(header: SafetensorsHeader): RetinaFaceLayout {
  const has = (key: string): boolean => header.tensors.has(key);
  const prefix = has('module.body.conv1.weight') ? 'module.' : '';
  if (!has(`${prefix}body.conv1.weight`)) throw new RetinaFaceLayoutError(header.file, 'it has no "body.conv1.weight"');
  const blocks = [1, 2, 3, 4].map((layer) => {
    let n = 0;
    while (has(`${prefix}body.layer${layer}.${n}.conv1.weight`)) n++;
    if (n === 0) throw new RetinaFaceLayoutError(header.file, `it has no "body.layer${layer}.0.conv1.weight"`);
    return n;
  }) as [number, number, number, number];
  const fpn = header.tensors.get(`${prefix}fpn.output1.0.weight`);
  if (fpn === undefined) throw new RetinaFaceLayoutError(header.file, 'it has no "fpn.output1.0.weight"');
  const channels = fpn.shape[0]!;
  const head = header.tensors.get(`${prefix}ClassHead.0.conv1x1.weight`);
  if (head === undefined) throw new RetinaFaceLayoutError(header.file, 'it has no "ClassHead.0.conv1x1.weight"');
  const anchors = head.shape[0]! / 2;
  if (anchors !== 2) throw new RetinaFaceLayoutError(header.file, `its class head predicts ${head.shape[0]} values per position; two anchors (4 values) expected`);
  if (channels % 4 !== 0) throw new RetinaFaceLayoutError(header.file, `its FPN has ${channels} channels, not a multiple of 4`);
  return { prefix, blocks, channels, leaky: channels <= 64 ? 0.1 : 0, anchors };
}
