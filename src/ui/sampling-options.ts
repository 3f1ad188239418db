/**
 * Samplers and schedulers the page offers, by the ids Fooocus and ComfyUI use (so presets and metadata port
 * unchanged), with their display labels. A1111 writes the label, sometimes with " Karras" folded in; `readA1111Sampler`
 * maps that back. The server is the judge of what is installed: it rejects an id it cannot run.
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

/** Ids that share a label with a preferred id above (`dpmpp_sde` and `dpmpp_sde_gpu` are one algorithm). */
const SAMPLER_ALIASES: Record<string, string> = {
  dpmpp_sde: 'dpmpp_sde_gpu',
  dpmpp_2m_sde: 'dpmpp_2m_sde_gpu',
  dpmpp_3m_sde: 'dpmpp_3m_sde_gpu',
};

/** A sampler id from an id or an A1111 label ("DPM++ 2M SDE Karras" also yields the karras scheduler). */
export function readA1111Sampler(name: string): { sampler: string; scheduler?: string } {
  const trimmed = name.trim();
  const byId = (id: string): string | undefined => SAMPLER_ALIASES[id] ?? SAMPLERS.find((s) => s.id === id)?.id;
  const byLabel = (label: string): string | undefined => SAMPLERS.find((s) => s.label === label)?.id;
  const direct = byId(trimmed) ?? byLabel(trimmed);
  if (direct !== undefined) return { sampler: direct };
  for (const [suffix, scheduler] of [[' Karras', 'karras'], [' Exponential', 'exponential']] as const) {
    if (trimmed.endsWith(suffix)) {
      const sampler = byLabel(trimmed.slice(0, -suffix.length));
      if (sampler !== undefined) return { sampler, scheduler };
    }
  }
  return { sampler: trimmed };
}

/** A scheduler id from an id or an A1111 "Schedule type" label. */
export function readScheduleType(label: string): string {
  const trimmed = label.trim();
  return SCHEDULERS.find((s) => s.id === trimmed || s.label === trimmed)?.id ?? trimmed.toLowerCase().replace(/ /g, '_');
}
