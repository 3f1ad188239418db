/**
 * MT19937 Mersenne Twister (Matsumoto & Nishimura 1998, "Mersenne Twister: a 623-dimensionally equidistributed
 * uniform pseudo-random number generator"), seeded with `init_genrand` exactly as PyTorch's CPU generator seeds
 * its engine: only the low 32 bits of the seed are used (`seed & 0xffffffff`).
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

export class Mt19937 {
  private readonly state = new Uint32Array(N);
  /** Index of the next untempered word; N means the state must be regenerated first. */
  private index = N;

  /** @param seed32 an unsigned 32-bit seed (`init_genrand(s)`); callers reduce wider seeds with `& 0xffffffff`. */
  constructor(seed32: number) {
    if (!Number.isInteger(seed32) || seed32 < 0 || seed32 > 0xffffffff) {
      throw new RangeError(`MT19937 seed must be an unsigned 32-bit integer, got ${seed32}`);
    }
    const mt = this.state;
    mt[0] = seed32;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = Math.imul(1812433253, prev ^ (prev >>> 30)) + i;
    }
  }

  /** The next 32-bit output (`genrand_int32`), as a number in 0..2^32-1. */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Regenerate all N words of state (the "twist" recurrence of the paper, eq. 2.1). */
  private twist(): void {
    const mt = this.state;
    for (let k = 0; k < N; k++) {
      const y = (mt[k]! & UPPER_MASK) | (mt[(k + 1) % N]! & LOWER_MASK);
      mt[k] = mt[(k + M) % N]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.index = 0;
  }
}
