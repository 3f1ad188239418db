/**
 * Fills small holes of a binary mask: every 8-connected region of pixels outside the mask whose area is below a
 * threshold joins the mask, whether it is enclosed or touches the border. This is the "holes" mode of Segment
 * Anything's `remove_small_regions`, which Fooocus's Enhance applies to each SAM mask with a threshold of 400.
 */

/** The area Fooocus fills below, in pixels. */
export const FOOOCUS_SAM_HOLE_AREA = 400;

/** Returns a copy of `mask` ([height, width], 0/1) with each outside region smaller than `minArea` pixels set to 1. */
export function fillSmallHoles(mask: Uint8Array, width: number, height: number, minArea: number): Uint8Array {
  if (mask.length !== width * height) throw new Error(`mask has ${mask.length} pixels for ${width}x${height}`);
  const out = Uint8Array.from(mask);
  const seen = new Uint8Array(mask.length);
  const region: number[] = [];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] !== 0 || seen[start] !== 0) continue;
    // Flood one outside region (8-connected), remembering its pixels.
    region.length = 0;
    stack.push(start);
    seen[start] = 1;
    while (stack.length > 0) {
      const i = stack.pop()!;
      region.push(i);
      const x = i % width;
      const y = (i - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width || (dx === 0 && dy === 0)) continue;
          const j = ny * width + nx;
          if (mask[j] === 0 && seen[j] === 0) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
    }
    if (region.length < minArea) for (const i of region) out[i] = 1;
  }
  return out;
}
