/**
 * CIE L*a*b* (D65) from and to sRGB, with the constants of OpenCV's `COLOR_BGR2Lab` / `COLOR_Lab2BGR` (sRGB
 * gamma, its XYZ matrix and white point, the 0.008856 knee). Channel values in [0, 1]; L in [0, 100].
 */

const RGB_TO_XYZ = [
  [0.412453, 0.35758, 0.180423],
  [0.212671, 0.71516, 0.072169],
  [0.019334, 0.119193, 0.950227],
] as const;
const WHITE = [0.950456, 1, 1.088754] as const;
const XYZ_TO_RGB = [
  [3.240479, -1.53715, -0.498535],
  [-0.969256, 1.875991, 0.041556],
  [0.055648, -0.204043, 1.057311],
] as const;
const KNEE = 0.008856;

function linearize(v: number): number {
  return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
}

function encodeGamma(v: number): number {
  return v <= 0.0031308 ? v * 12.92 : 1.055 * v ** (1 / 2.4) - 0.055;
}

function labCurve(t: number): number {
  return t > KNEE ? Math.cbrt(t) : 7.787 * t + 16 / 116;
}

/** [L, a, b] of an sRGB colour. */
export function srgbToLab(r: number, g: number, b: number): [number, number, number] {
  const lr = linearize(r), lg = linearize(g), lb = linearize(b);
  const x = (RGB_TO_XYZ[0][0] * lr + RGB_TO_XYZ[0][1] * lg + RGB_TO_XYZ[0][2] * lb) / WHITE[0];
  const y = RGB_TO_XYZ[1][0] * lr + RGB_TO_XYZ[1][1] * lg + RGB_TO_XYZ[1][2] * lb;
  const z = (RGB_TO_XYZ[2][0] * lr + RGB_TO_XYZ[2][1] * lg + RGB_TO_XYZ[2][2] * lb) / WHITE[2];
  const fx = labCurve(x), fy = labCurve(y), fz = labCurve(z);
  const l = y > KNEE ? 116 * fy - 16 : 903.3 * y;
  return [l, 500 * (fx - fy), 200 * (fy - fz)];
}

/** sRGB [r, g, b] of a Lab colour, unclamped. */
export function labToSrgb(l: number, a: number, b: number): [number, number, number] {
  const fy = (l + 16) / 116;
  const y = l > 903.3 * KNEE ? fy ** 3 : l / 903.3;
  const fyc = l > 903.3 * KNEE ? fy : 7.787 * y + 16 / 116;
  const inverse = (f: number): number => (f ** 3 > KNEE ? f ** 3 : (f - 16 / 116) / 7.787);
  const x = inverse(fyc + a / 500) * WHITE[0];
  const z = inverse(fyc - b / 200) * WHITE[2];
  const rgb = XYZ_TO_RGB.map((row) => encodeGamma(row[0] * x + row[1] * y + row[2] * z));
  return [rgb[0]!, rgb[1]!, rgb[2]!];
}
