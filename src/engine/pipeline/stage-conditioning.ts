/**
 * Per-model conditioning: the prompt encoded by the model's own text encoders, plus the ADM vector its family
 * needs (SDXL: Fooocus's timed, size-scaled pair; refiner: aesthetic score; SD1.x: none).
 */
import { getFamilyProfile } from '../models/family-profiles.ts';
import { encodeFooocusSdxlAdm, encodeSdxlRefinerAdm, REFINER_NEGATIVE_AESTHETIC_SCORE, REFINER_POSITIVE_AESTHETIC_SCORE } from '../guidance/sdxl-adm.ts';
import type { CheckpointArchitecture } from '../models/architecture.ts';
import { encodePrompt, type TextEncoder } from './prompt-encoding.ts';
import type { AdmConditioning, StageConditioning } from './unet-denoiser.ts';

export interface AdmScalers {
  positive: number;
  negative: number;
  /** Fraction of the diffusion (by timestep) during which the scaled sizes are used. */
  end: number;
}

export interface ConditioningRequest {
  parts: readonly string[];
  polarity: 'positive' | 'negative';
  width: number;
  height: number;
  admScalers: AdmScalers;
}

function buildAdm(architecture: CheckpointArchitecture, pooled: Float32Array | null, req: ConditioningRequest): AdmConditioning | null {
  const admWidth = architecture.unet?.admInChannels ?? null;
  if (admWidth === null) return null;
  const valueCount = getFamilyProfile(architecture.family).admValueCount;
  if (pooled === null || valueCount === null) throw new Error(`a ${architecture.family} UNet with ADM input needs a pooled text embedding`);
  const embedDim = (admWidth - pooled.length) / valueCount;
  if (architecture.family === 'sdxl-refiner') {
    const aestheticScore = req.polarity === 'positive' ? REFINER_POSITIVE_AESTHETIC_SCORE : REFINER_NEGATIVE_AESTHETIC_SCORE;
    return { kind: 'fixed', y: encodeSdxlRefinerAdm({ pooled, width: req.width, height: req.height, cropW: 0, cropH: 0, aestheticScore, embedDim }) };
  }
  const scaler = req.polarity === 'positive' ? req.admScalers.positive : req.admScalers.negative;
  const pair = encodeFooocusSdxlAdm({ pooled, width: req.width, height: req.height, scaler, embedDim });
  return { kind: 'timed', scaled: pair.scaled, original: pair.original, end: req.admScalers.end };
}

export async function buildStageConditioning(architecture: CheckpointArchitecture, encoders: readonly TextEncoder[], req: ConditioningRequest, signal?: AbortSignal): Promise<StageConditioning> {
  const { context, pooled } = await encodePrompt(encoders, req.parts, signal);
  return { context, adm: buildAdm(architecture, pooled, req) };
}
