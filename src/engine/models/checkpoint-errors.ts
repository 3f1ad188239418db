/**
 * A well-formed safetensors file that is not a Stable Diffusion checkpoint this engine can run: a required tensor
 * is missing or has the wrong shape, or the parts do not belong to one known family. The reason names the tensor.
 */
export class UnsupportedCheckpointError extends Error {
  override readonly name = 'UnsupportedCheckpointError';
  readonly file: string;
  readonly reason: string;

  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.file = file;
    this.reason = reason;
  }
}
