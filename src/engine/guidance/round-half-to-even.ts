/**
 * Round to nearest, ties to even (IEEE 754 roundTiesToEven): Python's `round` and `torch.round`, which Fooocus and
 * ComfyUI use where JavaScript's `Math.round` would round ties up.
 */
export function roundHalfToEven(v: number): number {
  const floor = Math.floor(v);
  if (v - floor !== 0.5) return Math.round(v);
  return floor % 2 === 0 ? floor : floor + 1;
}
