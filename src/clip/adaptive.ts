import { ConfigError } from '../core/errors.js';
import { div, lt, maximum, mul, sqrt, where } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import type { GradientTransformation } from '../optim/transform.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkInteger, checkKeys, checkPositive, describe, globalNorm, scaled, sumSquares } from './common.js';
import { type EmptyState, measure, report } from './transforms.js';

/**
 * Adaptive clipping thresholds: AGC (unit-wise, relative to the weights), AutoClip (a percentile
 * of the norms seen so far) and ZClip (a z-score test against running statistics of the norm).
 */

// ---- AGC ----------------------------------------------------------------------------------------

/** Options of {@link adaptiveGradClip}. */
export interface AdaptiveGradClipOptions {
  /** Floor on a unit's weight norm, so zero-initialized parameters can still move (default 1e-3). */
  eps?: number;
  /**
   * Parameters to leave unclipped: the tensors themselves, or a predicate on (parameter, index).
   * The NFNets recipe does not clip the final classifier layer.
   */
  exclude?: readonly Tensor[] | ((param: Tensor, index: number) => boolean);
}

/** Sum over every axis but 0, kept as size-1 axes: one value per output unit. */
function unitSumSquares(t: Tensor): Tensor {
  const axes = t.shape.map((_, i) => i).slice(1);
  return sum(mul(t, t), { axis: axes, keepDims: true });
}

/**
 * Adaptive gradient clipping (Brock et al. 2021, "High-Performance Large-Scale Image Recognition
 * Without Normalization"), as Optax's `adaptive_grad_clip`: for each unit, with
 * `maxNorm = clipping·max(‖W_unit‖, eps)`, the update is kept when `‖G_unit‖ < maxNorm` and scaled
 * by `maxNorm / max(‖G_unit‖, 1e-6)` otherwise.
 *
 * A unit is an output row in Keel's `[out, in, ...kernel]` layout (the norm is taken over every
 * axis but 0, as timm does; Optax's `[..., in, out]` layout takes the same units over its other
 * axes); a tensor of rank ≤ 1 (a bias) is one unit. Needs the parameters (the third argument of
 * `update`). NFNets use `clipping = 0.01` for batch sizes around 4096, clip before weight decay,
 * and leave the final classifier layer out (`exclude`).
 *
 * @param clipping The largest ratio of a unit's update norm to its weight norm (> 0).
 * @example chain(adaptiveGradClip(0.01, { exclude: [head.weight, head.bias] }), scaleByLearningRate(0.1))
 */
export function adaptiveGradClip(clipping: number, options?: AdaptiveGradClipOptions): GradientTransformation<EmptyState> {
  const name = 'adaptiveGradClip';
  checkPositive(name, 'clipping', clipping);
  checkKeys(name, options, ['eps', 'exclude']);
  const eps = options?.eps ?? 1e-3;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0)
    throw new ConfigError(`${name}: eps must be a finite number ≥ 0 (got ${describe(eps)})`);
  const exclude = options?.exclude;
  if (exclude !== undefined && typeof exclude !== 'function' && !Array.isArray(exclude))
    throw new ConfigError(`${name}: exclude must be an array of parameters or a function (param, index) => boolean (got ${describe(exclude)})`);
  const isExcluded = (p: Tensor, i: number): boolean =>
    exclude === undefined ? false : typeof exclude === 'function' ? exclude(p, i) : (exclude as readonly Tensor[]).includes(p);
  return {
    name,
    init: () => ({}),
    update(updates, state, params, info) {
      if (params === undefined || params === null || params.length !== updates.length)
        throw new ConfigError(
          `${name}: update needs the parameters, one per update (got ${params?.length ?? 'none'} for ${updates.length} updates); pass them as the third argument`,
        );
      const normBefore = globalNorm(updates);
      let clipped = false;
      const out = measure(() =>
        updates.map((u, i) => {
          const p = params[i];
          if (u === null || u.size === 0 || isExcluded(p, i)) return u;
          if (u.ndim <= 1) {
            const maxNorm = clipping * Math.max(Math.sqrt(sumSquares(p)), eps);
            const gNorm = Math.sqrt(sumSquares(u));
            if (gNorm < maxNorm) return u;
            clipped = true;
            return scaled(u, maxNorm / Math.max(gNorm, 1e-6));
          }
          const gNorm = sqrt(unitSumSquares(u));
          const maxNorm = mul(maximum(sqrt(unitSumSquares(p)), eps), clipping);
          const keep = lt(gNorm, maxNorm);
          if (sum(keep).item() < keep.size) clipped = true;
          return where(keep, u, mul(u, div(maxNorm, maximum(gNorm, 1e-6))));
        }),
      );
      report(info, name, normBefore, out, clipped);
      return [out, state];
    },
  };
}

// ---- AutoClip -----------------------------------------------------------------------------------

/** Options of {@link autoClip}. */
export interface AutoClipOptions {
  /** The percentile of the norm history used as the threshold, in [0, 100] (default 10). */
  percentile?: number;
  /** Keep only the last `window` norms (default: all of them, as the paper). */
  window?: number;
}

/** The state of {@link autoClip}: the history of global norms. */
export interface AutoClipState {
  /** The norms in the order seen (the last `window` of them when a window is set). */
  readonly history: readonly number[];
  /** The same norms, sorted ascending (for the percentile). */
  readonly sorted: Float64Array;
}

/** The first index in sorted `a` whose value is ≥ `x`. */
function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** @internal NumPy's default (`'linear'`) percentile of sorted values, with its interpolation formula. */
export function percentileOfSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = ((n - 1) * q) / 100;
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, n - 1);
  const t = rank - lo;
  const a = sorted[lo];
  const b = sorted[hi];
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/**
 * AutoClip (Seetharaman, Wichern, Pardo & Le Roux 2020, "AutoClip: Adaptive Gradient Clipping
 * for Source Separation Networks"): each step appends the global L2 norm of the updates to the
 * history, takes the `percentile`-th percentile of all norms so far (NumPy's linear
 * interpolation) as the threshold, and clips as PyTorch's `clipGradNorm_` does: every update is
 * multiplied by `min(1, threshold / (norm + 1e-6))`.
 *
 * Keel deviation: a NaN or infinite norm is not added to the history (in the reference one NaN
 * would make every later threshold NaN); that step's updates are scaled by the coefficient it
 * gives (NaN, or 0 for an infinite norm). Wrap in `skipNonfinite` to skip such steps instead.
 *
 * @example chain(autoClip({ percentile: 10 }), scaleByAdam(), scaleByLearningRate(1e-3))
 */
export function autoClip(options?: AutoClipOptions): GradientTransformation<AutoClipState> {
  const name = 'autoClip';
  checkKeys(name, options, ['percentile', 'window']);
  const q = options?.percentile ?? 10;
  if (typeof q !== 'number' || Number.isNaN(q) || q < 0 || q > 100)
    throw new ConfigError(`${name}: percentile must be a number in [0, 100] (got ${describe(q)}); the paper's default is 10`);
  const window = options?.window;
  if (window !== undefined) checkInteger(name, 'window', window, 1);
  return {
    name,
    init: () => ({ history: [], sorted: new Float64Array(0) }),
    update(updates, state, _params, info) {
      const g = globalNorm(updates);
      let next = state;
      if (Number.isFinite(g)) {
        let history = [...state.history, g];
        let sorted = insertSorted(state.sorted, g);
        if (window !== undefined && history.length > window) {
          const dropped = history[0];
          history = history.slice(1);
          sorted = removeSorted(sorted, dropped);
        }
        next = { history, sorted };
      }
      const threshold = percentileOfSorted(next.sorted, q);
      const coef = Math.min(1, threshold / (g + 1e-6));
      const out = coef === 1 ? [...updates] : measure(() => updates.map((u) => (u === null ? null : scaled(u, coef))));
      report(info, name, g, out, coef !== 1);
      return [out, next];
    },
  };
}

function insertSorted(a: Float64Array, x: number): Float64Array {
  const i = lowerBound(a, x);
  const out = new Float64Array(a.length + 1);
  out.set(a.subarray(0, i), 0);
  out[i] = x;
  out.set(a.subarray(i), i + 1);
  return out;
}

function removeSorted(a: Float64Array, x: number): Float64Array {
  const i = lowerBound(a, x);
  const out = new Float64Array(a.length - 1);
  out.set(a.subarray(0, i), 0);
  out.set(a.subarray(i + 1), i);
  return out;
}

// ---- ZClip --------------------------------------------------------------------------------------

/** Options of {@link zClip}. */
export interface ZClipOptions {
  /** Steps of fixed clipping at `maxNorm` that collect the first norm statistics (default 25). */
  warmupSteps?: number;
  /** The z-score above which a norm counts as a spike (default 2.5). */
  zThresh?: number;
  /** The EMA smoothing factor of the norm's mean and variance, in [0, 1) (default 0.97). */
  alpha?: number;
  /** A fixed ceiling on the threshold, and the warm-up clipping norm (default 1.0; null: none). */
  maxNorm?: number | null;
}

/** The state of {@link zClip}. */
export interface ZClipState {
  /** Norms collected during the warm-up (empty afterwards). */
  readonly buffer: readonly number[];
  /** The EMA of the norm; null during the warm-up. */
  readonly mean: number | null;
  /** The EMA of the norm's variance; null during the warm-up. */
  readonly variance: number | null;
}

/**
 * ZClip (Kumar et al. 2025, "ZClip: Adaptive Spike Mitigation for LLM Pre-Training"), as the
 * reference `zclip.py` (z-score mode, adaptive scaling). With `g` the global L2 norm:
 *
 * - Warm-up (the first `warmupSteps` steps): clip as PyTorch's `clipGradNorm_(maxNorm)` (every
 *   update × `min(1, maxNorm/(g + 1e-6))`) and collect `g`; after the last warm-up step the mean
 *   μ and the (population) variance σ² of the collected norms start the statistics.
 * - Then each step: `z = (g − μ)/(σ + 1e-6)`. On a spike (`z > zThresh`) the adaptive threshold is
 *   `μ + zThresh·σ/(z/zThresh)`, else `g` itself; the effective threshold is its minimum with
 *   `maxNorm`; when `g` exceeds it, every update is scaled by `threshold/(g + 1e-6)`. Then
 *   `μ ← αμ + (1−α)g′` and `σ² ← ασ² + (1−α)(g′ − μ)²` with the new μ, where g′ is the adaptive
 *   threshold (before the minimum with `maxNorm`) on a spike step and `g` otherwise.
 *
 * Keel deviation: a non-finite value never enters the statistics (a NaN norm is neither collected
 * during the warm-up nor folded into the EMA; the reference would make μ NaN for good). The
 * updates of such a step are what the reference gives. Wrap in `skipNonfinite` to skip them.
 *
 * @example chain(zClip(), scaleByAdam(), scaleByLearningRate(3e-4))
 */
export function zClip(options?: ZClipOptions): GradientTransformation<ZClipState> {
  const name = 'zClip';
  checkKeys(name, options, ['warmupSteps', 'zThresh', 'alpha', 'maxNorm']);
  const warmupSteps = checkInteger(name, 'warmupSteps', options?.warmupSteps ?? 25, 1);
  const zThresh = checkPositive(name, 'zThresh', options?.zThresh ?? 2.5);
  const alpha = options?.alpha ?? 0.97;
  if (typeof alpha !== 'number' || Number.isNaN(alpha) || alpha < 0 || alpha >= 1)
    throw new ConfigError(`${name}: alpha must be a number in [0, 1) (got ${describe(alpha)}); the paper uses 0.97`);
  const maxNorm = options?.maxNorm === null ? null : checkPositive(name, 'maxNorm', options?.maxNorm ?? 1.0, ' (pass null for no ceiling)');
  const eps = 1e-6;
  return {
    name,
    init: () => ({ buffer: [], mean: null, variance: null }),
    update(updates, state, _params, info) {
      const g = globalNorm(updates);
      let coef: number;
      let next: ZClipState;
      if (state.mean === null || state.variance === null) {
        // Warm-up: PyTorch's clip_grad_norm_ at maxNorm (no clipping without a maxNorm).
        coef = maxNorm === null ? 1 : Math.min(1, maxNorm / (g + 1e-6));
        const buffer = Number.isFinite(g) ? [...state.buffer, g] : state.buffer;
        if (buffer.length >= warmupSteps) {
          const mean = buffer.reduce((a, b) => a + b, 0) / buffer.length;
          const variance = buffer.reduce((a, b) => a + (b - mean) ** 2, 0) / buffer.length;
          next = { buffer: [], mean, variance };
        } else {
          next = { buffer, mean: null, variance: null };
        }
      } else {
        const std = Math.sqrt(state.variance);
        const z = (g - state.mean) / (std + eps);
        const spike = z > zThresh ? state.mean + (zThresh * std) / (z / zThresh) : null;
        const adaptive = spike ?? g;
        const threshold = maxNorm === null ? adaptive : Math.min(adaptive, maxNorm);
        coef = g > threshold ? threshold / (g + 1e-6) : 1;
        const value = spike ?? g; // what the EMA sees: the adaptive threshold on a spike
        if (Number.isFinite(value)) {
          const mean = alpha * state.mean + (1 - alpha) * value;
          const variance = alpha * state.variance + (1 - alpha) * (value - mean) ** 2;
          next = { buffer: [], mean, variance };
        } else {
          next = state;
        }
      }
      const out = coef === 1 ? [...updates] : measure(() => updates.map((u) => (u === null ? null : scaled(u, coef))));
      report(info, name, g, out, coef !== 1);
      return [out, next];
    },
  };
}
