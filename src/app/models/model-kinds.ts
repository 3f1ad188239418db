/** The kinds of file the model store holds; each is a subdirectory of the models directory with the same name. */
/** `inpaint`: Fooocus's inpaint head and patch (converted from PyTorch files). */
/** `controlnet`: what Fooocus keeps in its controlnet folder for image prompts (the FaceSwap face detector, IP-Adapters, the unconditional image embedding). `clip_vision`: the CLIP vision encoder and the image describers (BLIP, the WD14 tagger). */
/** `sam`: Segment Anything weights (masks from boxes). `detection`: region detectors for Enhance (GroundingDINO, foreground-mask models). */
export const MODEL_KINDS = ['checkpoints', 'loras', 'vae', 'upscalers', 'embeddings', 'tokenizers', 'inpaint', 'controlnet', 'clip_vision', 'sam', 'detection'] as const;

export type ModelKind = (typeof MODEL_KINDS)[number];

export function isModelKind(value: string): value is ModelKind {
  return (MODEL_KINDS as readonly string[]).includes(value);
}
