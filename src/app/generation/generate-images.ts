/**
 * The "make images" use case, for the studio (job submission, then the inference process) and `fooocus generate`
 * alike:
 *
 * 1. `prepareImageRequest` (prepare-image-request.ts): check a request against what is installed and the engine's
 *    rules, and resolve the defaults, before anything is queued or loaded;
 * 2. `composeImage` (compose-image.ts): one image's engine request (styles, expansion, wildcards, preset and
 *    performance mode);
 * 3. `createImageGenerator`: verify the models, read the input image and run the generation service.
 */
import { InputDescriber, needsDescription } from '../describe/describe-first.ts';
import type { ImageDescribers } from '../describe/describe-image.ts';
import { DESCRIBE_TYPE_LABELS } from '../describe/describer-registry.ts';
import path from 'node:path';
import { readImageFile, type GreyMask, type ModelFamily, type RgbImage } from '../../engine/index.ts';
import type { CreativeData } from '../creative/creative-data.ts';
import type { ModelStore } from '../models/model-store.ts';
import type { VerifiedModel } from './app-generation-request.ts';
import { composeImage } from './compose-image.ts';
import type { GenerationService, SavedImage, ServiceProgress } from './generation-service.ts';
import { readControlInputs, readImagePromptInputs, recordImagePrompts, type ProvidedImage } from './image-prompt-files.ts';
import { ImageRequestError, type ImageRequest } from './image-request.ts';
import { cropToGrid } from './image-size.ts';
import { verifyLoras } from './lora-selection.ts';
import { findInputImageSteps, runInputImageSteps } from './input-image-steps.ts';
import { generateEnhanced, type EnhancedImageContext } from '../enhance/enhanced-image.ts';

// Step 1 is the use case's entry for the studio and the command line alike.
export { prepareImageRequest, type ImageRequestDraft, type PrepareOptions } from './prepare-image-request.ts';

/**
 * Reads and decodes an input image; a relative path is taken from `dir` (the outputs directory, for uploads). A file
 * that is not an image is refused naming `source` (the option or field that named it) and the file.
 */
export async function readInputImage(dir: string, file: string, source = 'input'): Promise<RgbImage> {
  return readImageFile(path.resolve(dir, file), { source });
}

export interface ImageGeneratorOptions {
  store: ModelStore;
  data: CreativeData;
  service: GenerationService;
  /** Where relative input image paths are (the outputs directory). */
  inputDir: string;
  /** What named the input image (`--input`), for the error when it is not an image. */
  inputSource?: string;
  /** What named the inpaint mask file (`--mask`), likewise. */
  maskSource?: string;
  /** The describers a `describeFirst` job uses (loaded on first use, kept; the caller releases them). */
  describers?: ImageDescribers;
}

export interface GenerateImageOptions {
  signal?: AbortSignal;
  /** The input image, decoded already (the studio reads uploads through its own checks); else read from the file. */
  input?: RgbImage;
  /**
   * The inpaint mask (`inpaint.mask`), decoded already (the studio turns a decoded upload into one with the
   * engine's `maskFromImage`); else read from the file through the same image decoder and limits as `input`.
   */
  mask?: GreyMask;
  /** Image prompt images decoded already (a Redis worker gets them with the job); others are read from their files. */
  imagePromptImages?: readonly ProvidedImage[];
  onProgress?: (p: ServiceProgress) => void;
  /** The job the image is for: its id marks the file name (see SaveImageOptions.jobTag). */
  jobTag?: string;
}

/** Makes image `index` of a prepared request: compose it, verify its models (hash), generate, save. */
export function createImageGenerator(options: ImageGeneratorOptions) {
  const { store, service } = options;
  const verify = async (name: string, opts: GenerateImageOptions, kind: 'checkpoints' | 'vae' | 'upscalers' | 'detection' | 'sam' = 'checkpoints'): Promise<VerifiedModel> => {
    const file = await store.resolve(kind, name, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      onHashProgress: (done, total) => opts.onProgress?.({ phase: 'verify', model: name, message: `verifying ${name}`, done: Math.round(done / 2 ** 20), total: Math.round(total / 2 ** 20), unit: 'MiB' }),
    });
    const entry = (await store.list()).find((m) => m.kind === kind && m.name === name);
    if (entry === undefined) throw new ImageRequestError(VERIFIED_FIELD[kind], 'installed', `${name}: not in the trust manifest`);
    return { path: file, sha256: entry.sha256 };
  };
  const inputDescriber = options.describers === undefined ? undefined : new InputDescriber(options.describers);
  return async (submitted: ImageRequest, index: number, opts: GenerateImageOptions = {}): Promise<SavedImage> => {
    const listing = await store.list();
    const pixels = submitted.input === undefined ? undefined : (opts.input ?? (await readInputImage(options.inputDir, submitted.input.file, options.inputSource)));
    const request = needsDescription(submitted) ? { ...submitted, prompt: await describeInput(submitted, pixels, opts) } : submitted;
    const image = composeImage(request, index, { data: options.data, listing });
    const model = await verify(image.model, opts);
    const refiner = image.refiner === null ? undefined : await verify(image.refiner, opts);
    const vae = image.vae === null ? undefined : { ...(await verify(image.vae, opts, 'vae')), name: image.vae };
    const loras = await verifyLoras(store, listing, image.loras, opts.signal);
    const readContext = { store, listing, inputDir: options.inputDir, ...(opts.imagePromptImages ? { images: opts.imagePromptImages } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
    const imagePromptInputs = await readImagePromptInputs(request, readContext);
    const controlInputs = await readControlInputs(request, readContext);
    const recorded = await recordImagePrompts(request, options.inputDir, opts.imagePromptImages);
    const appRequest = {
      ...image.fields,
      ...(recorded.imagePrompts === undefined ? {} : { inputImage: { ...image.fields.inputImage, ...recorded } }),
      model,
      ...(refiner ? { refiner } : {}),
      ...(vae ? { vae } : {}),
      ...(loras.length > 0 ? { loras } : {}),
      ...(imagePromptInputs ? { imagePromptInputs } : {}),
      ...(controlInputs && controlInputs.hints.length > 0 ? { controls: controlInputs.hints, controlFiles: controlInputs.files } : {}),
      ...(opts.jobTag === undefined ? {} : { jobTag: opts.jobTag }),
    };
    if (request.enhance !== undefined) {
      const family = (listing.find((m) => m.kind === 'checkpoints' && m.name === request.model)?.family ?? 'sdxl') as ModelFamily;
      const enhanceContext: EnhancedImageContext = {
        request,
        appRequest,
        listing,
        store,
        family,
        inputDir: options.inputDir,
        service,
        compose: (tabRequest) => composeImage(tabRequest, index, { data: options.data, listing }).fields,
        verify: (name, kind) => verify(name, opts, kind),
      };
      const steps = pixels === undefined || findInputImageSteps(request).length === 0 ? undefined : () => runSteps(pixels);
      return generateEnhanced(enhanceContext, pixels, opts, steps);
    }
    if (pixels === undefined) {
      const [saved] = await service.generate(appRequest, opts);
      return saved!;
    }
    const step = await runSteps(pixels);
    if (step.kind === 'final') return service.saveUpscaled(appRequest, step.image);
    const [saved] = await service.generate({ ...appRequest, input: step.input, ...step.extra }, opts);
    return saved!;

    async function describeInput(request: ImageRequest, input: RgbImage | undefined, { signal, onProgress }: GenerateImageOptions): Promise<string> {
      if (inputDescriber === undefined) throw new ImageRequestError('describeFirst', 'installed', 'describeFirst cannot run here: this process has no describers');
      return inputDescriber.promptFor(request, input, {
        ...(signal === undefined ? {} : { signal }),
        onProgress: (p) => onProgress?.({ phase: 'describe', type: p.type, message: `describing the input image (${DESCRIBE_TYPE_LABELS[p.type]})`, done: p.step, total: p.total }),
      });
    }

    function runSteps(input: RgbImage) {
      return runInputImageSteps(
        {
          request,
          pixels: input,
          model,
          listing,
          store,
          verify: (name, kind) => verify(name, opts, kind),
          upscale: (upscaler, img) => service.upscale(upscaler, img, opts),
          inputDir: options.inputDir,
          ...(options.maskSource === undefined ? {} : { maskSource: options.maskSource }),
          ...(opts.mask === undefined ? {} : { mask: opts.mask }),
          ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        },
        { image: cropToGrid(input), denoise: request.input!.denoise },
      );
    }
  };
}
/** The request field that names a model of each kind, for the error when it left the trust manifest. */
const VERIFIED_FIELD = { checkpoints: 'model', vae: 'vae', upscalers: 'varyUpscale.upscaler', detection: 'enhance.tabs', sam: 'enhance.tabs' } as const;

export type ImageGenerator = ReturnType<typeof createImageGenerator>;
