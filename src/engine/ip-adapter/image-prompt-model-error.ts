import { FooocusError } from '../errors/fooocus-error.ts';

/**
 * A file given as an image prompt model (vision encoder, IP-Adapter, unconditional embedding) that is not one: a
 * tensor missing or of the wrong shape, or a model of another family. The message names the file and the tensor.
 */
export class ImagePromptModelError extends FooocusError {
  constructor(file: string, reason: string) {
    super('invalid', `${file}: ${reason}`, { file });
  }
}
