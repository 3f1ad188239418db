/**
 * Presets: named starting points (`data/presets/<name>.json`) that choose the model, LoRAs, guidance, sampler,
 * styles, performance, aspect ratio and image count, and list the catalog ids to download for them. Every field is
 * checked at load (unknown keys refused) and every bad field is named with its rule, all at once.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { IMAGE_SIZE_LIMITS, isSchedulerName, MAX_IMAGES_PER_REQUEST, resolveSamplerName, SCHEDULER_NAMES } from '../../engine/index.ts';
import { InvalidPresetError, type FieldProblem } from './creative-errors.ts';
import { JsonSyntaxError, parseJsonText } from './json-text.ts';
import { LORA_WEIGHT_RANGE } from './lora-tokens.ts';
import { PERFORMANCE_MODE_NAMES } from './performance-modes.ts';
import { isReservedStyleName } from './style-names.ts';

const ModelName = Type.String({ minLength: 1, maxLength: 255, pattern: '^[^/\\\\]+$' });

/** The rule each field must satisfy, as told to the user (also the schema's description). */
const RULES = {
  label: 'must be a text of 1..60 characters',
  model: 'must be a catalog id or a model file name (no folders)',
  refiner: 'must be null, or a catalog id or model file name (no folders)',
  refinerSwitch: 'must be a number in 0.1..1',
  loras: `must be a list of up to 8 { "name", "weight" } with weight in ${LORA_WEIGHT_RANGE.min}..${LORA_WEIGHT_RANGE.max}`,
  cfg: 'must be a number in 1..30',
  sharpness: 'must be a number in 0..30',
  sampler: 'must be a sampler id',
  scheduler: `must be one of ${SCHEDULER_NAMES.join(', ')}`,
  styles: 'must be a list of style names',
  performance: `must be one of ${PERFORMANCE_MODE_NAMES.join(', ')}`,
  aspectRatio: `must be "<width>*<height>", each a multiple of ${IMAGE_SIZE_LIMITS.multiple} in ${IMAGE_SIZE_LIMITS.min}..${IMAGE_SIZE_LIMITS.max}`,
  imageCount: `must be an integer in 1..${MAX_IMAGES_PER_REQUEST}`,
  downloads: 'must be a list of catalog ids',
} as const;

export const PresetSchema = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: 60 }),
    model: ModelName,
    refiner: Type.Union([Type.Null(), ModelName]),
    refinerSwitch: Type.Number({ minimum: 0.1, maximum: 1 }),
    loras: Type.Array(
      Type.Object(
        { name: ModelName, weight: Type.Number({ minimum: LORA_WEIGHT_RANGE.min, maximum: LORA_WEIGHT_RANGE.max }) },
        { additionalProperties: false },
      ),
      { maxItems: 8 },
    ),
    cfg: Type.Number({ minimum: 1, maximum: 30 }),
    sharpness: Type.Number({ minimum: 0, maximum: 30 }),
    sampler: Type.String(),
    scheduler: Type.String(),
    styles: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 32 }),
    performance: Type.String(),
    aspectRatio: Type.String({ pattern: '^\\d{2,5}\\*\\d{2,5}$' }),
    imageCount: Type.Integer({ minimum: 1, maximum: MAX_IMAGES_PER_REQUEST }),
    downloads: Type.Array(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }), { maxItems: 16 }),
  },
  { additionalProperties: false },
);

export type Preset = Static<typeof PresetSchema>;
type PresetField = keyof typeof RULES;

export interface PresetValidationOptions {
  /** Names in the style library (the reserved names Random Style and the expansion toggle are always allowed). */
  styleNames: ReadonlySet<string> | readonly string[];
  /** When given, every `downloads` entry must be one of these catalog ids. */
  catalogIds?: ReadonlySet<string>;
}

function schemaProblems(value: unknown): FieldProblem[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [{ field: '(file)', message: 'must be a JSON object' }];
  const byField = new Map<string, FieldProblem>();
  for (const error of Value.Errors(PresetSchema, value)) {
    const [top = '', ...rest] = error.path.replace(/^\//, '').split('/');
    const field = [top, ...rest].join('.');
    if (top === '' || byField.has(top)) continue;
    if (!Object.hasOwn(RULES, top)) byField.set(top, { field, message: 'is not a preset field' });
    else if (!Object.hasOwn(value, top)) byField.set(top, { field, message: `is missing; it ${RULES[top as PresetField]}` });
    else byField.set(top, { field, message: RULES[top as PresetField] });
  }
  return [...byField.values()];
}

function isValidSize(aspect: string): boolean {
  return aspect.split('*').every((side) => {
    const n = Number(side);
    return n >= IMAGE_SIZE_LIMITS.min && n <= IMAGE_SIZE_LIMITS.max && n % IMAGE_SIZE_LIMITS.multiple === 0;
  });
}

function semanticProblems(preset: Preset, options: PresetValidationOptions): FieldProblem[] {
  const problems: FieldProblem[] = [];
  try {
    resolveSamplerName(preset.sampler);
  } catch {
    problems.push({ field: 'sampler', message: `${RULES.sampler}; "${preset.sampler}" is not one` });
  }
  if (!isSchedulerName(preset.scheduler)) problems.push({ field: 'scheduler', message: `${RULES.scheduler}; got "${preset.scheduler}"` });
  if (!PERFORMANCE_MODE_NAMES.includes(preset.performance)) problems.push({ field: 'performance', message: `${RULES.performance}; got "${preset.performance}"` });
  if (!isValidSize(preset.aspectRatio)) problems.push({ field: 'aspectRatio', message: `${RULES.aspectRatio}; got "${preset.aspectRatio}"` });
  const known = new Set(options.styleNames);
  preset.styles.forEach((name, i) => {
    if (!known.has(name) && !isReservedStyleName(name)) problems.push({ field: `styles.${i}`, message: `unknown style "${name}"` });
  });
  preset.downloads.forEach((id, i) => {
    if (options.catalogIds !== undefined && !options.catalogIds.has(id)) problems.push({ field: `downloads.${i}`, message: `"${id}" is not in the catalog` });
  });
  return problems;
}

/** Validates parsed JSON as a preset; `file` is how the error names it (`presets/anime.json`). */
export function validatePreset(value: unknown, file: string, options: PresetValidationOptions): Preset {
  const problems = schemaProblems(value);
  if (problems.length > 0) throw new InvalidPresetError(file, problems);
  const preset = value as Preset;
  const more = semanticProblems(preset, options);
  if (more.length > 0) throw new InvalidPresetError(file, more);
  return preset;
}

/** Every `<dir>/*.json`, keyed by file name without `.json` (`extreme_speed`). */
export async function loadPresets(dir: string, options: PresetValidationOptions): Promise<Map<string, Preset>> {
  const presets = new Map<string, Preset>();
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  for (const file of files) {
    const shown = `${path.basename(dir)}/${file}`;
    let value: unknown;
    try {
      value = parseJsonText(await readFile(path.join(dir, file), 'utf8'));
    } catch (err) {
      if (err instanceof JsonSyntaxError) throw new InvalidPresetError(shown, [{ field: `line ${err.line}`, message: err.message }]);
      throw err;
    }
    presets.set(file.slice(0, -'.json'.length), validatePreset(value, shown, options));
  }
  return presets;
}
