/**
 * Why an upload was refused or cannot be used, typed by what the user can do about it. The server maps each to a
 * 4xx naming the rule; messages never carry a path.
 */

/** The uploaded bytes are not an image a job can use: not decodable, or a size no job accepts. */
export class UploadRefusedError extends Error {
  override readonly name = 'UploadRefusedError';
  constructor(
    /** `pixelData` (does not decode), `maxPixels`, `maxSide`, `minSide`, `multipleOf`. */
    readonly rule: string,
    message: string,
    /** The bound the rule compares against, when it has one. */
    readonly limit?: number,
    /** The image is too big (413) rather than malformed (400). */
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/** The owner already keeps as many uploads (or bytes of uploads) as the configuration allows. */
export class UploadQuotaError extends Error {
  override readonly name = 'UploadQuotaError';
  constructor(
    readonly quota: 'uploads.maxPerOwner' | 'uploads.maxBytesPerOwner',
    readonly limit: number,
    /** When the owner's oldest unused upload expires, freeing room; null when none will. */
    readonly retryAfterSeconds: number | null,
  ) {
    super(`${quota} reached (limit ${limit}): delete an upload (DELETE /api/v1/uploads/:id) or wait until one expires`);
  }
}

/** A queued or running job still needs the upload, so it may not be deleted yet. */
export class UploadInUseError extends Error {
  override readonly name = 'UploadInUseError';
  constructor() {
    super('the upload is the input of a queued or running job; cancel the job or wait until it starts');
  }
}

/** A job's input upload is gone (deleted, expired) or no longer passes the checks it passed when uploaded. */
export class UploadUnavailableError extends Error {
  override readonly name = 'UploadUnavailableError';
  constructor(reason: string) {
    super(`the input image cannot be used: ${reason}; upload it again`);
  }
}
