// Kernels over whole contiguous float32 buffers for gradient clipping and optimizer updates.
// Each takes a range [i0, i1) of elements (or of blocks), so the backend can split one call
// between threads; a slice never changes how an element is computed, so any split gives the
// same bits.

/** Elements per partial sum of sumSquaresBlocksF32: sums never depend on the thread count. */
export const SQUARES_BLOCK: i32 = 4096;

/** Elements per partial sum of sumSquaresBlocksF32 (see SQUARES_BLOCK). */
export function squaresBlock(): i32 {
  return SQUARES_BLOCK;
}

/**
 * For every block b in [b0, b1) of the `n` floats at `x`, `out[b] = Σ x[i]²` over the block's
 * elements. The fast path squares and sums in float32 (32 lanes, each summing at most 128 squares,
 * so about 1e-7 relative error: PyTorch itself accumulates float32 norms in float32), then adds
 * the lanes in float64. A block whose float32 sum overflows, is NaN, or is so small that squares
 * may have underflowed is summed again exactly in float64 (a float32 square is exact there), so
 * huge finite gradients stay finite and tiny ones keep their size. The caller adds the partials
 * in block order.
 */
export function sumSquaresBlocksF32(x: usize, n: i32, b0: i32, b1: i32, out: usize): void {
  for (let b = b0; b < b1; b++) {
    const start = b * SQUARES_BLOCK;
    const end = min(n, start + SQUARES_BLOCK);
    let sum = blockSquares32(x, start, end);
    if (!(sum >= 1e-30 && sum <= 1e38)) sum = blockSquares64(x, start, end);
    store<f64>(out + (<usize>b << 3), sum);
  }
}

/** Σ x[i]² over [start, end): float32 squares and lane sums, the lanes added in float64. */
function blockSquares32(x: usize, start: i32, end: i32): f64 {
  let p = x + (<usize>start << 2);
  let i = start;
  // Eight independent accumulators: the adds' latency, not the loads, would bound fewer.
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let s2 = f32x4.splat(0);
  let s3 = f32x4.splat(0);
  let s4 = f32x4.splat(0);
  let s5 = f32x4.splat(0);
  let s6 = f32x4.splat(0);
  let s7 = f32x4.splat(0);
  for (; i + 32 <= end; i += 32, p += 128) {
    const a = v128.load(p);
    const b = v128.load(p, 16);
    const c = v128.load(p, 32);
    const d = v128.load(p, 48);
    const e = v128.load(p, 64);
    const f = v128.load(p, 80);
    const g = v128.load(p, 96);
    const h = v128.load(p, 112);
    s0 = f32x4.add(s0, f32x4.mul(a, a));
    s1 = f32x4.add(s1, f32x4.mul(b, b));
    s2 = f32x4.add(s2, f32x4.mul(c, c));
    s3 = f32x4.add(s3, f32x4.mul(d, d));
    s4 = f32x4.add(s4, f32x4.mul(e, e));
    s5 = f32x4.add(s5, f32x4.mul(f, f));
    s6 = f32x4.add(s6, f32x4.mul(g, g));
    s7 = f32x4.add(s7, f32x4.mul(h, h));
  }
  let acc: f64 = lanes(s0) + lanes(s1) + lanes(s2) + lanes(s3) + lanes(s4) + lanes(s5) + lanes(s6) + lanes(s7);
  for (; i < end; i++, p += 4) {
    const v = <f64>load<f32>(p);
    acc += v * v;
  }
  return acc;
}

/** The four lanes of `v` added in float64. */
// @ts-ignore: decorator
@inline export function lanes(v: v128): f64 {
  return <f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1) + <f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3);
}

/** Σ x[i]² over [start, end) exactly as float64 sums of float64 squares. */
export function blockSquares64(x: usize, start: i32, end: i32): f64 {
  let p = x + (<usize>start << 2);
  let i = start;
  let s0 = f64x2.splat(0);
  let s1 = f64x2.splat(0);
  let s2 = f64x2.splat(0);
  let s3 = f64x2.splat(0);
  for (; i + 8 <= end; i += 8, p += 32) {
    const u0 = f64x2.promote_low_f32x4(v128.load64_zero(p));
    const u1 = f64x2.promote_low_f32x4(v128.load64_zero(p, 8));
    const v0 = f64x2.promote_low_f32x4(v128.load64_zero(p, 16));
    const v1 = f64x2.promote_low_f32x4(v128.load64_zero(p, 24));
    s0 = f64x2.add(s0, f64x2.mul(u0, u0));
    s1 = f64x2.add(s1, f64x2.mul(u1, u1));
    s2 = f64x2.add(s2, f64x2.mul(v0, v0));
    s3 = f64x2.add(s3, f64x2.mul(v1, v1));
  }
  const s = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
  let acc = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < end; i++, p += 4) {
    const v = <f64>load<f32>(p);
    acc += v * v;
  }
  return acc;
}

/** `y[i] ← c·y[i]` for i in [i0, i1), the product rounded once to float32 (as `mul_`). */
export function scaleF32(y: usize, i0: i32, i1: i32, c: f32): void {
  const vc = f32x4.splat(c);
  let p = y + (<usize>i0 << 2);
  let i = i0;
  for (; i + 16 <= i1; i += 16, p += 64) {
    v128.store(p, f32x4.mul(v128.load(p), vc));
    v128.store(p, f32x4.mul(v128.load(p, 16), vc), 16);
    v128.store(p, f32x4.mul(v128.load(p, 32), vc), 32);
    v128.store(p, f32x4.mul(v128.load(p, 48), vc), 48);
  }
  for (; i + 4 <= i1; i += 4, p += 16) v128.store(p, f32x4.mul(v128.load(p), vc));
  for (; i < i1; i++, p += 4) store<f32>(p, load<f32>(p) * c);
}

/**
 * Elements per float32 partial sum of updateSquaresF32 and a measuring adamF32 (128 per lane of
 * their two vectors, as in sumSquaresBlocksF32).
 */
const UPDATE_BLOCK: i32 = 1024;

/**
 * One PyTorch Adam step (no AMSGrad) for elements [i0, i1), every operation rounded to float32 in
 * the order of the composition it replaces (src/optim/adaptive.ts scaleByAdam, then the learning
 * rate and `p ← p + u`):
 *   g ← g·gradScale; g ← g + wd·p (when decay is on); m ← m·β1 + g·(1 − β1);
 *   v ← v·β2 + (g·(1 − β2))·g; u ← (m / (√v / √bc2 + ε))·(1/bc1); p ← p + u·(−lr).
 * The gradient is read only; p, m and v are updated in place. With `out` ≠ 0 the same pass also
 * measures what updateSquaresF32 would (Σ p² after the step, Σ (p_new − p_old)², Σ g² of the
 * gradient as stored) into three float64 at `out`, for a training monitor: no copy of p needed
 * (`scratch`, UPDATE_BLOCK floats private to the calling thread, holds the old values of one block).
 */
export function adamF32(
  p: usize, g: usize, m: usize, v: usize, i0: i32, i1: i32,
  gradScale: f32, wd: f32, decay: i32, b1: f32, c1: f32, b2: f32, c2: f32, sqrtBc2: f32, eps: f32, invBc1: f32, negLr: f32,
  out: usize, scratch: usize,
): void {
  if (out != 0) {
    if (decay != 0) adamRange(true, true, p, g, m, v, i0, i1, gradScale, wd, b1, c1, b2, c2, sqrtBc2, eps, invBc1, negLr, out, scratch);
    else adamRange(false, true, p, g, m, v, i0, i1, gradScale, wd, b1, c1, b2, c2, sqrtBc2, eps, invBc1, negLr, out, scratch);
  } else if (decay != 0) adamRange(true, false, p, g, m, v, i0, i1, gradScale, wd, b1, c1, b2, c2, sqrtBc2, eps, invBc1, negLr, 0, 0);
  else adamRange(false, false, p, g, m, v, i0, i1, gradScale, wd, b1, c1, b2, c2, sqrtBc2, eps, invBc1, negLr, 0, 0);
}

// @ts-ignore: decorator
@inline function adamRange(
  decay: bool, stats: bool, p: usize, g: usize, m: usize, v: usize, i0: i32, i1: i32,
  gradScale: f32, wd: f32, b1: f32, c1: f32, b2: f32, c2: f32, sqrtBc2: f32, eps: f32, invBc1: f32, negLr: f32,
  out: usize, scratch: usize,
): void {
  const vs = f32x4.splat(gradScale);
  const vwd = f32x4.splat(wd);
  const vb1 = f32x4.splat(b1);
  const vc1 = f32x4.splat(c1);
  const vb2 = f32x4.splat(b2);
  const vc2 = f32x4.splat(c2);
  const vsq = f32x4.splat(sqrtBc2);
  const veps = f32x4.splat(eps);
  const vib = f32x4.splat(invBc1);
  const vlr = f32x4.splat(negLr);
  let tp: f64 = 0;
  let td: f64 = 0;
  let tg: f64 = 0;
  let i = i0;
  let o: usize = <usize>i0 << 2;
  // Measuring, the range goes in blocks of UPDATE_BLOCK elements whose float32 lane sums are
  // added in float64 (as updateSquaresF32); otherwise in one block. Each element is computed the
  // same way either way.
  while (i < i1) {
    const start = i;
    const end = stats ? min(i1, i + UPDATE_BLOCK) : i1;
    let ap = f32x4.splat(0);
    let ag = f32x4.splat(0);
    let ad = f32x4.splat(0);
    for (; i + 4 <= end; i += 4, o += 16) {
      const pv = v128.load(p + o);
      let gv = f32x4.mul(v128.load(g + o), vs);
      if (decay) gv = f32x4.add(gv, f32x4.mul(pv, vwd));
      const mv = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(gv, vc1));
      const sv = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gv, vc2), gv));
      const den = f32x4.add(f32x4.div(f32x4.sqrt(sv), vsq), veps);
      const u = f32x4.mul(f32x4.mul(f32x4.div(mv, den), vib), vlr);
      const pn = f32x4.add(pv, u);
      v128.store(m + o, mv);
      v128.store(v + o, sv);
      v128.store(p + o, pn);
      if (stats) v128.store(scratch + (<usize>(i - start) << 2), pv);
    }
    if (stats) {
      // The block's sums from the first-level cache: the new values in p, the old in scratch.
      for (let k = start, q = <usize>start << 2, w = scratch; k + 4 <= i; k += 4, q += 16, w += 16) {
        const pn = v128.load(p + q);
        const gr = v128.load(g + q);
        const d = f32x4.sub(pn, v128.load(w));
        ap = f32x4.add(ap, f32x4.mul(pn, pn));
        ag = f32x4.add(ag, f32x4.mul(gr, gr));
        ad = f32x4.add(ad, f32x4.mul(d, d));
      }
    }
    let bp: f64 = stats ? lanes(ap) : 0;
    let bg: f64 = stats ? lanes(ag) : 0;
    let bd: f64 = stats ? lanes(ad) : 0;
    for (; i < end; i++, o += 4) {
      const pv = load<f32>(p + o);
      const graw = load<f32>(g + o);
      let gv = graw * gradScale;
      if (decay) gv = gv + pv * wd;
      const mv = load<f32>(m + o) * b1 + gv * c1;
      const sv = load<f32>(v + o) * b2 + (gv * c2) * gv;
      const den = sqrt<f32>(sv) / sqrtBc2 + eps;
      const pn = pv + ((mv / den) * invBc1) * negLr;
      store<f32>(m + o, mv);
      store<f32>(v + o, sv);
      store<f32>(p + o, pn);
      if (stats) {
        store<f32>(scratch + (<usize>(i - start) << 2), pv);
        const d = <f64>(pn - pv);
        bp += <f64>pn * <f64>pn;
        bg += <f64>graw * <f64>graw;
        bd += d * d;
      }
    }
    if (stats) {
      // Float32 lane sums that may have overflowed or underflowed are redone exactly in float64
      // from memory, as in sumSquaresBlocksF32: p holds the new values, `scratch` the old ones.
      if (!(bp >= 1e-30 && bp <= 1e38)) bp = blockSquares64(p, start, end);
      if (!(bg >= 1e-30 && bg <= 1e38)) bg = blockSquares64(g, start, end);
      if (!(bd >= 1e-30 && bd <= 1e38)) {
        bd = 0;
        for (let k = start; k < end; k++) {
          const q = <usize>k << 2;
          const d = <f64>(load<f32>(p + q) - load<f32>(scratch + (<usize>(k - start) << 2)));
          bd += d * d;
        }
      }
      tp += bp;
      td += bd;
      tg += bg;
    }
  }
  if (stats) {
    store<f64>(out, tp);
    store<f64>(out, td, 8);
    store<f64>(out, tg, 16);
  }
}


/**
 * The sums of squares a training monitor takes of one parameter, in one pass over the `n` floats
 * at `p` (the parameter), `s` (its copy from before the update) and `g` (its gradient; 0: none):
 * out[0] = Σ p², out[1] = Σ (p − s)² (each difference rounded to float32, as `sub`), out[2] = Σ g²,
 * as three float64 values at `out`. Per block of UPDATE_BLOCK elements the squares are summed in
 * float32 lanes (at most 128 per lane, as in sumSquaresBlocksF32) and the lanes added in float64;
 * a block where one of the three leaves the safe range of sumSquaresBlocksF32 has that sum taken
 * again exactly in float64.
 */
export function updateSquaresF32(p: usize, s: usize, g: usize, n: i32, out: usize): void {
  let tp: f64 = 0;
  let td: f64 = 0;
  let tg: f64 = 0;
  for (let start = 0; start < n; start += UPDATE_BLOCK) {
    const end = min(n, start + UPDATE_BLOCK);
    const o = <usize>start << 2;
    let sp = f32x4.splat(0);
    let sd = f32x4.splat(0);
    let sg = f32x4.splat(0);
    let sp1 = f32x4.splat(0);
    let sd1 = f32x4.splat(0);
    let sg1 = f32x4.splat(0);
    let i = start;
    let q = o;
    for (; i + 8 <= end; i += 8, q += 32) {
      const p0 = v128.load(p + q);
      const p1 = v128.load(p + q, 16);
      const d0 = f32x4.sub(p0, v128.load(s + q));
      const d1 = f32x4.sub(p1, v128.load(s + q, 16));
      sp = f32x4.add(sp, f32x4.mul(p0, p0));
      sp1 = f32x4.add(sp1, f32x4.mul(p1, p1));
      sd = f32x4.add(sd, f32x4.mul(d0, d0));
      sd1 = f32x4.add(sd1, f32x4.mul(d1, d1));
      if (g != 0) {
        const g0 = v128.load(g + q);
        const g1 = v128.load(g + q, 16);
        sg = f32x4.add(sg, f32x4.mul(g0, g0));
        sg1 = f32x4.add(sg1, f32x4.mul(g1, g1));
      }
    }
    let bp: f64 = lanes(sp) + lanes(sp1);
    let bd: f64 = lanes(sd) + lanes(sd1);
    let bg: f64 = lanes(sg) + lanes(sg1);
    for (; i < end; i++, q += 4) {
      const pv = load<f32>(p + q);
      const dv = <f64>(pv - load<f32>(s + q));
      bp += <f64>pv * <f64>pv;
      bd += dv * dv;
      if (g != 0) {
        const gv = <f64>load<f32>(g + q);
        bg += gv * gv;
      }
    }
    if (!(bp >= 1e-30 && bp <= 1e38)) bp = blockSquares64(p, start, end);
    if (g != 0 && !(bg >= 1e-30 && bg <= 1e38)) bg = blockSquares64(g, start, end);
    if (!(bd >= 1e-30 && bd <= 1e38)) {
      bd = 0;
      for (let k = start, r = o; k < end; k++, r += 4) {
        const dv = <f64>(load<f32>(p + r) - load<f32>(s + r));
        bd += dv * dv;
      }
    }
    tp += bp;
    td += bd;
    tg += bg;
  }
  store<f64>(out, tp);
  store<f64>(out, td, 8);
  store<f64>(out, tg, 16);
}
