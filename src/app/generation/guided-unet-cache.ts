/**
 * The base UNet built with guidance inputs (image prompts, control residuals), for the generation service. One
 * build serves a whole job: a job with both kinds gets one graph with both kinds of inputs, which the engine uses
 * for every guided step (it fills the inputs a step does not use with neutral values), instead of one UNet per
 * mix. The build is kept while the base model, its patch, its LoRAs and the kinds stay the same; at most one is
 * held, since each is a whole UNet's worth of weights.
 */
import { loadCheckpoint, readSafetensorsHeader, type LoadedCheckpoint, type ModelSession, type RuntimeOptions } from '../../engine/index.ts';
import type { ImagePromptBase } from './image-prompt-runner.ts';

/** Which guidance inputs the UNet is built with. */
export interface GuidanceInputs {
  imagePrompts: boolean;
  controlResiduals: boolean;
}

export class GuidedUnetCache {
  private held: { key: string; loaded: LoadedCheckpoint } | null = null;
  /** UNet builds so far (for logs and tests). */
  builds = 0;

  constructor(private readonly runtime: RuntimeOptions) {}

  /** The base UNet (its patch and LoRAs) with `inputs`; built unless the held one is the same. */
  async get(base: ImagePromptBase, inputs: GuidanceInputs): Promise<ModelSession> {
    const key = `${base.key}|${base.loraKey}|${inputs.imagePrompts ? 'ip' : ''}|${inputs.controlResiduals ? 'control' : ''}`;
    if (this.held?.key !== key) {
      await this.release();
      const loaded = await loadCheckpoint(await readSafetensorsHeader(base.path), base.architecture, {
        components: ['unet'],
        runtime: this.runtime,
        unet: { ...base.unetOptions, ...(inputs.imagePrompts ? { imagePrompts: true } : {}), ...(inputs.controlResiduals ? { controlResiduals: true } : {}) },
        ...(base.loras.length > 0 ? { loras: base.loras } : {}),
      });
      this.builds++;
      this.held = { key, loaded };
    }
    return this.held.loaded.unet!;
  }

  async release(): Promise<void> {
    const held = this.held;
    this.held = null;
    await held?.loaded.release();
  }
}
