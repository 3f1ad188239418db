/**
 * Models named by SHA-256 across machines: the studio pins each model a request names (checkpoint, refiner, VAE,
 * LoRAs, upscaler, the image prompt types' files, a describe-first describer's files, Enhance's detectors) to the SHA-256 its own trust manifest records, and a worker runs the job only when its own store
 * has each model under the same name with the same SHA-256 and the file still matches it (or, when configured to,
 * pulls it from the signed catalog first). Models the creative layer adds by itself (a performance mode's LoRA, a
 * preset's, the inpaint patch) are checked by the worker's store as every model is: by its own trust manifest.
 */
import { classifyForegroundPrompt, FooocusError, type ModelFamily } from '../../engine/index.ts';
import { formatCliCommand } from '../cli-invocation.ts';
import { needsDescription } from '../describe/describe-first.ts';
import { TEXT_DETECTOR_FILES } from '../enhance/text-detector-files.ts';
import { createDescriberRegistry } from '../describe/describer-registry.ts';
import { CONTROL_FILES, findImagePromptFiles, isAdapterPromptType } from '../generation/image-prompt-files.ts';
import type { ImageRequest } from '../generation/image-request.ts';
import type { ModelPin } from '../jobs/remote-job-protocol.ts';
import type { CatalogEntry } from '../models/catalog.ts';
import { isModelKind } from '../models/model-kinds.ts';
import type { ModelStore } from '../models/model-store.ts';

/** The worker has no model of that name (and may not, or cannot, pull it). */
export class MissingPinnedModelError extends FooocusError {
  constructor(pin: ModelPin, hint: string) {
    super('not-found', `${pin.kind}/${pin.name}: this worker does not have the model (SHA-256 ${pin.sha256}); ${hint}`, { field: 'model', rule: 'installed' });
  }
}

/** The worker's model of that name is a different file than the studio's. */
export class PinnedModelMismatchError extends FooocusError {
  constructor(pin: ModelPin, found: string) {
    super(
      'conflict',
      `${pin.kind}/${pin.name}: the worker's file has SHA-256 ${found}, the studio's ${pin.sha256}; install the same file on both (or remove the worker's and let it pull)`,
      { field: 'model', rule: 'sha256' },
    );
  }
}

/** Every model `request` names, each with the SHA-256 the store records; names the store lacks are left to the worker to refuse. */
export async function pinRequestModels(store: ModelStore, request: ImageRequest, defaultModel: () => Promise<string>): Promise<ModelPin[]> {
  const named: { kind: string; name: string }[] = [{ kind: 'checkpoints', name: request.model ?? (await defaultModel()) }];
  if (typeof request.refiner === 'string') named.push({ kind: 'checkpoints', name: request.refiner });
  if (request.vae !== undefined) named.push({ kind: 'vae', name: request.vae });
  for (const lora of request.loras ?? []) named.push({ kind: 'loras', name: lora.name });
  if (request.varyUpscale?.upscaler !== undefined) named.push({ kind: 'upscalers', name: request.varyUpscale.upscaler });
  const listing = await store.list();
  // The image prompt files for the checkpoint's family (submit checked they are installed).
  const family = listing.find((m) => m.kind === 'checkpoints' && m.name === named[0]!.name)?.family ?? 'sdxl';
  for (const prompt of request.imagePrompts ?? []) {
    const files = isAdapterPromptType(prompt.type) ? (findImagePromptFiles(prompt.type, family as ModelFamily) ?? []) : [CONTROL_FILES[prompt.type]];
    named.push(...files);
  }
  // A prompt the job writes by describing its input: that describer's files, when the prompt is blank.
  if (needsDescription(request)) named.push(...(createDescriberRegistry()[request.describeFirst]?.files ?? []));
  // Enhance: each tab's detector (its foreground-mask model, or GroundingDINO, its vocabulary and SAM) and upscaler.
  for (const tab of request.enhance?.tabs ?? []) {
    if (tab.maskModel !== undefined) named.push({ kind: 'detection', name: tab.maskModel });
    else if (classifyForegroundPrompt(tab.detectionPrompt) === null) named.push(...Object.values(TEXT_DETECTOR_FILES));
  }
  if (request.enhance?.varyUpscale?.upscaler !== undefined) named.push({ kind: 'upscalers', name: request.enhance.varyUpscale.upscaler });
  const pins: ModelPin[] = [];
  for (const { kind, name } of named) {
    const found = listing.find((m) => m.kind === kind && m.name === name);
    if (found !== undefined && !pins.some((p) => p.kind === kind && p.name === name)) pins.push({ kind, name, sha256: found.sha256 });
  }
  return pins;
}

/**
 * Checks each pin against `store` (name, recorded SHA-256, and the file itself, through `resolve`). `pull`: fetch a
 * missing model from the catalog entry with that SHA-256 and name, if there is one.
 */
export async function verifyModelPins(
  store: ModelStore,
  pins: readonly ModelPin[],
  pull?: { entries: readonly CatalogEntry[]; fetch: (entry: CatalogEntry) => Promise<void> },
): Promise<void> {
  for (const pin of pins) {
    if (!isModelKind(pin.kind)) throw new MissingPinnedModelError(pin, 'unknown model kind');
    const listing = (await store.list()).find((m) => m.kind === pin.kind && m.name === pin.name);
    if (listing === undefined) {
      // A converted entry (a PyTorch file) is pinned by its .safetensors name; its SHA-256 is known only once converted.
      const entry = pull?.entries.find((e) => e.kind === pin.kind && (e.convertTo === undefined ? e.sha256 === pin.sha256 && e.fileName === pin.name : e.convertTo === pin.name));
      if (pull === undefined) throw new MissingPinnedModelError(pin, `install it on the worker (${formatCliCommand('models pull')} or import), or start the worker with queue.workerModels "pull"`);
      if (entry === undefined) throw new MissingPinnedModelError(pin, 'the catalog has no model of that name and SHA-256 to pull; install it on the worker');
      await pull.fetch(entry);
      const pulled = (await store.list()).find((m) => m.kind === pin.kind && m.name === pin.name);
      if (pulled !== undefined && pulled.sha256 !== pin.sha256) throw new PinnedModelMismatchError(pin, pulled.sha256);
    } else if (listing.sha256 !== pin.sha256) throw new PinnedModelMismatchError(pin, listing.sha256);
    await store.resolve(pin.kind, pin.name);
  }
}
