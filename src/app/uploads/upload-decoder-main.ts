/**
 * Entry point of the process that decodes one upload (forked by UploadDecoder under Node's permission model): it
 * receives the bytes over IPC, decodes them fully with the decoder jobs use (a mask to its grey channel), re-encodes the pixels as a PNG without
 * metadata, answers, and exits. It opens no file and no socket; a crash or a runaway decoder costs only this process.
 */
import { decodeImage } from '../../engine/output/image-encoding.ts';
import { InvalidImageError } from '../../engine/output/image-errors.ts';
import { decodeMaskImage, rgbFromGrey } from '../../engine/output/mask-image.ts';
import { encodePng } from '../../engine/output/png.ts';
import type { DecodeReply, DecodeRequest } from './upload-decoder-protocol.ts';

function reply(message: DecodeReply): void {
  process.send?.(message, undefined, {}, () => process.exit(0));
}

process.once('message', (request: DecodeRequest) => {
  void (async () => {
    try {
      if (request.purpose === 'mask') {
        const mask = await decodeMaskImage(request.bytes, { maxPixels: request.maxPixels });
        reply({ ok: true, width: mask.width, height: mask.height, png: encodePng(rgbFromGrey(mask), mask.width, mask.height) });
        return;
      }
      const image = await decodeImage(request.bytes, { maxPixels: request.maxPixels });
      reply({ ok: true, width: image.width, height: image.height, png: encodePng(image.rgb, image.width, image.height) });
    } catch (error) {
      if (error instanceof InvalidImageError) reply({ ok: false, problem: error.problem, message: error.message });
      else reply({ ok: false, problem: 'internal', message: error instanceof Error ? error.message : String(error) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
