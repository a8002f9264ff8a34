import { noGrad } from '../autograd/grad-mode.js';
import { ConfigError } from '../core/errors.js';
import { mul } from '../ops/elementwise.js';
import { mul_ } from '../ops/inplace.js';
import { sum } from '../ops/reduce.js';
import { tidy } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Helpers shared by the clipping utilities and transforms: argument checks, norms measured
 * without autograd, and scaling in place or into new tensors.
 */

/** What the PyTorch-style utilities accept: one tensor, or any iterable of tensors (`model.parameters()`). */
export type TensorOrTensors = Tensor | Iterable<Tensor>;

/** @internal The tensors of `params` as an array, each checked to be a Tensor. */
export function tensorList(fn: string, arg: string, params: TensorOrTensors): Tensor[] {
  if (params instanceof Tensor) return [params];
  if (params === null || typeof params !== 'object' || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function')
    throw new ConfigError(`${fn}: ${arg} must be a Tensor or an iterable of Tensors, such as model.parameters() (got ${describe(params)})`);
  // A plain loop: this runs once per training step, where a spread and a callback cost more than the check.
  const out: Tensor[] = [];
  let i = 0;
  for (const p of params) {
    if (!(p instanceof Tensor))
      throw new ConfigError(`${fn}: ${arg}[${i}] is not a Tensor (got ${describe(p)}); pass tensors, such as model.parameters()`);
    out.push(p);
    i++;
  }
  return out;
}

/** @internal The existing gradients of `params`, in order (parameters without one are skipped, as in PyTorch). */
export function gradsOf(params: readonly Tensor[]): Tensor[] {
  const grads: Tensor[] = [];
  for (const p of params) if (p.grad !== null && p.grad !== undefined) grads.push(p.grad);
  return grads;
}

/** @internal A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === 'object' ? ((v as object).constructor?.name ?? 'an object') : typeof v;
}

/** @internal Throws unless `value` is a number > 0 (Infinity allowed). */
export function checkPositive(fn: string, option: string, value: unknown, hint = ''): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0)
    throw new ConfigError(`${fn}: ${option} must be a positive number (got ${describe(value)})${hint}`);
  return value;
}

/** @internal Throws unless `value` is a number ≥ 0 (Infinity allowed). */
export function checkNonNegative(fn: string, option: string, value: unknown, hint = ''): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0)
    throw new ConfigError(`${fn}: ${option} must be a number ≥ 0 (got ${describe(value)})${hint}`);
  return value;
}

/** @internal Throws unless `value` is an integer ≥ `min`. */
export function checkInteger(fn: string, option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw new ConfigError(`${fn}: ${option} must be an integer ≥ ${min} (got ${describe(value)})`);
  return value;
}

/** @internal Throws on option keys the function does not know (a typo would otherwise be ignored). */
export function checkKeys(fn: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object') throw new ConfigError(`${fn}: options must be an object (got ${describe(options)})`);
  for (const key of Object.keys(options))
    if (!known.includes(key))
      throw new ConfigError(`${fn}: unknown option '${key}' (known options: ${known.join(', ')})`);
}

/**
 * @internal `Σ x²` of a tensor in float64, from the backend's kernel (0 for an empty tensor). A
 * Linear layer's weight gradient usually arrives with it: the matmul that wrote it summed the
 * squares as each thread finished its columns ({@link Backend.matmulSquares}); that sum runs in
 * another order than the backend's sumSquares, so the two agree to rounding (≈1e-7 relative).
 */
export function sumSquares(t: Tensor): number {
  t.assertLive('sumSquares');
  if (t.size === 0) return 0;
  return t.knownSumSquares() ?? t.backend.sumSquares(t);
}

/** @internal The L2 norm of all the tensors together, in float64 (nulls skipped). */
export function globalNorm(tensors: readonly (Tensor | null)[]): number {
  let s = 0;
  for (const t of tensors) if (t !== null) s += sumSquares(t);
  return Math.sqrt(s);
}

/** @internal Whether every element of every tensor is finite. */
export function allFinite(tensors: readonly (Tensor | null)[]): boolean {
  for (const t of tensors) {
    if (t === null || t.size === 0) continue;
    // A float32 square is at most 1.2e77, so a float64 sum of them is finite exactly when every
    // element is. Float64 squares can overflow, so those multiply by 0 instead (NaN iff non-finite).
    const s = t.dtype === 'float32' ? sumSquares(t) : noGrad(() => tidy(() => sum(mul(t, 0)).item()));
    if (!Number.isFinite(s)) return false;
  }
  return true;
}

/**
 * @internal Multiplies every tensor by `coef` in place, exactly as PyTorch's `g.mul_(coef)`: the
 * product is rounded once to the tensor's dtype (the coefficient is first rounded to it, as a
 * float32 tensor times a 0-d tensor computes in float32), so ±Inf·0 and NaN give NaN and signed
 * zeros are kept. No branch on the value, except that a coefficient of exactly 1 is skipped:
 * `x·1` is `x` bit for bit, NaN and −0 included.
 *
 * A tensor that owns its buffer (every gradient backward makes) is not scaled here: the factor is
 * deferred on its storage and applied by the next kernel that reads the buffer, so a fused
 * optimizer step folds it into its own pass over the gradient (as PyTorch's fused Adam takes the
 * gradient scaler's factor), and any other read or write scales the buffer first. Either way every
 * element is the same product rounded once, as `g.mul_(coef)` gives.
 */
export function scaleInPlace(tensors: readonly Tensor[], coef: number): void {
  for (const t of tensors) {
    t.assertLive('scale');
    if (t.size === 0 || coef === 1) continue;
    if (t.ownsBuffer() && t.dtype !== 'int32') t.storage.deferScale(coef);
    else noGrad(() => mul_(t, coef)); // a strided view: the general in-place path
  }
}

/** @internal `t·coef` as a new tensor (transforms never write into their inputs). */
export function scaled(t: Tensor, coef: number): Tensor {
  return noGrad(() => mul(t, coef));
}
