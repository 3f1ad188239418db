/**
 * How a LoRA named in a request (API field, preset, `<lora:name:weight>` token) finds its file in the model
 * store: by its file name in `loras/`, with or without the `.safetensors` extension, as A1111 and Fooocus
 * prompts write it.
 */
import type { ModelListing } from '../models/model-store.ts';

/** The store's name for the LoRA called `name`, or null when the store has no such trusted LoRA. */
export function findLoraName(listing: readonly ModelListing[], name: string): string | null {
  const loras = new Set(listing.filter((m) => m.kind === 'loras').map((m) => m.name));
  if (loras.has(name)) return name;
  const withExtension = `${name}.safetensors`;
  return loras.has(withExtension) ? withExtension : null;
}

/** The LoRA is not in the model store; says how to add one. */
export class LoraNotInstalledError extends Error {
  override name = 'LoraNotInstalledError';
  constructor(readonly lora: string) {
    super(`LoRA "${lora}" is not in the model store: add it with \`fooocus models import <file> --kind loras\` (or \`fooocus models pull <id>\` for catalog LoRAs)`);
  }
}
