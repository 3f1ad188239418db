/**
 * The seeded random source for prompt-level choices (wildcard lines, Random Style, prompt expansion): SplitMix64
 * (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators"), over BigInt so every 64-bit seed
 * is honoured. Each consumer opens its own named stream (the stream label is hashed with FNV-1a 64 and folded into
 * the seed) so that adding a wildcard to a prompt does not change which style "Random Style" picks.
 *
 * This is not the image-noise RNG (that is the engine's TorchGenerator and must match PyTorch); nothing here has to
 * match another program, only stay the same from one release to the next, because saved metadata relies on it.
 */
const MASK_64 = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;
const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;

export interface SeededRandom {
  /** A uniform integer in [0, bound). */
  nextInt(bound: number): number;
}

function hashStreamLabel(label: string): bigint {
  let hash = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(label)) {
    hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  }
  return hash;
}

export function createSeededRandom(seed: bigint, stream: string): SeededRandom {
  let state = (BigInt.asUintN(64, seed) ^ hashStreamLabel(stream)) & MASK_64;
  const next64 = (): bigint => {
    state = (state + GOLDEN_GAMMA) & MASK_64;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
    return z ^ (z >> 31n);
  };
  return {
    nextInt(bound: number): number {
      if (!Number.isSafeInteger(bound) || bound <= 0) throw new RangeError(`bound must be a positive integer, got ${bound}`);
      // 64 random bits against bounds below 2^32: the modulo bias is under 2^-32, far below anything visible.
      return Number(next64() % BigInt(bound));
    },
  };
}

/** Fisher-Yates over a copy: the same seed and stream give the same order. */
export function shuffleSeeded<T>(items: readonly T[], random: SeededRandom): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
