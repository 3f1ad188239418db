/**
 * How an image's metadata records the Enhance run that made it: one entry (`enhance_tabs` in the Fooocus scheme,
 * `Enhance Tabs` in the A1111 scheme) whose value is a JSON text of the tabs as the request chose them, with what
 * each did (`regions` found, `skipped` when nothing was), and the Upscale or Vary with its order. The reader takes
 * back only the fields it knows, each type-checked, so a hand-edited file cannot smuggle anything else in.
 */
import { InvalidMetadataError, type EnhanceRecord, type EnhanceTabRecord } from './generation-parameters.ts';

export const ENHANCE_ENTRY: readonly [string, string] = ['enhance_tabs', 'Enhance Tabs'];

const TEXT_FIELDS = ['detectionPrompt', 'prompt', 'negative', 'maskModel', 'mode', 'engine'] as const;
const NUMBER_FIELDS = ['strength', 'respectiveField', 'maskErode', 'boxThreshold', 'textThreshold', 'maxDetections', 'regions'] as const;
const FLAG_FIELDS = ['invertMask', 'skipped'] as const;

export function formatEnhanceRecord(record: EnhanceRecord): string {
  return JSON.stringify(record);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readTab(field: string, value: unknown, at: number): EnhanceTabRecord {
  if (!isObject(value)) throw new InvalidMetadataError(field, `tab ${at + 1} is not an object`);
  const tab: Record<string, unknown> = {};
  for (const key of TEXT_FIELDS) {
    if (value[key] === undefined) continue;
    if (typeof value[key] !== 'string') throw new InvalidMetadataError(field, `tab ${at + 1}: ${key} is not text`);
    tab[key] = value[key];
  }
  for (const key of NUMBER_FIELDS) {
    if (value[key] === undefined) continue;
    if (typeof value[key] !== 'number' || !Number.isFinite(value[key])) throw new InvalidMetadataError(field, `tab ${at + 1}: ${key} is not a number`);
    tab[key] = value[key];
  }
  for (const key of FLAG_FIELDS) {
    if (value[key] === undefined) continue;
    if (typeof value[key] !== 'boolean') throw new InvalidMetadataError(field, `tab ${at + 1}: ${key} is not true or false`);
    tab[key] = value[key];
  }
  if (typeof tab.detectionPrompt !== 'string') throw new InvalidMetadataError(field, `tab ${at + 1} has no detectionPrompt`);
  return tab as unknown as EnhanceTabRecord;
}

/** Reads an entry's value (JSON text, or the parsed JSON the Fooocus scheme may hold) back into a record. */
export function readEnhanceRecord(field: string, value: unknown): EnhanceRecord {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new InvalidMetadataError(field, 'is not JSON');
    }
  }
  if (!isObject(parsed) || !Array.isArray(parsed.tabs) || parsed.tabs.length > 5) throw new InvalidMetadataError(field, 'is not a list of at most 5 Enhance tabs');
  const record: EnhanceRecord = { tabs: parsed.tabs.map((t, at) => readTab(field, t, at)) };
  const vary = parsed.varyUpscale;
  if (vary !== undefined) {
    if (!isObject(vary) || typeof vary.mode !== 'string') throw new InvalidMetadataError(field, 'varyUpscale has no mode');
    record.varyUpscale = {
      mode: vary.mode,
      ...(typeof vary.factor === 'number' ? { factor: vary.factor } : {}),
      ...(typeof vary.upscaler === 'string' ? { upscaler: vary.upscaler } : {}),
    };
  }
  if (typeof parsed.varyUpscaleOrder === 'string') record.varyUpscaleOrder = parsed.varyUpscaleOrder;
  return record;
}
