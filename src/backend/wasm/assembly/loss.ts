// Softmax cross-entropy over rows of logits with int32 class targets, forward and backward, one
// pass per row: the loss needs the row's maximum, Σ exp(x − max) and the target's logit, which
// the composition (max, sub, exp, sum, log, sub, gather, neg) spreads over eight kernels.

import { vexp, vlog } from './vmath';

// @ts-ignore: decorator
@inline function expOf(x: f32): f32 {
  return f32x4.extract_lane(vexp(f32x4.splat(x)), 0);
}

/** The largest of the `c` floats at `p` (elements `step` bytes apart); NaN if one is NaN. */
// @ts-ignore: decorator
@inline function rowMax(p: usize, step: i32, c: i32): f32 {
  let m: f32 = -Infinity;
  for (let j = 0; j < c; j++) {
    const v = load<f32>(p + <usize>(j * step));
    m = v > m || v != v ? v : m;
  }
  return m;
}

/**
 * `loss[r] = log Σ_j exp(x[r, j] − m_r) − (x[r, t_r] − m_r)` for the n rows of `c` logits at
 * `x` (row stride `rs`, element stride `cs`, in bytes) and int32 targets at `t` (stride `ts`
 * bytes). Returns −1, or the first row whose target is outside [0, c) (nothing written past it).
 */
export function crossEntropyRowsF32(x: usize, rs: i32, cs: i32, t: usize, ts: i32, n: i32, c: i32, loss: usize): i32 {
  for (let r = 0; r < n; r++) {
    const p = x + <usize>(r * rs);
    const target = load<i32>(t + <usize>(r * ts));
    if (target < 0 || target >= c) return r;
    const m = rowMax(p, cs, c);
    let s: f32 = 0;
    let j = 0;
    if (cs == 4) {
      const vm = f32x4.splat(m);
      let acc = f32x4.splat(0);
      for (; j + 4 <= c; j += 4) acc = f32x4.add(acc, vexp(f32x4.sub(v128.load(p + (<usize>j << 2)), vm)));
      s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
    }
    for (; j < c; j++) s += expOf(load<f32>(p + <usize>(j * cs)) - m);
    const logS = f32x4.extract_lane(vlog(f32x4.splat(s)), 0);
    store<f32>(loss + (<usize>r << 2), logS - (load<f32>(p + <usize>(target * cs)) - m));
  }
  return -1;
}

/**
 * The backward: `dx[r, j] = (softmax(x[r])_j − [j = t_r])·g[r]` into the contiguous `dx` [n, c],
 * with `g` the gradient of each row's loss (stride `gs` bytes; 0 broadcasts one value).
 */
export function crossEntropyRowsBackwardF32(
  x: usize, rs: i32, cs: i32, t: usize, ts: i32, g: usize, gs: i32, n: i32, c: i32, dx: usize,
): i32 {
  for (let r = 0; r < n; r++) {
    const p = x + <usize>(r * rs);
    const target = load<i32>(t + <usize>(r * ts));
    if (target < 0 || target >= c) return r;
    const m = rowMax(p, cs, c);
    const o = dx + (<usize>(r * c) << 2);
    let s: f32 = 0;
    for (let j = 0; j < c; j++) {
      const e = expOf(load<f32>(p + <usize>(j * cs)) - m);
      store<f32>(o + (<usize>j << 2), e);
      s += e;
    }
    const scale = load<f32>(g + <usize>(r * gs)) / s;
    const gr = load<f32>(g + <usize>(r * gs));
    for (let j = 0; j < c; j++) store<f32>(o + (<usize>j << 2), load<f32>(o + (<usize>j << 2)) * scale);
    store<f32>(o + (<usize>target << 2), load<f32>(o + (<usize>target << 2)) - gr);
  }
  return -1;
}
