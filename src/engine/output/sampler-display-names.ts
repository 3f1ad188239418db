/**
 * Sampler and scheduler names as A1111 (and Civitai) write them. The sampler table follows Fooocus
 * `modules/flags.py` (KSAMPLER / SAMPLER_EXTRA, "fooocus: a1111 (Civitai)"); where Fooocus leaves a name empty
 * (dpmpp_3m_sde) A1111's own label is used so A1111 can read it. Like Fooocus, the Karras schedule is folded into
 * the sampler name ("DPM++ 2M SDE Karras") except for samplers A1111 never pairs with it (CIVITAI_NO_KARRAS).
 */
const SAMPLER_LABELS: Record<string, string> = {
  euler: 'Euler',
  euler_ancestral: 'Euler a',
  heun: 'Heun',
  dpm_2: 'DPM2',
  dpm_2_ancestral: 'DPM2 a',
  lms: 'LMS',
  dpm_fast: 'DPM fast',
  dpm_adaptive: 'DPM adaptive',
  dpmpp_2s_ancestral: 'DPM++ 2S a',
  dpmpp_sde: 'DPM++ SDE',
  dpmpp_sde_gpu: 'DPM++ SDE',
  dpmpp_2m: 'DPM++ 2M',
  dpmpp_2m_sde: 'DPM++ 2M SDE',
  dpmpp_2m_sde_gpu: 'DPM++ 2M SDE',
  dpmpp_3m_sde: 'DPM++ 3M SDE',
  dpmpp_3m_sde_gpu: 'DPM++ 3M SDE',
  lcm: 'LCM',
  tcd: 'TCD',
  restart: 'Restart',
  ddim: 'DDIM',
  uni_pc: 'UniPC',
  uni_pc_bh2: 'UniPC',
};

const NO_KARRAS_SUFFIX = new Set(['euler', 'euler_ancestral', 'heun', 'dpm_fast', 'dpm_adaptive', 'ddim', 'uni_pc', 'uni_pc_bh2']);

/** A1111 `sd_schedulers.py` labels ("Schedule type") for the schedulers both projects share. */
const SCHEDULE_TYPE_LABELS: Record<string, string> = {
  karras: 'Karras',
  exponential: 'Exponential',
  sgm_uniform: 'SGM Uniform',
  simple: 'Simple',
  normal: 'Normal',
  ddim_uniform: 'DDIM',
  align_your_steps: 'Align Your Steps',
  turbo: 'Turbo',
};

/** Suffixes older A1111 versions put on sampler names instead of a separate "Schedule type". */
const SCHEDULE_SUFFIXES: [string, string][] = [
  [' Karras', 'karras'],
  [' Exponential', 'exponential'],
];

/** "DPM++ 2M SDE Karras" for dpmpp_2m_sde + karras; an id without a label is written as the id. */
export function formatA1111SamplerName(sampler: string, scheduler: string): string {
  const label = Object.hasOwn(SAMPLER_LABELS, sampler) ? SAMPLER_LABELS[sampler]! : sampler;
  if (label === sampler) return sampler;
  return scheduler === 'karras' && !NO_KARRAS_SUFFIX.has(sampler) ? `${label} Karras` : label;
}

/**
 * Sampler id (and the schedule a suffix implies) for an A1111 sampler name. Ids are accepted as they are (Fooocus
 * writes unlabelled samplers that way); a name no table knows is returned unchanged for the caller to judge.
 */
export function parseA1111SamplerName(name: string): { sampler: string; scheduler?: string } {
  const trimmed = name.trim();
  if (Object.hasOwn(SAMPLER_LABELS, trimmed)) return { sampler: trimmed };
  for (const [suffix, scheduler] of SCHEDULE_SUFFIXES) {
    if (trimmed.endsWith(suffix)) {
      const sampler = findSamplerId(trimmed.slice(0, -suffix.length));
      if (sampler) return { sampler, scheduler };
    }
  }
  return { sampler: findSamplerId(trimmed) ?? trimmed };
}

/** Scheduler id for an A1111 "Schedule type" label (or an id); unknown labels come back unchanged. */
export function parseA1111ScheduleType(label: string): string {
  const trimmed = label.trim();
  for (const [id, known] of Object.entries(SCHEDULE_TYPE_LABELS)) if (known === trimmed || id === trimmed) return id;
  return trimmed;
}

function findSamplerId(label: string): string | undefined {
  return Object.keys(SAMPLER_LABELS).find((id) => SAMPLER_LABELS[id] === label);
}
