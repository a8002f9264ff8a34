import { noGrad } from '../autograd/grad-mode.js';
import { normalizeAxis } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { div, exp, log, sub } from './elementwise.js';
import { max, sum } from './reduce.js';

/**
 * `exp(x) / Σ exp(x)` along `axis` (default −1), shifted by the maximum so that large inputs
 * never overflow. A composition of primitives: its gradient needs no rule of its own.
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  const a = normalizeAxis('softmax', axis, x.ndim);
  // Softmax is shift-invariant: the maximum is a constant for the gradient.
  const shifted = sub(x, noGrad(() => max(x, { axis: a, keepDims: true })));
  const e = exp(shifted);
  return div(e, sum(e, { axis: a, keepDims: true }));
}

/**
 * `x − log Σ exp(x)` along `axis` (default −1), stable for any input magnitude. Computed as
 * `(x − m) − log Σ exp(x − m)` with `m` the maximum, so every output is rounded at its own scale,
 * not at the scale of the maximum (as PyTorch does).
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const a = normalizeAxis('logSoftmax', axis, x.ndim);
  const shifted = sub(x, noGrad(() => max(x, { axis: a, keepDims: true })));
  return sub(shifted, log(sum(exp(shifted), { axis: a, keepDims: true })));
}
