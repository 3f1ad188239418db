import { sampleEuler } from './euler.ts';

/**
 * DDIM with eta = 0 (Song et al. 2021). In sigma form its update x' = (sigma'/sigma) x + (1 - sigma'/sigma) D(x; sigma)
 * is exactly one Euler step of the probability-flow ODE, and ComfyUI (hence Fooocus) runs the `ddim` name as its
 * `euler` sampler; we do the same. ComfyUI's `random` inpaint-noise option for it belongs to the inpaint pipeline.
 */
export const sampleDdim = sampleEuler;
