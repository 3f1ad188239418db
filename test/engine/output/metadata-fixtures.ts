/**
 * Builds small images in the layouts other tools write, for the metadata reader tests: PNG text chunks with raw
 * bytes (so a tEXt can hold UTF-8, as Stability Matrix writes it), RGBA PNGs with "stealth" info in the alpha or
 * RGB low bits (the A1111 stealth-pnginfo extension's layout: column-major bits, a 15-byte signature, a 32-bit
 * bit count, then the data, gzip for the "comp" signatures), JPEGs with an APP1 Exif or COM segment, and WebPs with
 * an EXIF chunk. TIFF blocks come in either byte order with UserComment in the encodings writers use.
 */
import { crc32, deflateSync, gzipSync } from 'node:zlib';

export type PngText =
  | { type: 'tEXt'; keyword: string; bytes: Uint8Array }
  | { type: 'zTXt'; keyword: string; bytes: Uint8Array }
  | { type: 'iTXt'; keyword: string; text: string; compressed?: boolean };

export function latin1(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

export function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

function textChunk(c: PngText): Buffer {
  const keyword = Buffer.from(`${c.keyword}\0`, 'latin1');
  if (c.type === 'tEXt') return pngChunk('tEXt', Buffer.concat([keyword, c.bytes]));
  if (c.type === 'zTXt') return pngChunk('zTXt', Buffer.concat([keyword, Buffer.from([0]), deflateSync(c.bytes)]));
  const body = Buffer.from(c.text, 'utf8');
  return pngChunk('iTXt', Buffer.concat([keyword, Buffer.from([c.compressed ? 1 : 0, 0]), Buffer.from('\0\0'), c.compressed ? deflateSync(body) : body]));
}

export interface PngPixels {
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA) bytes per pixel, row-major. */
  channels: 3 | 4;
  data: Uint8Array;
}

/** A PNG holding the given text chunks; a 1x1 RGB image unless pixels are given. */
export function buildPng(texts: PngText[], pixels?: PngPixels): Uint8Array {
  const image = pixels ?? { width: 1, height: 1, channels: 3 as const, data: Uint8Array.of(255, 0, 0) };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(image.width, 0);
  ihdr.writeUInt32BE(image.height, 4);
  ihdr.set([8, image.channels === 4 ? 6 : 2, 0, 0, 0], 8);
  const rowBytes = image.width * image.channels;
  const raw = Buffer.alloc(image.height * (rowBytes + 1));
  for (let y = 0; y < image.height; y++) raw.set(image.data.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const parts = [signature, pngChunk('IHDR', ihdr), ...texts.map(textChunk), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))];
  return new Uint8Array(Buffer.concat(parts));
}

/** An RGBA (or RGB) image carrying `text` in its low bits the way the stealth-pnginfo extension writes it. */
export function buildStealthPng(text: string, mode: 'alpha' | 'rgb', compressed: boolean, width = 64, height = 64): Uint8Array {
  const signature = `stealth_${mode === 'alpha' ? 'png' : 'rgb'}${compressed ? 'comp' : 'info'}`;
  const payload = compressed ? gzipSync(Buffer.from(text, 'utf8')) : Buffer.from(text, 'utf8');
  const bits: number[] = [];
  const pushByte = (byte: number): void => {
    for (let i = 7; i >= 0; i--) bits.push((byte >> i) & 1);
  };
  for (const byte of Buffer.from(signature, 'utf8')) pushByte(byte);
  const length = payload.length * 8;
  for (let i = 31; i >= 0; i--) bits.push(Math.floor(length / 2 ** i) % 2);
  for (const byte of payload) pushByte(byte);
  const channels = mode === 'alpha' ? 4 : 3;
  const perPixel = mode === 'alpha' ? 1 : 3;
  if (bits.length > width * height * perPixel) throw new RangeError('stealth text does not fit the image');
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 0xfe;
  if (mode === 'alpha') for (let i = 3; i < data.length; i += 4) data[i] = 254;
  // Column-major: bit k lives in pixel (x, y) with k = x * height + y (times 3 channels for rgb).
  bits.forEach((bit, k) => {
    const pixel = Math.floor(k / perPixel);
    const x = Math.floor(pixel / height);
    const y = pixel % height;
    const channel = mode === 'alpha' ? 3 : k % perPixel;
    const at = (y * width + x) * channels + channel;
    data[at] = (data[at]! & 0xfe) | bit;
  });
  return buildPng([], { width, height, channels: channels as 3 | 4, data });
}

export interface TiffFields {
  /** UserComment bytes after the 8-byte code, with the code. */
  userComment?: { code: 'UNICODE' | 'ASCII' | 'UNDEFINED'; body: Uint8Array };
  makerNote?: Uint8Array;
  software?: string;
}

/** "UNICODE" UserComment bodies: UTF-16 in either order, with or without a byte-order mark. */
export function utf16(text: string, order: 'be' | 'le', bom = false): Uint8Array {
  const le = Buffer.from(`${bom ? '\ufeff' : ''}${text}`, 'utf16le');
  return new Uint8Array(order === 'le' ? le : Buffer.from(le).swap16());
}

/** A TIFF block with IFD0 (Software, the Exif IFD pointer) and an Exif IFD (UserComment, MakerNote). */
export function buildTiff(fields: TiffFields, order: 'II' | 'MM'): Uint8Array {
  const little = order === 'II';
  type Entry = { tag: number; type: number; count: number; bytes: Uint8Array };
  const ifd0: Entry[] = [];
  const exif: Entry[] = [];
  if (fields.software !== undefined) {
    const bytes = latin1(`${fields.software}\0`);
    ifd0.push({ tag: 0x0131, type: 2, count: bytes.length, bytes });
  }
  if (fields.userComment) {
    const code = { UNICODE: 'UNICODE\0', ASCII: 'ASCII\0\0\0', UNDEFINED: '\0\0\0\0\0\0\0\0' }[fields.userComment.code];
    const bytes = Buffer.concat([Buffer.from(code, 'latin1'), fields.userComment.body]);
    exif.push({ tag: 0x9286, type: 7, count: bytes.length, bytes });
  }
  if (fields.makerNote) exif.push({ tag: 0x927c, type: 7, count: fields.makerNote.length, bytes: fields.makerNote });
  const size = (entries: Entry[]): number => 2 + entries.length * 12 + 4 + entries.reduce((n, e) => n + (e.bytes.length > 4 ? e.bytes.length + (e.bytes.length % 2) : 0), 0);
  const ifd0Count = ifd0.length + (exif.length > 0 ? 1 : 0);
  const ifd0Size = 2 + ifd0Count * 12 + 4 + ifd0.reduce((n, e) => n + (e.bytes.length > 4 ? e.bytes.length + (e.bytes.length % 2) : 0), 0);
  const exifAt = 8 + ifd0Size;
  const out = Buffer.alloc(exifAt + (exif.length > 0 ? size(exif) : 0));
  out.write(order, 0, 'latin1');
  const u16 = (v: number, at: number): number => (little ? out.writeUInt16LE(v, at) : out.writeUInt16BE(v, at));
  const u32 = (v: number, at: number): number => (little ? out.writeUInt32LE(v, at) : out.writeUInt32BE(v, at));
  u16(42, 2);
  u32(8, 4);
  const pointer = new Uint8Array(4);
  new DataView(pointer.buffer).setUint32(0, exifAt, little);
  if (exif.length > 0) ifd0.push({ tag: 0x8769, type: 4, count: 1, bytes: pointer });
  const writeIfd = (at: number, entries: Entry[]): void => {
    entries.sort((a, b) => a.tag - b.tag);
    u16(entries.length, at);
    let dataAt = at + 2 + entries.length * 12 + 4;
    entries.forEach((e, i) => {
      const p = at + 2 + i * 12;
      u16(e.tag, p);
      u16(e.type, p + 2);
      u32(e.count, p + 4);
      if (e.bytes.length <= 4) out.set(e.bytes, p + 8);
      else {
        u32(dataAt, p + 8);
        out.set(e.bytes, dataAt);
        dataAt += e.bytes.length + (e.bytes.length % 2);
      }
    });
  };
  writeIfd(8, ifd0);
  if (exif.length > 0) writeIfd(exifAt, exif);
  return new Uint8Array(out);
}

/** A minimal JPEG: SOI, optional APP1 Exif and COM segments, a stub frame header, SOS and EOI. */
export function buildJpeg(options: { exif?: Uint8Array; comment?: Uint8Array }): Uint8Array {
  const segment = (marker: number, body: Uint8Array): Buffer => {
    const head = Buffer.from([0xff, marker, 0, 0]);
    head.writeUInt16BE(body.length + 2, 2);
    return Buffer.concat([head, body]);
  };
  const parts: Buffer[] = [Buffer.from([0xff, 0xd8]), segment(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1'))];
  if (options.exif) parts.push(segment(0xe1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), options.exif])));
  if (options.comment) parts.push(segment(0xfe, Buffer.from(options.comment)));
  parts.push(segment(0xc0, Buffer.from([8, 0, 1, 0, 1, 1, 1, 0x11, 0])));
  parts.push(segment(0xda, Buffer.from([1, 1, 0, 0, 0x3f, 0])), Buffer.from([0x00, 0x3f, 0xff, 0xd9]));
  return new Uint8Array(Buffer.concat(parts));
}

/** An extended-format WebP: VP8X with the EXIF flag, a stub VP8L chunk, and an EXIF chunk (optionally "Exif\0\0"-prefixed). */
export function buildWebp(exif: Uint8Array, prefixed = false): Uint8Array {
  const chunk = (type: string, body: Uint8Array): Buffer => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body, Buffer.alloc(body.length % 2)]);
  };
  const vp8x = Buffer.alloc(10);
  vp8x[0] = 0x08;
  const exifBody = prefixed ? Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), exif]) : Buffer.from(exif);
  const body = Buffer.concat([Buffer.from('WEBP'), chunk('VP8X', vp8x), chunk('VP8L', Buffer.from([0x2f, 0, 0, 0, 0])), chunk('EXIF', exifBody)]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return new Uint8Array(Buffer.concat([riff, body]));
}
