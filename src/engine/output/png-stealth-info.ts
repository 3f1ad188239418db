/**
 * "Stealth" PNG info: generation parameters hidden in the low bits of the pixels, as the A1111 stealth-pnginfo
 * extension (and NovelAI) write them, so they survive sites that strip text chunks. Layout: bits are taken column
 * by column (x outer, y inner), one per pixel from alpha or three per pixel from red, green and blue; a 15-byte
 * signature (`stealth_pnginfo`/`stealth_pngcomp` for alpha, `stealth_rgbinfo`/`stealth_rgbcomp` for RGB), a
 * 32-bit big-endian count of data bits, then the data: UTF-8 text, gzip-compressed for the `comp` signatures.
 */
import { InvalidImageError } from './image-errors.ts';
import { unfilterScanlines } from './png-filters.ts';
import { decodeLatin1, decodeUtf8OrNull, inflateCapped, inflatePrefix } from './text-bytes.ts';

export interface StealthPngImage {
  width: number;
  height: number;
  /** 4 for RGBA, 3 for RGB; other colour types carry no stealth info. */
  channels: 3 | 4;
  /** The IDAT chunks' bytes, in order. */
  compressed: readonly Uint8Array[];
}

export interface StealthInfo {
  mode: 'alpha' | 'rgb';
  text: string;
}

const SIGNATURE_BITS = 15 * 8;
const LENGTH_BITS = 32;
/** Decoding pixels costs memory: beyond this many the image is not searched (a 4096 x 4096 RGBA is 64 MiB). */
export const MAX_STEALTH_PIXELS = 4096 * 4096;

/**
 * The stealth text of an 8-bit, non-interlaced RGB or RGBA image, or null when its first column does not start with
 * a signature. Only the rows the signature needs are inflated until it is found; `maxTextBytes` caps the text.
 */
export async function readStealthInfo(image: StealthPngImage, maxTextBytes: number): Promise<StealthInfo | null> {
  const { width, height, channels } = image;
  if (width * height > MAX_STEALTH_PIXELS) return null;
  const rowBytes = width * channels;
  if (height >= SIGNATURE_BITS) {
    // The signature lies in the first 120 pixels of the first column (40 for RGB): inflate those rows first.
    const probe = await inflatePrefix(image.compressed, 'deflate', SIGNATURE_BITS * (rowBytes + 1), 'PNG pixel data');
    if (probe.length < SIGNATURE_BITS * (rowBytes + 1)) return null;
    if (findSignature(new BitReader(unfilterScanlines(probe, rowBytes, channels, SIGNATURE_BITS), width, SIGNATURE_BITS, channels), channels) === null) {
      return null;
    }
  }
  const full = await inflatePrefix(image.compressed, 'deflate', height * (rowBytes + 1), 'PNG pixel data');
  if (full.length < height * (rowBytes + 1)) return null;
  const bits = new BitReader(unfilterScanlines(full, rowBytes, channels, height), width, height, channels);
  const signature = findSignature(bits, channels);
  if (signature === null) return null;
  const reader = signature.mode === 'alpha' ? bits.alpha() : bits.rgb();
  for (let i = 0; i < SIGNATURE_BITS; i++) reader.next();
  let length = 0;
  for (let i = 0; i < LENGTH_BITS; i++) length = length * 2 + reader.next();
  if (length % 8 !== 0 || length / 8 > maxTextBytes || length > reader.remaining()) {
    throw new InvalidImageError('text-chunk', `stealth ${signature.mode} info claims ${length} bits, more than the image or the text limit holds`);
  }
  const data = new Uint8Array(length / 8);
  for (let i = 0; i < data.length; i++) {
    let byte = 0;
    for (let b = 0; b < 8; b++) byte = (byte << 1) | reader.next();
    data[i] = byte;
  }
  const bytes = signature.compressed ? await inflateCapped(data, 'gzip', maxTextBytes, 'stealth info') : data;
  const text = decodeUtf8OrNull(bytes);
  if (text === null) throw new InvalidImageError('text-chunk', 'stealth info is not valid UTF-8');
  return { mode: signature.mode, text };
}

function findSignature(bits: BitReader, channels: number): { mode: 'alpha' | 'rgb'; compressed: boolean } | null {
  const candidates: ['alpha' | 'rgb', Iterator][] = channels === 4 ? [['alpha', bits.alpha()], ['rgb', bits.rgb()]] : [['rgb', bits.rgb()]];
  for (const [mode, reader] of candidates) {
    if (reader.remaining() < SIGNATURE_BITS) continue;
    const bytes = new Uint8Array(15);
    for (let i = 0; i < SIGNATURE_BITS; i++) bytes[i >> 3] = (bytes[i >> 3]! << 1) | reader.next();
    const name = decodeLatin1(bytes);
    const prefix = mode === 'alpha' ? 'stealth_png' : 'stealth_rgb';
    if (name === `${prefix}info` || name === `${prefix}comp`) return { mode, compressed: name.endsWith('comp') };
  }
  return null;
}

interface Iterator {
  next(): number;
  /** Bits left in the decoded rows. */
  remaining(): number;
}

/** Column-major low bits of the first `rows` decoded rows (all of them, or the signature probe). */
class BitReader {
  constructor(
    private readonly pixels: Uint8Array,
    private readonly width: number,
    private readonly rows: number,
    private readonly channels: number,
  ) {}

  alpha(): Iterator {
    return this.iterate(1, (x, y) => this.pixels[(y * this.width + x) * this.channels + 3]! & 1);
  }

  rgb(): Iterator {
    let cache = 0;
    return this.iterate(3, (x, y, k) => {
      if (k === 0) cache = (y * this.width + x) * this.channels;
      return this.pixels[cache + k]! & 1;
    });
  }

  private iterate(perPixel: number, bit: (x: number, y: number, k: number) => number): Iterator {
    let index = 0;
    const total = this.width * this.rows * perPixel;
    return {
      next: () => {
        const pixel = Math.floor(index / perPixel);
        const k = index % perPixel;
        index++;
        const x = Math.floor(pixel / this.rows);
        const y = pixel % this.rows;
        if (x >= this.width) throw new InvalidImageError('text-chunk', 'stealth info runs past the end of the image');
        return bit(x, y, k);
      },
      remaining: () => total - index,
    };
  }
}
