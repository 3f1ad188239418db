/** Display text for a `width*height` size: "1152×896 (9:7)". */
function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function describeSize(size: string): string {
  const match = /^(\d+)\*(\d+)$/.exec(size);
  if (match === null) return size;
  const width = Number(match[1]);
  const height = Number(match[2]);
  const d = gcd(width, height) || 1;
  return `${width}×${height} (${width / d}:${height / d})`;
}
