/**
 * Turns a set of LoRAs with weights into what the graphs consume: per component, the weight keys that need an
 * adapter slot, and per slot one concatenated low-rank pair. Several LoRAs on one weight stack along the rank
 * axis with their scales folded into `up`:
 *
 *   W x + sum_i s_i up_i (down_i x)  =  W x + [s_1 up_1 | s_2 up_2 | ...] ([down_1; down_2; ...] x)
 *
 * with s_i = weight_i * alpha_i / rank_i. For OpenCLIP's packed q/k/v projection each part's `up` lands in its
 * own rows of the packed output. A slot no LoRA of the set touches gets a rank-1 pair of zeros, which adds
 * exactly zero, so one slotted graph serves every set whose modules it covers.
 */
import path from 'node:path';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import type { CheckpointArchitecture } from '../models/architecture.ts';
import { lowRankInputNames } from '../onnx/graph-builder.ts';
import type { Tensor } from '../tensor.ts';
import type { LoraFile, LoraModule } from './lora-file.ts';
import { listAdapterTargets, type AdapterComponent, type AdapterTarget } from './lora-targets.ts';
import { FooocusError } from '../errors/fooocus-error.ts';

export interface WeightedLora {
  lora: LoraFile;
  /** Strength; 1 applies the LoRA as trained, 0 not at all, negative values invert it. */
  weight: number;
}

/** A LoRA does not fit the checkpoint: modules it cannot place or shapes that disagree, named. */
export class LoraMismatchError extends FooocusError {
  constructor(file: string, detail: string) {
    super('invalid', `${path.basename(file)}: ${detail}`, { file });
  }
}

interface Contribution {
  down: Float32Array; // [rank, fanIn]
  up: Float32Array; // [rows, rank]
  rank: number;
  rowOffset: number;
  rows: number;
  scale: number;
}

export interface AdapterPlan {
  /** Weight keys with at least one contribution, per component. */
  slots: Map<AdapterComponent, Set<string>>;
  /** Feeds for a graph built with `slotKeys` (a superset of this plan's slots for the component). */
  feeds(component: AdapterComponent, slotKeys: ReadonlySet<string>): Record<string, Tensor>;
  /** Number of modules applied, over all LoRAs. */
  modules: number;
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** Fan-in of the target: `in` for a linear, `in * k * k` for a conv. */
function fanIn(target: AdapterTarget): number {
  return product(target.shape.slice(1));
}

function checkShapes(file: string, module: LoraModule, target: AdapterTarget): void {
  const rows = target.rows?.count ?? target.shape[0]!;
  const downTail = module.down.shape.slice(1);
  const wantTail = target.shape.slice(1);
  const downFits = downTail.join() === wantTail.join() || (target.shape.length === 4 && target.shape[2] === 1 && target.shape[3] === 1 && downTail.join() === String(target.shape[1])) || (target.shape.length === 2 && downTail.join() === `${target.shape[1]},1,1`);
  if (!downFits || module.up.shape[0] !== rows) {
    const expected = `down [rank, ${wantTail.join(', ')}] and up [${rows}, rank]`;
    throw new LoraMismatchError(file, `module "${module.sourceKey}" has down [${module.down.shape}] and up [${module.up.shape}], but "${target.key}" [${target.shape}] needs ${expected} (a LoRA for another model family?)`);
  }
}

/** Matches every module of every LoRA to its target weight; throws naming any module that does not fit. */
export function planAdapters(header: SafetensorsHeader, architecture: CheckpointArchitecture, loras: readonly WeightedLora[]): AdapterPlan {
  const targets = listAdapterTargets(header, architecture);
  const contributions = new Map<string, { target: AdapterTarget; parts: Contribution[] }>();
  let modules = 0;
  for (const { lora, weight } of loras) {
    if (!Number.isFinite(weight)) throw new LoraMismatchError(lora.file, `weight ${weight} is not a finite number`);
    const unknown: string[] = [];
    for (const module of lora.modules.values()) {
      const target = targets.get(module.name);
      if (target === undefined) {
        unknown.push(module.sourceKey);
        continue;
      }
      checkShapes(lora.file, module, target);
      const rank = module.down.shape[0]!;
      const entry = contributions.get(target.key) ?? { target, parts: [] };
      entry.parts.push({ down: module.down.data, up: module.up.data, rank, rowOffset: target.rows?.offset ?? 0, rows: target.rows?.count ?? target.shape[0]!, scale: (weight * (module.alpha ?? rank)) / rank });
      contributions.set(target.key, entry);
      modules++;
    }
    if (unknown.length > 0) {
      const shown = unknown.slice(0, 5).map((k) => `"${k}"`).join(', ');
      const more = unknown.length > 5 ? ` and ${unknown.length - 5} more` : '';
      throw new LoraMismatchError(lora.file, `${unknown.length} of ${lora.modules.size} modules match no layer of this ${architecture.family} checkpoint: ${shown}${more} (a LoRA for another model family?)`);
    }
  }

  const slots = new Map<AdapterComponent, Set<string>>();
  for (const { target } of contributions.values()) {
    const set = slots.get(target.component) ?? new Set<string>();
    set.add(target.key);
    slots.set(target.component, set);
  }

  const shapes = new Map<string, AdapterTarget>([...targets.values()].map((t) => [t.key, t]));
  return {
    slots,
    modules,
    feeds(component, slotKeys) {
      const feeds: Record<string, Tensor> = {};
      for (const key of slotKeys) {
        const target = contributions.get(key)?.target ?? shapes.get(key);
        if (target === undefined || target.component !== component) throw new Error(`"${key}" is not an adaptable weight of ${component}`);
        const parts = contributions.get(key)?.parts ?? [];
        const { down, up } = stackPairs(target, parts);
        const names = lowRankInputNames(key);
        feeds[names.down] = down;
        feeds[names.up] = up;
      }
      return feeds;
    },
  };
}

/** One low-rank pair for a slot: the parts stacked along the rank axis, or rank-1 zeros when there are none. */
function stackPairs(target: AdapterTarget, parts: readonly Contribution[]): { down: Tensor; up: Tensor } {
  const fan = fanIn(target);
  const out = target.shape[0]!;
  const total = Math.max(1, parts.reduce((n, p) => n + p.rank, 0));
  const down = new Float32Array(total * fan);
  const up = new Float32Array(out * total);
  let column = 0;
  for (const p of parts) {
    down.set(p.down, column * fan);
    for (let r = 0; r < p.rows; r++) {
      const row = (p.rowOffset + r) * total + column;
      for (let c = 0; c < p.rank; c++) up[row + c] = p.scale * p.up[r * p.rank + c]!;
    }
    column += p.rank;
  }
  const conv = target.kind === 'conv';
  return {
    down: { dims: conv ? [total, ...target.shape.slice(1)] : [total, fan], data: down },
    up: { dims: conv ? [out, total, 1, 1] : [out, total], data: up },
  };
}
