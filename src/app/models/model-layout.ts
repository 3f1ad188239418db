/**
 * The layout check a file passes as it enters the model store (`models import`, `models convert`, `models pull`),
 * so a file that can never run under its kind is refused then, naming it and what was expected, rather than on
 * first use: an upscaler's tensors must be an RRDBNet or SRVGGNet the graph builder knows, an inpaint file
 * Fooocus's head or an SDXL inpaint patch, a `sam` file Segment Anything and a `detection` .safetensors
 * GroundingDINO. Other kinds are checked by their own rules (checkpoints by family).
 */
import { checkInpaintFileLayout, detectGroundingDinoLayout, detectSamLayout, detectUpscalerLayout, type SafetensorsHeader } from '../../engine/index.ts';
import type { ModelKind } from './model-kinds.ts';

/** `label`: the file as the user knows it (the header may have been read from a temp name). */
export function checkModelLayout(kind: ModelKind, header: SafetensorsHeader, label: string = header.file): void {
  const named = { ...header, file: label };
  if (kind === 'upscalers') detectUpscalerLayout(named);
  else if (kind === 'inpaint') checkInpaintFileLayout(named);
  // Header-only checks: a .safetensors in `sam` must be Segment Anything, one in `detection` GroundingDINO.
  else if (kind === 'sam') detectSamLayout(named);
  else if (kind === 'detection') detectGroundingDinoLayout(named);
}
