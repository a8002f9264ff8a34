// Statistics of a block of float32 values for a training monitor (a layer's output): moments,
// range, histogram and the saturated or dead fractions of an activation, read from the memory in
// place instead of copied out and walked in JavaScript. The reference is src/backend/js/stats.ts;
// the histogram bins are computed in float64 exactly as there, so the counts agree exactly.

/** Activation codes (Backend.valueStats). */
const RELU = 1;
const TANH = 2;
const SIGMOID = 3;

/** Float64 slots of the result at `out` (then `bins` int32 counts at out + 8·SLOTS). */
const SUM = 0;
const SUM_SQ = 1;
const LO = 2;
const HI = 3;
const NONFINITE = 4;
const SATURATED = 5;
const DEAD = 6;
const SLOTS = 8;

/**
 * Over the `n` contiguous floats at `x`: Σx and Σx² (float64, every value included), the smallest
 * and largest finite values, the number of NaN/±Inf, `bins` equal-width counts of the finite
 * values over [lo, hi] (int32s after the SLOTS float64s at `out`), and for `act` TANH the count
 * of |x| > 0.99, SIGMOID the count of x < 0.01 or x > 0.99, RELU the number of the `units`
 * features (layout [batch, units, inner]) that are ≤ 0 (or NaN) for every sample and position.
 */
export function valueStatsF32(x: usize, n: i32, bins: i32, act: i32, batch: i32, units: i32, inner: i32, out: usize): void {
  let s0 = f64x2.splat(0);
  let s1 = f64x2.splat(0);
  let q0 = f64x2.splat(0);
  let q1 = f64x2.splat(0);
  let vlo = f32x4.splat(Infinity);
  let vhi = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const a = f64x2.promote_low_f32x4(v);
    const b = f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 0, 1));
    s0 = f64x2.add(s0, a);
    s1 = f64x2.add(s1, b);
    q0 = f64x2.add(q0, f64x2.mul(a, a));
    q1 = f64x2.add(q1, f64x2.mul(b, b));
    vlo = f32x4.pmin(vlo, v); // pmin(a, b) = b < a ? b : a: a NaN in v keeps the accumulator
    vhi = f32x4.pmax(vhi, v);
  }
  const s = f64x2.add(s0, s1);
  const q = f64x2.add(q0, q1);
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  let sq = f64x2.extract_lane(q, 0) + f64x2.extract_lane(q, 1);
  let lo = <f64>min(min(f32x4.extract_lane(vlo, 0), f32x4.extract_lane(vlo, 1)), min(f32x4.extract_lane(vlo, 2), f32x4.extract_lane(vlo, 3)));
  let hi = <f64>max(max(f32x4.extract_lane(vhi, 0), f32x4.extract_lane(vhi, 1)), max(f32x4.extract_lane(vhi, 2), f32x4.extract_lane(vhi, 3)));
  for (; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    sum += v;
    sq += v * v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  // A finite float64 sum of squares means every value is finite; otherwise count the NaN/±Inf
  // and take the range of the finite values alone (rare: a second pass).
  let nonfinite = 0;
  if (!isFinite(sq)) {
    lo = Infinity;
    hi = -Infinity;
    for (let k = 0; k < n; k++) {
      const v = <f64>load<f32>(x + (<usize>k << 2));
      if (!isFinite(v)) nonfinite++;
      else {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  store<f64>(out + (SUM << 3), sum);
  store<f64>(out + (SUM_SQ << 3), sq);
  store<f64>(out + (LO << 3), lo);
  store<f64>(out + (HI << 3), hi);
  store<f64>(out + (NONFINITE << 3), <f64>nonfinite);
  const counts = out + (SLOTS << 3);
  if (bins > 0 && lo <= hi) histogram(x, n, lo, hi, bins, nonfinite == 0, counts);
  const saturated = act == TANH ? countSaturated(x, n, true) : act == SIGMOID ? countSaturated(x, n, false) : 0;
  store<f64>(out + (SATURATED << 3), <f64>saturated);
  store<f64>(out + (DEAD << 3), act == RELU ? <f64>deadUnits(x, batch, units, inner) : 0);
}

/**
 * Counts in `bins` equal bins over [lo, hi] at `counts` (int32s): bin ⌊(x − lo)·bins/(hi − lo)⌋ in
 * float64, the top value in the last bin. With `finite` false, values outside [lo, hi] (NaN/±Inf)
 * are skipped. `counts` has room for 4·bins int32s: four tallies, one per lane of four consecutive
 * values, added at the end, so that runs of values in one bin (a ReLU's zeros) do not wait on the
 * previous increment of that bin.
 */
function histogram(x: usize, n: i32, lo: f64, hi: f64, bins: i32, finite: bool, counts: usize): void {
  memory.fill(counts, 0, <usize>bins << 4);
  const scale = hi > lo ? <f64>bins / (hi - lo) : 0;
  const last = bins - 1;
  const t1 = counts + (<usize>bins << 2);
  const t2 = t1 + (<usize>bins << 2);
  const t3 = t2 + (<usize>bins << 2);
  let i = 0;
  if (finite) {
    // Bins of four values at once, in float64 lanes as the scalar loop computes them; the
    // saturating conversion truncates, which is the floor here: the argument is in [0, bins].
    const vlo = f64x2.splat(lo);
    const vscale = f64x2.splat(scale);
    const vlast = i32x4.splat(last);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      const a = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v), vlo), vscale);
      const b = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 0, 1)), vlo), vscale);
      const ia = i32x4.trunc_sat_f64x2_s_zero(a);
      const ib = i32x4.trunc_sat_f64x2_s_zero(b);
      const bin = i32x4.min_s(v128.shuffle<i32>(ia, ib, 0, 1, 4, 5), vlast);
      bump(counts, i32x4.extract_lane(bin, 0));
      bump(t1, i32x4.extract_lane(bin, 1));
      bump(t2, i32x4.extract_lane(bin, 2));
      bump(t3, i32x4.extract_lane(bin, 3));
    }
  }
  for (; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    if (!finite && !(v >= lo && v <= hi)) continue;
    bump(counts, min(<i32>((v - lo) * scale), last));
  }
  for (let b = 0; b < bins; b++) {
    const o = <usize>b << 2;
    store<i32>(counts + o, load<i32>(counts + o) + load<i32>(t1 + o) + load<i32>(t2 + o) + load<i32>(t3 + o));
  }
}

// @ts-ignore: decorator
@inline function bump(tally: usize, bin: i32): void {
  const at = tally + (<usize>bin << 2);
  store<i32>(at, load<i32>(at) + 1);
}

// float32 thresholds equivalent to the reference's float64 comparisons of float32 values:
// x > 0.99 exactly when x ≥ f32(0.99) (which is above 0.99), x < 0.01 exactly when x ≤ f32(0.01).
const HIGH: f32 = 0.99;
const LOW: f32 = 0.01;

/** Values with |x| > 0.99 (`tanh`), or with x < 0.01 or x > 0.99 (sigmoid); NaN counts as neither. */
function countSaturated(x: usize, n: i32, tanh: bool): i32 {
  const hi = f32x4.splat(HIGH);
  const lo = f32x4.splat(LOW);
  let acc = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const hit = tanh ? f32x4.ge(f32x4.abs(v), hi) : v128.or(f32x4.le(v, lo), f32x4.ge(v, hi));
    acc = i32x4.sub(acc, hit); // a true lane is −1
  }
  let c = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (tanh ? abs<f32>(v) >= HIGH : v <= LOW || v >= HIGH) c++;
  }
  return c;
}

/** Features of [batch, units, inner] with no value > 0; each stops at its first positive value. */
function deadUnits(x: usize, batch: i32, units: i32, inner: i32): i32 {
  let dead = 0;
  for (let u = 0; u < units; u++) {
    let on = false;
    for (let b = 0; b < batch && !on; b++) {
      let p = x + (<usize>((b * units + u) * inner) << 2);
      for (let k = 0; k < inner; k++, p += 4)
        if (load<f32>(p) > 0) {
          on = true;
          break;
        }
    }
    if (!on) dead++;
  }
  return dead;
}

/** Bytes of the result of valueStatsF32 for `bins` bins (the histogram's four tallies included). */
export function valueStatsBytes(bins: i32): i32 {
  return (SLOTS << 3) + (bins << 4);
}
