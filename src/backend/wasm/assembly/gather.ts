// gather and its adjoint scatterAdd along one axis, as src/backend/js/gather.ts: both walk the
// index's shape; the indexed operand is walked with its axis stride zeroed, so each row pointer is
// the start of a lane and the index value adds index·(axis stride). Every index is checked in a
// pass of its own before anything is written, and the first bad one is reported to JavaScript
// (which raises the same error as the reference), so a bad index leaves `out` untouched.

import { beginRows, nextRow, rowLength, rowPtr, rowStep } from './strided';

/** Row-major position (in the index's shape) of the first index outside [0, len), or −1. */
function firstBadIndex(desc: usize, index: usize, len: i32): i32 {
  const rows = beginRows(desc, index, 0, 0, 0);
  const n = rowLength(desc);
  const is = rowStep(desc, 0);
  for (let row = 0; row < rows; row++) {
    let ip = rowPtr(desc, 0);
    for (let j = 0; j < n; j++, ip += <usize>is) {
      if (<u32>load<i32>(ip) >= <u32>len) return row * n + j;
    }
    nextRow(desc, 1);
  }
  return -1;
}

/**
 * `out[pos] = x[pos with pos[axis] = index[pos]]` for float32 x: operands 0, 1, 2 of `desc` are
 * the int32 index, x (axis stride zeroed) and the contiguous out. Returns −1, or the position of
 * the first out-of-range index (and then writes nothing).
 */
export function gatherF32(desc: usize, index: usize, x: usize, out: usize, len: i32, along: i32): i32 {
  const bad = firstBadIndex(desc, index, len);
  if (bad >= 0) return bad;
  const rows = beginRows(desc, index, x, out, 0);
  const n = rowLength(desc);
  const is = rowStep(desc, 0);
  const xs = rowStep(desc, 1);
  for (let row = 0; row < rows; row++) {
    let ip = rowPtr(desc, 0);
    let xp = rowPtr(desc, 1);
    let o = rowPtr(desc, 2);
    for (let j = 0; j < n; j++, ip += <usize>is, xp += <usize>xs, o += 4) {
      store<f32>(o, load<f32>(xp + <usize>(load<i32>(ip) * along)));
    }
    nextRow(desc, 3);
  }
  return -1;
}

/**
 * `out[pos with pos[axis] = index[pos]] += src[pos]` for float32 src and out: operands 0, 1, 2 of
 * `desc` are the int32 index, src, and out (contiguous, axis stride zeroed). Repeated indices
 * accumulate in the reference's order. Returns −1 or the position of the first bad index.
 */
export function scatterAddF32(desc: usize, index: usize, src: usize, out: usize, len: i32, along: i32): i32 {
  const bad = firstBadIndex(desc, index, len);
  if (bad >= 0) return bad;
  const rows = beginRows(desc, index, src, out, 0);
  const n = rowLength(desc);
  const is = rowStep(desc, 0);
  const ss = rowStep(desc, 1);
  const os = rowStep(desc, 2);
  for (let row = 0; row < rows; row++) {
    let ip = rowPtr(desc, 0);
    let sp = rowPtr(desc, 1);
    let o = rowPtr(desc, 2);
    for (let j = 0; j < n; j++, ip += <usize>is, sp += <usize>ss, o += <usize>os) {
      const at = o + <usize>(load<i32>(ip) * along);
      store<f32>(at, load<f32>(at) + load<f32>(sp));
    }
    nextRow(desc, 3);
  }
  return -1;
}
