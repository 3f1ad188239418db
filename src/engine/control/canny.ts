/**
 * Canny edge detection (Canny 1986) on one 8-bit plane, with the choices of OpenCV's `cv2.Canny(img, low, high)`
 * that Fooocus calls: no smoothing of its own, 3x3 Sobel gradients with replicated borders, the L1 magnitude
 * |dx| + |dy| (OpenCV's default, L2gradient=false), non-maximum suppression in four directions with OpenCV's
 * 22.5-degree sectors and tie-breaking, and 8-connected hysteresis from pixels above `high` through pixels above
 * `low`. Pixels outside the image count as magnitude 0.
 */

/** tan(22.5 deg) in OpenCV's 15-bit fixed point; the sector tests below are the same integer comparisons. */
const TAN_22_5_Q15 = 13573;

/** Sobel derivatives with replicated borders, as int16 would hold them (3x3 sums of bytes never overflow). */
function sobelOf(plane: Uint8Array, width: number, height: number): { dx: Int32Array; dy: Int32Array } {
  const dx = new Int32Array(width * height);
  const dy = new Int32Array(width * height);
  const at = (x: number, y: number): number => plane[Math.min(Math.max(y, 0), height - 1) * width + Math.min(Math.max(x, 0), width - 1)]!;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = at(x - 1, y - 1), b = at(x, y - 1), c = at(x + 1, y - 1);
      const d = at(x - 1, y), f = at(x + 1, y);
      const g = at(x - 1, y + 1), h = at(x, y + 1), k = at(x + 1, y + 1);
      dx[y * width + x] = c + 2 * f + k - (a + 2 * d + g);
      dy[y * width + x] = g + 2 * h + k - (a + 2 * b + c);
    }
  }
  return { dx, dy };
}

/** Edge map of one plane: 255 on edges, 0 elsewhere. Thresholds are floored as OpenCV does; low > high swap. */
export function detectCannyEdges(plane: Uint8Array, width: number, height: number, lowThreshold: number, highThreshold: number): Uint8Array {
  if (plane.length !== width * height) throw new Error(`plane has ${plane.length} pixels, expected ${width}x${height}`);
  let low = Math.floor(lowThreshold);
  let high = Math.floor(highThreshold);
  if (low > high) [low, high] = [high, low];
  const { dx, dy } = sobelOf(plane, width, height);
  const magnitude = new Int32Array(width * height);
  for (let i = 0; i < magnitude.length; i++) magnitude[i] = Math.abs(dx[i]!) + Math.abs(dy[i]!);
  const mag = (x: number, y: number): number => (x < 0 || y < 0 || x >= width || y >= height ? 0 : magnitude[y * width + x]!);

  // 0: candidate (a local maximum above low), 1: not an edge, 2: edge
  const state = new Uint8Array(width * height).fill(1);
  const stack: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const m = magnitude[i]!;
      if (m <= low) continue;
      const ax = Math.abs(dx[i]!);
      const ay = Math.abs(dy[i]!) * 32768;
      const tan22 = ax * TAN_22_5_Q15;
      let maximal: boolean;
      if (ay < tan22) {
        maximal = m > mag(x - 1, y) && m >= mag(x + 1, y); // gradient near horizontal
      } else if (ay > tan22 + ax * 65536) {
        maximal = m > mag(x, y - 1) && m >= mag(x, y + 1); // near vertical
      } else {
        const s = dx[i]! < 0 !== dy[i]! < 0 ? -1 : 1; // diagonal: which one follows the gradient's signs
        maximal = m > mag(x - s, y - 1) && m > mag(x + s, y + 1);
      }
      if (!maximal) continue;
      if (m > high) {
        state[i] = 2;
        stack.push(i);
      } else {
        state[i] = 0;
      }
    }
  }

  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % width;
    const y = (i - x) / width;
    for (let ny = y - 1; ny <= y + 1; ny++) {
      for (let nx = x - 1; nx <= x + 1; nx++) {
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const j = ny * width + nx;
        if (state[j] === 0) {
          state[j] = 2;
          stack.push(j);
        }
      }
    }
  }
  const edges = new Uint8Array(width * height);
  for (let i = 0; i < edges.length; i++) if (state[i] === 2) edges[i] = 255;
  return edges;
}
