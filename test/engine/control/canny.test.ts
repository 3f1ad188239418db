import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { detectCannyEdges } from '../../../src/engine/control/canny.ts';
import { referenceCanny } from '../../reference/canny-reference.ts';

/** A small deterministic generator (xorshift32), so the random images are the same on every run. */
function createBytes(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s & 255;
  };
}

function columnOf(edges: Uint8Array, width: number, x: number): number[] {
  return Array.from({ length: edges.length / width }, (_, y) => edges[y * width + x]!);
}

describe('detectCannyEdges', () => {
  it('marks a vertical step on its dark side only (OpenCV breaks the tie towards the previous column)', () => {
    // Sobel dx is 4 * 200 = 800 on columns 3 and 4; the strict test against the left neighbour keeps column 3.
    const width = 8;
    const height = 5;
    const plane = Uint8Array.from({ length: width * height }, (_, i) => (i % width >= 4 ? 200 : 0));
    const edges = detectCannyEdges(plane, width, height, 64, 128);
    assert.deepEqual(columnOf(edges, width, 3), [255, 255, 255, 255, 255]);
    assert.equal(edges.filter((v) => v !== 0).length, height);
  });

  it('needs a magnitude strictly above high to seed an edge, and strictly above low to follow one', () => {
    // a step of 32 gives |dx| = 128: equal to high, so nothing; a step of 33 gives 132
    const width = 6;
    const height = 3;
    const step = (v: number): Uint8Array => Uint8Array.from({ length: width * height }, (_, i) => (i % width >= 3 ? v : 0));
    assert.equal(detectCannyEdges(step(32), width, height, 64, 128).some((v) => v !== 0), false);
    assert.equal(detectCannyEdges(step(33), width, height, 64, 128).filter((v) => v !== 0).length, height);
    assert.equal(detectCannyEdges(step(33), width, height, 128, 64).filter((v) => v !== 0).length, height, 'thresholds given in the wrong order swap');
  });

  it('follows weak edges connected to a strong one and drops isolated weak ones', () => {
    // left part: step 40 (|dx| 160, strong); right part of the same column line: step 20 (80, weak but connected)
    const width = 6;
    const height = 8;
    const plane = Uint8Array.from({ length: width * height }, (_, i) => {
      const x = i % width;
      const y = Math.floor(i / width);
      return x >= 3 ? (y < 4 ? 40 : 20) : 0;
    });
    // cv2.Canny (4.14) on the same plane: the weak rows 5..7 join through the step between the two parts
    const edges = detectCannyEdges(plane, width, height, 64, 128);
    const rows = Array.from({ length: height }, (_, y) => Array.from(edges.subarray(y * width, (y + 1) * width)));
    assert.deepEqual(rows, [
      [0, 0, 255, 0, 0, 0],
      [0, 0, 255, 0, 0, 0],
      [0, 0, 255, 0, 0, 0],
      [0, 0, 0, 255, 255, 255],
      [0, 0, 0, 255, 0, 0],
      [0, 0, 255, 0, 0, 0],
      [0, 0, 255, 0, 0, 0],
      [0, 0, 255, 0, 0, 0],
    ]);
    const lonely = Uint8Array.from({ length: width * height }, (_, i) => (i % width >= 3 ? 20 : 0));
    assert.equal(detectCannyEdges(lonely, width, height, 64, 128).some((v) => v !== 0), false);
  });

  it('agrees with a textbook implementation (atan2 sectors, sweeping hysteresis) on random and structured images', () => {
    const next = createBytes(7);
    for (let trial = 0; trial < 12; trial++) {
      const width = 9 + trial;
      const height = 7 + (trial % 5);
      const plane = new Uint8Array(width * height);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          // a disc and a ramp under noise, so every direction sector and both hysteresis outcomes occur
          const disc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (height / 3) ** 2 ? 120 : 0;
          plane[y * width + x] = Math.min(255, disc + x * 6 + (next() % (trial < 6 ? 40 : 120)));
        }
      }
      for (const [low, high] of [[64, 128], [20, 60], [100, 300]] as const) {
        const ours = detectCannyEdges(plane, width, height, low, high);
        assert.deepEqual(Array.from(ours), Array.from(referenceCanny(plane, width, height, low, high)), `trial ${trial}, thresholds ${low}/${high}`);
      }
    }
  });
});
