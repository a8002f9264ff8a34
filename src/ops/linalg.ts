import { run } from '../autograd/run.js';
import { ShapeError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { reshape } from './shape.js';

const none = {} as Record<string, never>;

/**
 * Matrix product with `torch.matmul` semantics: 1-D operands are treated as a row (left) or a
 * column (right) vector and that dimension is removed from the result; leading dimensions
 * broadcast as a batch. Transposed operands (`transpose(b)`) are read in place, never copied.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0)
    throw new ShapeError(`matmul: both operands need at least 1 dimension (a is ${fmtShape(a.shape)}, b is ${fmtShape(b.shape)})`);
  const aVec = a.ndim === 1;
  const bVec = b.ndim === 1;
  let x = aVec ? reshape(a, [1, a.shape[0]]) : a;
  const y = bVec ? reshape(b, [b.shape[0], 1]) : b;
  if (x.shape[x.ndim - 1] !== y.shape[y.ndim - 2])
    throw new ShapeError(
      `matmul: inner dimensions differ: a is ${fmtShape(a.shape)}, b is ${fmtShape(b.shape)} ` +
        `(a.shape[${a.ndim - 1}] must equal b.shape[${bVec ? 0 : b.ndim - 2}])`,
    );
  // A batch of rows times one matrix is one big 2-D product (and so is its backward).
  let batch: readonly number[] | null = null;
  if (x.ndim > 2 && y.ndim === 2 && x.isContiguous()) {
    batch = x.shape.slice(0, -1);
    x = reshape(x, [-1, x.shape[x.ndim - 1]]);
  }
  let out = run('matmul', [x, y], none);
  if (batch !== null) out = reshape(out, [...batch, y.shape[1]]);
  if (aVec && bVec) return reshape(out, []);
  if (aVec) return reshape(out, [...out.shape.slice(0, -2), out.shape[out.ndim - 1]]);
  if (bVec) return reshape(out, out.shape.slice(0, -1));
  return out;
}
