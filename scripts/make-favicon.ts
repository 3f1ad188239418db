/**
 * Writes src/ui/favicon.ico: the page's icon, drawn here (a white "F" with a spark on the studio's accent blue),
 * 32 x 32, stored as a PNG inside an ICO container (every browser since 2010 reads PNG-in-ICO). Run it again after
 * changing the drawing: `npx tsx scripts/make-favicon.ts`.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodePng } from '../src/engine/output/png.ts';

const SIZE = 32;
const BLUE = [0x2f, 0x6f, 0xde];
const WHITE = [0xff, 0xff, 0xff];
const GOLD = [0xff, 0xc8, 0x3d];

/** Filled rectangles [x, y, width, height] of the drawing, on a 32-pixel grid. */
const LETTER: [number, number, number, number][] = [
  [9, 6, 4, 20], // stem
  [9, 6, 14, 4], // top bar
  [9, 14, 10, 4], // middle bar
];
const SPARK: [number, number, number, number][] = [
  [22, 19, 2, 8],
  [19, 22, 8, 2],
];

function drawIcon(): Uint8Array {
  const rgb = new Uint8Array(SIZE * SIZE * 3);
  const paint = (rects: [number, number, number, number][], colour: number[]): void => {
    for (const [x0, y0, w, h] of rects) {
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) rgb.set(colour, (y * SIZE + x) * 3);
    }
  };
  paint([[0, 0, SIZE, SIZE]], BLUE);
  paint(LETTER, WHITE);
  paint(SPARK, GOLD);
  return rgb;
}

/** ICONDIR (6 bytes) + one ICONDIRENTRY (16 bytes) + the PNG. */
function wrapPngInIco(png: Uint8Array, size: number): Uint8Array {
  const header = new DataView(new ArrayBuffer(22));
  header.setUint16(2, 1, true); // type: icon
  header.setUint16(4, 1, true); // one image
  header.setUint8(6, size % 256); // 0 means 256
  header.setUint8(7, size % 256);
  header.setUint16(10, 1, true); // colour planes
  header.setUint16(12, 32, true); // bits per pixel
  header.setUint32(14, png.length, true);
  header.setUint32(18, 22, true); // offset of the image data
  const ico = new Uint8Array(22 + png.length);
  ico.set(new Uint8Array(header.buffer), 0);
  ico.set(png, 22);
  return ico;
}

const target = path.join(import.meta.dirname, '..', 'src', 'ui', 'favicon.ico');
await writeFile(target, wrapPngInIco(encodePng(drawIcon(), SIZE, SIZE), SIZE));
console.log(`wrote ${target}`);
