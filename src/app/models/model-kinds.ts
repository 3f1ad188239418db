/** The kinds of file the model store holds; each is a subdirectory of the models directory with the same name. */
/** `inpaint`: Fooocus's inpaint head and patch (converted from PyTorch files). */
export const MODEL_KINDS = ['checkpoints', 'loras', 'vae', 'upscalers', 'embeddings', 'tokenizers', 'inpaint'] as const;

export type ModelKind = (typeof MODEL_KINDS)[number];

export function isModelKind(value: string): value is ModelKind {
  return (MODEL_KINDS as readonly string[]).includes(value);
}
