import type { TypedArray } from '../../core/dtype.js';
import type { ArgReduceOp, ReduceOp } from '../backend.js';
import { contiguousStrides, numel } from '../../core/shape.js';
import { type ArrayView, type RowFn, forEachRow } from './strided.js';

/**
 * Reductions. Instead of a separate loop nest per axis pattern, a reduction is an elementwise pass
 * over `x` into an accumulator that is broadcast (stride 0) along the reduced axes, so the same
 * strided iterator serves every axis subset. Accumulators are float64 and stored once at the end.
 */

/**
 * Reduces `axes` (sorted, unique) of `x` into the contiguous `out`. The caller has checked that a
 * max/min never reduces an empty axis (which has no identity to return).
 */
export function reduceAxes(op: ReduceOp, x: ArrayView, axes: readonly number[], out: TypedArray): void {
  const keptShape = x.shape.filter((_, d) => !axes.includes(d));
  const keptStrides = contiguousStrides(keptShape);
  let k = 0;
  const accStrides = x.shape.map((_, d) => (axes.includes(d) ? 0 : keptStrides[k++]));
  const acc = new Float64Array(numel(keptShape));
  acc.fill(identity(op));
  forEachRow(x.shape, [x.strides, accStrides], [x.offset, 0], accumulateRow(op, x.data, acc));
  out.set(acc);
}

function identity(op: ReduceOp): number {
  switch (op) {
    case 'sum':
      return 0;
    case 'max':
      return -Infinity;
    case 'min':
      return Infinity;
    default:
      return op satisfies never;
  }
}

/**
 * The row body that folds `xd` into `acc`. When the accumulator's step is 0 (the row runs along a
 * reduced axis) it folds into a local first, so the innermost loop touches memory only to read.
 * max/min use `v > m || v !== v` so that a NaN, once taken, is never replaced (PyTorch propagates).
 */
function accumulateRow(op: ReduceOp, xd: TypedArray, acc: Float64Array): RowFn {
  switch (op) {
    case 'sum':
      return (start, n, step) => {
        const [xs, as] = step;
        let [xi, ai] = start;
        if (as === 0) {
          let s = 0;
          for (let j = 0; j < n; j++, xi += xs) s += xd[xi];
          acc[ai] += s;
        } else {
          for (let j = 0; j < n; j++, xi += xs, ai += as) acc[ai] += xd[xi];
        }
      };
    case 'max':
      return (start, n, step) => {
        const [xs, as] = step;
        let [xi, ai] = start;
        for (let j = 0; j < n; j++, xi += xs, ai += as) {
          const v = xd[xi];
          if (v > acc[ai] || v !== v) acc[ai] = v;
        }
      };
    case 'min':
      return (start, n, step) => {
        const [xs, as] = step;
        let [xi, ai] = start;
        for (let j = 0; j < n; j++, xi += xs, ai += as) {
          const v = xd[xi];
          if (v < acc[ai] || v !== v) acc[ai] = v;
        }
      };
    default:
      return op satisfies never;
  }
}

/**
 * Index along `axis` of the first max (argmax) or min (argmin) of each lane, into the int32 `out`.
 * A NaN wins over every number and the first NaN is kept, matching PyTorch, whose argmax/argmin
 * point at the element that max/min return. The caller has checked that the axis is not empty.
 */
export function argReduceAxis(op: ArgReduceOp, x: ArrayView, axis: number, out: TypedArray): void {
  // argmin is argmax of -x; negation keeps ties, ±0 and NaN exactly as they were.
  const sign = direction(op);
  const len = x.shape[axis];
  const along = x.strides[axis];
  const xd = x.data;
  // One lane per output element: the shape with `axis` collapsed to 1, which the iterator drops.
  const lanes = x.shape.map((n, d) => (d === axis ? 1 : n));
  forEachRow(lanes, [x.strides, contiguousStrides(lanes)], [x.offset, 0], (start, n, step) => {
    const [xs, os] = step;
    let [xi, oi] = start;
    for (let j = 0; j < n; j++, xi += xs, oi += os) {
      let best = sign * xd[xi];
      let arg = 0;
      for (let i = 1, p = xi + along; i < len && best === best; i++, p += along) {
        const v = sign * xd[p];
        if (v > best || v !== v) {
          best = v;
          arg = i;
        }
      }
      out[oi] = arg;
    }
  });
}

function direction(op: ArgReduceOp): number {
  switch (op) {
    case 'argmax':
      return 1;
    case 'argmin':
      return -1;
    default:
      return op satisfies never;
  }
}
