import { A1111_SCHEME, parseA1111Parameters } from './a1111-metadata-scheme.ts';
import { FOOOCUS_SCHEME, parseFooocusJson } from './fooocus-metadata-scheme.ts';
import { InvalidMetadataError, type GenerationParameters } from './generation-parameters.ts';

export type MetadataScheme = typeof FOOOCUS_SCHEME | typeof A1111_SCHEME;

/** Real parameters are a few KiB; the cap bounds parsing work on whatever an uploaded image carries. */
export const MAX_METADATA_BYTES = 64 * 1024;

/**
 * Read generation metadata of either scheme back into a typed request. `scheme` is the image's `fooocus_scheme`
 * text (PNG) or MakerNote (JPEG/WebP) when it has one; without it, a JSON object means the Fooocus scheme and
 * anything else A1111 text, the same fallback Fooocus's `read_info_from_image` uses. Nothing is evaluated: JSON
 * goes through the strict parser and every field is validated, so bad metadata fails with the field named.
 */
export function parseGenerationMetadata(text: string, scheme?: string): GenerationParameters {
  if (typeof text !== 'string') throw new InvalidMetadataError('metadata', 'is not text');
  // Every UTF-16 unit is at least one UTF-8 byte, so an over-long text is refused before it is encoded.
  const bytes = text.length > MAX_METADATA_BYTES ? text.length : new TextEncoder().encode(text).byteLength;
  if (bytes > MAX_METADATA_BYTES) throw new InvalidMetadataError('metadata', `is ${bytes} bytes, over the ${MAX_METADATA_BYTES}-byte limit`);
  const resolved = scheme === FOOOCUS_SCHEME || scheme === A1111_SCHEME ? scheme : detectScheme(text);
  return resolved === FOOOCUS_SCHEME ? parseFooocusJson(text) : parseA1111Parameters(text);
}

function detectScheme(text: string): MetadataScheme {
  return text.trimStart().startsWith('{') ? FOOOCUS_SCHEME : A1111_SCHEME;
}
