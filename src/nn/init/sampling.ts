import { noGrad } from '../../autograd/grad-mode.js';
import { isFloat } from '../../core/dtype.js';
import { ConfigError, DTypeError, fmtShape } from '../../core/errors.js';
import { Generator, defaultGenerator } from '../../core/random.js';
import { copy_ } from '../../ops/inplace.js';
import { tensor } from '../../tensor/create.js';
import { tidy } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { InitOptions } from './basic.js';

/**
 * Options of the random initializers: an explicit `generator`, or a `seed` that builds a fresh
 * `Generator(seed)` for this one call (0 is a seed like any other). Without either, the seeded
 * global generator (`manualSeed`) is used.
 */
export interface RandomInitOptions extends InitOptions {
  /** Draw from a new `Generator(seed)` (an integer in [0, 2^53)); exclusive with `generator`. */
  seed?: number;
}

/** The generator an initializer draws from: `generator`, else `new Generator(seed)`, else the global one. */
export function resolveGenerator(op: string, options: RandomInitOptions | undefined): Generator {
  const generator = options?.generator;
  const seed = options?.seed;
  if (generator !== undefined && seed !== undefined)
    throw new ConfigError(`${op}: pass either generator or seed, not both (got seed=${seed})`);
  if (generator !== undefined) return generator;
  if (seed !== undefined) {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new ConfigError(`${op}: seed ${seed} is invalid (expected an integer in [0, 2^53))`);
    return new Generator(seed);
  }
  return defaultGenerator();
}

/** Random initialization needs a floating-point tensor (PyTorch raises for integer tensors too). */
export function checkFloat(op: string, t: Tensor): void {
  if (!isFloat(t.dtype))
    throw new DTypeError(`${op}: expected a floating-point tensor, got dtype ${t.dtype} (shape ${fmtShape(t.shape)})`);
}

/** Copies `values` (row-major, `t.size` of them) into `t` in place, without recording gradients. */
export function writeValues_(t: Tensor, values: Float64Array): Tensor {
  noGrad(() => tidy(() => void copy_(t, tensor(values, t.shape, { dtype: t.dtype }))));
  return t;
}

/** PyTorch warns "Initializing zero-element tensors is a no-op"; returns whether `t` is empty. */
export function warnIfEmpty(op: string, t: Tensor): boolean {
  if (t.size > 0) return false;
  console.warn(`${op}: initializing a zero-element tensor (shape ${fmtShape(t.shape)}) is a no-op`);
  return true;
}

/**
 * A sampler of the standard normal restricted to [alpha, beta] (either may be infinite), exact by
 * rejection: every sample is drawn from a proposal and accepted with the ratio of densities, so
 * the output has exactly the truncated distribution (up to float64 rounding of the proposals),
 * however far the interval lies in a tail. The proposal is chosen from the bounds alone, keeping
 * the acceptance rate above about 30% in every case (Robert 1995, "Simulation of truncated normal
 * variables"):
 *
 * - an interval around 0 at least 1 wide: N(0, 1), kept when it falls inside (≥ 34% kept; 95% for
 *   the usual ±2);
 * - a narrower interval, or one on one side of 0 with little density change across it: uniform on
 *   [alpha, beta], kept with probability φ(z)/φ(m), m the point nearest 0;
 * - a one-sided tail [alpha, beta] with alpha ≥ 0: alpha + Exp(λ) with Robert's optimal
 *   λ = (alpha + √(alpha² + 4))/2, kept with probability exp(−(z − λ)²/2) when z ≤ beta.
 *
 * An interval below 0 is sampled as the mirror image of its reflection.
 */
export function truncatedStandardNormal(alpha: number, beta: number): (g: Generator) => number {
  if (!(alpha < beta)) throw new ConfigError(`truncated normal: empty interval [${alpha}, ${beta}]`);
  if (alpha < 0 && beta > 0) {
    if (beta - alpha >= 1)
      return (g) => {
        for (;;) {
          const z = g.nextNormal();
          if (z >= alpha && z <= beta) return z;
        }
      };
    return uniformProposal(alpha, beta, 0);
  }
  if (beta <= 0) {
    const mirrored = truncatedStandardNormal(-beta, -alpha);
    return (g) => -mirrored(g);
  }
  // 0 ≤ alpha < beta. The density falls by exp(−(beta² − alpha²)/2) across the interval.
  if ((beta - alpha) * (beta + alpha) <= 1) return uniformProposal(alpha, beta, alpha);
  const lambda = (alpha + Math.sqrt(alpha * alpha + 4)) / 2;
  return (g) => {
    for (;;) {
      const z = alpha - Math.log(1 - g.nextFloat64()) / lambda; // 1 − u ∈ (0, 1]
      if (z > beta) continue;
      const d = z - lambda;
      if (g.nextFloat64() < Math.exp(-0.5 * d * d)) return z;
    }
  };
}

/** Uniform proposal on a finite [alpha, beta]; `m` is where the density peaks on it. */
function uniformProposal(alpha: number, beta: number, m: number): (g: Generator) => number {
  const width = beta - alpha;
  return (g) => {
    for (;;) {
      const z = Math.min(beta, alpha + width * g.nextFloat64());
      if (g.nextFloat64() < Math.exp(0.5 * (m * m - z * z))) return z;
    }
  };
}

/**
 * The thin QR factorization of a tall matrix by Householder reflections in float64, with the
 * signs normalised so that diag(R) ≥ 0 (as PyTorch's `q * sign(diag(r))`): this Q is unique for a
 * full-rank input and equals LAPACK's up to float64 rounding.
 *
 * `a` holds an m × n matrix (m ≥ n) in row-major order; returns Q (m × n, row-major).
 */
export function qrPositiveQ(a: Float64Array, m: number, n: number): Float64Array {
  if (m < n) throw new ConfigError(`qrPositiveQ: expected a tall matrix, got ${m} × ${n}`);
  // Work on columns stored contiguously: column j at offset j·m.
  const col = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) col[j * m + i] = a[i * n + j];
  const vs = new Float64Array(m * n); // Householder vector k in column k, rows k..m−1
  const betas = new Float64Array(n);
  const signs = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const ck = k * m;
    let norm2 = 0;
    for (let i = k; i < m; i++) norm2 += col[ck + i] * col[ck + i];
    const x0 = col[ck + k];
    const norm = Math.sqrt(norm2);
    // Reflect x onto alpha·e1 with alpha = −sign(x0)·‖x‖ (no cancellation in v0 = x0 − alpha).
    const alpha = x0 >= 0 ? -norm : norm;
    signs[k] = alpha > 0 ? 1 : -1; // R[k, k] = alpha; a zero column (probability 0) keeps its sign
    const v0 = x0 - alpha;
    const vnorm2 = norm2 - x0 * x0 + v0 * v0;
    if (vnorm2 === 0) continue; // nothing to reflect: H = I
    const beta = 2 / vnorm2;
    betas[k] = beta;
    vs[ck + k] = v0;
    for (let i = k + 1; i < m; i++) vs[ck + i] = col[ck + i];
    for (let j = k; j < n; j++) {
      const cj = j * m;
      let s = 0;
      for (let i = k; i < m; i++) s += vs[ck + i] * col[cj + i];
      s *= beta;
      for (let i = k; i < m; i++) col[cj + i] -= s * vs[ck + i];
    }
  }
  // Q = H0 H1 … H(n−1) [I; 0], applied from the last reflection back; column j < k of the
  // partial product is still e_j, which H_k leaves alone, so only columns k..n−1 change.
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * m + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const beta = betas[k];
    if (beta === 0) continue;
    const ck = k * m;
    for (let j = k; j < n; j++) {
      const cj = j * m;
      let s = 0;
      for (let i = k; i < m; i++) s += vs[ck + i] * q[cj + i];
      s *= beta;
      for (let i = k; i < m; i++) q[cj + i] -= s * vs[ck + i];
    }
  }
  const out = new Float64Array(m * n);
  for (let j = 0; j < n; j++) {
    const sign = signs[j];
    for (let i = 0; i < m; i++) out[i * n + j] = sign * q[j * m + i];
  }
  return out;
}

/**
 * PyTorch's `orthogonal_` on an already drawn `rows × cols` matrix (row-major float64): transpose
 * when rows < cols, take Q of the QR factorization with diag(R) made positive, transpose back.
 * The result has orthonormal rows (rows ≤ cols) or orthonormal columns (rows ≥ cols).
 */
export function orthogonalFromGaussian(values: Float64Array, rows: number, cols: number): Float64Array {
  if (rows >= cols) return qrPositiveQ(values, rows, cols);
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = values[i * cols + j];
  const q = qrPositiveQ(t, cols, rows); // cols × rows
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < cols; i++) for (let j = 0; j < rows; j++) out[j * cols + i] = q[i * rows + j];
  return out;
}
