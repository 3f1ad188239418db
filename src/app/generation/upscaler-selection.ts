/**
 * How a request's upscaler finds its file in the model store (`upscalers/`): the one named, else Fooocus's own
 * when installed, else the only one; and what the chosen file's network scales by (read from its tensor shapes
 * once the store has verified it, so a file with a wrong layout is refused at submit, naming it).
 */
import { detectUpscalerLayout, readSafetensorsHeader } from '../../engine/index.ts';
import type { ModelListing, ModelStore } from '../models/model-store.ts';
import { ImageRequestError, type VaryUpscaleChoice } from './image-request.ts';

/** The upscaler Fooocus ships, as the model store names it once converted to .safetensors. */
export const FOOOCUS_UPSCALER_FILE = 'fooocus_upscaler_s409985e5.safetensors';
export const FOOOCUS_UPSCALER_CATALOG_ID = 'fooocus-upscaler-s409985e5';

/** The upscaler file (store name in `upscalers`) for an upscale choice. */
export function chooseUpscaler(choice: VaryUpscaleChoice, listing: readonly ModelListing[]): string {
  const installed = listing.filter((m) => m.kind === 'upscalers').map((m) => m.name);
  if (choice.upscaler !== undefined) {
    if (installed.includes(choice.upscaler)) return choice.upscaler;
    throw new ImageRequestError(
      'varyUpscale.upscaler',
      'installed',
      `upscaler "${choice.upscaler}" is not in the model store; installed: ${installed.length === 0 ? 'none' : installed.join(', ')}`,
    );
  }
  if (installed.includes(FOOOCUS_UPSCALER_FILE)) return FOOOCUS_UPSCALER_FILE;
  if (installed.length === 1) return installed[0]!;
  if (installed.length === 0) {
    throw new ImageRequestError(
      'varyUpscale.upscaler',
      'installed',
      `${choice.mode} needs an upscaler model and none is installed: run \`npm run fooocus -- models pull ${FOOOCUS_UPSCALER_CATALOG_ID}\`, or import a .safetensors one with \`npm run fooocus -- models import <file> --kind upscalers\``,
    );
  }
  throw new ImageRequestError('varyUpscale.upscaler', 'required', `several upscalers are installed (${installed.join(', ')}); name one in varyUpscale.upscaler`);
}

/** The scale of a store upscaler (verified against the trust manifest first); refuses a file that is no upscaler. */
export async function readUpscalerScale(store: ModelStore, name: string, signal?: AbortSignal): Promise<number> {
  const file = await store.resolve('upscalers', name, signal === undefined ? {} : { signal });
  return detectUpscalerLayout(await readSafetensorsHeader(file)).scale;
}
