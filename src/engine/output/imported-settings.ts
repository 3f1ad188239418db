/**
 * What another tool's metadata says, in this project's request terms. Every field is optional: a tool records
 * what it has, and a field the reader could not map (or whose value is out of bounds) is listed as not applied
 * instead, with the reason, so nothing read is silently dropped or guessed.
 */
import type { InputImageParameters } from './generation-parameters.ts';
import { FooocusError } from '../errors/fooocus-error.ts';

export interface ImportedLora {
  /** As the tool names it (file name, sometimes with folder or extension). */
  name: string;
  weight: number;
}

export interface ImportedSettings {
  prompt?: string;
  negativePrompt?: string;
  styles?: string[];
  /** Fooocus performance name (Quality, Speed, ...). */
  performance?: string;
  steps?: number;
  /** One of SAMPLER_IDS. */
  sampler?: string;
  /** One of SCHEDULER_IDS. */
  scheduler?: string;
  cfg?: number;
  sharpness?: number;
  adaptiveCfg?: number;
  admScalers?: [number, number, number];
  /** Decimal, 0..2^63-1. */
  seed?: string;
  width?: number;
  height?: number;
  /** Checkpoint as the tool names it. */
  model?: string;
  modelHash?: string;
  refiner?: string;
  refinerSwitch?: number;
  refinerSwitchMethod?: string;
  vae?: string;
  loras?: ImportedLora[];
  clipSkip?: number;
  /** img2img strength in (0, 1]. */
  denoise?: number;
  /** The Input Image mode and its parameters as this project or Fooocus recorded them (input-image-choices.ts reads them). */
  inputImage?: InputImageParameters;
}

/** One field as the file holds it: its name in the tool's terms and its value as text. */
export interface MetadataField {
  key: string;
  value: string;
}

export interface NotAppliedField extends MetadataField {
  /** Why: no equivalent here, or the value is out of bounds. */
  reason: string;
}

/** The settings of one generation the file records (a ComfyUI graph may hold several samplers). */
export interface SettingsCandidate {
  /** Which part of the file they come from: `KSampler #3` in a ComfyUI graph, else the tool's name. */
  label: string;
  settings: ImportedSettings;
  notApplied: NotAppliedField[];
}

export type MetadataSchemeId = 'a1111' | 'fooocus' | 'ruinedfooocus' | 'comfyui' | 'invokeai' | 'swarmui' | 'novelai' | 'civitai';

/** A scheme reader's result: which scheme, the tool (with its version when recorded) and the settings. */
export interface SchemeReading {
  scheme: MetadataSchemeId;
  tool: string;
  candidates: SettingsCandidate[];
}

/** Metadata that claims a scheme but breaks it beyond reading (bad JSON, a graph past the limits). */
export class UnreadableMetadataError extends FooocusError {
  constructor(field: string, problem: string) {
    super('invalid', `${field}: ${problem}`, { field, rule: 'metadata' });
  }
}

/** Collects settings and not-applied fields while a reader maps a tool's fields. */
export class SettingsBuilder {
  readonly settings: ImportedSettings = {};
  readonly notApplied: NotAppliedField[] = [];

  /** Sets `field` from `read(value)`; a value `read` refuses becomes a not-applied entry with the reason. */
  map<K extends keyof ImportedSettings>(key: string, value: unknown, field: K, read: (value: unknown) => ImportedSettings[K] | undefined): void {
    if (value === undefined || value === null) return;
    try {
      const mapped = read(value);
      if (mapped === undefined) this.skip(key, value, 'has no equivalent here');
      else this.settings[field] = mapped;
    } catch (error) {
      this.skip(key, value, error instanceof Error ? error.message.replace(/^[^:]*: /, '') : 'could not be read');
    }
  }

  /** Width and height from one field. */
  mapSize(key: string, value: unknown, read: (value: unknown) => [number, number]): void {
    if (value === undefined || value === null) return;
    try {
      [this.settings.width, this.settings.height] = read(value);
    } catch (error) {
      this.skip(key, value, error instanceof Error ? error.message.replace(/^[^:]*: /, '') : 'could not be read');
    }
  }

  skip(key: string, value: unknown, reason: string): void {
    this.notApplied.push({ key, value: showValue(value), reason });
  }

  finish(label: string): SettingsCandidate {
    return { label, settings: this.settings, notApplied: this.notApplied };
  }
}

/** A value as short text for listings (long prompts stay whole; only structures are summarised). */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return '';
  let text: string;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Map ? Object.fromEntries(v) : v)) ?? '';
  } catch {
    text = '[structure]';
  }
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}
