import { noGrad } from '../autograd/grad-mode.js';
import { run } from '../autograd/run.js';
import { ConfigError } from '../core/errors.js';
import { normalizeAxes, normalizeAxis } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { div, mul, sub } from './elementwise.js';

/** Which axes to reduce (all when omitted) and whether to keep them as size-1 dimensions. */
export interface ReduceOptions {
  axis?: number | readonly number[];
  keepDims?: boolean;
}

function params(op: string, x: Tensor, o: ReduceOptions | undefined) {
  // A 0-d tensor accepts axis 0 or -1, as PyTorch, but has no axis to reduce.
  const axes = normalizeAxes(op, o?.axis, x.ndim).filter((a) => a < x.ndim);
  return { axes, keepDims: o?.keepDims ?? false };
}

/** Sum over `axis` (all axes by default). */
export function sum(x: Tensor, options?: ReduceOptions): Tensor {
  return run('sum', [x], params('sum', x, options));
}

/** Mean over `axis` (all axes by default); int32 inputs give float32. */
export function mean(x: Tensor, options?: ReduceOptions): Tensor {
  const p = params('mean', x, options);
  const n = p.axes.reduce((acc, a) => acc * x.shape[a], 1);
  const s = run('sum', [x.dtype === 'int32' ? run('cast', [x], { dtype: 'float32' }) : x], p);
  return div(s, n);
}

/** Maximum over `axis` (all axes by default); the gradient is shared among tied maxima. */
export function max(x: Tensor, options?: ReduceOptions): Tensor {
  return run('max', [x], params('max', x, options));
}

/** Minimum over `axis` (all axes by default); the gradient is shared among tied minima. */
export function min(x: Tensor, options?: ReduceOptions): Tensor {
  return run('min', [x], params('min', x, options));
}

/** Options of {@link variance} and {@link std}. */
export interface VarOptions extends ReduceOptions {
  /** Subtracted from the count in the denominator: 1 (Bessel, PyTorch's default) or 0. */
  correction?: number;
}

/** Variance over `axis` with Bessel's correction by default, as `torch.var`. */
export function variance(x: Tensor, options?: VarOptions): Tensor {
  const p = params('var', x, options);
  const correction = options?.correction ?? 1;
  const n = p.axes.reduce((acc, a) => acc * x.shape[a], 1);
  if (correction < 0) throw new ConfigError(`var: correction must be ≥ 0 (got ${correction})`);
  const centered = sub(x, mean(x, { axis: p.axes, keepDims: true }));
  return div(run('sum', [mul(centered, centered)], p), Math.max(0, n - correction));
}

/** Standard deviation: the square root of {@link variance}. */
export function std(x: Tensor, options?: VarOptions): Tensor {
  return run('sqrt', [variance(x, options)], {} as Record<string, never>);
}

/** `log Σ exp(x)` over `axis`, computed stably by shifting by the maximum. */
export function logSumExp(x: Tensor, options?: ReduceOptions): Tensor {
  const p = params('logSumExp', x, options);
  // The shift is a constant for the gradient (log Σ exp is shift-invariant), so it is computed
  // without recording: exact and cheap.
  const shift = noGrad(() => run('max', [x], { axes: p.axes, keepDims: true }));
  const s = run('sum', [run('exp', [sub(x, shift)], {} as Record<string, never>)], { axes: p.axes, keepDims: true });
  const out = run('add', [run('log', [s], {} as Record<string, never>), shift], {} as Record<string, never>);
  return p.keepDims ? out : run('reshape', [out], { shape: x.shape.filter((_, i) => !p.axes.includes(i)) });
}

/** Options of {@link argmax} and {@link argmin}. */
export interface ArgOptions {
  /** The axis; when omitted the tensor is flattened first, as PyTorch. */
  axis?: number;
  keepDims?: boolean;
}

function arg(op: 'argmax' | 'argmin', x: Tensor, o: ArgOptions | undefined): Tensor {
  const axis = o?.axis === undefined ? undefined : normalizeAxis(op, o.axis, x.ndim);
  // No axis, or the one axis 0-d tensors accept (as PyTorch): the index into the flattened tensor.
  if (axis === undefined || x.ndim === 0) {
    const flat = run('reshape', [x], { shape: [x.size] });
    return run(op, [flat], { axis: 0, keepDims: false });
  }
  return run(op, [x], { axis, keepDims: o?.keepDims ?? false });
}

/** Index (int32) of the largest element along `axis`; the first one on ties. */
export const argmax = (x: Tensor, options?: ArgOptions): Tensor => arg('argmax', x, options);
/** Index (int32) of the smallest element along `axis`; the first one on ties. */
export const argmin = (x: Tensor, options?: ArgOptions): Tensor => arg('argmin', x, options);
