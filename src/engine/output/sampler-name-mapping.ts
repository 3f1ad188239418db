/**
 * Sampler and scheduler names as other tools write them, mapped to this project's ids (ComfyUI's and Fooocus's):
 * A1111 labels (`DPM++ 2M Karras` -> dpmpp_2m + karras), ComfyUI and SwarmUI ids, InvokeAI scheduler names
 * (`dpmpp_2m_k`: the `_k` is Karras), NovelAI's and older InvokeAI's k-diffusion names (`k_euler_ancestral`). A
 * name with no equivalent maps to nothing, so the caller lists it as not applied rather than guessing.
 */
import { parseA1111SamplerName, parseA1111ScheduleType } from './sampler-display-names.ts';

/** The engine's sampler ids (engine/sampling/samplers/sampler-registry.ts SAMPLER_NAMES; a test keeps them equal). */
export const SAMPLER_IDS: readonly string[] = [
  'euler', 'euler_ancestral', 'heun', 'dpm_2', 'dpm_2_ancestral', 'dpmpp_2m', 'dpmpp_sde', 'dpmpp_2m_sde', 'dpmpp_3m_sde', 'lcm', 'ddim', 'uni_pc', 'uni_pc_bh2',
];

/** The engine's scheduler ids (engine/sampling/sigmas.ts SCHEDULER_NAMES). */
export const SCHEDULER_IDS: readonly string[] = [
  'normal', 'karras', 'exponential', 'sgm_uniform', 'simple', 'ddim_uniform', 'align_your_steps', 'turbo', 'lcm', 'tcd',
];

/** Names other tools use for the same algorithms (lower case). */
const SAMPLER_ALIASES: Record<string, string> = {
  dpmpp_sde_gpu: 'dpmpp_sde',
  dpmpp_2m_sde_gpu: 'dpmpp_2m_sde',
  dpmpp_3m_sde_gpu: 'dpmpp_3m_sde',
  euler_a: 'euler_ancestral',
  kdpm_2: 'dpm_2',
  kdpm_2_a: 'dpm_2_ancestral',
  dpm_2_a: 'dpm_2_ancestral',
  unipc: 'uni_pc',
  ddim_v3: 'ddim',
};

export interface SamplerMapping {
  sampler: string;
  /** A schedule the name implies (`Karras` in an A1111 label, `_k` in InvokeAI's). */
  scheduler?: string;
}

/** Our sampler for a tool's sampler name, or null when it has no equivalent. */
export function mapSamplerName(name: string): SamplerMapping | null {
  const trimmed = name.trim();
  const lower = trimmed.toLowerCase();
  const direct = toSamplerId(lower);
  if (direct) return { sampler: direct };
  // k-diffusion names (NovelAI, InvokeAI 2): k_euler_ancestral, k_dpmpp_2m.
  if (lower.startsWith('k_')) {
    const id = toSamplerId(lower.slice(2));
    if (id) return { sampler: id };
  }
  // InvokeAI 3+: a `_k` suffix is the Karras schedule (dpmpp_2m_k, euler_k, heun_k).
  if (lower.endsWith('_k')) {
    const id = toSamplerId(lower.slice(0, -2));
    if (id) return { sampler: id, scheduler: 'karras' };
  }
  const a1111 = parseA1111SamplerName(trimmed);
  const id = toSamplerId(a1111.sampler.toLowerCase());
  if (!id) return null;
  return a1111.scheduler ? { sampler: id, scheduler: a1111.scheduler } : { sampler: id };
}

/** Our scheduler for a tool's scheduler name (ComfyUI id or A1111 "Schedule type" label), or null. */
export function mapSchedulerName(name: string): string | null {
  const trimmed = name.trim();
  const lower = trimmed.toLowerCase();
  if (SCHEDULER_IDS.includes(lower)) return lower;
  const id = parseA1111ScheduleType(trimmed);
  if (SCHEDULER_IDS.includes(id)) return id;
  const spaced = lower.replace(/[\s-]+/g, '_');
  return SCHEDULER_IDS.includes(spaced) ? spaced : null;
}

function toSamplerId(lower: string): string | undefined {
  if (SAMPLER_IDS.includes(lower)) return lower;
  return Object.hasOwn(SAMPLER_ALIASES, lower) ? SAMPLER_ALIASES[lower] : undefined;
}
