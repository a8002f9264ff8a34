import { noGrad } from '../autograd/grad-mode.js';
import { scalarLike } from '../autograd/primitives.js';
import { ConfigError, NonFiniteError } from '../core/errors.js';
import { abs, ne, pow } from '../ops/elementwise.js';
import { clamp_ } from '../ops/inplace.js';
import { max, sum } from '../ops/reduce.js';
import { tensor } from '../tensor/create.js';
import { tidy } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { type TensorOrTensors, checkKeys, checkNonNegative, describe, gradsOf, scaleInPlace, sumSquares, tensorList } from './common.js';

/**
 * PyTorch's gradient clipping utilities (`torch.nn.utils.clip_grad_norm_`, `clip_grad_value_`,
 * `get_total_norm`, `clip_grads_with_norm_`), with PyTorch's exact arithmetic: norms of float32
 * gradients behave as float32 sums do (an entry of 1e30 makes the L2 norm +Inf), the coefficient
 * is computed in the total norm's dtype, and every gradient is multiplied by it with no branch on
 * its value. Keel's only deviations are stricter argument checks (a negative or NaN `maxNorm`, a
 * negative `clipValue`, a negative `normType`) and a norm of 0 for an empty gradient tensor.
 */

/** Options of {@link clipGradNorm_}. */
export interface ClipGradNormOptions {
  /**
   * The p of the p-norm: 2 (default), 1, `Infinity` (the largest |g|), any p > 0, or 0 (PyTorch's
   * quirk: the number of gradient tensors that have a nonzero entry).
   */
  normType?: number;
  /** Throw a NonFiniteError instead of scaling when the total norm is NaN or ±Inf (default false). */
  errorIfNonfinite?: boolean;
  /** Accepted for PyTorch parity and ignored: Keel has one implementation. */
  foreach?: boolean | null;
}

/** Options of {@link clipGradValue_} and {@link clipGradsWithNorm_}. */
export interface ForeachOptions {
  /** Accepted for PyTorch parity and ignored: Keel has one implementation. */
  foreach?: boolean | null;
}

/** The total norm as a number and the dtype it was computed in. */
interface Total {
  value: number;
  dtype: 'float32' | 'float64';
}

const identity = (x: number): number => x;

/** PyTorch prints the order as a Python float: 2.0, 0.5, inf. */
function fmtOrder(p: number): string {
  if (p === Infinity) return 'inf';
  return Number.isInteger(p) ? p.toFixed(1) : String(p);
}

function checkNormType(fn: string, normType: unknown): number {
  if (typeof normType !== 'number' || Number.isNaN(normType) || normType < 0)
    throw new ConfigError(
      `${fn}: normType must be 0, a positive number or Infinity (got ${describe(normType)}); use 2 for the Euclidean norm`,
    );
  return normType;
}

function checkMaxNorm(fn: string, maxNorm: unknown): number {
  return checkNonNegative(
    fn,
    'maxNorm',
    maxNorm,
    ' — PyTorch would flip the gradients’ signs for a negative value; use 0 to zero them, Infinity to only measure the norm, or getTotalNorm',
  );
}

/** The p-norm of one tensor, rounded as PyTorch rounds it in the tensor's dtype. */
function tensorNorm(g: Tensor, p: number): number {
  const r = g.dtype === 'float32' ? Math.fround : identity;
  if (g.size === 0) return 0; // PyTorch: 0 for finite p, an error for inf (no identity for max)
  // float64 sum of the squares, then rounded to float32: +Inf exactly when PyTorch's float32
  // accumulation overflows (above 3.4e38), so 1e30 gives +Inf as in PyTorch.
  if (p === 2) return r(Math.sqrt(r(sumSquares(g))));
  return noGrad(() =>
    tidy(() => {
      if (p === Infinity) return max(abs(g)).item();
      if (p === 0) return sum(ne(g, 0)).item();
      if (p === 1) return sum(abs(g)).item();
      // |g|^p is rounded to the dtype elementwise (1e30³ overflows float32), then summed.
      return r(Math.pow(sum(pow(abs(g), p)).item(), 1 / p));
    }),
  );
}

/** The p-norm of the per-tensor norms, in float32 arithmetic when `dtype` is float32. */
function combine(norms: readonly number[], p: number, dtype: Total['dtype']): number {
  const r = dtype === 'float32' ? Math.fround : identity;
  if (p === Infinity) return norms.reduce((m, n) => (n > m || Number.isNaN(n) ? n : m), -Infinity);
  if (p === 0) return norms.reduce((c, n) => c + (n !== 0 ? 1 : 0), 0); // NaN counts as nonzero
  let s = 0;
  if (p === 1) {
    for (const n of norms) s = r(s + n);
    return s;
  }
  if (p === 2) {
    for (const n of norms) s = r(s + r(n * n));
    return r(Math.sqrt(s));
  }
  for (const n of norms) s = r(s + r(Math.pow(n, p)));
  return r(Math.pow(s, 1 / p));
}

/** The L2 norm of each gradient combined, as tensorNorm and combine compute it for p = 2, in one loop. */
function euclidean(grads: readonly Tensor[], dtype: Total['dtype']): number {
  const f32 = dtype === 'float32';
  let s = 0;
  for (const g of grads) {
    const own = g.dtype === 'float32';
    const ss = sumSquares(g);
    const n = own ? Math.fround(Math.sqrt(Math.fround(ss))) : Math.sqrt(ss);
    s = f32 ? Math.fround(s + Math.fround(n * n)) : s + n * n;
  }
  return f32 ? Math.fround(Math.sqrt(s)) : Math.sqrt(s);
}

function totalNorm(fn: string, grads: readonly Tensor[], p: number, errorIfNonfinite: boolean): Total {
  if (grads.length === 0) return { value: 0, dtype: 'float32' };
  let dtype: Total['dtype'] = 'float32';
  for (const g of grads) if (g.dtype === 'float64') dtype = 'float64';
  // The common case in one loop: the general path's closures and arrays cost more than the sums.
  const value = p === 2 ? euclidean(grads, dtype) : combine(grads.map((g) => tensorNorm(g, p)), p, dtype);
  if (errorIfNonfinite && !Number.isFinite(value))
    throw new NonFiniteError(
      `${fn}: The total norm of order ${fmtOrder(p)} for gradients from \`parameters\` is non-finite, so it cannot be clipped. ` +
        'To disable this error and scale the gradients by the non-finite norm anyway, set `errorIfNonfinite: false` ' +
        `(the total norm is ${value})`,
    );
  return { value, dtype };
}

/**
 * The coefficient exactly as PyTorch computes it from a total-norm tensor:
 * `clamp(maxNorm / (total + 1e-6), max=1)`, where `float / tensor` is `tensor.reciprocal() * float`,
 * every step rounded to the total's dtype.
 */
function clipCoefficient(maxNorm: number, total: Total): number {
  const r = total.dtype === 'float32' ? Math.fround : identity;
  const coef = r(r(1 / r(total.value + r(1e-6))) * r(maxNorm));
  return coef > 1 ? 1 : coef; // NaN stays NaN, as torch.clamp
}

/**
 * The total p-norm of `tensors` taken together, as PyTorch's `torch.nn.utils.get_total_norm`:
 * the p-norm of the per-tensor p-norms, as a 0-d tensor (float32, or float64 when a tensor is
 * float64) on the first tensor's backend; `tensor(0)` when there are none.
 *
 * @param tensors The tensors to measure (usually gradients: `params.map((p) => p.grad)` without nulls).
 * @param normType 2 (default), 1, Infinity, any p > 0, or 0 (the count of tensors with a nonzero entry).
 * @param errorIfNonfinite Throw a NonFiniteError when the norm is NaN or ±Inf (default false).
 * @example const total = getTotalNorm(model.parameters().map((p) => p.grad!)); clipGradsWithNorm_(model.parameters(), 1, total);
 */
export function getTotalNorm(tensors: TensorOrTensors, normType = 2, errorIfNonfinite = false): Tensor {
  const fn = 'getTotalNorm';
  const list = tensorList(fn, 'tensors', tensors);
  const p = checkNormType(fn, normType);
  const total = totalNorm(fn, list, p, errorIfNonfinite);
  return list.length === 0 ? tensor(0) : scalarLike(total.value, list[0], total.dtype);
}

/**
 * Scales the gradients of `params` given a total norm computed beforehand, as PyTorch's
 * `torch.nn.utils.clip_grads_with_norm_`: every gradient is multiplied by
 * `min(1, maxNorm / (totalNorm + 1e-6))`, computed in the total norm tensor's dtype (float64 for a
 * number). Parameters without a gradient are skipped.
 *
 * @example const total = getTotalNorm(grads); clipGradsWithNorm_(model.parameters(), 1.0, total);
 */
export function clipGradsWithNorm_(params: TensorOrTensors, maxNorm: number, totalNorm: Tensor | number, options?: ForeachOptions): void {
  const fn = 'clipGradsWithNorm_';
  checkKeys(fn, options, ['foreach']);
  const list = tensorList(fn, 'params', params);
  checkMaxNorm(fn, maxNorm);
  let total: Total;
  if (totalNorm instanceof Tensor) {
    if (totalNorm.size !== 1)
      throw new ConfigError(`${fn}: totalNorm must be a one-element tensor, as getTotalNorm returns (got ${totalNorm.size} elements)`);
    total = { value: totalNorm.item(), dtype: totalNorm.dtype === 'float32' ? 'float32' : 'float64' };
  } else if (typeof totalNorm === 'number') {
    total = { value: totalNorm, dtype: 'float64' };
  } else {
    throw new ConfigError(`${fn}: totalNorm must be a Tensor or a number (got ${describe(totalNorm)})`);
  }
  const grads = gradsOf(list);
  if (grads.length === 0) return;
  scaleInPlace(grads, clipCoefficient(maxNorm, total));
}

/**
 * Clips the gradient norm of `params` in place, as PyTorch's `torch.nn.utils.clip_grad_norm_`,
 * and returns the total norm before clipping (as a number; {@link getTotalNorm} gives the tensor).
 *
 * The total is the p-norm of all gradient entries taken together (computed as the p-norm of the
 * per-tensor p-norms, in the gradients' dtype); then **every** gradient is multiplied by
 * `min(1, maxNorm / (total + 1e-6))`, with no branch on the value: at `total == maxNorm` the
 * gradients still shrink by `maxNorm / (maxNorm + 1e-6)`. Parameters without a gradient are
 * skipped; with none, the total is 0.
 *
 * Non-finite gradients behave as in PyTorch: a NaN entry makes every gradient NaN; an Inf entry
 * (or a float32 sum of squares above 3.4e38, e.g. an entry of 1e30) makes the coefficient 0, so
 * finite entries become 0 and infinite ones NaN — unless `errorIfNonfinite` is set, which throws a
 * NonFiniteError and leaves the gradients as they were.
 *
 * Cost: a `Linear` weight gradient arrives with its sum of squares, summed by the matmul that
 * wrote it, so the norm needs no pass over it (any other gradient, or one touched since, is
 * summed here); and the multiplication is deferred to the next use of each gradient: Adam's
 * fused step multiplies as it reads, and any other read or write (an optimizer step, `toArray()`,
 * an in-place op) multiplies the buffer first. Either way every value is `g·coef` rounded once,
 * bit for bit what the eager loop gives. On the 784→128→10 model clipping costs 1–2% of a
 * training step this way (`bench/clip.mjs`), where two passes over its 101,770 gradients cost 6%.
 *
 * @param params Parameters whose `.grad` to clip: a tensor, an array, or `model.parameters()`.
 * @param maxNorm The largest total norm allowed (≥ 0; Keel rejects a negative or NaN value).
 * @example const norm = clipGradNorm_(model.parameters(), 1.0); // after backward(), before the optimizer step
 */
export function clipGradNorm_(params: TensorOrTensors, maxNorm: number, options?: ClipGradNormOptions): number {
  const fn = 'clipGradNorm_';
  checkKeys(fn, options, ['normType', 'errorIfNonfinite', 'foreach']);
  const list = tensorList(fn, 'params', params);
  checkMaxNorm(fn, maxNorm);
  const p = checkNormType(fn, options?.normType ?? 2);
  const grads = gradsOf(list);
  const total = totalNorm(fn, grads, p, options?.errorIfNonfinite ?? false);
  if (grads.length > 0) scaleInPlace(grads, clipCoefficient(maxNorm, total));
  return total.value;
}

/**
 * Clamps every gradient entry of `params` into `[−clipValue, clipValue]` in place, as PyTorch's
 * `torch.nn.utils.clip_grad_value_`. NaN entries stay NaN, ±Inf become ±clipValue; parameters
 * without a gradient are skipped.
 *
 * @param clipValue The largest magnitude allowed (≥ 0; Keel rejects a negative or NaN value).
 * @example clipGradValue_(model.parameters(), 0.5);
 */
export function clipGradValue_(params: TensorOrTensors, clipValue: number, options?: ForeachOptions): void {
  const fn = 'clipGradValue_';
  checkKeys(fn, options, ['foreach']);
  const list = tensorList(fn, 'params', params);
  checkNonNegative(fn, 'clipValue', clipValue, ' — the gradients are clamped into [−clipValue, clipValue]');
  noGrad(() => {
    for (const g of gradsOf(list)) if (g.size > 0) clamp_(g, -clipValue, clipValue);
  });
}
