/**
 * Samplers and schedulers the page offers, by the ids Fooocus and ComfyUI use (so presets and metadata port
 * unchanged), with their display labels (labels live in the page only; metadata names are read by the engine's
 * scheme readers). The server is the judge of what is installed: it rejects an id it cannot run.
 */
export interface Option {
  id: string;
  label: string;
}

export const SAMPLERS: readonly Option[] = [
  { id: 'euler', label: 'Euler' },
  { id: 'euler_ancestral', label: 'Euler a' },
  { id: 'heun', label: 'Heun' },
  { id: 'dpm_2', label: 'DPM2' },
  { id: 'dpm_2_ancestral', label: 'DPM2 a' },
  { id: 'dpmpp_2m', label: 'DPM++ 2M' },
  { id: 'dpmpp_sde_gpu', label: 'DPM++ SDE' },
  { id: 'dpmpp_2m_sde_gpu', label: 'DPM++ 2M SDE' },
  { id: 'dpmpp_3m_sde_gpu', label: 'DPM++ 3M SDE' },
  { id: 'lcm', label: 'LCM' },
  { id: 'ddim', label: 'DDIM' },
  { id: 'uni_pc', label: 'UniPC' },
  { id: 'uni_pc_bh2', label: 'UniPC (bh2)' },
];

export const SCHEDULERS: readonly Option[] = [
  { id: 'normal', label: 'Normal' },
  { id: 'karras', label: 'Karras' },
  { id: 'exponential', label: 'Exponential' },
  { id: 'sgm_uniform', label: 'SGM Uniform' },
  { id: 'simple', label: 'Simple' },
  { id: 'ddim_uniform', label: 'DDIM Uniform' },
  { id: 'align_your_steps', label: 'Align Your Steps' },
  { id: 'turbo', label: 'Turbo' },
  { id: 'lcm', label: 'LCM' },
  { id: 'tcd', label: 'TCD' },
];

/**
 * Ids that name the same algorithm as an id the page lists (`dpmpp_sde` and `dpmpp_sde_gpu` are one sampler):
 * metadata readers return the plain id, the form offers the one Fooocus's presets use.
 */
const SAMPLER_ALIASES: Record<string, string> = {
  dpmpp_sde: 'dpmpp_sde_gpu',
  dpmpp_2m_sde: 'dpmpp_2m_sde_gpu',
  dpmpp_3m_sde: 'dpmpp_3m_sde_gpu',
};

/** The form's id for a sampler id read from metadata; an id the page does not list comes back unchanged. */
export function toFormSampler(id: string): string {
  return Object.hasOwn(SAMPLER_ALIASES, id) ? SAMPLER_ALIASES[id]! : id;
}
