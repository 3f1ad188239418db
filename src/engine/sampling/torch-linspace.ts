/**
 * `torch.linspace(start, end, steps)` on the CPU. PyTorch computes each value from the nearer end
 * (`start + step * i` for the first half, `end - step * (steps - 1 - i)` for the rest), so both ends are exact;
 * matching that keeps schedule endpoints bit-identical to ComfyUI's.
 */

/** float64 linspace (`dtype=torch.float64`). */
export function linspaceFloat64(start: number, end: number, steps: number): Float64Array {
  const out = new Float64Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const step = (end - start) / (steps - 1);
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < halfway ? start + step * i : end - step * (steps - 1 - i);
  return out;
}

/**
 * float32 linspace (the default dtype): start, end and step are rounded to float32 and every operation is
 * float32. PyTorch's vectorised CPU loop may round a value differently in the last bit; nothing downstream
 * depends on that bit.
 */
export function linspaceFloat32(start: number, end: number, steps: number): Float64Array {
  const f = Math.fround;
  const out = new Float64Array(steps);
  const s = f(start);
  const e = f(end);
  if (steps === 1) {
    out[0] = s;
    return out;
  }
  const step = f(f(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < halfway ? f(s + f(step * i)) : f(e - f(step * (steps - 1 - i)));
  return out;
}
