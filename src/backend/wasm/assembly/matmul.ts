// Single-precision matrix product C = A·B for one thread's share of the columns, in the
// GotoBLAS/BLIS shape: pack a kc×nc block of B into 8-column panels and an mc×kc block of A into
// 4-row panels, then run a 4×8 register-tiled micro-kernel over them. Packing reads any strides,
// so A·B, Aᵀ·B, A·Bᵀ and Aᵀ·Bᵀ all run the same inner loop at the same speed.

import { lanes } from './update';

// c + a·b in each lane. In the relaxed-SIMD build of the kernels (loaded where the engine runs
// relaxed SIMD, see module.ts) a fused multiply-add: one instruction instead of two, which is what
// bounds the micro-kernel (16 arithmetic instructions and 6 loads per k step otherwise), and one
// rounding instead of two. Elsewhere the multiply and the add, as written.
// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

const MR = 4;
const NR = 8;
const KC = 256;
const MC = 96;
const NC = 2048;

/** Bytes of scratch one thread needs for packing (A block + B block + an edge tile). */
export function gemmScratchBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

// Stores the transpose of the 4×4 block with rows r0..r3: row i of the result (column i of the
// block) goes to dst + i·step bytes.
// @ts-ignore: decorator
@inline
function transpose4x4Store(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, step: usize): void {
  const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5);
  const t1 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
  const t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<i64>(t0, t2, 0, 2));
  v128.store(dst + step, v128.shuffle<i64>(t0, t2, 1, 3));
  v128.store(dst + 2 * step, v128.shuffle<i64>(t1, t3, 0, 2));
  v128.store(dst + 3 * step, v128.shuffle<i64>(t1, t3, 1, 3));
}

// A[i, k] lives at a + 4·(i·ars + k·acs); packs rows [i0, i0+mc) × [k0, k0+kc) into MR-row panels,
// k-major inside a panel, zero-padding the last panel.
function packA(a: usize, ars: i32, acs: i32, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const rows = min(MR, mc - ip);
    const base = a + ((<usize>(i0 + ip) * ars + <usize>k0 * acs) << 2);
    if (rows == MR && ars == 1) {
      // Transposed A: the 4 values for one k are contiguous.
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(base + (<usize>(k * acs) << 2)));
        dst += MR << 2;
      }
    } else if (rows == MR && acs == 1) {
      // Row-major A: read 4 consecutive k of each row and transpose the 4×4 block in registers.
      const r1 = base + (<usize>ars << 2);
      const r2 = r1 + (<usize>ars << 2);
      const r3 = r2 + (<usize>ars << 2);
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = <usize>k << 2;
        transpose4x4Store(v128.load(base + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o), dst, MR << 2);
        dst += 4 * MR << 2;
      }
      for (; k < kc; k++) {
        const o = <usize>k << 2;
        store<f32>(dst, load<f32>(base + o));
        store<f32>(dst, load<f32>(r1 + o), 4);
        store<f32>(dst, load<f32>(r2 + o), 8);
        store<f32>(dst, load<f32>(r3 + o), 12);
        dst += MR << 2;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const src = base + (<usize>(k * acs) << 2);
        for (let r = 0; r < MR; r++) {
          store<f32>(dst + (r << 2), r < rows ? load<f32>(src + (<usize>(r * ars) << 2)) : 0);
        }
        dst += MR << 2;
      }
    }
  }
}

// B[k, j] lives at b + 4·(k·brs + j·bcs); packs [k0, k0+kc) × [j0, j0+nc) into NR-column panels.
function packB(b: usize, brs: i32, bcs: i32, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const cols = min(NR, nc - jp);
    const base = b + ((<usize>k0 * brs + <usize>(j0 + jp) * bcs) << 2);
    if (cols == NR && bcs == 1) {
      for (let k = 0; k < kc; k++) {
        const src = base + (<usize>(k * brs) << 2);
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        dst += NR << 2;
      }
    } else if (cols == NR && brs == 1) {
      // Transposed B: each column's k values are contiguous; transpose 4×4 blocks in registers.
      const col = <usize>bcs << 2;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const c0 = base + (<usize>k << 2);
        transpose4x4Store(v128.load(c0), v128.load(c0 + col), v128.load(c0 + 2 * col), v128.load(c0 + 3 * col), dst, NR << 2);
        const c4 = c0 + 4 * col;
        transpose4x4Store(v128.load(c4), v128.load(c4 + col), v128.load(c4 + 2 * col), v128.load(c4 + 3 * col), dst + 16, NR << 2);
        dst += 4 * NR << 2;
      }
      for (; k < kc; k++) {
        const src = base + (<usize>k << 2);
        for (let c = 0; c < NR; c++) store<f32>(dst + (c << 2), load<f32>(src + <usize>c * col));
        dst += NR << 2;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const src = base + (<usize>(k * brs) << 2);
        for (let c = 0; c < NR; c++) {
          store<f32>(dst + (c << 2), c < cols ? load<f32>(src + (<usize>(c * bcs) << 2)) : 0);
        }
        dst += NR << 2;
      }
    }
  }
}

// C[4×8] (row stride ldc floats) = (first ? 0 : C) + Apanel·Bpanel over kc steps.
// 8 accumulators + 2 B vectors + 1 broadcast A value + 1 product: 12 registers. V8 keeps one of
// the 16 SIMD registers for itself, so a 6×8 tile (16 live values) spills, and runs 40% slower.
// With `measure`, also returns the tile's squares summed per lane (8 per lane: four rows, two
// column quads), taken from the registers before the stores; else zero.
// @ts-ignore: decorator
@inline
function micro4x8(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, first: bool, measure: bool): v128 {
  const ld = <usize>ldc << 2;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = pa + (<usize>kc << 4); // MR floats of A per k
  for (; pa < end; pa += MR << 2, pb += NR << 2) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
  }
  let r = c;
  if (!first) {
    c00 = f32x4.add(c00, v128.load(r)); c01 = f32x4.add(c01, v128.load(r, 16)); r += ld;
    c10 = f32x4.add(c10, v128.load(r)); c11 = f32x4.add(c11, v128.load(r, 16)); r += ld;
    c20 = f32x4.add(c20, v128.load(r)); c21 = f32x4.add(c21, v128.load(r, 16)); r += ld;
    c30 = f32x4.add(c30, v128.load(r)); c31 = f32x4.add(c31, v128.load(r, 16));
    r = c;
  }
  let squares = f32x4.splat(0);
  if (measure) {
    const s0 = f32x4.add(f32x4.add(f32x4.mul(c00, c00), f32x4.mul(c01, c01)), f32x4.add(f32x4.mul(c10, c10), f32x4.mul(c11, c11)));
    const s1 = f32x4.add(f32x4.add(f32x4.mul(c20, c20), f32x4.mul(c21, c21)), f32x4.add(f32x4.mul(c30, c30), f32x4.mul(c31, c31)));
    squares = f32x4.add(s0, s1);
  }
  v128.store(r, c00); v128.store(r, c01, 16); r += ld;
  v128.store(r, c10); v128.store(r, c11, 16); r += ld;
  v128.store(r, c20); v128.store(r, c21, 16); r += ld;
  v128.store(r, c30); v128.store(r, c31, 16);
  return squares;
}

/**
 * C[M, j0:j1] = A[M, K]·B[K, j0:j1] for one thread. Strides are in elements; C is row-major with
 * row stride ldc. `scratch` holds gemmScratchBytes() bytes private to the calling thread.
 *
 * With `squares` (a float64 array, or 0 for none), also `Σ C²` of each 8-column panel of the
 * columns computed, into `squares[j / 8]` (j0 a multiple of 8), per MC-row block of the panel
 * added in row order: from the micro-kernels' registers as they finish each tile (8 squares per
 * lane per tile, float32 lanes added in float64 per block), or, for a block with a partial tile,
 * read back from L1 right after (panelChunk); either way settled in float64 where float32 could
 * not hold the sum. A panel's sum depends only on its own columns, so any column split between
 * threads gives the same partials.
 */
export function gemmF32(
  m: i32, n0: i32, n1: i32, k: i32,
  a: usize, ars: i32, acs: i32,
  b: usize, brs: i32, bcs: i32,
  c: usize, ldc: i32,
  scratch: usize, squares: usize,
): void {
  const pa = scratch;
  const pb = pa + MC * KC * 4;
  const tile = pb + KC * NC * 4;
  if (k == 0) {
    for (let i = 0; i < m; i++) memory.fill(c + ((<usize>i * ldc + n0) << 2), 0, <usize>(n1 - n0) << 2);
    if (squares != 0) for (let j = n0; j < n1; j += NR) store<f64>(squares + (<usize>(j >> 3) << 3), 0);
    return;
  }
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const first = pc == 0;
      const measure = squares != 0 && pc + kc >= k; // the last k block writes C's final values
      packB(b, brs, bcs, pc, kc, jc, nc, pb);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(a, ars, acs, ic, mc, pc, kc, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bp = pb + (<usize>(jr * kc) << 2);
          // Squares from the registers when every tile of this block of the panel is whole.
          const inRegisters = measure && nr == NR && mc % MR == 0;
          let tiles = f32x4.splat(0);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const ap = pa + (<usize>(ir * kc) << 2);
            const cp = c + ((<usize>(ic + ir) * ldc + jc + jr) << 2);
            if (mr == MR && nr == NR) {
              tiles = f32x4.add(tiles, micro4x8(kc, ap, bp, cp, ldc, first, inRegisters));
            } else {
              // Edge tile: compute into a full 4×8 scratch tile, then copy the valid part.
              if (!first) {
                for (let r = 0; r < mr; r++)
                  for (let q = 0; q < nr; q++)
                    store<f32>(tile + ((r * NR + q) << 2), load<f32>(cp + ((<usize>r * ldc + q) << 2)));
              }
              micro4x8(kc, ap, bp, tile, NR, first, false);
              for (let r = 0; r < mr; r++)
                for (let q = 0; q < nr; q++)
                  store<f32>(cp + ((<usize>r * ldc + q) << 2), load<f32>(tile + ((r * NR + q) << 2)));
            }
          }
          if (measure) {
            const at = squares + (<usize>((jc + jr) >> 3) << 3);
            const s = inRegisters ? settled(lanes(tiles), c, ldc, ic, ic + mc, jc + jr, nr) : panelChunk(c, ldc, ic, ic + mc, jc + jr, nr);
            store<f64>(at, ic == 0 ? s : load<f64>(at) + s);
          }
        }
      }
    }
  }
}

// ---- the product's sum of squares, for clipping ----------------------------------------------

/** Σ C[r, j]² over rows [r0, r1) and columns [j, j + w) in float64 (a float32 square is exact there). */
function panelSquares64(c: usize, ldc: i32, r0: i32, r1: i32, j: i32, w: i32): f64 {
  let s: f64 = 0;
  for (let r = r0; r < r1; r++) {
    const row = c + ((<usize>r * ldc + j) << 2);
    for (let q = 0; q < w; q++) {
      const v = <f64>load<f32>(row + (<usize>q << 2));
      s += v * v;
    }
  }
  return s;
}

/** Whether every element of rows [r0, r1) × columns [j, j + w) is ±0. */
function panelIsZero(c: usize, ldc: i32, r0: i32, r1: i32, j: i32, w: i32): bool {
  for (let r = r0; r < r1; r++) {
    const row = c + ((<usize>r * ldc + j) << 2);
    for (let q = 0; q < w; q++) if ((load<u32>(row + (<usize>q << 2)) & 0x7fffffff) != 0) return false;
  }
  return true;
}

/**
 * `Σ C[r, j]²` over rows [r0, r1) (at most MC of them) and the w ≤ 8 columns from j, read back
 * from memory: float32 squares in four float32 lane-vectors, the lanes added in float64, then
 * settled.
 */
function panelChunk(c: usize, ldc: i32, r0: i32, r1: i32, j: i32, w: i32): f64 {
  if (w < NR) return panelSquares64(c, ldc, r0, r1, j, w);
  const step = <usize>ldc << 2;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let p = c + ((<usize>r0 * ldc + j) << 2);
  let r = r0;
  for (; r + 2 <= r1; r += 2, p += 2 * step) {
    const v0 = v128.load(p), v1 = v128.load(p, 16);
    const u0 = v128.load(p + step), u1 = v128.load(p + step, 16);
    a0 = f32x4.add(a0, f32x4.mul(v0, v0));
    a1 = f32x4.add(a1, f32x4.mul(v1, v1));
    a2 = f32x4.add(a2, f32x4.mul(u0, u0));
    a3 = f32x4.add(a3, f32x4.mul(u1, u1));
  }
  if (r < r1) {
    const v0 = v128.load(p), v1 = v128.load(p, 16);
    a0 = f32x4.add(a0, f32x4.mul(v0, v0));
    a1 = f32x4.add(a1, f32x4.mul(v1, v1));
  }
  return settled(lanes(a0) + lanes(a1) + lanes(a2) + lanes(a3), c, ldc, r0, r1, j, w);
}

/**
 * A float32-lane partial `s` of rows [r0, r1) × columns [j, j + w), made exact in float64 when it
 * may have overflowed, is NaN, or may hold squares that underflowed (as sumSquaresBlocksF32 does);
 * a zero partial is checked to be all zeros instead (input pixels that are always 0 give whole
 * zero columns).
 */
function settled(s: f64, c: usize, ldc: i32, r0: i32, r1: i32, j: i32, w: i32): f64 {
  if (s >= 1e-30 && s <= 1e38) return s;
  if (s == 0 && panelIsZero(c, ldc, r0, r1, j, w)) return 0;
  return panelSquares64(c, ldc, r0, r1, j, w);
}

/**
 * Panel sums in the layout of gemmF32's `squares` for a C that another kernel wrote: columns
 * [n0, n1) (n0 a multiple of 8) of m rows, read back per MC-row block (panelChunk).
 */
export function panelSquaresF32(c: usize, ldc: i32, m: i32, n0: i32, n1: i32, out: usize): void {
  for (let j = n0; j < n1; j += NR) {
    let t: f64 = 0;
    for (let r0 = 0; r0 < m; r0 += MC) t += panelChunk(c, ldc, r0, min(m, r0 + MC), j, min(NR, n1 - j));
    store<f64>(out + (<usize>(j >> 3) << 3), t);
  }
}

/** The four lanes of `v` added as (l0 + l1) + (l2 + l3). */
// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Σ_q a[q]·b[q] over `k` floats: four lanes over k's multiples of 4, summed by hsum, then the tail in order. */
function dotF32(pa: usize, pb: usize, k: i32): f32 {
  let acc = f32x4.splat(0);
  let o: usize = 0;
  const k4 = <usize>(k & ~3) << 2;
  for (; o < k4; o += 16) acc = madd(v128.load(pa + o), v128.load(pb + o), acc);
  let s = hsum(acc);
  for (let q = k & ~3; q < k; q++) s += load<f32>(pa + (<usize>q << 2)) * load<f32>(pb + (<usize>q << 2));
  return s;
}

/**
 * C[i, j] = Σ_q A[i, q]·Bᵀ[j, q] for i in [0, m) and j in [n0, n1), where both operands have q
 * contiguous: A row-major (row stride `lda` floats) and B given by the rows of its transpose (row
 * stride `ldb`): the x·Wᵀ of a linear layer. Each element is a dot product over q in f32x4 lanes
 * (dotF32's order), two rows of A against four of Bᵀ at a time: 8 accumulators, 6 loads per step.
 * Nothing is packed: for the few rows of a small batch, gemmF32 spent as long transposing W into
 * its panels as multiplying. Column ranges that start at multiples of 4 give every element the
 * same arithmetic, so any such split between threads gives the same bits.
 */
export function gemmNtF32(m: i32, n0: i32, n1: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32): void {
  const rowA = <usize>lda << 2;
  const rowB = <usize>ldb << 2;
  const rowC = <usize>ldc << 2;
  const k4 = <usize>(k & ~3) << 2;
  let j = n0;
  for (; j + 4 <= n1; j += 4) {
    const b0 = b + <usize>j * rowB;
    const b1 = b0 + rowB;
    const b2 = b1 + rowB;
    const b3 = b2 + rowB;
    let i = 0;
    for (; i + 2 <= m; i += 2) {
      const a0 = a + <usize>i * rowA;
      const a1 = a0 + rowA;
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
      for (let o: usize = 0; o < k4; o += 16) {
        const x0 = v128.load(a0 + o);
        const x1 = v128.load(a1 + o);
        const w0 = v128.load(b0 + o);
        const w1 = v128.load(b1 + o);
        const w2 = v128.load(b2 + o);
        const w3 = v128.load(b3 + o);
        c00 = madd(x0, w0, c00);
        c01 = madd(x0, w1, c01);
        c02 = madd(x0, w2, c02);
        c03 = madd(x0, w3, c03);
        c10 = madd(x1, w0, c10);
        c11 = madd(x1, w1, c11);
        c12 = madd(x1, w2, c12);
        c13 = madd(x1, w3, c13);
      }
      let s00 = hsum(c00), s01 = hsum(c01), s02 = hsum(c02), s03 = hsum(c03);
      let s10 = hsum(c10), s11 = hsum(c11), s12 = hsum(c12), s13 = hsum(c13);
      for (let q = k & ~3; q < k; q++) {
        const o = <usize>q << 2;
        const x0 = load<f32>(a0 + o);
        const x1 = load<f32>(a1 + o);
        const w0 = load<f32>(b0 + o);
        const w1 = load<f32>(b1 + o);
        const w2 = load<f32>(b2 + o);
        const w3 = load<f32>(b3 + o);
        s00 += x0 * w0; s01 += x0 * w1; s02 += x0 * w2; s03 += x0 * w3;
        s10 += x1 * w0; s11 += x1 * w1; s12 += x1 * w2; s13 += x1 * w3;
      }
      const r0 = c + <usize>i * rowC + (<usize>j << 2);
      const r1 = r0 + rowC;
      store<f32>(r0, s00); store<f32>(r0, s01, 4); store<f32>(r0, s02, 8); store<f32>(r0, s03, 12);
      store<f32>(r1, s10); store<f32>(r1, s11, 4); store<f32>(r1, s12, 8); store<f32>(r1, s13, 12);
    }
    for (; i < m; i++) {
      const ai = a + <usize>i * rowA;
      const r = c + <usize>i * rowC + (<usize>j << 2);
      store<f32>(r, dotF32(ai, b0, k));
      store<f32>(r, dotF32(ai, b1, k), 4);
      store<f32>(r, dotF32(ai, b2, k), 8);
      store<f32>(r, dotF32(ai, b3, k), 12);
    }
  }
  for (; j < n1; j++) {
    const bj = b + <usize>j * rowB;
    for (let i = 0; i < m; i++) store<f32>(c + <usize>i * rowC + (<usize>j << 2), dotF32(a + <usize>i * rowA, bj, k));
  }
}
