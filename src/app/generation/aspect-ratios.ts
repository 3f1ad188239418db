/**
 * The sizes offered in the studio, as data: SDXL's 26 training resolutions (about one megapixel, sides multiples of
 * 64, from 704x1408 to 1728x576 — the list Fooocus offers) and SD 1.5's common sizes around 512x512.
 */
export const SDXL_ASPECT_RATIOS = [
  '704*1408', '704*1344', '768*1344', '768*1280', '832*1216', '832*1152', '896*1152', '896*1088', '960*1088',
  '960*1024', '1024*1024', '1024*960', '1088*960', '1088*896', '1152*896', '1152*832', '1216*832', '1280*768',
  '1344*768', '1344*704', '1408*704', '1472*704', '1536*640', '1600*640', '1664*576', '1728*576',
] as const;

export const SD15_ASPECT_RATIOS = ['512*512', '512*768', '768*512', '448*640', '640*448', '512*704', '704*512', '576*768', '768*576'] as const;

export function parseAspectRatio(id: string): { width: number; height: number } {
  const [w, h] = id.split('*').map(Number);
  return { width: w!, height: h! };
}
