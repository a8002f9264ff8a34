import type { TypedArray } from '../../core/dtype.js';
import type { ArrayView } from './strided.js';

// The reference kernels of the fused softmax cross-entropy over rows (see Backend.crossEntropyRows):
// 2-D logits views, int32 targets; every operation rounded to the logits' dtype.

const identity = (x: number): number => x;

/** The row's maximum (NaN if any entry is NaN). */
function rowMax(x: ArrayView, base: number, c: number, r: (v: number) => number): number {
  let m = -Infinity;
  for (let j = 0; j < c; j++) {
    const v = x.data[base + j * x.strides[1]];
    m = v > m || v !== v ? v : m;
  }
  return r(m);
}

/** −1, or the first row whose target is outside [0, c). */
export function crossEntropyRowsArrays(x: ArrayView, t: ArrayView, loss: TypedArray): number {
  const [n, c] = x.shape;
  const r = loss instanceof Float32Array ? Math.fround : identity;
  for (let row = 0; row < n; row++) {
    const target = t.data[t.offset + row * t.strides[0]];
    if (!(target >= 0 && target < c)) return row;
    const base = x.offset + row * x.strides[0];
    const m = rowMax(x, base, c, r);
    let s = 0;
    for (let j = 0; j < c; j++) s = r(s + r(Math.exp(r(x.data[base + j * x.strides[1]] - m))));
    loss[row] = r(r(Math.log(s)) - r(x.data[base + target * x.strides[1]] - m));
  }
  return -1;
}

/** −1, or the first row whose target is outside [0, c); writes `dx` [n, c] contiguous. */
export function crossEntropyRowsBackwardArrays(x: ArrayView, t: ArrayView, g: ArrayView, dx: TypedArray): number {
  const [n, c] = x.shape;
  const r = dx instanceof Float32Array ? Math.fround : identity;
  for (let row = 0; row < n; row++) {
    const target = t.data[t.offset + row * t.strides[0]];
    if (!(target >= 0 && target < c)) return row;
    const base = x.offset + row * x.strides[0];
    const m = rowMax(x, base, c, r);
    let s = 0;
    for (let j = 0; j < c; j++) {
      const e = r(Math.exp(r(x.data[base + j * x.strides[1]] - m)));
      dx[row * c + j] = e;
      s = r(s + e);
    }
    const gr = g.data[g.offset + row * g.strides[0]];
    const scale = r(gr / s);
    for (let j = 0; j < c; j++) dx[row * c + j] = r(dx[row * c + j] * scale);
    dx[row * c + target] = r(dx[row * c + target] - gr);
  }
  return -1;
}
