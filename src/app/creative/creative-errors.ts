/**
 * Errors of the creative layer (styles, wildcards, presets, performance modes), each typed by what the user can do
 * about it and naming the token, file or field at fault.
 */
import { FooocusError } from '../../engine/index.ts';

/** A malformed or unresolvable piece of prompt syntax: `__name__`, `[[a, b]]` or `<lora:name:weight>`. */
export class PromptSyntaxError extends FooocusError {
  constructor(readonly token: string, detail: string) {
    super('invalid', `${token}: ${detail}`, { field: 'prompt' });
  }
}

/** Wildcards nested deeper than the limit (often one that includes itself); `chain` is the path that got there. */
export class WildcardDepthError extends FooocusError {
  constructor(readonly chain: readonly string[], readonly maxDepth: number) {
    super('invalid', `wildcards nest deeper than ${maxDepth}: ${chain.map((n) => `__${n}__`).join(' -> ')}`, { field: 'prompt', rule: 'maxDepth', limit: maxDepth });
  }
}

/** A wildcard file that exists but cannot be used (too large, unreadable, outside the folder). */
export class WildcardFileError extends FooocusError {
  constructor(readonly wildcard: string, detail: string) {
    super('invalid', `wildcard "${wildcard}": ${detail}`, { field: 'prompt' });
  }
}

export class UnknownStyleError extends FooocusError {
  constructor(readonly style: string) {
    super('invalid', `unknown style "${style}"`, { field: 'styles', rule: 'known' });
  }
}

/** A shipped data file (built-in styles, presets) that does not validate: a bug in the release, not user input. */
export class InvalidDataFileError extends FooocusError {
  constructor(file: string, detail: string) {
    super('internal', `${file}: ${detail}`, { file });
  }
}

export interface FieldProblem {
  field: string;
  message: string;
}

/** A preset file with one or more bad fields; every one is named (`presets/anime.json: cfg: must be ...`). */
export class InvalidPresetError extends FooocusError {
  constructor(file: string, readonly problems: readonly FieldProblem[]) {
    super('invalid', problems.map((p) => `${file}: ${p.field}: ${p.message}`).join('\n'), { file });
  }
}

export class UnknownPerformanceModeError extends FooocusError {
  constructor(readonly mode: string, known: readonly string[]) {
    super('invalid', `unknown performance mode "${mode}"; known: ${known.join(', ')}`, { field: 'performance', rule: 'known' });
  }
}

/** A fast performance mode whose LoRA is not in the model store; says which file and how to get it. */
export class MissingPerformanceLoraError extends FooocusError {
  constructor(readonly mode: string, file: string, readonly catalogId: string) {
    super(
      'invalid',
      `performance "${mode}" needs the LoRA ${file}: run \`npm run fooocus -- models pull ${catalogId}\`, ` +
        `or \`npm run fooocus -- models import <path-to-${file}> --kind loras\` if you already have it`,
      { field: 'performance', rule: 'installed', file },
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
export class PresetModelsMissingError extends FooocusError {
  constructor(readonly preset: string, readonly missing: readonly MissingModel[]) {
    const names = missing.map((m) => `${m.kind === 'loras' ? 'LoRA' : 'checkpoint'} ${m.fileName}${m.catalogId === null ? '' : ` (catalog id ${m.catalogId})`}`);
    const fetchable = missing.every((m) => m.catalogId !== null);
    super(
      'invalid',
      `preset "${preset}" needs ${names.join(', ')}, not in the model store: run \`npm run fooocus -- models pull --preset ${preset}\`` +
        (fetchable ? '' : ', and `npm run fooocus -- models import <file>` for files the catalog does not list'),
      { field: 'preset', rule: 'installed' },
    );
  }
}
