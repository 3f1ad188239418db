import { InvalidImageError } from './image-errors.ts';

/** PNG spec 9.2 filter types. */
const NONE = 0;
const SUB = 1;
const UP = 2;
const AVERAGE = 3;
const PAETH = 4;

/**
 * Prefix each row with the filter that gives the smallest sum of absolute values of the filtered bytes read as
 * signed (the "minimum sum of absolute differences" heuristic the PNG spec, 12.8, recommends for truecolour and the
 * one libpng uses). Trying all five per row costs ~5 passes over the pixels but typically saves 10-30% over a fixed
 * Paeth choice on generated images.
 */
export function filterScanlines(pixels: Uint8Array, rowBytes: number, bpp: number, height: number): Uint8Array {
  const out = new Uint8Array(height * (rowBytes + 1));
  const candidate = new Uint8Array(rowBytes);
  const best = new Uint8Array(rowBytes);
  const zeroRow = new Uint8Array(rowBytes);
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * rowBytes, (y + 1) * rowBytes);
    const prior = y === 0 ? zeroRow : pixels.subarray((y - 1) * rowBytes, y * rowBytes);
    let bestType = NONE;
    let bestScore = Infinity;
    for (let type = NONE; type <= PAETH; type++) {
      const score = applyFilter(type, row, prior, bpp, candidate);
      if (score < bestScore) {
        bestScore = score;
        bestType = type;
        best.set(candidate);
      }
    }
    out[y * (rowBytes + 1)] = bestType;
    out.set(best, y * (rowBytes + 1) + 1);
  }
  return out;
}

/** Undo per-row filters in place; `data` holds height x (1 + rowBytes) bytes, the result is height x rowBytes. */
export function unfilterScanlines(data: Uint8Array, rowBytes: number, bpp: number, height: number): Uint8Array {
  const out = new Uint8Array(height * rowBytes);
  const zeroRow = new Uint8Array(rowBytes);
  for (let y = 0; y < height; y++) {
    const type = data[y * (rowBytes + 1)]!;
    const src = data.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1));
    const row = out.subarray(y * rowBytes, (y + 1) * rowBytes);
    const prior = y === 0 ? zeroRow : out.subarray((y - 1) * rowBytes, y * rowBytes);
    if (type > PAETH) throw new InvalidImageError('pixel-data', `PNG row ${y} uses unknown filter type ${type}`);
    reconstructRow(type, src, prior, bpp, row);
  }
  return out;
}

function applyFilter(type: number, row: Uint8Array, prior: Uint8Array, bpp: number, out: Uint8Array): number {
  let score = 0;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp]! : 0;
    const b = prior[i]!;
    const c = i >= bpp ? prior[i - bpp]! : 0;
    const value = (row[i]! - predict(type, a, b, c)) & 0xff;
    out[i] = value;
    score += value < 128 ? value : 256 - value;
  }
  return score;
}

function reconstructRow(type: number, src: Uint8Array, prior: Uint8Array, bpp: number, row: Uint8Array): void {
  for (let i = 0; i < src.length; i++) {
    const a = i >= bpp ? row[i - bpp]! : 0;
    const b = prior[i]!;
    const c = i >= bpp ? prior[i - bpp]! : 0;
    row[i] = (src[i]! + predict(type, a, b, c)) & 0xff;
  }
}

/** a = left, b = above, c = upper-left (PNG spec 9.2-9.4). */
function predict(type: number, a: number, b: number, c: number): number {
  switch (type) {
    case SUB:
      return a;
    case UP:
      return b;
    case AVERAGE:
      return (a + b) >> 1;
    case PAETH: {
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      if (pa <= pb && pa <= pc) return a;
      return pb <= pc ? b : c;
    }
    default:
      return 0;
  }
}
