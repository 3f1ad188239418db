/**
 * A slow, textbook Canny used to check the engine's: gradient direction from atan2 in degrees, four sectors
 * bounded at 22.5 and 67.5 degrees, and hysteresis by repeated sweeps until nothing changes. The tie-breaking
 * follows OpenCV's (strict against the previous neighbour, non-strict against the next along rows and columns).
 */
export function referenceCanny(plane: Uint8Array, width: number, height: number, low: number, high: number): Uint8Array {
  const px = (x: number, y: number): number => plane[Math.min(Math.max(y, 0), height - 1) * width + Math.min(Math.max(x, 0), width - 1)]!;
  const gx: number[] = [];
  const gy: number[] = [];
  const mag: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sx = 0;
      let sy = 0;
      for (let j = -1; j <= 1; j++) {
        for (let i = -1; i <= 1; i++) {
          const weightX = i * (j === 0 ? 2 : 1);
          const weightY = j * (i === 0 ? 2 : 1);
          sx += weightX * px(x + i, y + j);
          sy += weightY * px(x + i, y + j);
        }
      }
      gx.push(sx);
      gy.push(sy);
      mag.push(Math.abs(sx) + Math.abs(sy));
    }
  }
  const m = (x: number, y: number): number => (x < 0 || y < 0 || x >= width || y >= height ? 0 : mag[y * width + x]!);
  const strong = new Array<boolean>(width * height).fill(false);
  const weak = new Array<boolean>(width * height).fill(false);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const v = mag[i]!;
      if (v <= low) continue;
      const angle = Math.abs((Math.atan2(gy[i]!, gx[i]!) * 180) / Math.PI); // 0..180
      const folded = angle > 90 ? 180 - angle : angle; // 0..90 from the horizontal axis
      let keep: boolean;
      if (folded < 22.5) keep = v > m(x - 1, y) && v >= m(x + 1, y);
      else if (folded > 67.5) keep = v > m(x, y - 1) && v >= m(x, y + 1);
      else if (gx[i]! * gy[i]! > 0) keep = v > m(x - 1, y - 1) && v > m(x + 1, y + 1);
      else keep = v > m(x + 1, y - 1) && v > m(x - 1, y + 1);
      if (!keep) continue;
      if (v > high) strong[i] = true;
      else weak[i] = true;
    }
  }
  for (let changed = true; changed; ) {
    changed = false;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        if (!weak[i] || strong[i]) continue;
        for (let j = -1; j <= 1 && !strong[i]; j++) {
          for (let k = -1; k <= 1; k++) {
            const nx = x + k;
            const ny = y + j;
            if (nx >= 0 && ny >= 0 && nx < width && ny < height && strong[ny * width + nx]) {
              strong[i] = true;
              changed = true;
              break;
            }
          }
        }
      }
    }
  }
  return Uint8Array.from(strong, (s) => (s ? 255 : 0));
}
