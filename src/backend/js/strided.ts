import type { TypedArray } from '../../core/dtype.js';
import { numel } from '../../core/shape.js';

/**
 * N-d strided iteration for the reference kernels. A kernel hands over one stride list per operand
 * (outputs included, as contiguous strides) and receives one callback per innermost row, which it
 * walks in a tight loop. Dimensions that every operand can walk as one (contiguous runs, broadcast
 * runs with stride 0, size-1 dimensions) are merged first, so the common cases (all operands
 * contiguous, or contiguous plus a broadcast scalar) become a single row: that merge is the fast
 * path, and there is no second code path to keep in sync with the general one.
 */

/** A strided view resolved to its typed array: what the kernels in this folder read. */
export interface ArrayView {
  readonly data: TypedArray;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/**
 * One innermost row: operand `k` starts at `start[k]` and advances by `step[k]`, `n` times.
 * `start` is reused between calls, so a kernel must copy what it keeps.
 */
export type RowFn = (start: readonly number[], n: number, step: readonly number[]) => void;

/** `strides` with the entry for `axis` set to 0, so iterating skips over that axis. */
export function withoutAxis(strides: readonly number[], axis: number): number[] {
  return strides.map((s, d) => (d === axis ? 0 : s));
}

/**
 * Merges adjacent dimensions that every operand steps through uniformly (outer stride equals
 * inner stride times inner size) and drops size-1 dimensions, whose strides are never used.
 * Fewer dimensions means longer inner rows and fewer callbacks.
 */
export function coalesce(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * n)) {
      outShape[last] *= n;
      for (let k = 0; k < strides.length; k++) outStrides[k][last] = strides[k][d];
    } else {
      outShape.push(n);
      for (let k = 0; k < strides.length; k++) outStrides[k].push(strides[k][d]);
    }
  }
  return { shape: outShape, strides: outStrides };
}

/**
 * Visits every element of `shape` in row-major order, one innermost row per `body` call. The outer
 * dimensions advance like an odometer (add a stride, and on carry subtract the whole dimension),
 * so no per-element index arrays or divisions are needed.
 */
export function forEachRow(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  offsets: readonly number[],
  body: RowFn,
): void {
  if (numel(shape) === 0) return;
  const c = coalesce(shape, strides);
  const start = offsets.slice();
  const rank = c.shape.length;
  if (rank === 0) {
    body(start, 1, offsets.map(() => 0));
    return;
  }
  const n = c.shape[rank - 1];
  const step = c.strides.map((s) => s[rank - 1]);
  const counter = new Array<number>(rank - 1).fill(0);
  for (;;) {
    body(start, n, step);
    let d = rank - 2;
    for (; d >= 0; d--) {
      for (let k = 0; k < start.length; k++) start[k] += c.strides[k][d];
      if (++counter[d] < c.shape[d]) break;
      for (let k = 0; k < start.length; k++) start[k] -= c.strides[k][d] * c.shape[d];
      counter[d] = 0;
    }
    if (d < 0) return;
  }
}

/** The multi-index of row-major position `flat` in `shape`; only for error messages. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return idx;
}
