// The fused LSTM cell: all four gates of one time step in one pass, forward and backward.
// Rows are `n` samples; each operand is a row-major [n, width] matrix with its own row stride (in
// elements), so the state halves of the previous step's output can be read in place. The gate
// functions are the unary kernels' own (vmath.ts), so the forward equals the composition of
// sigmoid, tanh, mul and add bit for bit.

import { vsigmoid, vtanh } from './vmath';

// @ts-ignore: decorator
@inline function at(base: usize, row: i32, stride: i32, col: i32): usize {
  return base + ((<usize>row * <usize>stride + <usize>col) << 2);
}

/** Four lanes from `p`, or lane 0 only (the others zero) for a row's tail. */
// @ts-ignore: decorator
@inline function ld(p: usize, full: bool): v128 {
  return full ? v128.load(p) : v128.load32_zero(p);
}

// @ts-ignore: decorator
@inline function st(p: usize, v: v128, full: bool): void {
  if (full) v128.store(p, v);
  else store<f32>(p, f32x4.extract_lane(v, 0));
}

/**
 * `out[r] = [h' | c']` from the pre-activation `gates[r] = [a_i | a_f | a_g | a_o]` (each of
 * width h) and the previous cell state `c[r]`: i, f, o = σ(a), g = tanh(a_g), c' = f·c + i·g,
 * h' = o·tanh(c').
 */
export function lstmCellF32(gates: usize, gs: i32, c: usize, cs: i32, out: usize, os: i32, n: i32, h: i32): void {
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < h; j += 4) {
      const full = j + 4 <= h;
      if (!full) {
        for (let k = j; k < h; k++) lstmCellLanes(gates, gs, c, cs, out, os, r, k, h, false);
        break;
      }
      lstmCellLanes(gates, gs, c, cs, out, os, r, j, h, true);
    }
  }
}

// @ts-ignore: decorator
@inline function lstmCellLanes(gates: usize, gs: i32, c: usize, cs: i32, out: usize, os: i32, r: i32, j: i32, h: i32, full: bool): void {
  const i = vsigmoid(ld(at(gates, r, gs, j), full));
  const f = vsigmoid(ld(at(gates, r, gs, j + h), full));
  const g = vtanh(ld(at(gates, r, gs, j + 2 * h), full));
  const o = vsigmoid(ld(at(gates, r, gs, j + 3 * h), full));
  const c2 = f32x4.add(f32x4.mul(f, ld(at(c, r, cs, j), full)), f32x4.mul(i, g));
  st(at(out, r, os, j), f32x4.mul(o, vtanh(c2)), full);
  st(at(out, r, os, j + h), c2, full);
}

/**
 * The cell's backward: from the forward's `gates`, `c` and `out`, and the gradient `dout[r] =
 * [dh' | dc']`, writes `dgates` (contiguous [n, 4h]) and `dc` (contiguous [n, h]):
 *   dc_t = dc' + dh'·o·(1 − tanh(c')²); da_o = dh'·tanh(c')·o(1 − o); da_i = dc_t·g·i(1 − i);
 *   da_f = dc_t·c·f(1 − f); da_g = dc_t·i·(1 − g²); dc = dc_t·f.
 */
export function lstmCellBackwardF32(
  gates: usize, gs: i32, c: usize, cs: i32, out: usize, os: i32, dout: usize, ds: i32,
  dgates: usize, dc: usize, n: i32, h: i32,
): void {
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < h; j += 4) {
      const full = j + 4 <= h;
      if (!full) {
        for (let k = j; k < h; k++) lstmBackLanes(gates, gs, c, cs, out, os, dout, ds, dgates, dc, r, k, h, false);
        break;
      }
      lstmBackLanes(gates, gs, c, cs, out, os, dout, ds, dgates, dc, r, j, h, true);
    }
  }
}

// @ts-ignore: decorator
@inline function lstmBackLanes(
  gates: usize, gs: i32, c: usize, cs: i32, out: usize, os: i32, dout: usize, ds: i32,
  dgates: usize, dc: usize, r: i32, j: i32, h: i32, full: bool,
): void {
  const one = f32x4.splat(1);
  const i = vsigmoid(ld(at(gates, r, gs, j), full));
  const f = vsigmoid(ld(at(gates, r, gs, j + h), full));
  const g = vtanh(ld(at(gates, r, gs, j + 2 * h), full));
  const o = vsigmoid(ld(at(gates, r, gs, j + 3 * h), full));
  const tc = vtanh(ld(at(out, r, os, j + h), full));
  const dh = ld(at(dout, r, ds, j), full);
  const dct = f32x4.add(ld(at(dout, r, ds, j + h), full), f32x4.mul(f32x4.mul(dh, o), f32x4.sub(one, f32x4.mul(tc, tc))));
  const g4 = 4 * h;
  st(at(dgates, r, g4, j), f32x4.mul(f32x4.mul(dct, g), f32x4.mul(i, f32x4.sub(one, i))), full);
  st(at(dgates, r, g4, j + h), f32x4.mul(f32x4.mul(dct, ld(at(c, r, cs, j), full)), f32x4.mul(f, f32x4.sub(one, f))), full);
  st(at(dgates, r, g4, j + 2 * h), f32x4.mul(f32x4.mul(dct, i), f32x4.sub(one, f32x4.mul(g, g))), full);
  st(at(dgates, r, g4, j + 3 * h), f32x4.mul(f32x4.mul(dh, tc), f32x4.mul(o, f32x4.sub(one, o))), full);
  st(at(dc, r, h, j), f32x4.mul(dct, f), full);
}
