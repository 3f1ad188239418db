/**
 * What the Input Image, image prompt and Enhance metadata tests share: one SDXL image's settings to attach a mode to, the
 * round trip through both schemes, and the refusal of a Fooocus JSON key changed after writing.
 */
import assert from 'node:assert/strict';
import { formatA1111Parameters } from '../../../src/engine/output/a1111-metadata-scheme.ts';
import { formatFooocusJson } from '../../../src/engine/output/fooocus-metadata-scheme.ts';
import { parseGenerationMetadata } from '../../../src/engine/output/generation-metadata.ts';
import { InvalidMetadataError, type GenerationParameters, type InputImageParameters } from '../../../src/engine/output/generation-parameters.ts';

/** A Juggernaut XL image of a lighthouse, with no Input Image mode. */
export const lighthouseParameters: GenerationParameters = {
  prompt: 'a lighthouse',
  negativePrompt: '',
  styles: ['Fooocus V2'],
  steps: 30,
  sampler: 'dpmpp_2m_sde_gpu',
  scheduler: 'karras',
  cfg: 4,
  sharpness: 2,
  adaptiveCfg: 7,
  seed: '12345',
  width: 1024,
  height: 1024,
  modelName: 'juggernautXL_v8Rundiffusion',
  modelHash: 'aeb7e9e689',
  clipSkip: 2,
  version: 'Fooocus-TS v0.1.0',
};

/** Asserts `inputImage` on `base` reads back unchanged from the Fooocus JSON and from the A1111 text. */
export function assertInputImageRoundTrip(base: GenerationParameters, inputImage: InputImageParameters): void {
  const p = { ...base, inputImage };
  assert.deepEqual(parseGenerationMetadata(formatFooocusJson(p), 'fooocus').inputImage, inputImage);
  assert.deepEqual(parseGenerationMetadata(formatA1111Parameters(p), 'a1111').inputImage, inputImage);
}

/** The Fooocus JSON written for `parameters`, as an object to read keys from or change. */
export function fooocusJsonOf(parameters: GenerationParameters): Record<string, unknown> {
  return JSON.parse(formatFooocusJson(parameters)) as Record<string, unknown>;
}

/** Asserts reading `json` as the Fooocus scheme is refused naming `field`. */
export function assertRefusedNaming(json: Record<string, unknown>, field: string): void {
  assert.throws(() => parseGenerationMetadata(JSON.stringify(json), 'fooocus'), (e: unknown) => e instanceof InvalidMetadataError && e.field === field);
}
