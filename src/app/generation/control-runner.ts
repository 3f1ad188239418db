/**
 * Runs a job's PyraCanny and CPDS image prompts for the generation service: each type's ControlNet (built from
 * the base UNet's weights and the control-LoRA file, kept per file and base model) and the base UNet built with
 * control residual inputs, with the same patch and LoRAs as the base's own (kept while those stay the same).
 */
import { loadCheckpoint, loadControlNet, readSafetensorsHeader, type ControlNetModel, type ControlPromptType, type LoadedCheckpoint, type ModelSession, type PipelineControls, type RuntimeOptions } from '../../engine/index.ts';
import type { ImagePromptBase, VerifiedFile } from './image-prompt-runner.ts';

/** The verified control-LoRA file of each control type a job uses. */
export type ControlFiles = Partial<Record<ControlPromptType, VerifiedFile>>;

interface HeldUnet {
  key: string;
  loaded: LoadedCheckpoint;
}

export class ControlRunner {
  private nets = new Map<string, ControlNetModel>();
  private unet: HeldUnet | null = null;
  /** The controlled UNet with image prompt inputs too, for jobs that mix both kinds (built only for those). */
  private unetWithImagePrompts: HeldUnet | null = null;

  constructor(private readonly runtime: RuntimeOptions) {}

  /** The job's ControlNets for `types` and the controlled base UNet(s); `withImagePrompts` when it has IP-Adapter prompts too. */
  async prepare(base: ImagePromptBase, files: ControlFiles, types: readonly ControlPromptType[], withImagePrompts: boolean): Promise<PipelineControls> {
    const nets: PipelineControls['nets'] = {};
    for (const type of new Set(types)) nets[type] = await this.loadNet(base, files, type);
    await this.dropNetsExcept(base.key, Object.values(files).map((f) => f.sha256));
    const key = `${base.key}|${base.loraKey}`;
    if (this.unet?.key !== key) {
      const old = this.unet;
      this.unet = null;
      await old?.loaded.release();
      this.unet = await this.buildUnet(key, base, false);
    }
    // The mixed build of another base is dropped even by a job that does not mix: nothing would use it again.
    if (this.unetWithImagePrompts !== null && this.unetWithImagePrompts.key !== key) {
      const old = this.unetWithImagePrompts;
      this.unetWithImagePrompts = null;
      await old.loaded.release();
    }
    if (withImagePrompts && this.unetWithImagePrompts === null) this.unetWithImagePrompts = await this.buildUnet(key, base, true);
    const unet = this.unet.loaded.unet!;
    const mixed: ModelSession | undefined = withImagePrompts ? this.unetWithImagePrompts!.loaded.unet! : undefined;
    return { unet, ...(mixed === undefined ? {} : { unetWithImagePrompts: mixed }), nets };
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

  private async buildUnet(key: string, base: ImagePromptBase, imagePrompts: boolean): Promise<HeldUnet> {
    const loaded = await loadCheckpoint(await readSafetensorsHeader(base.path), base.architecture, {
      components: ['unet'],
      runtime: this.runtime,
      unet: { ...base.unetOptions, controlResiduals: true, ...(imagePrompts ? { imagePrompts: true } : {}) },
      ...(base.loras.length > 0 ? { loras: base.loras } : {}),
    });
    return { key, loaded };
  }

  async release(): Promise<void> {
    await this.unet?.loaded.release();
    this.unet = null;
    await this.unetWithImagePrompts?.loaded.release();
    this.unetWithImagePrompts = null;
    for (const net of this.nets.values()) await net.release();
    this.nets.clear();
  }
}
