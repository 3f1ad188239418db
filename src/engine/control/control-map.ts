/**
 * The preprocessed map of a PyraCanny or CPDS image prompt: what the control-LoRA ControlNet takes as its hint
 * (grey in all three planes) and what the page shows.
 */
import type { ControlPromptType } from '../pipeline/image-guidance.ts';
import type { RgbImage } from '../rgb-image.ts';
import { computeCpds } from './cpds.ts';
import type { GrayImage } from './gray-image.ts';
import { computePyramidCanny } from './pyramid-canny.ts';

export const CONTROL_PROMPT_TYPES: readonly ControlPromptType[] = ['PyraCanny', 'CPDS'];

export function computeControlMap(type: ControlPromptType, image: RgbImage): GrayImage {
  return type === 'PyraCanny' ? computePyramidCanny(image) : computeCpds(image);
}

/** A grey map as 8-bit RGB (the same value in each channel), as the hint and the PNG preview use it. */
export function grayToRgb(map: GrayImage): RgbImage {
  const rgb = new Uint8Array(map.width * map.height * 3);
  for (let i = 0; i < map.data.length; i++) rgb.fill(map.data[i]!, i * 3, i * 3 + 3);
  return { width: map.width, height: map.height, rgb };
}
