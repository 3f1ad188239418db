import { FooocusError } from '../errors/fooocus-error.ts';

/**
 * A well-formed safetensors file that is not a Stable Diffusion checkpoint this engine can run: a required tensor
 * is missing or has the wrong shape, or the parts do not belong to one known family. The reason names the tensor.
 */
export class UnsupportedCheckpointError extends FooocusError {
  constructor(file: string, readonly reason: string) {
    super('invalid', `${file}: ${reason}`, { file });
  }
}
