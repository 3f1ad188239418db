import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { buildPriorBoxes, decodeDetections, intersectionOverUnion } from '../../../src/engine/face/face-detection.ts';
import { estimateSimilarity, FACE_TEMPLATE_512, warpSimilarity, type Similarity } from '../../../src/engine/face/face-alignment.ts';
import type { RgbImage } from '../../../src/engine/rgb-image.ts';

const apply = (m: Similarity, [x, y]: readonly [number, number]): [number, number] => [m.a * x - m.b * y + m.tx, m.b * x + m.a * y + m.ty];

/** Landmarks of a face in a photo: the template moved by the inverse of `truth`, so `truth` maps them back. */
function photoLandmarks(truth: Similarity): [number, number][] {
  const det = truth.a ** 2 + truth.b ** 2;
  return FACE_TEMPLATE_512.map(([x, y]) => {
    const u = x - truth.tx;
    const v = y - truth.ty;
    return [(truth.a * u + truth.b * v) / det, (-truth.b * u + truth.a * v) / det];
  });
}

function assertSimilarity(got: Similarity, want: Similarity, tolerance: number): void {
  for (const k of ['a', 'b', 'tx', 'ty'] as const) assert.ok(Math.abs(got[k] - want[k]) <= tolerance, `${k}: ${got[k]} vs ${want[k]}`);
}

describe('face crop transform', () => {
  const truth: Similarity = { a: 2.1 * Math.cos(0.3), b: 2.1 * Math.sin(0.3), tx: -40, ty: 25 };

  it('recovers a rotation, scale and shift from five exact landmarks', () => {
    assertSimilarity(estimateSimilarity(photoLandmarks(truth), FACE_TEMPLATE_512), truth, 1e-9);
  });

  it('ignores one landmark that is far off (least median of squares) and fits the other four exactly', () => {
    const points = photoLandmarks(truth);
    points[3] = [points[3]![0] + 30, points[3]![1] - 12];
    const robust = estimateSimilarity(points, FACE_TEMPLATE_512);
    assertSimilarity(robust, truth, 1e-9);
    for (const [i, p] of points.entries()) {
      const [x, y] = apply(robust, p);
      const far = Math.hypot(x - FACE_TEMPLATE_512[i]![0], y - FACE_TEMPLATE_512[i]![1]) > 10;
      assert.equal(far, i === 3, `point ${i}`);
    }
  });

  it('resamples bilinearly, with the border colour outside the image', () => {
    const image: RgbImage = { width: 2, height: 2, rgb: Uint8Array.from([0, 0, 0, 100, 50, 10, 200, 100, 20, 40, 80, 120]) };
    assert.deepEqual([...warpSimilarity(image, { a: 1, b: 0, tx: 0, ty: 0 }, 2).rgb], [...image.rgb]);
    // Half a pixel to the right: crop (0, 0) reads source (0.5, 0), the mean of the first two pixels.
    const shifted = warpSimilarity(image, { a: 1, b: 0, tx: -0.5, ty: 0 }, 2, [1, 2, 3]);
    assert.deepEqual([...shifted.rgb.subarray(0, 3)], [50, 25, 5]);
    // (1, 0) reads (1.5, 0): half the second pixel, half the border.
    assert.deepEqual([...shifted.rgb.subarray(3, 6)], [51, 26, 7]);
    // A quarter turn about the origin puts everything outside the image but the corner pixel.
    const turned = warpSimilarity(image, { a: 0, b: 1, tx: 0, ty: 0 }, 2, [9, 9, 9]);
    assert.deepEqual([...turned.rgb.subarray(0, 3)], [0, 0, 0]);
    assert.deepEqual([...turned.rgb.subarray(3, 6)], [9, 9, 9]);
  });
});

describe('face detection decoding', () => {
  it('lays out prior boxes level by level, row-major, two sizes per position', () => {
    const priors = buildPriorBoxes(16, 16);
    assert.equal(priors.length / 4, 2 * 2 * 2 + 2 + 2);
    assert.deepEqual([...priors.subarray(0, 8)], [0.25, 0.25, 1, 1, 0.25, 0.25, 2, 2]);
    assert.deepEqual([...priors.subarray(8, 12)], [0.75, 0.25, 1, 1]);
    assert.deepEqual([...priors.subarray(32, 36)], [0.5, 0.5, 4, 4]);
    assert.equal(buildPriorBoxes(17, 9).length / 4, 3 * 2 * 2 + 2 * 1 * 2 + 1 * 1 * 2);
  });

  it('decodes boxes and landmarks, keeps scores above 0.97 only, best first, and suppresses overlaps above IoU 0.4', () => {
    const count = 12;
    const boxes = new Float32Array(count * 4);
    const scores = new Float32Array(count * 2);
    const landmarks = new Float32Array(count * 10);
    const setScore = (a: number, s: number): void => void scores.set([1 - s, s], a * 2);
    setScore(0, 0.98); // 16 px box centred on (4, 4)
    setScore(2, 0.99); // the next column's 16 px box, moved 8 px left onto anchor 0's box: suppresses it
    boxes.set([-5, 0, 0, 0], 2 * 4);
    setScore(4, 0.97); // exactly the threshold (as float32, as the network's scores are): dropped
    setScore(1, 0.975); // anchor 0's 32 px sibling, made 1.5 times wider: overlaps the kept box by 1/6, kept
    boxes.set([0, 0, Math.log(1.5) / 0.2, 0], 1 * 4);
    landmarks.set([1, 0, 0, 1, 0, 0, 0, 0, -1, -1], 0);
    landmarks.set([1, 0, 0, 1, 0, 0, 0, 0, -1, -1], 2 * 10);
    const faces = decodeDetections({ boxes: { dims: [1, count, 4], data: boxes }, scores: { dims: [1, count, 2], data: scores }, landmarks: { dims: [1, count, 10], data: landmarks } }, 16, 16);
    assert.equal(faces.length, 2);
    assert.ok(Math.abs(faces[0]!.score - 0.99) < 1e-6);
    faces[0]!.box.forEach((v, i) => assert.ok(Math.abs(v - [-4, -4, 12, 12][i]!) < 1e-5, `box ${i}: ${v}`));
    // Landmark offsets scale by variance 0.1 and the prior size (16 px) from the prior centre (12, 4).
    const want = [[13.6, 4], [12, 5.6], [12, 4], [12, 4], [10.4, 2.4]];
    faces[0]!.landmarks.forEach(([x, y], k) => assert.ok(Math.abs(x - want[k]![0]!) < 1e-5 && Math.abs(y - want[k]![1]!) < 1e-5, `landmark ${k}: ${x}, ${y}`));
    assert.ok(Math.abs(faces[1]!.score - 0.975) < 1e-6);
    faces[1]!.box.forEach((v, i) => assert.ok(Math.abs(v - [-20, -12, 28, 20][i]!) < 1e-4, `box ${i}: ${v}`));
    assert.ok(intersectionOverUnion(faces[0]!.box, faces[1]!.box) <= 0.4);
    assert.throws(() => decodeDetections({ boxes: { dims: [1, 5, 4], data: boxes }, scores: { dims: [1, 5, 2], data: scores }, landmarks: { dims: [1, 5, 10], data: landmarks } }, 16, 16), /5 anchors for a 16x16 image; 12 expected/);
  });
});
