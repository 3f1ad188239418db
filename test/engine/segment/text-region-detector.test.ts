/**
 * The text-conditioned RegionDetector's own logic — thresholds passed through, the cap on detections in the box
 * finder's order, holes filled as Fooocus does, masks merged, nothing found reported as 0 regions — with box finders
 * and segmenters written out in the test (the GroundingDINO and SAM graphs have their own tests).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroundedBox } from '../../../src/engine/detect/grounding-dino-boxes.ts';
import type { GroundingDino } from '../../../src/engine/detect/grounding-dino.ts';
import type { Segmenter } from '../../../src/engine/segment/segmenter.ts';
import type { SegmentedMask } from '../../../src/engine/segment/segmenter.ts';
import { ENHANCE_HOLE_AREA, TextRegionDetector, type BoxFinder, type BoxSegmenter } from '../../../src/engine/segment/text-region-detector.ts';

const W = 20;
const H = 10;
const image = { width: W, height: H, rgb: new Uint8Array(W * H * 3) };

function boxFinder(boxes: GroundedBox[], seen: unknown[]): BoxFinder {
  return {
    detect: async (_image, prompt, thresholds) => {
      seen.push({ prompt, thresholds });
      return boxes;
    },
    release: async () => undefined,
  };
}

/** Fills each box's rectangle (x1 <= x < x2, y1 <= y < y2). */
function boxSegmenter(seen: unknown[]): BoxSegmenter {
  return {
    segmentBoxes: async (_image, boxes, options) => {
      seen.push(options);
      return boxes.map((box): SegmentedMask => {
        const mask = new Uint8Array(W * H);
        for (let y = box[1]; y < box[3]; y++) for (let x = box[0]; x < box[2]; x++) mask[y * W + x] = 1;
        return { box, width: W, height: H, mask, iou: 0.9 };
      });
    },
    release: async () => undefined,
  };
}

const grounded = (box: [number, number, number, number]): GroundedBox => ({ box, score: 0.5, label: 'face', phrase: 0 });

/** Compiles only while the real GroundingDINO and SAM classes fit the detector's seams. */
export const fromRealModels = (dino: GroundingDino, sam: Segmenter): TextRegionDetector => new TextRegionDetector('groundingdino+sam', dino, sam);

describe('TextRegionDetector', () => {
  it('passes the thresholds, keeps the first maxDetections boxes and merges their masks', async () => {
    const seen: unknown[] = [];
    const detector = new TextRegionDetector('dino+sam', boxFinder([grounded([0, 0, 2, 2]), grounded([10, 5, 12, 7]), grounded([18, 8, 20, 10])], seen), boxSegmenter(seen));
    const found = await detector.detect(image, { prompt: 'face', boxThreshold: 0.35, textThreshold: 0.2, maxDetections: 2 });
    assert.deepEqual(seen[0], { prompt: 'face', thresholds: { boxThreshold: 0.35, textThreshold: 0.2 } });
    assert.deepEqual(seen[1], { fillHolesBelow: ENHANCE_HOLE_AREA });
    assert.equal(found.regions, 2);
    assert.equal(found.mask.data.filter((v) => v === 255).length, 8);
    assert.equal(found.mask.data[6 * W + 11], 255);
    assert.equal(found.mask.data[9 * W + 19], 0, 'the third box is past the cap');
    const all = await detector.detect(image, { prompt: 'face', boxThreshold: 0.3, textThreshold: 0.25, maxDetections: 0 });
    assert.equal(all.regions, 3);
  });

  it('reports nothing found as 0 regions and an empty mask', async () => {
    const none = new TextRegionDetector('dino+sam', boxFinder([], []), boxSegmenter([]));
    const found = await none.detect(image, { prompt: 'hand', boxThreshold: 0.3, textThreshold: 0.25, maxDetections: 0 });
    assert.equal(found.regions, 0);
    assert.ok(found.mask.data.every((v) => v === 0));
    const emptyMask = new TextRegionDetector('dino+sam', boxFinder([grounded([3, 3, 3, 3])], []), boxSegmenter([]));
    assert.equal((await emptyMask.detect(image, { prompt: 'hand', boxThreshold: 0.3, textThreshold: 0.25, maxDetections: 0 })).regions, 0);
  });
});
