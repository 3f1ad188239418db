/**
 * Putting the generated crop back: resampled to the crop's size, placed into the (padded) input, then blended
 * with the input through the soft mask, `generated * w + input * (1 - w)` truncated to 8 bits as Fooocus does. A
 * pixel whose weight is 0 is copied from the input, so everything farther than SOFT_MASK_REACH pixels from the
 * mask is unchanged bit for bit.
 */
import type { RgbImage } from '../rgb-image.ts';
import { resizeRgb, type CropBox } from './inpaint-crop.ts';
import type { GreyMask } from './inpaint-settings.ts';

export function pasteBack(input: RgbImage, generated: RgbImage, box: CropBox, soft: GreyMask): RgbImage {
  const width = box.right - box.left;
  const height = box.bottom - box.top;
  const content = resizeRgb(generated, width, height);
  const rgb = input.rgb.slice();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (box.top + y) * input.width + box.left + x;
      const w = soft.data[p]! / 255;
      if (w === 0) continue;
      for (let c = 0; c < 3; c++) {
        const fg = content.rgb[(y * width + x) * 3 + c]!;
        rgb[p * 3 + c] = Math.min(255, Math.max(0, Math.trunc(fg * w + input.rgb[p * 3 + c]! * (1 - w))));
      }
    }
  }
  return { width: input.width, height: input.height, rgb };
}
