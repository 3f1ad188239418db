/**
 * Messages between the app and its inference process. Model parsing and inference run in a child process, so a
 * crash or runaway allocation there fails the job and never takes the server down. Messages use Node's advanced
 * serialization (structured clone), so bigint seeds and typed arrays cross as they are.
 */
import type { ErrorData, GenerationRequest, ImageFormat } from '../../engine/index.ts';
import type { SavedImage, ServiceProgress } from '../generation/generation-service.ts';
import type { MetadataSchemeName } from '../outputs/output-writer.ts';

/** A generation request as the worker receives it: models by their names in the store, verified in the worker. */
export interface WorkerGenerateRequest extends GenerationRequest {
  model: string;
  refiner?: string;
  /** LoRAs by their names in the store (verified in the worker) and strengths. */
  loras?: { name: string; weight: number }[];
  rawPrompt: string;
  rawNegativePrompt: string;
  styles: string[];
  performance?: string;
  format: ImageFormat;
  scheme: MetadataSchemeName;
}

export interface WorkerSettings {
  modelsDir: string;
  outputsDir: string;
  threads: number;
  executionProvider: 'cpu' | 'cuda' | 'dml' | 'coreml';
  software: string;
}

export type ToWorker = { type: 'generate'; id: number; request: WorkerGenerateRequest } | { type: 'cancel'; id: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: number; progress: ServiceProgress }
  | { type: 'done'; id: number; images: SavedImage[] }
  /** The error as data (FooocusError.toData), re-created on the server's side with its kind and messages. */
  | { type: 'failed'; id: number; error: ErrorData; cancelled: boolean };
