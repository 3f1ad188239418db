/**
 * The two numeric bounds every generation request and every metadata reader share. Kept in a module with no
 * imports so the metadata parsers, which the browser page also runs, do not pull the sampling code in with them.
 */

/** Seeds are 63-bit, as Fooocus's `random.randint(0, 2**63 - 1)`. */
export const MAX_SEED = (1n << 63n) - 1n;

/** Longest schedule the samplers build. */
export const MAX_STEPS = 1000;
