/**
 * Errors of the model store, typed by what the user can do about them. Every message names the file and the next
 * step, so the CLI can print it as one line; API clients see the model by its store name (`checkpoints/x`), never
 * the models directory.
 */
import path from 'node:path';
import { FooocusError } from '../../engine/index.ts';
import type { ModelKind } from './model-kinds.ts';

/** A file that exists in the models directory but was never verified: import it to trust it. */
export class UntrustedModelError extends FooocusError {
  constructor(readonly modelKind: ModelKind, readonly modelName: string, file: string) {
    super(
      'invalid',
      `${file}: not in the trust manifest, so it will not be loaded. If you trust this file, record it with ` +
        `\`npm run fooocus -- models import ${JSON.stringify(file)} --kind ${modelKind}\` (it is checked and hashed first).`,
      { file, fileLabel: `${modelKind}/${modelName}` },
    );
  }
}

/** A file whose size or SHA-256 differs from what the manifest recorded when it was verified. */
export class ModelChangedError extends FooocusError {
  /** `label` names the file for API clients (its store name); its base name when not given. */
  constructor(
    file: string,
    what: 'size' | 'sha256',
    readonly expected: string,
    readonly found: string,
    label?: string,
  ) {
    super(
      'invalid',
      `${file}: ${what === 'size' ? 'size' : 'SHA-256'} is ${found}, expected ${expected}; ` +
        'refusing to load a file that changed since it was verified. Restore the original file, or re-import it ' +
        'if you replaced it on purpose.',
      { file, ...(label === undefined ? {} : { fileLabel: label }) },
    );
  }
}

/** A model that is neither in the models directory nor in the manifest, or listed but missing on disk. */
export class ModelNotFoundError extends FooocusError {
  /** `folder` is the directory it was looked for in: named in the message, shown to API clients as the kind. */
  constructor(readonly modelKind: ModelKind, readonly modelName: string, detail: string, folder?: string) {
    super('not-found', `${modelKind}/${modelName}: ${detail}${folder === undefined ? '' : ` ${folder}`}`, folder === undefined ? {} : { file: folder, fileLabel: modelKind });
  }
}

/** A name or path that would leave the models directory (`..`, absolute, or a symlink pointing outside). */
export class UnsafeModelPathError extends FooocusError {
  constructor(readonly path: string, rule: string) {
    super('invalid', `${JSON.stringify(path)}: ${rule}; model paths must stay inside the models directory`);
  }
}

/** trust.json exists but is not a valid manifest; nothing is trusted until it is fixed. */
export class InvalidTrustManifestError extends FooocusError {
  constructor(file: string, detail: string) {
    super('invalid', `${file}: not a valid trust manifest (${detail}); no model will load until it is restored or removed and the models re-imported`, { file });
  }
}

/** A file the store does not accept for this kind (wrong format, unknown tokenizer asset, hash not the pinned one). */
export class UnsupportedModelFileError extends FooocusError {
  constructor(file: string, detail: string) {
    super('invalid', `${file}: ${detail}`, { file });
  }
}

/** Importing or pulling would replace a file that is already in the store. */
export class ModelExistsError extends FooocusError {
  constructor(file: string) {
    super('conflict', `${file}: already exists in the models directory; remove it first or import under another --name`, { file, fileLabel: path.basename(file) });
  }
}
