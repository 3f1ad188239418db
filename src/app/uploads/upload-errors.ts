/**
 * Why an upload was refused or cannot be used, typed by what the user can do about it. The server maps each kind
 * to a 4xx naming the rule; messages never carry a path.
 */
import { FooocusError } from '../../engine/index.ts';

/** The uploaded bytes are not an image a job can use: not decodable, or a size no job accepts. */
export class UploadRefusedError extends FooocusError {
  constructor(
    /** `pixelData` (does not decode), `maxPixels`, `maxSide`, `minSide`, `multipleOf`. */
    rule: string,
    message: string,
    /** The bound the rule compares against, when it has one. */
    limit?: number,
    /** The image is too big (413) rather than malformed (400). */
    readonly tooLarge = false,
  ) {
    super(tooLarge ? 'too-large' : 'invalid', message, { field: 'body', rule, ...(limit === undefined ? {} : { limit }) });
  }
}

/** The owner already keeps as many uploads (or bytes of uploads) as the configuration allows. */
export class UploadQuotaError extends FooocusError {
  /** `retryAfterSeconds`: when the owner's oldest unused upload expires, freeing room; null when none will. */
  constructor(
    readonly quota: 'uploads.maxPerOwner' | 'uploads.maxBytesPerOwner',
    limit: number,
    retryAfterSeconds: number | null,
  ) {
    const message = `${quota} reached (limit ${limit}): delete an upload (DELETE /api/v1/uploads/:id) or wait until one expires`;
    super('quota', message, { rule: quota, limit, ...(retryAfterSeconds === null ? {} : { retryAfterSeconds }) });
  }
}

/** A queued or running job still needs the upload, so it may not be deleted yet. */
export class UploadInUseError extends FooocusError {
  constructor() {
    super('conflict', 'the upload is the input of a queued or running job; cancel the job or wait until it starts', { field: 'imageId', rule: 'inUse' });
  }
}

/** A job's input upload is gone (deleted, expired) or no longer passes the checks it passed when uploaded. */
export class UploadUnavailableError extends FooocusError {
  constructor(reason: string) {
    super('invalid', `the input image cannot be used: ${reason}; upload it again`, { field: 'inputImageId' });
  }
}
