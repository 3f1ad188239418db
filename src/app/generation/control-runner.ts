/**
 * Runs a job's PyraCanny and CPDS image prompts for the generation service: each type's ControlNet, built from
 * the base UNet's weights and the control-LoRA file and kept per file and base model (the UNet built with control
 * residual inputs is the service's, guided-unet-cache.ts).
 */
import { loadControlNet, readSafetensorsHeader, type ControlNetModel, type ControlPromptType, type PipelineControls, type RuntimeOptions } from '../../engine/index.ts';
import type { ImagePromptBase, VerifiedFile } from './image-prompt-runner.ts';

/** The verified control-LoRA file of each control type a job uses. */
export type ControlFiles = Partial<Record<ControlPromptType, VerifiedFile>>;

export class ControlRunner {
  private nets = new Map<string, ControlNetModel>();

  constructor(private readonly runtime: RuntimeOptions) {}

  /** The job's ControlNets for `types`; those of other files or another base model are released. */
  async prepare(base: ImagePromptBase, files: ControlFiles, types: readonly ControlPromptType[]): Promise<PipelineControls['nets']> {
    const nets: PipelineControls['nets'] = {};
    for (const type of new Set(types)) nets[type] = await this.loadNet(base, files, type);
    await this.dropNetsExcept(base.key, Object.values(files).map((f) => f.sha256));
    return nets;
  }

  private async loadNet(base: ImagePromptBase, files: ControlFiles, type: ControlPromptType): Promise<ControlNetModel> {
    const file = files[type];
    if (file === undefined) throw new Error(`no ${type} control-LoRA file was verified for this job`);
    const key = `${file.sha256}|${base.key}`;
    let net = this.nets.get(key);
    if (net === undefined) {
      net = await loadControlNet(file.path, await readSafetensorsHeader(base.path), base.architecture.unet!, this.runtime);
      this.nets.set(key, net);
    }
    return net;
  }

  /** Releases ControlNets made for another base model or file than this job's (each holds a UNet's worth of weights). */
  private async dropNetsExcept(baseKey: string, sha256s: readonly string[]): Promise<void> {
    for (const [key, net] of [...this.nets]) {
      if (sha256s.some((sha) => key === `${sha}|${baseKey}`)) continue;
      this.nets.delete(key);
      await net.release();
    }
  }

  async release(): Promise<void> {
    for (const net of this.nets.values()) await net.release();
    this.nets.clear();
  }
}
