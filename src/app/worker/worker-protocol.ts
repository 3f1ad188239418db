/**
 * Messages between the app and its inference process. Model parsing and inference run in a child process, so a
 * crash or runaway allocation there fails the job and never takes the server down. The request crosses as the
 * queue stored it (the application's ImageRequest) with the index of the image to make; messages use Node's
 * advanced serialization (structured clone), so bigint seeds in results cross as they are.
 */
import type { ErrorData, RgbImage } from '../../engine/index.ts';
import type { GreyImage } from '../../engine/output/mask-image.ts';
import type { ImageDescriptionResult } from '../describe/describe-image.ts';
import type { DescribeType } from '../describe/describer-registry.ts';
import type { SavedImage, ServiceProgress } from '../generation/generation-service.ts';
import type { ProvidedImage } from '../generation/image-prompt-files.ts';
import type { ImageRequest } from '../generation/image-request.ts';
import type { MemorySetting } from '../generation/memory-mode.ts';

export interface WorkerSettings {
  modelsDir: string;
  outputsDir: string;
  threads: number;
  executionProvider: 'cpu' | 'cuda' | 'dml' | 'coreml';
  /** `int8`: UNets run in int8, their quantized weights cached under `cacheDir` (default fp32). */
  precision?: 'fp32' | 'int8' | 'fp16';
  cacheDir: string;
  /** `runtime.memory` (default auto). */
  memory?: MemorySetting;
  software: string;
}

/**
 * `input`, `mask`: the request's input image and inpaint mask, decoded by the server through the upload store's checks;
 * `imagePromptImages`: its image prompt images when they came with the job (a Redis worker), else read from outputs.
 */
/** `jobTag`: the job the image is for; its id marks the file names (output-writer's SaveImageOptions.jobTag). */
/** `describe`: Describe's image (decoded by the server as an upload) run through the type's describer here, off the server's event loop. */
export type ToWorker =
  | { type: 'generate'; id: number; request: ImageRequest; imageIndex: number; input?: RgbImage; mask?: GreyImage; imagePromptImages?: ProvidedImage[]; jobTag?: string }
  | { type: 'describe'; id: number; describeType: DescribeType; image: RgbImage }
  | { type: 'cancel'; id: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: number; progress: ServiceProgress }
  | { type: 'done'; id: number; images: SavedImage[] }
  | { type: 'described'; id: number; description: ImageDescriptionResult }
  /** The error as data (FooocusError.toData), re-created on the server's side with its kind and messages. */
  | { type: 'failed'; id: number; error: ErrorData; cancelled: boolean };
