// Single-precision matrix product C = A·B for one thread's share of the columns, in the
// GotoBLAS/BLIS shape: pack a kc×nc block of B into 8-column panels and an mc×kc block of A into
// 4-row panels, then run a 4×8 register-tiled micro-kernel over them. Packing reads any strides,
// so A·B, Aᵀ·B, A·Bᵀ and Aᵀ·Bᵀ all run the same inner loop at the same speed.

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
// @ts-ignore: decorator
@inline
function micro4x8(kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, first: bool): void {
  const ld = <usize>ldc << 2;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += MR << 2;
    pb += NR << 2;
  }
  let r = c;
  if (!first) {
    c00 = f32x4.add(c00, v128.load(r)); c01 = f32x4.add(c01, v128.load(r, 16)); r += ld;
    c10 = f32x4.add(c10, v128.load(r)); c11 = f32x4.add(c11, v128.load(r, 16)); r += ld;
    c20 = f32x4.add(c20, v128.load(r)); c21 = f32x4.add(c21, v128.load(r, 16)); r += ld;
    c30 = f32x4.add(c30, v128.load(r)); c31 = f32x4.add(c31, v128.load(r, 16));
    r = c;
  }
  v128.store(r, c00); v128.store(r, c01, 16); r += ld;
  v128.store(r, c10); v128.store(r, c11, 16); r += ld;
  v128.store(r, c20); v128.store(r, c21, 16); r += ld;
  v128.store(r, c30); v128.store(r, c31, 16);
}

/**
 * C[M, j0:j1] = A[M, K]·B[K, j0:j1] for one thread. Strides are in elements; C is row-major with
 * row stride ldc. `scratch` holds gemmScratchBytes() bytes private to the calling thread.
 */
export function gemmF32(
  m: i32, n0: i32, n1: i32, k: i32,
  a: usize, ars: i32, acs: i32,
  b: usize, brs: i32, bcs: i32,
  c: usize, ldc: i32,
  scratch: usize,
): void {
  const pa = scratch;
  const pb = pa + MC * KC * 4;
  const tile = pb + KC * NC * 4;
  if (k == 0) {
    for (let i = 0; i < m; i++) memory.fill(c + ((<usize>i * ldc + n0) << 2), 0, <usize>(n1 - n0) << 2);
    return;
  }
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = min(NC, n1 - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const first = pc == 0;
      packB(b, brs, bcs, pc, kc, jc, nc, pb);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(a, ars, acs, ic, mc, pc, kc, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bp = pb + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const ap = pa + (<usize>(ir * kc) << 2);
            const cp = c + ((<usize>(ic + ir) * ldc + jc + jr) << 2);
            if (mr == MR && nr == NR) {
              micro4x8(kc, ap, bp, cp, ldc, first);
            } else {
              // Edge tile: compute into a full 4×8 scratch tile, then copy the valid part.
              if (!first) {
                for (let r = 0; r < mr; r++)
                  for (let q = 0; q < nr; q++)
                    store<f32>(tile + ((r * NR + q) << 2), load<f32>(cp + ((<usize>r * ldc + q) << 2)));
              }
              micro4x8(kc, ap, bp, tile, NR, first);
              for (let r = 0; r < mr; r++)
                for (let q = 0; q < nr; q++)
                  store<f32>(cp + ((<usize>r * ldc + q) << 2), load<f32>(tile + ((r * NR + q) << 2)));
            }
          }
        }
      }
    }
  }
}
