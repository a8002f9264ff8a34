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
@inline function lanes(v: v128): f64 {
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
 * One PyTorch Adam step (no AMSGrad) for elements [i0, i1), every operation rounded to float32 in
 * the order of the composition it replaces (src/optim/adaptive.ts scaleByAdam, then the learning
 * rate and `p ← p + u`):
 *   g ← g·gradScale; g ← g + wd·p (when decay is on); m ← m·β1 + g·(1 − β1);
 *   v ← v·β2 + (g·(1 − β2))·g; u ← (m / (√v / √bc2 + ε))·(1/bc1); p ← p + u·(−lr).
 * The gradient is read only; p, m and v are updated in place.
 */
export function adamF32(
  p: usize, g: usize, m: usize, v: usize, i0: i32, i1: i32,
  gradScale: f32, wd: f32, decay: i32, b1: f32, c1: f32, b2: f32, c2: f32, sqrtBc2: f32, eps: f32, invBc1: f32, negLr: f32,
): void {
  if (decay != 0) adamRange(true, p, g, m, v, i0, i1, gradScale, wd, b1, c1, b2, c2, sqrtBc2, eps, invBc1, negLr);
  else adamRange(false, p, g, m, v, i0, i1, gradScale, wd, b1, c1, b2, c2, sqrtBc2, eps, invBc1, negLr);
}

// @ts-ignore: decorator
@inline function adamRange(
  decay: bool, p: usize, g: usize, m: usize, v: usize, i0: i32, i1: i32,
  gradScale: f32, wd: f32, b1: f32, c1: f32, b2: f32, c2: f32, sqrtBc2: f32, eps: f32, invBc1: f32, negLr: f32,
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
  let i = i0;
  let o: usize = <usize>i0 << 2;
  for (; i + 4 <= i1; i += 4, o += 16) {
    const pv = v128.load(p + o);
    let gv = f32x4.mul(v128.load(g + o), vs);
    if (decay) gv = f32x4.add(gv, f32x4.mul(pv, vwd));
    const mv = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(gv, vc1));
    const sv = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gv, vc2), gv));
    const den = f32x4.add(f32x4.div(f32x4.sqrt(sv), vsq), veps);
    const u = f32x4.mul(f32x4.mul(f32x4.div(mv, den), vib), vlr);
    v128.store(m + o, mv);
    v128.store(v + o, sv);
    v128.store(p + o, f32x4.add(pv, u));
  }
  for (; i < i1; i++, o += 4) {
    const pv = load<f32>(p + o);
    let gv = load<f32>(g + o) * gradScale;
    if (decay) gv = gv + pv * wd;
    const mv = load<f32>(m + o) * b1 + gv * c1;
    const sv = load<f32>(v + o) * b2 + (gv * c2) * gv;
    const den = sqrt<f32>(sv) / sqrtBc2 + eps;
    store<f32>(m + o, mv);
    store<f32>(v + o, sv);
    store<f32>(p + o, pv + ((mv / den) * invBc1) * negLr);
  }
}
