/**
 * "Describe then generate" (Fooocus's auto-describe): a job with `describeFirst` and an empty prompt has its input
 * image described by that type's describer, and the description becomes the prompt of every image of the job. A
 * prompt the user typed wins and the describer does not run. Checked at submit (an input image, the describer's
 * files in the store), run where the job runs (the inference process, or the CLI).
 */
import { createHash } from 'node:crypto';
import type { RgbImage } from '../../engine/index.ts';
import { ImageRequestError } from '../generation/image-request.ts';
import type { ModelListing } from '../models/model-store.ts';
import type { ImageDescribers } from './describe-image.ts';
import { DESCRIBE_TYPE_LABELS, describerNotInstalled, findMissingDescriberFiles, type DescribeType, type DescriberRegistry } from './describer-registry.ts';

/** Whether the job's prompt will come from the describer: the field is set and the typed prompt is blank. */
export function needsDescription(request: { prompt: string; describeFirst?: DescribeType | undefined }): request is { prompt: string; describeFirst: DescribeType } {
  return request.describeFirst !== undefined && request.prompt.trim() === '';
}

/** Refuses, naming `describeFirst`, a request without an input image or whose describer is not installed. */
export function checkDescribeFirst(draft: { describeFirst?: DescribeType | undefined; hasInput: boolean }, listing: readonly ModelListing[], registry: DescriberRegistry): void {
  if (draft.describeFirst === undefined) return;
  if (!draft.hasInput) throw new ImageRequestError('describeFirst', 'needsInput', 'describeFirst describes the input image: give one (inputImageId in the API, --input in the CLI)');
  const missing = findMissingDescriberFiles(registry, draft.describeFirst, listing);
  if (missing === null || missing.length > 0) throw new ImageRequestError('describeFirst', 'installed', describerNotInstalled(draft.describeFirst, missing).message);
}

export interface DescribeFirstProgress {
  type: DescribeType;
  step: number;
  total: number;
}

/**
 * Describes a job's input once: the images of one job (and a retry of it) share the description, kept for the last
 * input seen by its pixels' SHA-256, so image 2 of a batch does not run the captioner again.
 */
export class InputDescriber {
  #last: { key: string; text: Promise<string> } | undefined;

  constructor(private readonly describers: ImageDescribers) {}

  /** The prompt the job uses: the request's own, or the description of `input` when the request asks for one. */
  async promptFor(request: { prompt: string; describeFirst?: DescribeType | undefined }, input: RgbImage | undefined, options: { signal?: AbortSignal; onProgress?: (p: DescribeFirstProgress) => void } = {}): Promise<string> {
    if (!needsDescription(request)) return request.prompt;
    if (input === undefined) throw new ImageRequestError('describeFirst', 'needsInput', 'describeFirst describes the input image, and the job has none');
    const type = request.describeFirst;
    const key = `${type}:${input.width}x${input.height}:${createHash('sha256').update(input.rgb).digest('hex')}`;
    if (this.#last?.key !== key) {
      const text = this.describers
        .describe(type, input, {
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          onProgress: (p) => options.onProgress?.({ type, step: p.step, total: p.total }),
        })
        .then((d) => d.text);
      this.#last = { key, text };
      // A failed or cancelled description is not kept: the next image tries again.
      text.catch(() => this.#last?.text === text && (this.#last = undefined));
    }
    const text = await this.#last.text;
    if (text.trim() === '') throw new ImageRequestError('describeFirst', 'empty', `the ${DESCRIBE_TYPE_LABELS[type]} describer found nothing to say about the input image; type a prompt`);
    return text;
  }
}
