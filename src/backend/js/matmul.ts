import type { TypedArray } from '../../core/dtype.js';
import type { ArrayView } from './strided.js';

/**
 * Batched matrix product `out[b] = a[b] · b[b]` with `a` `[B, M, K]`, `b` `[B, K, N]` and `out`
 * contiguous `[B, M, N]`. Each operand is read in its own layout (no transposing copy), with a loop
 * order per layout pair that keeps the innermost loop on unit-stride memory. Every path sums the
 * products for one output element in the same order, k = 0, 1, …, K-1, in float64, and stores
 * once, so all layouts give bit-identical results (and match a naive float64 triple loop).
 */

/** How a matrix is stored: rows contiguous, columns contiguous, or neither. */
type Layout = 'rows' | 'cols' | 'strided';

/** One matrix of the batch: element `[r, c]` is at `data[at + r·rowStride + c·colStride]`. */
interface Mat {
  readonly data: TypedArray;
  at: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/**
 * A size-1 dimension's stride is never used, so such a matrix fits a unit-stride layout whatever
 * its stride says; `rows` is preferred when both fit.
 */
function layoutOf(rows: number, cols: number, rowStride: number, colStride: number): Layout {
  if (colStride === 1 || cols <= 1) return 'rows';
  if (rowStride === 1 || rows <= 1) return 'cols';
  return 'strided';
}

/** One matrix product of the batch: `out[at + i·n + j] = Σₚ a[i, p]·b[p, j]`, with float64 scratch. */
interface Product {
  readonly a: Mat;
  readonly b: Mat;
  readonly out: TypedArray;
  at: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Partial sums for one row (or column) of the output, allocated once per call. */
  readonly acc: Float64Array;
}

export function matmulBatched(a: ArrayView, b: ArrayView, out: TypedArray): void {
  const [batches, m, k] = a.shape;
  const n = b.shape[2];
  const am: Mat = { data: a.data, at: 0, rowStride: a.strides[1], colStride: a.strides[2] };
  const bm: Mat = { data: b.data, at: 0, rowStride: b.strides[1], colStride: b.strides[2] };
  const job: Product = { a: am, b: bm, out, at: 0, m, n, k, acc: new Float64Array(Math.max(m, n)) };
  const product = productFor(layoutOf(m, k, am.rowStride, am.colStride), layoutOf(k, n, bm.rowStride, bm.colStride));
  for (let i = 0; i < batches; i++) {
    am.at = a.offset + i * a.strides[0];
    bm.at = b.offset + i * b.strides[0];
    job.at = i * m * n;
    product(job);
  }
}

/** The loop order for a pair of layouts (see each function for why it suits its pair). */
function productFor(la: Layout, lb: Layout): (job: Product) => void {
  if (lb === 'rows') return mmAnyByRows;
  if (lb === 'cols' && la === 'rows') return mmRowsByCols;
  if (lb === 'cols' && la === 'cols') return mmColsByCols;
  return mmStrided;
}

/**
 * A·B and Aᵀ·B (b row-major): i-k-j order. a[i,k] is hoisted out of the inner loop (so a's layout
 * costs one strided read per (i, k) pair), and the inner loop streams a row of b into an
 * accumulator row that stays in cache. This also avoids the `[M, N]` scratch a k-i-j order for
 * Aᵀ·B would need to round float32 outputs only once.
 */
function mmAnyByRows({ a, b, out, at, m, n, k, acc }: Product): void {
  const ad = a.data;
  const bd = b.data;
  for (let i = 0; i < m; i++) {
    acc.fill(0, 0, n);
    const ai = a.at + i * a.rowStride;
    for (let p = 0; p < k; p++) {
      const aip = ad[ai + p * a.colStride];
      const bp = b.at + p * b.rowStride;
      for (let j = 0; j < n; j++) acc[j] += aip * bd[bp + j];
    }
    const oi = at + i * n;
    for (let j = 0; j < n; j++) out[oi + j] = acc[j];
  }
}

/** A·Bᵀ (b stored column-major): each output is a dot product of two contiguous runs. */
function mmRowsByCols({ a, b, out, at, m, n, k }: Product): void {
  const ad = a.data;
  const bd = b.data;
  for (let i = 0; i < m; i++) {
    const ai = a.at + i * a.rowStride;
    for (let j = 0; j < n; j++) {
      const bj = b.at + j * b.colStride;
      let s = 0;
      for (let p = 0; p < k; p++) s += ad[ai + p] * bd[bj + p];
      out[at + i * n + j] = s;
    }
  }
}

/**
 * Aᵀ·Bᵀ (both column-major): one output column at a time, j-k-i order, so b[k,j] is hoisted and
 * the inner loop streams a column of a, which is contiguous in memory.
 */
function mmColsByCols({ a, b, out, at, m, n, k, acc }: Product): void {
  const ad = a.data;
  const bd = b.data;
  for (let j = 0; j < n; j++) {
    acc.fill(0, 0, m);
    const bj = b.at + j * b.colStride;
    for (let p = 0; p < k; p++) {
      const bpj = bd[bj + p];
      const ap = a.at + p * a.colStride;
      for (let i = 0; i < m; i++) acc[i] += ad[ap + i] * bpj;
    }
    for (let i = 0; i < m; i++) out[at + i * n + j] = acc[i];
  }
}

/** Any other strides (the frontend does not produce them today, but the oracle should not care). */
function mmStrided({ a, b, out, at, m, n, k }: Product): void {
  const ad = a.data;
  const bd = b.data;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += ad[a.at + i * a.rowStride + p * a.colStride] * bd[b.at + p * b.rowStride + j * b.colStride];
      }
      out[at + i * n + j] = s;
    }
  }
}
