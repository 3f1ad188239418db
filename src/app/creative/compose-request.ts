/**
 * One image's request, from what the user asked for to what the engine takes, in Fooocus's order:
 *
 * 1. prompt syntax: wildcards, arrays and `<lora:…>` tokens, per image (seed + index);
 * 2. styles, then expansion of the main prompt (appended as the last positive part, as Fooocus does);
 * 3. settings: defaults < preset < user choices < performance mode (which wins, as in Fooocus) < explicit steps.
 *
 * Pure and deterministic: files are reached only through the injected wildcard reader and LoRA check.
 */
import type { WildcardReader } from './wildcard-reader.ts';
import { applyStyles } from './apply-styles.ts';
import { PromptSyntaxError } from './creative-errors.ts';
import { createDefaultSettings, type GenerationSettings } from './generation-settings.ts';
import { computeImageSeed } from './image-seed.ts';
import type { LoraReference } from './lora-tokens.ts';
import { applyPerformanceMode } from './performance-modes.ts';
import type { Preset } from './presets.ts';
import type { PromptExpander } from './prompt-expansion.ts';
import { createSeededRandom } from './seeded-random.ts';
import type { StyleLibrary } from './style-library.ts';
import { isExpansionStyleName } from './style-names.ts';
import { expandPromptSyntax, type WildcardOrder } from './wildcards.ts';

/** What the user chose; anything left out comes from the preset, then from the app defaults. */
export type SettingsChoices = Partial<Omit<GenerationSettings, 'admScalers'>> & { admScalers?: GenerationSettings['admScalers'] };

export interface CreativeRequest {
  prompt: string;
  negative: string;
  styles: readonly string[];
  performance: string;
  preset?: Preset;
  /** The batch's seed; this image uses `seed + imageIndex`. */
  seed: bigint;
  imageIndex: number;
  choices?: SettingsChoices;
  /** Fooocus's "overwrite step": applied after the performance mode. */
  steps?: number;
  wildcardOrder?: WildcardOrder;
}

export interface CreativeContext {
  library: StyleLibrary;
  expander: PromptExpander;
  wildcards: WildcardReader;
  loraAvailable(file: string): boolean;
  wildcardMaxDepth?: number;
}

export interface ComposedRequest {
  /** Engine prompt parts (GenerationRequest.prompt / negativePrompt). */
  prompt: string[];
  negativePrompt: string[];
  /** This image's seed. */
  seed: bigint;
  settings: GenerationSettings;
  /** The prompt and negative after wildcards, arrays and LoRA tokens (what metadata records as typed). */
  resolvedPrompt: string;
  resolvedNegative: string;
  /** Styles applied, Random Style resolved; the expansion toggle included when it was on. */
  styles: string[];
  /** The expansion part, or null when expansion was off or the prompt empty. */
  expansion: string | null;
}

/** Adds `extra` after `base`; a LoRA named again takes the later weight (the prompt's over the preset's). */
function mergeLoras(base: readonly LoraReference[], extra: readonly LoraReference[]): LoraReference[] {
  const merged = [...base];
  for (const lora of extra) {
    const at = merged.findIndex((l) => l.name === lora.name);
    if (at === -1) merged.push(lora);
    else merged[at] = lora;
  }
  return merged;
}

function layerSettings(preset: Preset | undefined, choices: SettingsChoices | undefined): GenerationSettings {
  const settings = createDefaultSettings();
  if (preset !== undefined) {
    Object.assign(settings, {
      model: preset.model,
      refiner: preset.refiner,
      refinerSwitch: preset.refinerSwitch,
      loras: preset.loras.map((l) => ({ ...l })),
      cfg: preset.cfg,
      sharpness: preset.sharpness,
      sampler: preset.sampler,
      scheduler: preset.scheduler,
    });
  }
  const defined = Object.fromEntries(Object.entries(choices ?? {}).filter(([, v]) => v !== undefined));
  return { ...settings, ...defined };
}

export function composeRequest(request: CreativeRequest, context: CreativeContext): ComposedRequest {
  const imageSeed = computeImageSeed(request.seed, request.imageIndex);

  // 1. prompt syntax; one wildcard stream for the whole image, so positive and negative draw in sequence
  const syntax = {
    reader: context.wildcards,
    seed: request.seed,
    imageIndex: request.imageIndex,
    order: request.wildcardOrder,
    maxDepth: context.wildcardMaxDepth,
    random: createSeededRandom(imageSeed, 'wildcards'),
  };
  const positive = expandPromptSyntax(request.prompt, syntax);
  const negative = expandPromptSyntax(request.negative, syntax);
  const misplaced = negative.loras[0];
  if (misplaced !== undefined) {
    throw new PromptSyntaxError(`<lora:${misplaced.name}:${misplaced.weight}>`, 'LoRA tokens belong in the prompt, not the negative prompt');
  }

  // 2. styles and expansion
  const styled = applyStyles({
    prompt: positive.text,
    negative: negative.text,
    styleNames: request.styles,
    library: context.library,
    seed: request.seed,
    imageIndex: request.imageIndex,
  });
  const expansionOn = request.styles.some(isExpansionStyleName);
  let expansion: string | null = null;
  if (expansionOn && styled.mainPrompt !== '') {
    const styleTexts = styled.appliedStyles.map((name) => context.library.get(name)?.prompt ?? '');
    expansion = context.expander.expand(styled.mainPrompt, { seed: imageSeed, styles: styleTexts });
  }

  // 3. settings
  let settings = layerSettings(request.preset, request.choices);
  settings.loras = mergeLoras(settings.loras, positive.loras);
  settings = applyPerformanceMode(settings, request.performance, { loraAvailable: (file) => context.loraAvailable(file) });
  if (request.steps !== undefined) settings.steps = request.steps;

  return {
    prompt: expansion === null ? styled.positiveParts : [...styled.positiveParts, expansion],
    negativePrompt: styled.negativeParts,
    seed: imageSeed,
    settings,
    resolvedPrompt: positive.text,
    resolvedNegative: negative.text,
    styles: expansionOn ? [...request.styles.filter(isExpansionStyleName).slice(0, 1), ...styled.appliedStyles] : styled.appliedStyles,
    expansion,
  };
}
