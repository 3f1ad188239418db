/** Errors of the signed model catalog, typed by what the user can do about them. */

/** The signature does not verify with any trusted key, the key is unknown, or the catalog names another key. */
export class CatalogSignatureError extends Error {
  override readonly name = 'CatalogSignatureError';
  readonly file: string;

  constructor(file: string, detail: string) {
    super(`${file}: ${detail}; the catalog was not read. Get the catalog and its .sig from the project release again.`);
    this.file = file;
  }
}

/** A validly signed catalog older than one already seen: replaying it could bring back withdrawn entries. */
export class CatalogDowngradeError extends Error {
  override readonly name = 'CatalogDowngradeError';
  readonly file: string;
  readonly version: number;
  readonly highestSeen: number;

  constructor(file: string, version: number, highestSeen: number, detail?: string) {
    super(
      `${file}: ${detail ?? `catalog version ${version} is older than version ${highestSeen}, which was already seen`}; ` +
        'refusing a rollback. Use the newest catalog from the project release.',
    );
    this.file = file;
    this.version = version;
    this.highestSeen = highestSeen;
  }
}

/** Correctly signed bytes that are not a valid catalog (a maintainer error, caught before release by `catalog verify`). */
export class InvalidCatalogError extends Error {
  override readonly name = 'InvalidCatalogError';
  readonly file: string;

  constructor(file: string, detail: string) {
    super(`${file}: not a valid catalog (${detail})`);
    this.file = file;
  }
}

/** A key file that is not an Ed25519 key of the expected kind. */
export class CatalogKeyError extends Error {
  override readonly name = 'CatalogKeyError';
  readonly file: string;

  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.file = file;
  }
}
