/** Messages between the app and the process that decodes one upload (advanced serialization: bytes cross as they are). */
import type { ImageProblem } from '../../engine/output/image-errors.ts';

export interface DecodeRequest {
  bytes: Uint8Array;
  /** Refuse more pixels than this before allocating for them. */
  maxPixels: number;
  /** `mask`: decoded to one grey channel (alpha or luminance, see engine/output/mask-image.ts), stored in all three. */
  purpose: UploadPurpose;
}

/** What an upload is for: an input image, or an inpaint mask. */
export type UploadPurpose = 'image' | 'mask';

export type DecodeReply =
  | { ok: true; width: number; height: number; /** The pixels re-encoded as an 8-bit RGB PNG, no metadata. */ png: Uint8Array }
  | { ok: false; problem: ImageProblem | 'internal'; message: string };
