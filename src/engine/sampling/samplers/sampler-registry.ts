import type { Sampler } from '../sampler-types.ts';
import { sampleDdim } from './ddim.ts';
import { sampleDpm2Ancestral } from './dpm-2-ancestral.ts';
import { sampleDpm2 } from './dpm-2.ts';
import { sampleDpmpp2mSde } from './dpmpp-2m-sde.ts';
import { sampleDpmpp2m } from './dpmpp-2m.ts';
import { sampleDpmpp3mSde } from './dpmpp-3m-sde.ts';
import { sampleDpmppSde } from './dpmpp-sde.ts';
import { sampleEulerAncestral } from './euler-ancestral.ts';
import { sampleEuler } from './euler.ts';
import { sampleHeun } from './heun.ts';
import { sampleLcm } from './lcm.ts';
import { sampleUniPc, sampleUniPcBh2 } from './uni-pc.ts';

/** Sampler ids exactly as ComfyUI and Fooocus (`modules/flags.py`) spell them, so presets and metadata port unchanged. */
export const SAMPLER_NAMES = [
  'euler',
  'euler_ancestral',
  'heun',
  'dpm_2',
  'dpm_2_ancestral',
  'dpmpp_2m',
  'dpmpp_sde',
  'dpmpp_2m_sde',
  'dpmpp_3m_sde',
  'lcm',
  'ddim',
  'uni_pc',
  'uni_pc_bh2',
] as const;

export type SamplerName = (typeof SAMPLER_NAMES)[number];

export const SAMPLERS: Readonly<Record<SamplerName, Sampler>> = {
  euler: sampleEuler,
  euler_ancestral: sampleEulerAncestral,
  heun: sampleHeun,
  dpm_2: sampleDpm2,
  dpm_2_ancestral: sampleDpm2Ancestral,
  dpmpp_2m: sampleDpmpp2m,
  dpmpp_sde: sampleDpmppSde,
  dpmpp_2m_sde: sampleDpmpp2mSde,
  dpmpp_3m_sde: sampleDpmpp3mSde,
  lcm: sampleLcm,
  ddim: sampleDdim,
  uni_pc: sampleUniPc,
  uni_pc_bh2: sampleUniPcBh2,
};

/**
 * ComfyUI's `_gpu` samplers differ only in where the Brownian-tree noise is generated; our noise always comes from
 * the run's seeded generator, so they are the same sampler.
 */
export const SAMPLER_ALIASES: Readonly<Record<string, SamplerName>> = {
  dpmpp_sde_gpu: 'dpmpp_sde',
  dpmpp_2m_sde_gpu: 'dpmpp_2m_sde',
  dpmpp_3m_sde_gpu: 'dpmpp_3m_sde',
};

/**
 * Samplers for which ComfyUI's KSampler computes steps + 1 sigmas and drops the penultimate one
 * (`DISCARD_PENULTIMATE_SIGMA_SAMPLERS`); whoever builds the schedule applies it.
 */
export const SAMPLERS_DISCARDING_PENULTIMATE_SIGMA: ReadonlySet<SamplerName> = new Set(['dpm_2', 'dpm_2_ancestral', 'uni_pc', 'uni_pc_bh2']);

/** The canonical id for a sampler name or `_gpu` alias; RangeError naming the valid ids otherwise. */
export function resolveSamplerName(name: string): SamplerName {
  const canonical = Object.hasOwn(SAMPLER_ALIASES, name) ? SAMPLER_ALIASES[name]! : name;
  if (!(SAMPLER_NAMES as readonly string[]).includes(canonical)) {
    throw new RangeError(`unknown sampler "${name}"; valid: ${[...SAMPLER_NAMES, ...Object.keys(SAMPLER_ALIASES)].join(', ')}`);
  }
  return canonical as SamplerName;
}

/** The sampler for a ComfyUI/Fooocus sampler id (`_gpu` aliases accepted). */
export function getSampler(name: string): Sampler {
  return SAMPLERS[resolveSamplerName(name)];
}
