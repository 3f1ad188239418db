/**
 * One reader for the generation metadata of every popular tool: which tool wrote an image, every text field it
 * holds, and the settings it records in this project's request terms, with what has no equivalent listed as not
 * applied. The server, the CLI and the page all call `readImageMetadataReport`, so they agree on every file.
 *
 * Schemes are recognised by their own markers, never by guessing from loose text: NovelAI's `Software`, InvokeAI's
 * keywords, SwarmUI's `sui_image_params`, RuinedFooocus's `software`, Fooocus's JSON keys or `fooocus_scheme`, the
 * ComfyUI API graph, and an A1111 parameter line. Anything else is reported as unknown with its fields listed.
 */
import { readA1111Settings } from './a1111-settings-reader.ts';
import { readComfyUiSettings } from './comfyui-settings-reader.ts';
import { readFooocusSettings, readRuinedFooocusSettings } from './fooocus-settings-reader.ts';
import { MAX_METADATA_BYTES } from './generation-metadata.ts';
import { readImageTextFields, type MetadataImageFormat, type TextFieldLimits, DEFAULT_TEXT_FIELD_LIMITS } from './image-text-fields.ts';
import { UnreadableMetadataError, type MetadataField, type MetadataSchemeId, type SchemeReading, type SettingsCandidate } from './imported-settings.ts';
import { readInvokeAiDreamSettings, readInvokeAiLegacySettings, readInvokeAiSettings } from './invokeai-settings-reader.ts';
import { parseJsonObject, textOf, type JsonRecord } from './metadata-json.ts';
import { readNovelAiSettings } from './novelai-settings-reader.ts';
import { readSwarmUiSettings } from './swarmui-settings-reader.ts';

export interface ImageMetadataReport {
  format: MetadataImageFormat;
  /** The scheme recognised; `unknown` when the file has text fields no reader recognises, `none` when it has none. */
  scheme: MetadataSchemeId | 'unknown' | 'none';
  /** The tool that wrote it, with its version when recorded (`AUTOMATIC1111 v1.10.1`, `ComfyUI`). */
  tool: string;
  /** The field the settings came from (`parameters`, `prompt`, `invokeai_metadata`, ...); stealth info is `parameters (alpha)`. */
  source: string;
  /** Every text field of the file, as read. */
  fields: MetadataField[];
  /** One set of settings per generation the file records; several for a ComfyUI graph with several samplers. */
  candidates: SettingsCandidate[];
}

/** Parameters texts (A1111 lines, JSON schemes) past this are refused before parsing; ComfyUI graphs get the field cap. */
export const MAX_PARAMETERS_BYTES = MAX_METADATA_BYTES;

export async function readImageMetadataReport(bytes: Uint8Array, limits: TextFieldLimits = DEFAULT_TEXT_FIELD_LIMITS): Promise<ImageMetadataReport> {
  const { format, texts, stealth } = await readImageTextFields(bytes, limits);
  const fields = Object.entries(texts).map(([key, value]) => ({ key, value }));
  const found = recogniseScheme(texts);
  if (found === null) {
    return { format, scheme: fields.length === 0 ? 'none' : 'unknown', tool: fields.length === 0 ? '' : 'unknown', source: '', fields, candidates: [] };
  }
  const source = found.source === 'parameters' && stealth ? `parameters (stealth ${stealth})` : found.source;
  return { format, scheme: found.reading.scheme, tool: found.reading.tool, source, fields, candidates: found.reading.candidates };
}

/** The scheme of a set of text fields (keyword to text), or null when none is recognised. */
export function recogniseScheme(texts: Record<string, string>): { reading: SchemeReading; source: string } | null {
  const get = (key: string): string | undefined => (Object.hasOwn(texts, key) ? texts[key] : undefined);
  if (get('Software') === 'NovelAI' && get('Comment') !== undefined) {
    const comment = parseJsonObject(capped('Comment', get('Comment')!), 'Comment');
    if (comment) return { reading: readNovelAiSettings(comment, get('Source')), source: 'Comment' };
  }
  const invoke = get('invokeai_metadata');
  if (invoke !== undefined) {
    const json = parseJsonObject(capped('invokeai_metadata', invoke), 'invokeai_metadata');
    if (json) return { reading: readInvokeAiSettings(json), source: 'invokeai_metadata' };
  }
  const legacy = get('sd-metadata');
  if (legacy !== undefined) {
    const json = parseJsonObject(capped('sd-metadata', legacy), 'sd-metadata');
    if (json) return { reading: readInvokeAiLegacySettings(json), source: 'sd-metadata' };
  }
  const dream = get('Dream');
  if (dream !== undefined) {
    const reading = readInvokeAiDreamSettings(capped('Dream', dream));
    if (reading) return { reading, source: 'Dream' };
  }
  const parameters = get('parameters');
  if (parameters !== undefined) {
    const reading = readParametersText(capped('parameters', parameters), get('fooocus_scheme'));
    if (reading) return { reading, source: 'parameters' };
  }
  const prompt = get('prompt');
  // Only a graph is ComfyUI's: other tools use a `prompt` keyword for plain prompt text, `{a|b}` wildcards included.
  if (prompt !== undefined && prompt.includes('"class_type"')) {
    const json = parseJsonObject(prompt, 'prompt');
    const reading = json && readComfyUiSettings(json);
    if (reading) return { reading, source: 'prompt' };
  }
  for (const key of ['Comment', 'ImageDescription', 'XPComment']) {
    const text = get(key);
    if (text === undefined || text.length > MAX_PARAMETERS_BYTES) continue;
    const reading = text.trimStart().startsWith('{') ? null : readA1111Settings(text, false);
    if (reading) return { reading, source: key };
  }
  return null;
}

/**
 * The `parameters` text: a JSON object is SwarmUI, RuinedFooocus, NovelAI (stealth info holds all of NovelAI's
 * fields as one object) or Fooocus by their markers; other text is an A1111 parameter line.
 */
function readParametersText(text: string, fooocusScheme: string | undefined): SchemeReading | null {
  let json: JsonRecord | null = null;
  let jsonError: unknown = null;
  try {
    json = fooocusScheme === 'a1111' ? null : parseJsonObject(text, 'parameters');
  } catch (error) {
    // A prompt may start with `{` (dynamic-prompt wildcards): the text is JSON only if it parses as JSON.
    jsonError = error;
  }
  if (json !== null) {
    const swarm = readSwarmUiSettings(json);
    if (swarm) return swarm;
    if (textOf(json, 'software') === 'RuinedFooocus') return readRuinedFooocusSettings(json);
    if (textOf(json, 'Software') === 'NovelAI' && textOf(json, 'Comment') !== undefined) {
      const comment = parseJsonObject(textOf(json, 'Comment')!, 'parameters.Comment');
      if (comment) return readNovelAiSettings(comment, textOf(json, 'Source'));
    }
    const fooocusKeys = ['resolution', 'Resolution', 'base_model', 'Base Model', 'guidance_scale', 'Guidance Scale'];
    if (fooocusScheme === 'fooocus' || fooocusKeys.some((key) => key in json)) return readFooocusSettings(text);
    return null;
  }
  const a1111 = readA1111Settings(text, fooocusScheme === 'a1111');
  if (a1111 === null && jsonError !== null) throw jsonError;
  return a1111;
}

function capped(field: string, text: string): string {
  // Every UTF-16 unit is at least one UTF-8 byte, so the length alone refuses an over-long text before encoding it.
  const bytes = text.length > MAX_PARAMETERS_BYTES ? text.length : new TextEncoder().encode(text).byteLength;
  if (bytes > MAX_PARAMETERS_BYTES) throw new UnreadableMetadataError(field, `is ${bytes} bytes, over the ${MAX_PARAMETERS_BYTES}-byte limit`);
  return text;
}
