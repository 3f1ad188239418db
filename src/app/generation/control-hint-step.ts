/**
 * The PyraCanny and CPDS image prompts of a request as the engine's control hints: each image fitted to the
 * result's size as Fooocus fits control images (scaled with Lanczos to cover the size, keeping its aspect, then
 * centred and cropped), then preprocessed into its map (engine/control). ImagePrompt and FaceSwap prompts are the
 * IP-Adapter's and pass by.
 */
import { computeControlMap, grayToRgb, resampleLanczos, type ControlHint, type RgbImage } from '../../engine/index.ts';
import type { ImagePromptChoice } from './image-request.ts';

/** `image` scaled to cover width x height (integer sizes as Fooocus computes them), centre-cropped to it. */
export function fitToCover(image: RgbImage, width: number, height: number): RgbImage {
  const wide = width / height > image.width / image.height;
  const scaledWidth = wide ? width : Math.floor((image.width * height) / image.height);
  const scaledHeight = wide ? Math.floor((image.height * width) / image.width) : height;
  const scaled = scaledWidth === image.width && scaledHeight === image.height ? image : resampleLanczos(image, scaledWidth, scaledHeight);
  const left = Math.floor(scaledWidth / 2) - Math.floor(width / 2);
  const top = Math.floor(scaledHeight / 2) - Math.floor(height / 2);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((y + top) * scaledWidth + left) * 3;
    rgb.set(scaled.rgb.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, rgb };
}

/** The control hints of `prompts` for a result of width x height; `readImage` opens a prompt's file. */
export async function prepareControlHints(
  prompts: readonly ImagePromptChoice[] | undefined,
  size: { width: number; height: number },
  readImage: (file: string) => Promise<RgbImage>,
): Promise<ControlHint[]> {
  const hints: ControlHint[] = [];
  for (const prompt of prompts ?? []) {
    if (prompt.type !== 'PyraCanny' && prompt.type !== 'CPDS') continue;
    if (prompt.weight === 0 || prompt.stopAt === 0) continue; // never active: skip the preprocessing too
    const fitted = fitToCover(await readImage(prompt.file), size.width, size.height);
    hints.push({ type: prompt.type, map: grayToRgb(computeControlMap(prompt.type, fitted)), weight: prompt.weight, stopAt: prompt.stopAt });
  }
  return hints;
}
