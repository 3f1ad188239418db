/**
 * What kind of super-resolution network an upscaler file holds, read from its tensor names and shapes alone:
 *
 * - RRDBNet (ESRGAN, Wang et al. 2018; Real-ESRGAN, Wang et al. 2021) in its three key dialects: the original
 *   ESRGAN sequential (`model.0`, `model.1.sub.N.RDBk.convj.0`, ...), ESRGAN's later names (`conv_first`,
 *   `RRDB_trunk.N.RDBk.convj`, `trunk_conv`, `upconvU`, `HRconv`, `conv_last`) and BasicSR's (`conv_first`,
 *   `body.N.rdbk.convj`, `conv_body`, `conv_upU`, `conv_hr`, `conv_last`). Fooocus's own upscaler spells the dense
 *   blocks `residual_block_k` where the others say `RDBk`; it is read with that one substitution.
 *   Real-ESRGAN's x2 (and x1) models take a pixel-unshuffled input: 4x (or 16x) the output channels.
 * - SRVGGNetCompact (Real-ESRGAN's compact models): `body.0` conv, then PReLU / conv pairs, the last conv giving
 *   3 * scale^2 channels for a pixel shuffle.
 *
 * A converted Real-ESRGAN pickle keeps its `params_ema.` / `params.` wrapper as a key prefix; it is accepted.
 * Block count, features, growth channels and scale come from the shapes. Anything else is refused with an
 * UpscalerLayoutError naming the file and the key that is missing or odd.
 */
import path from 'node:path';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { FooocusError } from '../errors/fooocus-error.ts';

/** An upscaler file whose tensors are not a network this engine builds. */
export class UpscalerLayoutError extends FooocusError {
  declare readonly file: string;

  constructor(file: string, detail: string) {
    super('invalid', `${path.basename(file)}: not a supported upscaler (RRDBNet/ESRGAN or SRVGGNetCompact): ${detail}`, { file, rule: 'upscaler-layout' });
  }
}

/** Checkpoint key prefixes (ending in `.`, before `weight` / `bias`) of each RRDBNet layer. */
export interface RrdbKeys {
  first: string;
  /** Block `block` (0-based), dense block `rdb` (1..3), conv `conv` (1..5). */
  dense: (block: number, rdb: number, conv: number) => string;
  trunk: string;
  /** Upsampling conv `index` (1-based). */
  up: (index: number) => string;
  hr: string;
  last: string;
}

export interface RrdbLayout {
  kind: 'rrdb';
  dialect: 'esrgan-sequential' | 'esrgan' | 'basicsr';
  keys: RrdbKeys;
  blocks: number;
  features: number;
  growth: number;
  /** Image channels (3). */
  channels: number;
  /** Nearest-2x + conv stages. */
  upsamples: number;
  /** Pixel-unshuffle factor of the input (1 = none; Real-ESRGAN x2: 2). */
  unshuffle: number;
  /** Output size / input size. */
  scale: number;
}

export interface SrvggLayout {
  kind: 'srvgg';
  prefix: string;
  /** Body convs between the first and the last. */
  convs: number;
  features: number;
  channels: number;
  scale: number;
}

export type UpscalerLayout = RrdbLayout | SrvggLayout;

const WRAPPERS = ['params_ema.', 'params.', ''];

function shapeOf(header: SafetensorsHeader, key: string): number[] | undefined {
  return header.tensors.get(key)?.shape;
}

/** The dense-block spelling the file uses: `RDB`/`rdb`, or Fooocus's `residual_block_`. */
function denseName(header: SafetensorsHeader, probe: (name: string) => string): string | null {
  for (const name of ['RDB', 'rdb', 'residual_block_']) if (header.tensors.has(probe(name))) return name;
  return null;
}

function rrdbKeys(header: SafetensorsHeader, wrap: string): { dialect: RrdbLayout['dialect']; keys: RrdbKeys } | null {
  const sequential = denseName(header, (n) => `${wrap}model.1.sub.0.${n}1.conv1.0.weight`);
  if (sequential !== null && header.tensors.has(`${wrap}model.0.weight`)) {
    // model.0 conv, model.1 the shortcut around the blocks and the trunk conv, then (upsample, conv, act) per stage.
    const upsamples = countWhile((u) => header.tensors.has(`${wrap}model.${3 * u}.weight`));
    return {
      dialect: 'esrgan-sequential',
      keys: {
        first: `${wrap}model.0.`,
        dense: (b, k, j) => `${wrap}model.1.sub.${b}.${sequential}${k}.conv${j}.0.`,
        trunk: `${wrap}model.1.sub.${countBlocks(header, (b) => `${wrap}model.1.sub.${b}.${sequential}1.conv1.0.weight`)}.`,
        up: (u) => `${wrap}model.${3 * u}.`,
        hr: `${wrap}model.${3 * upsamples + 2}.`,
        last: `${wrap}model.${3 * upsamples + 4}.`,
      },
    };
  }
  if (!header.tensors.has(`${wrap}conv_first.weight`)) return null;
  const esrgan = denseName(header, (n) => `${wrap}RRDB_trunk.0.${n}1.conv1.weight`);
  if (esrgan !== null) {
    return {
      dialect: 'esrgan',
      keys: {
        first: `${wrap}conv_first.`,
        dense: (b, k, j) => `${wrap}RRDB_trunk.${b}.${esrgan}${k}.conv${j}.`,
        trunk: `${wrap}trunk_conv.`,
        up: (u) => `${wrap}upconv${u}.`,
        hr: `${wrap}HRconv.`,
        last: `${wrap}conv_last.`,
      },
    };
  }
  const basicsr = denseName(header, (n) => `${wrap}body.0.${n}1.conv1.weight`);
  if (basicsr === null) return null;
  return {
    dialect: 'basicsr',
    keys: {
      first: `${wrap}conv_first.`,
      dense: (b, k, j) => `${wrap}body.${b}.${basicsr}${k}.conv${j}.`,
      trunk: `${wrap}conv_body.`,
      up: (u) => `${wrap}conv_up${u}.`,
      hr: `${wrap}conv_hr.`,
      last: `${wrap}conv_last.`,
    },
  };
}

/** How many consecutive indices from 1 satisfy `present`. */
function countWhile(present: (i: number) => boolean): number {
  let n = 0;
  while (present(n + 1)) n++;
  return n;
}

/** How many consecutive blocks from 0 exist. */
function countBlocks(header: SafetensorsHeader, key: (block: number) => string): number {
  let n = 0;
  while (header.tensors.has(key(n))) n++;
  return n;
}

function detectRrdb(header: SafetensorsHeader, wrap: string): RrdbLayout | null {
  const found = rrdbKeys(header, wrap);
  if (found === null) return null;
  const { keys, dialect } = found;
  const fail = (detail: string): never => {
    throw new UpscalerLayoutError(header.file, detail);
  };
  const first = shapeOf(header, `${keys.first}weight`);
  if (first?.length !== 4) fail(`"${keys.first}weight" is missing or not a conv weight`);
  const [features, inChannels, kh, kw] = first as [number, number, number, number];
  if (kh !== 3 || kw !== 3) fail(`"${keys.first}weight" has a ${kh}x${kw} kernel; only 3x3 ESRGAN convs are supported`);
  const blocks = countBlocks(header, (b) => `${keys.dense(b, 1, 1)}weight`);
  if (blocks === 0) fail(`no dense blocks ("${keys.dense(0, 1, 1)}weight" is missing)`);
  if (header.tensors.has(`${keys.dense(0, 1, 1).replace(/conv1\.(0\.)?$/, '')}conv1x1.weight`)) fail('ESRGAN+ blocks (conv1x1) are not supported');
  const growth = shapeOf(header, `${keys.dense(0, 1, 1)}weight`)![0]!;
  const lastKey = `${keys.last}weight`;
  const last = shapeOf(header, lastKey);
  if (last === undefined) fail(`"${lastKey}" is missing`);
  const channels = last![0]!;
  const upsamples = countWhile((u) => header.tensors.has(`${keys.up(u)}weight`));
  let unshuffle = 1;
  if (inChannels === channels * 4) unshuffle = 2;
  else if (inChannels === channels * 16) unshuffle = 4;
  else if (inChannels !== channels) fail(`"${keys.first}weight" takes ${inChannels} channels and "${lastKey}" gives ${channels}; expected equal, or 4x / 16x (pixel unshuffle)`);
  const scale = 2 ** upsamples / unshuffle;
  if (!Number.isInteger(scale) || scale < 1) fail(`${upsamples} upsampling convs after a ${unshuffle}x pixel unshuffle give no whole scale`);
  if (!header.tensors.has(`${keys.trunk}weight`)) fail(`"${keys.trunk}weight" (the trunk conv after the ${blocks} blocks) is missing`);
  if (!header.tensors.has(`${keys.hr}weight`)) fail(`"${keys.hr}weight" is missing`);
  return { kind: 'rrdb', dialect, keys, blocks, features, growth, channels, upsamples, unshuffle, scale };
}

function detectSrvgg(header: SafetensorsHeader, wrap: string): SrvggLayout | null {
  const first = shapeOf(header, `${wrap}body.0.weight`);
  const act = shapeOf(header, `${wrap}body.1.weight`);
  if (first?.length !== 4 || act?.length !== 1) return null;
  const fail = (detail: string): never => {
    throw new UpscalerLayoutError(header.file, detail);
  };
  const [features, channels] = first as [number, number];
  if (act[0] !== features) fail(`"${wrap}body.1.weight" has ${act[0]} PReLU slopes for ${features} features`);
  // body: conv, act, (conv, act) x convs, conv: the last conv is the highest index, at 2 * convs + 2.
  let lastIndex = 2;
  while (header.tensors.has(`${wrap}body.${lastIndex + 2}.weight`)) lastIndex += 2;
  const convs = (lastIndex - 2) / 2;
  for (let i = 1; i <= convs; i++) {
    for (const [key, rank] of [[`${wrap}body.${2 * i}.weight`, 4], [`${wrap}body.${2 * i + 1}.weight`, 1]] as const) {
      if (shapeOf(header, key)?.length !== rank) fail(`"${key}" is missing or not a ${rank === 4 ? 'conv weight' : 'PReLU slope'}`);
    }
  }
  const lastKey = `${wrap}body.${lastIndex}.weight`;
  const outputs = shapeOf(header, lastKey)?.[0];
  if (outputs === undefined) fail(`"${lastKey}" is missing`);
  const scale = Math.round(Math.sqrt(outputs! / channels));
  if (scale < 1 || scale * scale * channels !== outputs) fail(`"${lastKey}" gives ${outputs} channels, not ${channels} x scale^2`);
  return { kind: 'srvgg', prefix: `${wrap}body.`, convs, features, channels, scale };
}

/** Reads the network type and its sizes from the file's tensors; refuses any other layout. */
export function detectUpscalerLayout(header: SafetensorsHeader): UpscalerLayout {
  for (const wrap of WRAPPERS) {
    const layout = detectRrdb(header, wrap) ?? detectSrvgg(header, wrap);
    if (layout !== null) return layout;
  }
  const sample = [...header.tensors.keys()].slice(0, 3).map((k) => `"${k}"`).join(', ');
  throw new UpscalerLayoutError(
    header.file,
    `found none of "model.0.weight" with "model.1.sub.0.RDB1.conv1.0.weight", "conv_first.weight" with "RRDB_trunk.0.RDB1.conv1.weight" or "body.0.rdb1.conv1.weight", or "body.0.weight" with a PReLU "body.1.weight" (the file starts ${sample || 'with no tensors'})`,
  );
}

/** Multiply-accumulates per input pixel of the network (for throughput figures). */
export function countUpscalerMacs(layout: UpscalerLayout): number {
  if (layout.kind === 'srvgg') {
    const f = layout.features;
    return 9 * (layout.channels * f + layout.convs * f * f + f * layout.channels * layout.scale * layout.scale);
  }
  const { features: f, growth: g, blocks, channels, unshuffle } = layout;
  const lowRes = 1 / (unshuffle * unshuffle); // the trunk runs on the unshuffled grid
  let dense = 0;
  for (let j = 0; j < 5; j++) dense += (f + j * g) * (j === 4 ? f : g);
  let macs = 9 * lowRes * (channels * unshuffle * unshuffle * f + blocks * 3 * dense + f * f);
  let area = lowRes;
  for (let u = 0; u < layout.upsamples; u++) {
    area *= 4;
    macs += 9 * area * f * f;
  }
  return macs + 9 * area * (f * f + f * channels);
}
