/** Builds small PNGs with chosen text chunks for the UI tests (real CRCs, a 1x1 image, zlib from node:zlib). */
import { deflateSync, crc32 } from 'node:zlib';

export type TextChunk =
  | { type: 'tEXt'; keyword: string; text: string }
  | { type: 'zTXt'; keyword: string; text: string }
  | { type: 'iTXt'; keyword: string; text: string; compressed?: boolean };

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

function textChunk(c: TextChunk): Buffer {
  const keyword = Buffer.from(`${c.keyword}\0`, 'latin1');
  if (c.type === 'tEXt') return chunk('tEXt', Buffer.concat([keyword, Buffer.from(c.text, 'latin1')]));
  if (c.type === 'zTXt') return chunk('zTXt', Buffer.concat([keyword, Buffer.from([0]), deflateSync(Buffer.from(c.text, 'latin1'))]));
  const body = Buffer.from(c.text, 'utf8');
  const flags = Buffer.from([c.compressed ? 1 : 0, 0]);
  const tags = Buffer.from('en\0\0', 'latin1');
  return chunk('iTXt', Buffer.concat([keyword, flags, tags, c.compressed ? deflateSync(body) : body]));
}

export function buildPng(texts: TextChunk[]): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const pixels = deflateSync(Buffer.from([0, 255, 0, 0]));
  const parts = [signature, chunk('IHDR', ihdr), ...texts.map(textChunk), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))];
  return new Uint8Array(Buffer.concat(parts));
}
