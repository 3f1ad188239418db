/**
 * Which model components each phase of a generation runs, and how long they stay in memory. `resident` builds
 * everything the job uses before it starts and keeps it; `per-phase` holds only the current phase's components
 * (text encoders, then the UNet, then the VAE decoder), so the peak is the largest phase rather than the sum, at
 * the cost of building sessions again for every image. Either way a component the job never runs is never built
 * (text-to-image builds no VAE encoder).
 */
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import type { CheckpointArchitecture } from '../models/architecture.ts';
import type { CheckpointComponent, ComponentBuildOptions } from './load-checkpoint.ts';

export type GenerationPhase = 'encode' | 'sample' | 'decode';

export type MemoryMode = 'resident' | 'per-phase';

export const MEMORY_MODES: readonly MemoryMode[] = ['resident', 'per-phase'];

/** The models of a job that hold components: the base checkpoint, the refiner, a standalone VAE file. */
export type ModelRole = 'base' | 'refiner' | 'vae';

/** Something whose sessions can be built and released by component (a loaded checkpoint or VAE file). */
export interface ComponentHost {
  ensureComponents(components: readonly CheckpointComponent[], options?: ComponentBuildOptions): Promise<void>;
  releaseComponents(components: readonly CheckpointComponent[]): Promise<void>;
}

export type PhaseComponents = Record<ModelRole, CheckpointComponent[]>;

/** What a job does, as far as choosing components goes. */
export interface JobShape {
  /** An input image is VAE-encoded (image-to-image, inpaint). */
  encodesImage: boolean;
  /** The refiner samples some steps. */
  refines: boolean;
  /** The vae refiner switch: the latent goes through the base VAE's decoder and the refiner's encoder mid-sampling. */
  vaeSwitch: boolean;
  /** A standalone VAE file replaces the base checkpoint's VAE. */
  standaloneVae: boolean;
  /** The base checkpoint has a VAE decoder (else the refiner's decodes). */
  baseDecodes: boolean;
}

const ALL_COMPONENTS: readonly CheckpointComponent[] = ['text', 'unet', 'vae-decoder', 'vae-encoder'];

/** The components each phase runs, per model. */
export function planPhaseComponents(job: JobShape): Record<GenerationPhase, PhaseComponents> {
  const empty = (): PhaseComponents => ({ base: [], refiner: [], vae: [] });
  const encode = empty();
  const sample = empty();
  const decode = empty();
  const vaeHolder: ModelRole = job.standaloneVae ? 'vae' : 'base';
  // 1. encode prompts (and the input image)
  encode.base.push('text');
  if (job.refines) encode.refiner.push('text');
  if (job.encodesImage) encode[vaeHolder].push('vae-encoder');
  // 2-3. denoise
  sample.base.push('unet');
  if (job.refines) sample.refiner.push('unet');
  if (job.refines && job.vaeSwitch) {
    sample[vaeHolder].push('vae-decoder');
    sample.refiner.push('vae-encoder');
  }
  // 4. decode
  decode[job.standaloneVae ? 'vae' : job.baseDecodes ? 'base' : 'refiner'].push('vae-decoder');
  return { encode, sample, decode };
}

/** Every component a job runs, per model. */
export function unionOfPhases(plan: Record<GenerationPhase, PhaseComponents>): PhaseComponents {
  const union = (role: ModelRole): CheckpointComponent[] => ALL_COMPONENTS.filter((c) => Object.values(plan).some((p) => p[role].includes(c)));
  return { base: union('base'), refiner: union('refiner'), vae: union('vae') };
}

export interface ResidencyOptions {
  /** Called before a component is built (`model` is the role's display name). */
  onComponent?: (model: string, component: CheckpointComponent, index: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Returns the function the pipeline calls at the start of each phase: it builds what the phase runs (in
 * `resident` mode, what the whole job runs) and, in `per-phase` mode, first releases every other component.
 */
export function createPhaseEntry(
  hosts: Partial<Record<ModelRole, { name: string; components: ComponentHost }>>,
  plan: Record<GenerationPhase, PhaseComponents>,
  mode: MemoryMode,
  options: ResidencyOptions = {},
): (phase: GenerationPhase) => Promise<void> {
  return async (phase) => {
    const wanted = mode === 'resident' ? unionOfPhases(plan) : plan[phase];
    const roles = (Object.keys(hosts) as ModelRole[]).filter((r) => hosts[r] !== undefined);
    // Release before building, so the phase's components never share memory with the previous phase's.
    if (mode === 'per-phase') for (const role of roles) await hosts[role]!.components.releaseComponents(ALL_COMPONENTS.filter((c) => !wanted[role].includes(c)));
    for (const role of roles) {
      const host = hosts[role]!;
      await host.components.ensureComponents(wanted[role], {
        ...(options.onComponent ? { onComponent: (c, i, n) => options.onComponent!(host.name, c, i, n) } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    }
  };
}

/** Which VAE half a tensor below the VAE prefix belongs to (the quant convs sit beside the encoder, the post-quant conv beside the decoder). */
function vaePartOf(rest: string): CheckpointComponent | null {
  if (rest.startsWith('encoder.') || rest.startsWith('quant_conv.')) return 'vae-encoder';
  if (rest.startsWith('decoder.') || rest.startsWith('post_quant_conv.')) return 'vae-decoder';
  return null;
}

/**
 * The fp32 bytes of each component's weights, which is what its session holds once built whatever the file's
 * dtype (ONNX Runtime reads f16/bf16 weights into f32 initializers). `vaePrefix` reads a standalone VAE file.
 */
export function measureComponentBytes(header: SafetensorsHeader, architecture: Pick<CheckpointArchitecture, 'unet' | 'textEncoders'> & { vae: { prefix: string } | null }): Record<CheckpointComponent, number> {
  const bytes: Record<CheckpointComponent, number> = { unet: 0, text: 0, 'vae-decoder': 0, 'vae-encoder': 0 };
  for (const [name, info] of header.tensors) {
    const n = info.shape.reduce((a, b) => a * b, 1) * 4;
    if (architecture.unet !== null && name.startsWith(architecture.unet.prefix)) bytes.unet += n;
    else if (architecture.textEncoders.some((t) => name.startsWith(t.prefix))) bytes.text += n;
    else if (architecture.vae !== null && name.startsWith(architecture.vae.prefix)) {
      const part = vaePartOf(name.slice(architecture.vae.prefix.length));
      if (part !== null) bytes[part] += n;
    }
  }
  return bytes;
}
