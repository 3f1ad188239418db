/**
 * Which checkpoint weight each LoRA module name adapts. LoRA files name modules in three dialects: kohya/A1111
 * (`lora_unet_<path with underscores>`, `lora_te1_…`), diffusers (`unet.down_blocks.1.attentions.0…`) and PEFT
 * (the diffusers path, `lora_A`/`lora_B`). Kohya SD1.5 files use diffusers module paths and kohya SDXL files the
 * original LDM paths, so every UNet weight is listed under both. Names are compared in one canonical form: the
 * kohya spelling (dots to underscores), which `canonicalModuleName` produces from any dialect.
 */
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import type { CheckpointArchitecture, ClipTextConfig, UnetConfig } from '../models/architecture.ts';

/** A graph an adapter can change: the UNet or one text encoder (index in `architecture.textEncoders`). */
export type AdapterComponent = 'unet' | `text${number}`;

export interface AdapterTarget {
  component: AdapterComponent;
  /** The checkpoint weight the module adapts. */
  key: string;
  /** `linear`: weight [out, in]; `conv`: weight [out, in, k, k]. */
  kind: 'linear' | 'conv';
  shape: readonly number[];
  /** For q, k and v inside OpenCLIP's packed in_proj: the rows of the weight this module covers. */
  rows: { offset: number; count: number } | null;
}

const underscored = (path: string): string => path.replace(/\./g, '_');

/** LDM block prefixes of a UNet and their diffusers names, walking the blocks as the graph builder does. */
function unetBlockNames(cfg: UnetConfig): [ldm: string, diffusers: string, resnet: boolean][] {
  const names: [string, string, boolean][] = [
    ['time_embed.0.', 'time_embedding.linear_1.', false],
    ['time_embed.2.', 'time_embedding.linear_2.', false],
    ['label_emb.0.0.', 'add_embedding.linear_1.', false],
    ['label_emb.0.2.', 'add_embedding.linear_2.', false],
    ['input_blocks.0.0.', 'conv_in.', false],
    ['out.2.', 'conv_out.', false],
  ];
  const levels = cfg.channelMult.length;
  let block = 1;
  for (let level = 0; level < levels; level++) {
    for (let r = 0; r < cfg.numResBlocks[level]!; r++, block++) {
      names.push([`input_blocks.${block}.0.`, `down_blocks.${level}.resnets.${r}.`, true]);
      names.push([`input_blocks.${block}.1.`, `down_blocks.${level}.attentions.${r}.`, false]);
    }
    if (level < levels - 1) names.push([`input_blocks.${block++}.0.op.`, `down_blocks.${level}.downsamplers.0.conv.`, false]);
  }
  const mid = cfg.middleTransformerDepth > 0 ? ['resnets.0.', 'attentions.0.', 'resnets.1.'] : ['resnets.0.', 'resnets.1.'];
  mid.forEach((name, i) => names.push([`middle_block.${i}.`, `mid_block.${name}`, name.startsWith('resnets')]));
  let out = 0;
  for (let level = levels - 1; level >= 0; level--) {
    const up = levels - 1 - level;
    const blocks = cfg.numResBlocks[level]! + 1;
    for (let r = 0; r < blocks; r++, out++) {
      names.push([`output_blocks.${out}.0.`, `up_blocks.${up}.resnets.${r}.`, true]);
      const hasAttention = (cfg.outputTransformerDepth[out] ?? 0) > 0;
      if (hasAttention) names.push([`output_blocks.${out}.1.`, `up_blocks.${up}.attentions.${r}.`, false]);
      if (level > 0 && r === blocks - 1) names.push([`output_blocks.${out}.${hasAttention ? 2 : 1}.conv.`, `up_blocks.${up}.upsamplers.0.conv.`, false]);
    }
  }
  return names.sort((a, b) => b[0].length - a[0].length); // longest prefix first
}

const RESNET_INNER: [string, string][] = [
  ['in_layers.2.', 'conv1.'],
  ['out_layers.3.', 'conv2.'],
  ['emb_layers.1.', 'time_emb_proj.'],
  ['skip_connection.', 'conv_shortcut.'],
];

/** The diffusers module path of an LDM UNet module path (`input_blocks.4.1.proj_in` -> `down_blocks.1.attentions.0.proj_in`). */
export function diffusersUnetPath(ldmModule: string, cfg: UnetConfig): string | null {
  const path = `${ldmModule}.`;
  for (const [ldm, diffusers, resnet] of unetBlockNames(cfg)) {
    if (!path.startsWith(ldm)) continue;
    let rest = path.slice(ldm.length);
    if (resnet) {
      const inner = RESNET_INNER.find(([from]) => rest.startsWith(from));
      if (inner === undefined) return null;
      rest = inner[1] + rest.slice(inner[0].length);
    }
    return `${diffusers}${rest}`.replace(/\.$/, '');
  }
  return null;
}

function addTarget(map: Map<string, AdapterTarget>, names: readonly string[], target: AdapterTarget): void {
  for (const name of names) map.set(name, target);
}

function unetTargets(map: Map<string, AdapterTarget>, header: SafetensorsHeader, cfg: UnetConfig): void {
  for (const [key, info] of header.tensors) {
    if (!key.startsWith(cfg.prefix) || !key.endsWith('.weight') || (info.shape.length !== 2 && info.shape.length !== 4)) continue;
    const ldm = key.slice(cfg.prefix.length, -'.weight'.length);
    const diffusers = diffusersUnetPath(ldm, cfg);
    const names = [`lora_unet_${underscored(ldm)}`];
    if (diffusers !== null) names.push(`lora_unet_${underscored(diffusers)}`);
    addTarget(map, names, { component: 'unet', key, kind: info.shape.length === 2 ? 'linear' : 'conv', shape: info.shape, rows: null });
  }
}

/** Kohya prefixes for the text encoder at `index` of an architecture with `count` encoders. */
function textPrefixes(index: number, count: number, layout: ClipTextConfig['layout']): string[] {
  if (count === 2) return index === 0 ? ['lora_te1_'] : ['lora_te2_'];
  return layout === 'clip-l' ? ['lora_te_', 'lora_te1_'] : ['lora_te_', 'lora_te2_'];
}

const OPEN_CLIP_TO_HF: [RegExp, string][] = [
  [/^transformer\.resblocks\.(\d+)\.attn\.out_proj\.weight$/, 'text_model.encoder.layers.$1.self_attn.out_proj'],
  [/^transformer\.resblocks\.(\d+)\.mlp\.c_fc\.weight$/, 'text_model.encoder.layers.$1.mlp.fc1'],
  [/^transformer\.resblocks\.(\d+)\.mlp\.c_proj\.weight$/, 'text_model.encoder.layers.$1.mlp.fc2'],
];

function textTargets(map: Map<string, AdapterTarget>, header: SafetensorsHeader, cfg: ClipTextConfig, index: number, count: number): void {
  const prefixes = textPrefixes(index, count, cfg.layout);
  const component: AdapterComponent = `text${index}`;
  const named = (hfModule: string): string[] => prefixes.map((p) => `${p}${underscored(hfModule)}`);
  for (const [key, info] of header.tensors) {
    if (!key.startsWith(cfg.prefix) || info.shape.length !== 2) continue;
    const local = key.slice(cfg.prefix.length);
    const target = { component, key, kind: 'linear', shape: info.shape, rows: null } as const;
    if (cfg.layout === 'clip-l') {
      if (/^encoder\.layers\.\d+\.(self_attn\.(q|k|v|out)_proj|mlp\.fc[12])\.weight$/.test(local)) addTarget(map, named(`text_model.${local.slice(0, -'.weight'.length)}`), target);
      continue;
    }
    const packed = /^transformer\.resblocks\.(\d+)\.attn\.in_proj_weight$/.exec(local);
    if (packed !== null) {
      const width = info.shape[1]!;
      (['q', 'k', 'v'] as const).forEach((part, i) => {
        addTarget(map, named(`text_model.encoder.layers.${packed[1]}.self_attn.${part}_proj`), { ...target, rows: { offset: i * width, count: width } });
      });
      continue;
    }
    for (const [pattern, hf] of OPEN_CLIP_TO_HF) {
      if (pattern.test(local)) addTarget(map, named(local.replace(pattern, hf)), target);
    }
  }
}

/** Every module name (canonical form) a LoRA may use for this checkpoint, with the weight it adapts. */
export function listAdapterTargets(header: SafetensorsHeader, architecture: CheckpointArchitecture): Map<string, AdapterTarget> {
  const map = new Map<string, AdapterTarget>();
  if (architecture.unet !== null) unetTargets(map, header, architecture.unet);
  architecture.textEncoders.forEach((cfg, i) => textTargets(map, header, cfg, i, architecture.textEncoders.length));
  return map;
}

const DIFFUSERS_UNET_ROOTS = /^(down_blocks|mid_block|up_blocks|conv_in|conv_out|time_embedding|add_embedding)\b/;

/**
 * The canonical (kohya) spelling of a module name from any dialect: `unet.down_blocks.0.attentions.0.proj_in`,
 * `base_model.model.down_blocks…`, `text_encoder_2.text_model…` and the attention-processor form
 * `…attn1.processor.to_q_lora` all become `lora_unet_…` / `lora_te1_…` / `lora_te2_…` names.
 */
export function canonicalModuleName(module: string): string {
  if (/^lora_(unet|te\d?)_/.test(module)) return module;
  let path = module.replace(/^base_model\.model\./, '');
  path = path.replace(/\.processor\.(to_[qkv])_lora$/, '.$1').replace(/\.processor\.to_out_lora$/, '.to_out.0');
  const roots: [RegExp, string][] = [
    [/^unet\./, 'lora_unet_'],
    [/^text_encoder_2\./, 'lora_te2_'],
    [/^text_encoder\./, 'lora_te1_'],
  ];
  for (const [root, kohya] of roots) if (root.test(path)) return kohya + underscored(path.replace(root, ''));
  if (DIFFUSERS_UNET_ROOTS.test(path)) return `lora_unet_${underscored(path)}`;
  if (path.startsWith('text_model.')) return `lora_te1_${underscored(path)}`;
  return underscored(path);
}
