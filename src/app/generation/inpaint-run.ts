/**
 * The run-time half of an inpaint request: the mask (decoded by the studio, or read from its file with the same
 * pixel limit as the input: alpha where it has transparency, else luminance), the engine for this checkpoint (read from its UNet's shape), and the
 * verified head and patch files when the engine is fooocus-v2.6.
 */
import path from 'node:path';
import { inspectHeader, readMaskFile, readSafetensorsHeader, type GreyMask, type InpaintSettings, type ModelFamily, type RgbImage } from '../../engine/index.ts';
import type { ModelListing, ModelStore } from '../models/model-store.ts';
import type { VerifiedModel } from './app-generation-request.ts';
import { ImageRequestError, type InpaintChoice } from './image-request.ts';
import { checkInpaintMask, chooseInpaintEngine, findInpaintFiles, toInpaintSettings } from './inpaint-step.ts';

export interface InpaintRunContext {
  store: ModelStore;
  listing: readonly ModelListing[];
  /** Where a relative mask path is (the outputs directory, for uploads). */
  inputDir: string;
  /** What named the mask file (`--mask`), for the error when it is not an image. */
  maskSource?: string;
  /** The mask, decoded already (the studio's uploads). */
  mask?: GreyMask | undefined;
  signal?: AbortSignal | undefined;
}

/** What the generation service takes for an inpaint: the engine's settings and, for fooocus-v2.6, its files. */
export interface InpaintRun {
  inpaint: InpaintSettings;
  inpaintFiles?: { head: VerifiedModel; patch: VerifiedModel };
}

async function readMask(choice: InpaintChoice, context: InpaintRunContext): Promise<GreyMask | null> {
  if (context.mask !== undefined) return context.mask;
  if (choice.mask === undefined) return null;
  return readMaskFile(path.resolve(context.inputDir, choice.mask), { source: context.maskSource ?? 'inpaint.mask' });
}

async function verifyInpaintFile(name: string, context: InpaintRunContext): Promise<VerifiedModel> {
  const file = await context.store.resolve('inpaint', name, context.signal ? { signal: context.signal } : {});
  const entry = context.listing.find((m) => m.kind === 'inpaint' && m.name === name);
  if (entry === undefined) throw new ImageRequestError('inpaint.engine', 'installed', `inpaint/${name}: not in the trust manifest`);
  return { path: file, sha256: entry.sha256 };
}

/** The input channels of a store checkpoint's UNet (9: an inpaint UNet), read from its header once verified; null without a UNet. */
export async function readUnetInChannels(store: ModelStore, name: string, signal?: AbortSignal): Promise<number | null> {
  const file = await store.resolve('checkpoints', name, signal === undefined ? {} : { signal });
  return inspectHeader(await readSafetensorsHeader(file)).architecture.unet?.inChannels ?? null;
}

export async function prepareInpaintRun(choice: InpaintChoice, image: RgbImage, model: VerifiedModel, context: InpaintRunContext): Promise<InpaintRun> {
  const mask = await readMask(choice, context);
  if (mask !== null) checkInpaintMask(choice, mask, image);
  const { architecture } = inspectHeader(await readSafetensorsHeader(model.path));
  const engine = chooseInpaintEngine(choice, { family: architecture.family as ModelFamily, nineChannel: architecture.unet?.inChannels === 9 }, context.listing);
  const inpaint = toInpaintSettings(choice, engine, mask, image);
  if (engine !== 'fooocus-v2.6') return { inpaint };
  const files = findInpaintFiles(context.listing);
  if (files === null) throw new ImageRequestError('inpaint.engine', 'installed', 'inpaint.engine fooocus-v2.6: the inpaint head or patch is no longer installed');
  return { inpaint, inpaintFiles: { head: await verifyInpaintFile(files.head, context), patch: await verifyInpaintFile(files.patch, context) } };
}
