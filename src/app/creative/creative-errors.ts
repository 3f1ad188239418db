/**
 * Errors of the creative layer (styles, wildcards, presets, performance modes), each typed by what the user can do
 * about it and naming the token, file or field at fault.
 */

/** A malformed or unresolvable piece of prompt syntax: `__name__`, `[[a, b]]` or `<lora:name:weight>`. */
export class PromptSyntaxError extends Error {
  override name = 'PromptSyntaxError';
  constructor(
    readonly token: string,
    detail: string,
  ) {
    super(`${token}: ${detail}`);
  }
}

/** Wildcards nested deeper than the limit (often one that includes itself); `chain` is the path that got there. */
export class WildcardDepthError extends Error {
  override name = 'WildcardDepthError';
  constructor(
    readonly chain: readonly string[],
    readonly maxDepth: number,
  ) {
    super(`wildcards nest deeper than ${maxDepth}: ${chain.map((n) => `__${n}__`).join(' -> ')}`);
  }
}

/** A wildcard file that exists but cannot be used (too large, unreadable, outside the folder). */
export class WildcardFileError extends Error {
  override name = 'WildcardFileError';
  constructor(
    readonly wildcard: string,
    detail: string,
  ) {
    super(`wildcard "${wildcard}": ${detail}`);
  }
}

export class UnknownStyleError extends Error {
  override name = 'UnknownStyleError';
  constructor(readonly style: string) {
    super(`unknown style "${style}"`);
  }
}

/** A shipped data file (built-in styles, presets) that does not validate: a bug in the release, not user input. */
export class InvalidDataFileError extends Error {
  override name = 'InvalidDataFileError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

export interface FieldProblem {
  field: string;
  message: string;
}

/** A preset file with one or more bad fields; every one is named (`presets/anime.json: cfg: must be ...`). */
export class InvalidPresetError extends Error {
  override name = 'InvalidPresetError';
  constructor(
    readonly file: string,
    readonly problems: readonly FieldProblem[],
  ) {
    super(problems.map((p) => `${file}: ${p.field}: ${p.message}`).join('\n'));
  }
}

export class UnknownPerformanceModeError extends Error {
  override name = 'UnknownPerformanceModeError';
  constructor(
    readonly mode: string,
    known: readonly string[],
  ) {
    super(`unknown performance mode "${mode}"; known: ${known.join(', ')}`);
  }
}

/** A fast performance mode whose LoRA is not in the model store; says which file and how to get it. */
export class MissingPerformanceLoraError extends Error {
  override name = 'MissingPerformanceLoraError';
  constructor(
    readonly mode: string,
    readonly file: string,
    readonly catalogId: string,
  ) {
    super(
      `performance "${mode}" needs the LoRA ${file}: run \`npm run fooocus -- models pull ${catalogId}\`, ` +
        `or \`npm run fooocus -- models import <path-to-${file}> --kind loras\` if you already have it`,
    );
  }
}

/** A model a preset needs that the store does not hold; `catalogId` is null for a preset that names a plain file. */
export interface MissingModel {
  /** The preset field that names it. */
  field: 'model' | 'refiner' | 'loras';
  kind: 'checkpoints' | 'loras';
  fileName: string;
  catalogId: string | null;
}

/** A preset whose checkpoint, refiner or LoRAs are not in the model store; says which, and the command that gets them. */
export class PresetModelsMissingError extends Error {
  override name = 'PresetModelsMissingError';
  constructor(
    readonly preset: string,
    readonly missing: readonly MissingModel[],
  ) {
    const names = missing.map((m) => `${m.kind === 'loras' ? 'LoRA' : 'checkpoint'} ${m.fileName}${m.catalogId === null ? '' : ` (catalog id ${m.catalogId})`}`);
    const fetchable = missing.every((m) => m.catalogId !== null);
    super(
      `preset "${preset}" needs ${names.join(', ')}, not in the model store: run \`npm run fooocus -- models pull --preset ${preset}\`` +
        (fetchable ? '' : ', and `npm run fooocus -- models import <file>` for files the catalog does not list'),
    );
  }
}
