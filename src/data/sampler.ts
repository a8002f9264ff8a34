import { ConfigError } from '../core/errors.js';
import type { Generator } from '../core/random.js';

/**
 * A uniformly random permutation of `0..n-1` (Fisher–Yates, drawing `j` from the unbiased
 * `generator.nextBelow`), as the indices `torch.randperm(n, generator=g)` gives. Each call
 * advances the generator, so repeated calls give new permutations; the same seed gives the same
 * sequence of permutations.
 */
export function randomPermutation(n: number, generator: Generator): Int32Array {
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1)
    throw new ConfigError(`randomPermutation: n must be an integer in [0, 2^31) (got ${n})`);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = generator.nextBelow(i + 1); // uniform in [0, i]: every position equally likely
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}
