/**
 * Errors of the model store, typed by what the user can do about them. Every message names the file and the next
 * step, so the CLI can print it as one line and the server can return it as a 4xx.
 */
import type { ModelKind } from './model-kinds.ts';

/** A file that exists in the models directory but was never verified: import it to trust it. */
export class UntrustedModelError extends Error {
  override readonly name = 'UntrustedModelError';
  readonly kind: ModelKind;
  readonly modelName: string;
  readonly file: string;

  constructor(kind: ModelKind, modelName: string, file: string) {
    super(
      `${file}: not in the trust manifest, so it will not be loaded. If you trust this file, record it with ` +
        `\`npm run fooocus -- models import ${JSON.stringify(file)} --kind ${kind}\` (it is checked and hashed first).`,
    );
    this.kind = kind;
    this.modelName = modelName;
    this.file = file;
  }
}

/** A file whose size or SHA-256 differs from what the manifest recorded when it was verified. */
export class ModelChangedError extends Error {
  override readonly name = 'ModelChangedError';
  readonly file: string;
  readonly expected: string;
  readonly found: string;

  constructor(file: string, what: 'size' | 'sha256', expected: string, found: string) {
    super(
      `${file}: ${what === 'size' ? 'size' : 'SHA-256'} is ${found}, expected ${expected}; ` +
        'refusing to load a file that changed since it was verified. Restore the original file, or re-import it ' +
        'if you replaced it on purpose.',
    );
    this.file = file;
    this.expected = expected;
    this.found = found;
  }
}

/** A model that is neither in the models directory nor in the manifest, or listed but missing on disk. */
export class ModelNotFoundError extends Error {
  override readonly name = 'ModelNotFoundError';
  readonly kind: ModelKind;
  readonly modelName: string;

  constructor(kind: ModelKind, modelName: string, detail: string) {
    super(`${kind}/${modelName}: ${detail}`);
    this.kind = kind;
    this.modelName = modelName;
  }
}

/** A name or path that would leave the models directory (`..`, absolute, or a symlink pointing outside). */
export class UnsafeModelPathError extends Error {
  override readonly name = 'UnsafeModelPathError';
  readonly path: string;

  constructor(path: string, rule: string) {
    super(`${JSON.stringify(path)}: ${rule}; model paths must stay inside the models directory`);
    this.path = path;
  }
}

/** trust.json exists but is not a valid manifest; nothing is trusted until it is fixed. */
export class InvalidTrustManifestError extends Error {
  override readonly name = 'InvalidTrustManifestError';
  readonly file: string;

  constructor(file: string, detail: string) {
    super(`${file}: not a valid trust manifest (${detail}); no model will load until it is restored or removed and the models re-imported`);
    this.file = file;
  }
}

/** A file the store does not accept for this kind (wrong format, unknown tokenizer asset, hash not the pinned one). */
export class UnsupportedModelFileError extends Error {
  override readonly name = 'UnsupportedModelFileError';
  readonly file: string;

  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.file = file;
  }
}

/** Importing or pulling would replace a file that is already in the store. */
export class ModelExistsError extends Error {
  override readonly name = 'ModelExistsError';
  readonly file: string;

  constructor(file: string) {
    super(`${file}: already exists in the models directory; remove it first or import under another --name`);
    this.file = file;
  }
}
