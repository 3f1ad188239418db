/**
 * From a dropped image file to form fields: the PNG's `parameters` text chunk, read as Fooocus JSON when it is a
 * JSON object (or `fooocus_scheme` says so) and as A1111 text otherwise.
 */
import { parseA1111Parameters } from './a1111-parameters.ts';
import { parseFooocusParameters } from './fooocus-parameters.ts';
import type { FormPatch } from './form-values.ts';
import { PngReadError, readPngTextChunks } from './png-text-chunks.ts';

/** Larger files are refused before reading: generation outputs are a few megabytes. */
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;

export function parseParametersText(text: string, scheme: string | null = null): FormPatch {
  if (scheme !== 'a1111' && text.trimStart().startsWith('{')) {
    const patch = parseFooocusParameters(text);
    if (patch !== null) return patch;
  }
  return parseA1111Parameters(text);
}

export async function readImageParameters(bytes: Uint8Array): Promise<FormPatch> {
  const chunks = await readPngTextChunks(bytes);
  const text = chunks.get('parameters');
  if (text === undefined) throw new PngReadError('This PNG carries no generation parameters.');
  return parseParametersText(text, chunks.get('fooocus_scheme') ?? null);
}

export async function readImageFileParameters(file: Blob): Promise<FormPatch> {
  if (file.size > MAX_IMAGE_BYTES) throw new PngReadError('This file is too large to read parameters from.');
  return readImageParameters(new Uint8Array(await file.arrayBuffer()));
}
