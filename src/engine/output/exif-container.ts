/**
 * Splicing an EXIF block into freshly encoded JPEG and WebP files. The encoder (sharp) writes no metadata; adding
 * the block afterwards keeps full control of its bytes (see `encodeExifTextFields` for why that matters).
 */

/** JPEG APP1 holds at most 65535 - 2 length bytes, including the 6-byte `Exif\0\0` identifier. */
export const MAX_JPEG_EXIF_BYTES = 65535 - 2 - 6;

/** Insert an APP1 Exif segment after SOI (and after a JFIF APP0, which must stay first). */
export function insertJpegExif(jpeg: Uint8Array, tiff: Uint8Array): Uint8Array {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new RangeError('not a JPEG stream: SOI marker missing');
  if (tiff.length > MAX_JPEG_EXIF_BYTES) {
    throw new RangeError(`EXIF block of ${tiff.length} bytes does not fit a JPEG APP1 segment (max ${MAX_JPEG_EXIF_BYTES})`);
  }
  let at = 2;
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0) at = 4 + ((jpeg[4]! << 8) | jpeg[5]!);
  const segment = new Uint8Array(4 + 6 + tiff.length);
  const length = 2 + 6 + tiff.length;
  segment.set([0xff, 0xe1, length >> 8, length & 0xff, 0x45, 0x78, 0x69, 0x66, 0, 0]); // APP1, length, "Exif\0\0"
  segment.set(tiff, 10);
  return Buffer.concat([jpeg.subarray(0, at), segment, jpeg.subarray(at)]);
}

/**
 * Add an `EXIF` chunk to a WebP (RIFF) file. A simple-format file (one VP8/VP8L chunk) is rewritten in the extended
 * format the WebP container spec requires for metadata: a VP8X header with the EXIF flag and the canvas size first.
 */
export function insertWebpExif(webp: Uint8Array, tiff: Uint8Array, width: number, height: number): Uint8Array {
  if (ascii(webp, 0, 4) !== 'RIFF' || ascii(webp, 8, 4) !== 'WEBP') throw new RangeError('not a WebP file: RIFF/WEBP header missing');
  const chunks = listRiffChunks(webp).filter((c) => c.type !== 'EXIF');
  let vp8x = chunks.find((c) => c.type === 'VP8X');
  if (!vp8x) {
    const header = new Uint8Array(8 + 10);
    header.set(Buffer.from('VP8X'), 0);
    header[4] = 10;
    writeUint24le(header, 12, width - 1);
    writeUint24le(header, 15, height - 1);
    vp8x = { type: 'VP8X', bytes: header };
    chunks.unshift(vp8x);
  } else {
    vp8x = { type: 'VP8X', bytes: Uint8Array.from(vp8x.bytes) };
    chunks[chunks.findIndex((c) => c.type === 'VP8X')] = vp8x;
  }
  vp8x.bytes[8]! |= 0x08; // EXIF metadata flag
  const exif = new Uint8Array(8 + tiff.length + (tiff.length % 2));
  exif.set(Buffer.from('EXIF'), 0);
  new DataView(exif.buffer).setUint32(4, tiff.length, true);
  exif.set(tiff, 8);
  const body = Buffer.concat([Buffer.from('WEBP'), ...chunks.map((c) => c.bytes), exif]);
  const riff = new Uint8Array(8);
  riff.set(Buffer.from('RIFF'), 0);
  new DataView(riff.buffer).setUint32(4, body.length, true);
  return Buffer.concat([riff, body]);
}

interface RiffChunk {
  type: string;
  /** The whole chunk: header, payload and pad byte. */
  bytes: Uint8Array;
}

function listRiffChunks(webp: Uint8Array): RiffChunk[] {
  const view = new DataView(webp.buffer, webp.byteOffset, webp.byteLength);
  const chunks: RiffChunk[] = [];
  let at = 12;
  while (at + 8 <= webp.length) {
    const size = view.getUint32(at + 4, true);
    const end = at + 8 + size + (size % 2);
    if (end > webp.length) throw new RangeError(`WebP chunk at byte ${at} runs past the end of the file`);
    chunks.push({ type: ascii(webp, at, 4), bytes: webp.subarray(at, end) });
    at = end;
  }
  return chunks;
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return Buffer.from(bytes.subarray(at, at + length)).toString('latin1');
}

function writeUint24le(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >> 8) & 0xff;
  out[at + 2] = (value >> 16) & 0xff;
}
