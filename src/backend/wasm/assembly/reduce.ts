// Reductions over float32, as src/backend/js/reduce.ts does them: one pass over x into an
// accumulator that is broadcast (byte step 0) along the reduced axes, so one loop serves every
// axis subset. Along a row the accumulator either stays put (the row runs along a reduced axis:
// fold the row into a register first) or advances with x (a kept axis: update a vector of
// accumulators). Sums accumulate in float64; max and min in the float32 output itself.

import { beginRows, nextRow, rowLength, rowPtr, rowStep } from './strided';

export const SUM = 0;
export const MAX = 1;
export const MIN = 2;
export const ARGMAX = 0;
export const ARGMIN = 1;

/** Σ of a float32 row in float64: four f64x2 partial sums over contiguous rows. */
function rowSum(p: usize, s: i32, n: i32): f64 {
  let i = 0;
  let acc: f64 = 0;
  if (s == 4) {
    let s0 = f64x2.splat(0);
    let s1 = f64x2.splat(0);
    let s2 = f64x2.splat(0);
    let s3 = f64x2.splat(0);
    for (; i + 8 <= n; i += 8, p += 32) {
      const u = v128.load(p);
      const v = v128.load(p, 16);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(u));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(f32x4.shuffle(u, u, 2, 3, 2, 3)));
      s2 = f64x2.add(s2, f64x2.promote_low_f32x4(v));
      s3 = f64x2.add(s3, f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 2, 3)));
    }
    const t = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
    acc = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
  }
  for (; i < n; i++, p += <usize>s) acc += <f64>load<f32>(p);
  return acc;
}

/** Whether `v` replaces the running max (min): greater (less), or NaN, which then stays. */
// @ts-ignore: decorator
@inline function takes(op: i32, v: f32, m: f32): bool {
  return (op == MAX ? v > m : v < m) || v != v;
}

// @ts-ignore: decorator
@inline function takesVec(op: i32, v: v128, m: v128): v128 {
  return v128.or(op == MAX ? f32x4.gt(v, m) : f32x4.lt(v, m), f32x4.ne(v, v));
}

/**
 * max (min) of a float32 row: four lanes, then the tail, with the reference's rule. The sequential
 * rule returns the first element equal to the extremum, and lanes reorder elements, which is
 * visible only for a zero extremum (−0 or +0 first): then the row is scanned for its first zero.
 */
// @ts-ignore: decorator
@inline function rowExtremum(op: i32, p: usize, s: i32, n: i32): f32 {
  let m: f32 = op == MAX ? -Infinity : Infinity;
  let i = 0;
  if (s == 4 && n >= 8) {
    const start = p;
    let mv = v128.load(p);
    i = 4;
    p += 16;
    for (; i + 4 <= n; i += 4, p += 16) {
      const v = v128.load(p);
      mv = v128.bitselect(v, mv, takesVec(op, v, mv));
    }
    for (let k = 0; k < 4; k++) {
      const v = f32x4.extract_lane(mv, 0);
      if (takes(op, v, m)) m = v;
      mv = f32x4.shuffle(mv, mv, 1, 2, 3, 0);
    }
    for (; i < n; i++, p += 4) {
      const v = load<f32>(p);
      if (takes(op, v, m)) m = v;
    }
    if (m == 0) {
      for (p = start; load<f32>(p) != 0; p += 4);
      m = load<f32>(p);
    }
    return m;
  }
  for (; i < n; i++, p += <usize>s) {
    const v = load<f32>(p);
    if (takes(op, v, m)) m = v;
  }
  return m;
}

/**
 * Reduces x (operand 0 of `desc`) into the accumulator (operand 1): for sum a float64 scratch of
 * `count` elements, converted into the float32 `out` at the end; for max/min `out` itself.
 */
export function reduceF32(op: i32, desc: usize, x: usize, acc: usize, out: usize, count: i32): void {
  if (op == SUM) reduceSum(desc, x, acc, out, count);
  else if (op == MAX) reduceExtremum(MAX, desc, x, out, count);
  else reduceExtremum(MIN, desc, x, out, count);
}

function reduceSum(desc: usize, x: usize, acc: usize, out: usize, count: i32): void {
  memory.fill(acc, 0, <usize>count << 3);
  const rows = beginRows(desc, x, acc, 0, 0);
  const n = rowLength(desc);
  const xs = rowStep(desc, 0);
  const as = rowStep(desc, 1);
  for (let row = 0; row < rows; row++) {
    let xp = rowPtr(desc, 0);
    let ap = rowPtr(desc, 1);
    if (as == 0) {
      store<f64>(ap, load<f64>(ap) + rowSum(xp, xs, n));
    } else {
      let i = 0;
      if (xs == 4 && as == 8) {
        for (; i + 4 <= n; i += 4, xp += 16, ap += 32) {
          const v = v128.load(xp);
          v128.store(ap, f64x2.add(v128.load(ap), f64x2.promote_low_f32x4(v)));
          v128.store(ap, f64x2.add(v128.load(ap, 16), f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 2, 3))), 16);
        }
      }
      for (; i < n; i++, xp += <usize>xs, ap += <usize>as) store<f64>(ap, load<f64>(ap) + <f64>load<f32>(xp));
    }
    nextRow(desc, 2);
  }
  for (let i = 0; i < count; i++) store<f32>(out + (<usize>i << 2), <f32>load<f64>(acc + (<usize>i << 3)));
}

// @ts-ignore: decorator
@inline function reduceExtremum(op: i32, desc: usize, x: usize, out: usize, count: i32): void {
  const init: f32 = op == MAX ? -Infinity : Infinity;
  for (let i = 0; i < count; i++) store<f32>(out + (<usize>i << 2), init);
  const rows = beginRows(desc, x, out, 0, 0);
  const n = rowLength(desc);
  const xs = rowStep(desc, 0);
  const as = rowStep(desc, 1);
  for (let row = 0; row < rows; row++) {
    let xp = rowPtr(desc, 0);
    let ap = rowPtr(desc, 1);
    if (as == 0) {
      const v = rowExtremum(op, xp, xs, n);
      if (takes(op, v, load<f32>(ap))) store<f32>(ap, v);
    } else {
      let i = 0;
      if (xs == 4 && as == 4) {
        for (; i + 4 <= n; i += 4, xp += 16, ap += 16) {
          const v = v128.load(xp);
          const m = v128.load(ap);
          v128.store(ap, v128.bitselect(v, m, takesVec(op, v, m)));
        }
      }
      for (; i < n; i++, xp += <usize>xs, ap += <usize>as) {
        const v = load<f32>(xp);
        if (takes(op, v, load<f32>(ap))) store<f32>(ap, v);
      }
    }
    nextRow(desc, 2);
  }
}

// ---------------------------------------------------------------------------------------------
// argmax / argmin

/**
 * Index of the first max (argmax) or min (argmin) along an axis of `len` elements, `along` bytes
 * apart, into the int32 `out`. `desc` walks the lanes (x with the axis collapsed, operand 0, and
 * the contiguous out, operand 1). A NaN wins over every number and the first NaN is kept, as in
 * the reference; equal values keep the first index (so −0 and +0 tie).
 */
export function argReduceF32(op: i32, desc: usize, x: usize, out: usize, len: i32, along: i32): void {
  if (op == ARGMAX) argRows(ARGMAX, desc, x, out, len, along);
  else argRows(ARGMIN, desc, x, out, len, along);
}

// @ts-ignore: decorator
@inline function better(op: i32, v: f32, best: f32): bool {
  return op == ARGMAX ? v > best || v != v : v < best || v != v;
}

/** Lanes where `v` replaces `best`: strictly better, or the first NaN (a NaN best stays). */
// @ts-ignore: decorator
@inline function betterVec(op: i32, v: v128, best: v128): v128 {
  const cmp = op == ARGMAX ? f32x4.gt(v, best) : f32x4.lt(v, best);
  return v128.and(v128.or(cmp, f32x4.ne(v, v)), f32x4.eq(best, best));
}

// @ts-ignore: decorator
@inline function argRows(op: i32, desc: usize, x: usize, out: usize, len: i32, along: i32): void {
  const rows = beginRows(desc, x, out, 0, 0);
  const n = rowLength(desc);
  const xs = rowStep(desc, 0);
  const os = rowStep(desc, 1);
  for (let row = 0; row < rows; row++) {
    let xp = rowPtr(desc, 0);
    let o = rowPtr(desc, 1);
    let j = 0;
    if (xs == 4 && os == 4) {
      // Four adjacent lanes at once, walking the axis together.
      for (; j + 4 <= n; j += 4, xp += 16, o += 16) {
        let best = v128.load(xp);
        let arg = i32x4.splat(0);
        let p = xp + <usize>along;
        for (let i = 1; i < len; i++, p += <usize>along) {
          const v = v128.load(p);
          const take = betterVec(op, v, best);
          best = v128.bitselect(v, best, take);
          arg = v128.bitselect(i32x4.splat(i), arg, take);
        }
        v128.store(o, arg);
      }
    }
    for (; j < n; j++, xp += <usize>xs, o += <usize>os) {
      store<i32>(o, along == 4 && len >= 8 ? argContiguous(op, xp, len) : argStrided(op, xp, len, along));
    }
    nextRow(desc, 2);
  }
}

// @ts-ignore: decorator
@inline function argStrided(op: i32, p: usize, len: i32, along: i32): i32 {
  let best = load<f32>(p);
  let arg = 0;
  p += <usize>along;
  for (let i = 1; i < len && best == best; i++, p += <usize>along) {
    const v = load<f32>(p);
    if (better(op, v, best)) {
      best = v;
      arg = i;
    }
  }
  return arg;
}

/**
 * One lane along a contiguous axis: four interleaved lanes (lane k sees indices ≡ k mod 4), then
 * the lanes merged (the earliest NaN, else the largest value and on a tie the smaller index),
 * then the tail. Equal to the sequential scan, which returns the first NaN or else the first
 * index holding the maximum.
 */
// @ts-ignore: decorator
@inline function argContiguous(op: i32, p: usize, len: i32): i32 {
  let best = v128.load(p);
  let arg = i32x4(0, 1, 2, 3);
  let i = 4;
  for (; i + 4 <= len; i += 4) {
    const v = v128.load(p + (<usize>i << 2));
    const take = betterVec(op, v, best);
    best = v128.bitselect(v, best, take);
    arg = v128.bitselect(i32x4.add(i32x4.splat(i), i32x4(0, 1, 2, 3)), arg, take);
  }
  let b = f32x4.extract_lane(best, 0);
  let a = i32x4.extract_lane(arg, 0);
  for (let k = 1; k < 4; k++) {
    best = f32x4.shuffle(best, best, 1, 2, 3, 0);
    arg = i32x4.shuffle(arg, arg, 1, 2, 3, 0);
    const v = f32x4.extract_lane(best, 0);
    const at = i32x4.extract_lane(arg, 0);
    let take: bool;
    if (b != b) take = v != v && at < a;
    else if (v != v) take = true;
    else take = (op == ARGMAX ? v > b : v < b) || (v == b && at < a);
    if (take) {
      b = v;
      a = at;
    }
  }
  for (; i < len && b == b; i++) {
    const v = load<f32>(p + (<usize>i << 2));
    if (better(op, v, b)) {
      b = v;
      a = i;
    }
  }
  return a;
}
