/**
 * How a LoRA named in a request (API field, preset, `<lora:name:weight>` token) finds its file in the model
 * store: by its file name in `loras/`, with or without the `.safetensors` extension, as A1111 and Fooocus
 * prompts write it.
 */
import type { ModelListing, ModelStore } from '../models/model-store.ts';
import type { VerifiedLora } from './app-generation-request.ts';
import { FooocusError } from '../../engine/index.ts';

/** The store's name for the LoRA called `name`, or null when the store has no such trusted LoRA. */
export function findLoraName(listing: readonly ModelListing[], name: string): string | null {
  const loras = new Set(listing.filter((m) => m.kind === 'loras').map((m) => m.name));
  if (loras.has(name)) return name;
  const withExtension = `${name}.safetensors`;
  return loras.has(withExtension) ? withExtension : null;
}

/** The LoRA is not in the model store; says how to add one. */
export class LoraNotInstalledError extends FooocusError {
  constructor(readonly lora: string) {
    const hint = 'add it with `npm run fooocus -- models import <file> --kind loras` (or `npm run fooocus -- models pull <id>` for catalog LoRAs)';
    super('invalid', `LoRA "${lora}" is not in the model store: ${hint}`, { field: 'loras', rule: 'installed' });
  }
}

/** The LoRAs as verified files from the store (hash checked by `resolve`), in order, with their weights. */
export async function verifyLoras(store: ModelStore, listing: readonly ModelListing[], loras: readonly { name: string; weight: number }[], signal?: AbortSignal): Promise<VerifiedLora[]> {
  const verified: VerifiedLora[] = [];
  for (const lora of loras) {
    const name = findLoraName(listing, lora.name);
    const entry = listing.find((m) => m.kind === 'loras' && m.name === name);
    if (name === null || entry === undefined) throw new LoraNotInstalledError(lora.name);
    const file = await store.resolve('loras', name, signal === undefined ? {} : { signal });
    verified.push({ path: file, sha256: entry.sha256, name: lora.name, weight: lora.weight });
  }
  return verified;
}
