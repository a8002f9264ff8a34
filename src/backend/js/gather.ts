import type { TypedArray } from '../../core/dtype.js';
import { ConfigError, fmtShape } from '../../core/errors.js';
import { contiguousStrides } from '../../core/shape.js';
import { type ArrayView, forEachRow, unravel, withoutAxis } from './strided.js';

/**
 * gather and its adjoint scatterAdd, as `torch.gather`/`torch.scatter_add` along one axis. Both walk
 * the index's shape; the indexed operand is walked with its `axis` stride zeroed, so the iterator
 * yields the start of each lane and the index value adds `index · stride(axis)`. Indices are checked
 * in a pass of their own before anything is written, so a bad index leaves `out` untouched.
 */

/** `out[pos] = x[pos with pos[axis] = index[pos]]`; `out` is contiguous with `index`'s shape. */
export function gatherAxis(x: ArrayView, axis: number, index: ArrayView, out: TypedArray): void {
  checkIndices('gather', index, axis, x.shape[axis]);
  const along = x.strides[axis];
  const xd = x.data;
  const id = index.data;
  const strides = [index.strides, withoutAxis(x.strides, axis), contiguousStrides(index.shape)];
  forEachRow(index.shape, strides, [index.offset, x.offset, 0], (start, n, step) => {
    const [is, xs, os] = step;
    let [ii, xi, oi] = start;
    for (let j = 0; j < n; j++, ii += is, xi += xs, oi += os) out[oi] = xd[xi + id[ii] * along];
  });
}

/**
 * `out[pos with pos[axis] = index[pos]] += src[pos]` for every `pos` in `index`'s shape; `out` is
 * contiguous with shape `outShape` and keeps its previous contents (the caller zero-fills).
 * Repeated indices accumulate, which is what makes this the gradient of gather.
 */
export function scatterAddAxis(
  out: TypedArray,
  outShape: readonly number[],
  axis: number,
  index: ArrayView,
  src: ArrayView,
): void {
  checkIndices('scatterAdd', index, axis, outShape[axis]);
  const outStrides = contiguousStrides(outShape);
  const along = outStrides[axis];
  const id = index.data;
  const sd = src.data;
  const strides = [index.strides, src.strides, withoutAxis(outStrides, axis)];
  forEachRow(index.shape, strides, [index.offset, src.offset, 0], (start, n, step) => {
    const [is, ss, os] = step;
    let [ii, si, oi] = start;
    for (let j = 0; j < n; j++, ii += is, si += ss, oi += os) out[oi + id[ii] * along] += sd[si];
  });
}

/** Throws on the first index outside `[0, len)`, naming its position in `index`. */
function checkIndices(op: string, index: ArrayView, axis: number, len: number): void {
  const id = index.data;
  forEachRow(index.shape, [index.strides, contiguousStrides(index.shape)], [index.offset, 0], (start, n, step) => {
    const [is, ps] = step;
    let [ii, pi] = start;
    for (let j = 0; j < n; j++, ii += is, pi += ps) {
      const v = id[ii];
      if (!(v >= 0 && v < len)) throw indexError(op, v, unravel(pi, index.shape), axis, len);
    }
  });
}

function indexError(op: string, value: number, at: number[], axis: number, len: number): ConfigError {
  const valid = len === 0 ? `axis ${axis} is empty, so no index is valid` : `valid indices are 0 to ${len - 1}`;
  return new ConfigError(
    `${op}: index ${value} at position ${fmtShape(at)} is out of range for axis ${axis} of size ${len} ` +
      `(${valid}; negative indices are not wrapped)`,
  );
}
