/** Errors of the signed model catalog, typed by what the user can do about them. */
import { FooocusError } from '../../engine/index.ts';

/** The signature does not verify with any trusted key, the key is unknown, or the catalog names another key. */
export class CatalogSignatureError extends FooocusError {
  constructor(file: string, detail: string) {
    super('invalid', `${file}: ${detail}; the catalog was not read. Get the catalog and its .sig from the project release again.`, { file });
  }
}

/** A validly signed catalog older than one already seen: replaying it could bring back withdrawn entries. */
export class CatalogDowngradeError extends FooocusError {
  constructor(file: string, readonly version: number, readonly highestSeen: number, detail?: string) {
    super(
      'invalid',
      `${file}: ${detail ?? `catalog version ${version} is older than version ${highestSeen}, which was already seen`}; ` +
        'refusing a rollback. Use the newest catalog from the project release.',
      { file },
    );
  }
}

/** Correctly signed bytes that are not a valid catalog (a maintainer error, caught before release by `catalog verify`). */
export class InvalidCatalogError extends FooocusError {
  constructor(file: string, detail: string) {
    super('invalid', `${file}: not a valid catalog (${detail})`, { file });
  }
}

/** A key file that is not an Ed25519 key of the expected kind. */
export class CatalogKeyError extends FooocusError {
  constructor(file: string, detail: string) {
    super('invalid', `${file}: ${detail}`, { file });
  }
}
