import type { TypedArray } from '../../core/dtype.js';
import { contiguousStrides } from '../../core/shape.js';
import { type ArrayView, forEachRow } from './strided.js';

/**
 * Elementwise kernels. Each output is contiguous with the operands' (common) shape and is written
 * in the same row-major order the inputs are read, element i read before element i is written,
 * which is what makes `out` aliasing a contiguous, offset-0 input safe. Values are computed in
 * float64 and converted by the typed-array store (float32 rounds, int32 truncates toward zero).
 */

/** `out[i] = f(x[i])`. */
export function mapUnary(f: (x: number) => number, x: ArrayView, out: TypedArray): void {
  const xd = x.data;
  forEachRow(x.shape, [x.strides, contiguousStrides(x.shape)], [x.offset, 0], (start, n, step) => {
    const [xs, os] = step;
    let [xi, oi] = start;
    for (let j = 0; j < n; j++, xi += xs, oi += os) out[oi] = f(xd[xi]);
  });
}

/** `out[i] = f(a[i], b[i])`; a broadcast operand simply has stride 0. */
export function mapBinary(f: (a: number, b: number) => number, a: ArrayView, b: ArrayView, out: TypedArray): void {
  const ad = a.data;
  const bd = b.data;
  const strides = [a.strides, b.strides, contiguousStrides(a.shape)];
  forEachRow(a.shape, strides, [a.offset, b.offset, 0], (start, n, step) => {
    const [as, bs, os] = step;
    let [ai, bi, oi] = start;
    for (let j = 0; j < n; j++, ai += as, bi += bs, oi += os) out[oi] = f(ad[ai], bd[bi]);
  });
}

/** `out[i] = cond[i] != 0 ? a[i] : b[i]`; a NaN condition counts as true, as NaN != 0. */
export function select(cond: ArrayView, a: ArrayView, b: ArrayView, out: TypedArray): void {
  const cd = cond.data;
  const ad = a.data;
  const bd = b.data;
  const strides = [cond.strides, a.strides, b.strides, contiguousStrides(a.shape)];
  forEachRow(a.shape, strides, [cond.offset, a.offset, b.offset, 0], (start, n, step) => {
    const [cs, as, bs, os] = step;
    let [ci, ai, bi, oi] = start;
    for (let j = 0; j < n; j++, ci += cs, ai += as, bi += bs, oi += os) out[oi] = cd[ci] !== 0 ? ad[ai] : bd[bi];
  });
}

/**
 * `dst[i] = src[i]` between two strided views of one shape, converting dtype through the store.
 * Overlapping views of one buffer are only safe when they are the same view.
 */
export function copyStrided(src: ArrayView, dst: ArrayView): void {
  const sd = src.data;
  const dd = dst.data;
  forEachRow(src.shape, [src.strides, dst.strides], [src.offset, dst.offset], (start, n, step) => {
    const [ss, ds] = step;
    let [si, di] = start;
    for (let j = 0; j < n; j++, si += ss, di += ds) dd[di] = sd[si];
  });
}

/** `y[i] = alpha·x[i] + beta·y[i]` with `y` contiguous; the optimizers' update step. */
export function axpbyStrided(alpha: number, x: ArrayView, beta: number, y: TypedArray): void {
  const xd = x.data;
  forEachRow(x.shape, [x.strides, contiguousStrides(x.shape)], [x.offset, 0], (start, n, step) => {
    const [xs, ys] = step;
    let [xi, yi] = start;
    for (let j = 0; j < n; j++, xi += xs, yi += ys) y[yi] = alpha * xd[xi] + beta * y[yi];
  });
}

/** `Σ x[i]²` in float64 (so float32 gradients do not overflow or lose small terms early). */
export function sumSquaresStrided(x: ArrayView): number {
  const xd = x.data;
  let total = 0;
  forEachRow(x.shape, [x.strides], [x.offset], (start, n, step) => {
    const s = step[0];
    let xi = start[0];
    let acc = 0;
    for (let j = 0; j < n; j++, xi += s) acc += xd[xi] * xd[xi];
    total += acc;
  });
  return total;
}
