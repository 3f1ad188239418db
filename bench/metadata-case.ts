/**
 * Metadata read time per image: `readImageMetadataReport` (what the page, the CLI and POST /api/v1/metadata run) on
 * a 20 MB PNG (random pixels, so deflate cannot shrink them) with a 64 KiB A1111 parameters chunk, and on the same
 * pixels without text (the reader then probes for stealth info, inflating only the rows its signature needs).
 * Median of 20 reads after 3 warm-up reads. Prints one JSON line.
 * Usage: node --import tsx bench/metadata-case.ts
 */
import { randomFillSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { crc32, deflateSync } from 'node:zlib';
import { readImageMetadataReport } from '../src/engine/output/image-metadata-report.ts';

const SIDE = 2600; // 2600 x 2600 RGB: 20.3 MB of pixel data
const PARAMETERS_BYTES = 64 * 1024 - 64;

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

function buildPng(parameters: string | null): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(SIDE, 0);
  ihdr.writeUInt32BE(SIDE, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc(SIDE * (SIDE * 3 + 1));
  randomFillSync(rows);
  for (let y = 0; y < SIDE; y++) rows[y * (SIDE * 3 + 1)] = 0;
  const text = parameters === null ? [] : [chunk('tEXt', Buffer.concat([Buffer.from('parameters\0', 'latin1'), Buffer.from(parameters, 'latin1')]))];
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(Buffer.concat([signature, chunk('IHDR', ihdr), ...text, chunk('IDAT', deflateSync(rows, { level: 1 })), chunk('IEND', Buffer.alloc(0))]));
}

function buildParameters(): string {
  const line = 'Steps: 30, Sampler: DPM++ 2M SDE Karras, CFG scale: 4.5, Seed: 1234567890, Size: 1152x896, Model: juggernautXL_v8, Version: v1.10.1';
  const negative = 'Negative prompt: lowres, bad anatomy';
  const words = 'a very detailed lighthouse on a cliff at dusk, ';
  const room = PARAMETERS_BYTES - line.length - negative.length - 2;
  return `${words.repeat(Math.ceil(room / words.length)).slice(0, room)}\n${negative}\n${line}`;
}

async function time(bytes: Uint8Array): Promise<{ medianMs: number; p90Ms: number }> {
  for (let i = 0; i < 3; i++) await readImageMetadataReport(bytes);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const start = performance.now();
    await readImageMetadataReport(bytes);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[10]!, p90Ms: times[18]! };
}

const withText = buildPng(buildParameters());
const report = await readImageMetadataReport(withText);
if (report.scheme !== 'a1111') throw new Error(`the bench image reads as ${report.scheme}`);
const plain = buildPng(null);
const text = await time(withText);
const probe = await time(plain);
console.log(JSON.stringify({ family: 'metadata', part: 'read', fileBytes: withText.length, parametersBytes: PARAMETERS_BYTES, withText: text, withoutText: probe }));
