/**
 * The elementwise arithmetic samplers are written in: linear combinations of same-shape tensors with float64
 * coefficients. Every output element is accumulated in float64 and rounded to float32 once, so an update such as
 * k-diffusion's `x + d * dt` is never less precise than PyTorch's float32 arithmetic.
 */
import { createTensor, type Tensor } from '../tensor.ts';

/** One term of a linear combination: coefficient times tensor. */
export type Term = readonly [coefficient: number, tensor: Tensor];

/** sum_i c_i * t_i as a new tensor; every term must have the shape of the first. */
export function linearCombination(...terms: readonly Term[]): Tensor {
  const first = terms[0];
  if (first === undefined) throw new RangeError('linearCombination needs at least one term');
  const dims = first[1].dims;
  const n = first[1].data.length;
  for (const [, t] of terms) {
    if (t.data.length !== n) throw new RangeError(`linearCombination: shape [${t.dims}] does not match [${dims}]`);
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (const [c, t] of terms) sum += c * t.data[i]!;
    out[i] = sum;
  }
  return createTensor(dims, out);
}

/** The probability-flow ODE derivative dx/dsigma = (x - D(x; sigma)) / sigma (Karras et al. 2022, eq. 3; k-diffusion `to_d`). */
export function toDerivative(x: Tensor, denoised: Tensor, sigma: number): Tensor {
  return linearCombination([1 / sigma, x], [-1 / sigma, denoised]);
}
