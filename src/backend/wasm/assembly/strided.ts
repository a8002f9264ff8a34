// Strided iteration for the elementwise, reduction and indexing kernels, the WebAssembly side of
// src/backend/js/strided.ts. JavaScript coalesces the operands' dimensions (so the common cases
// become one contiguous or broadcast row) and writes the result into a descriptor; a kernel then
// walks the rows here with an odometer and runs its own tight loop along each row.
//
// The descriptor is a block of i32 words in memory (descBytes() long, allocated once by the
// backend): the rank (at least 1), the shape, and one stride list per operand in BYTES, so the
// odometer never needs to know an operand's dtype. The counters and the current row pointers are
// kept in the same block while a kernel runs. One backend drives one descriptor from one thread.

export const MAX_RANK = 32;
export const MAX_OPERANDS = 4;

// Word offsets of the descriptor's fields.
const RANK = 0;
const SHAPE = 4;
const STRIDES = SHAPE + MAX_RANK; // operand j, dimension d: STRIDES + j·MAX_RANK + d
const COUNTERS = STRIDES + MAX_OPERANDS * MAX_RANK;
const POINTERS = COUNTERS + MAX_RANK;
const WORDS = POINTERS + MAX_OPERANDS;

/** Bytes of one descriptor. */
export function descBytes(): i32 {
  return WORDS << 2;
}

/** Largest rank a descriptor holds (after coalescing); JavaScript checks it before writing one. */
export function descMaxRank(): i32 {
  return MAX_RANK;
}

// @ts-ignore: decorator
@inline export function rankOf(desc: usize): i32 {
  return load<i32>(desc + (RANK << 2));
}

// @ts-ignore: decorator
@inline export function dimOf(desc: usize, d: i32): i32 {
  return load<i32>(desc + (<usize>(SHAPE + d) << 2));
}

/** Byte stride of operand `j` along dimension `d`. */
// @ts-ignore: decorator
@inline export function strideOf(desc: usize, j: i32, d: i32): i32 {
  return load<i32>(desc + (<usize>(STRIDES + j * MAX_RANK + d) << 2));
}

/** Length of the innermost row. */
// @ts-ignore: decorator
@inline export function rowLength(desc: usize): i32 {
  return dimOf(desc, rankOf(desc) - 1);
}

/** Byte step of operand `j` along the innermost row. */
// @ts-ignore: decorator
@inline export function rowStep(desc: usize, j: i32): i32 {
  return strideOf(desc, j, rankOf(desc) - 1);
}

/** Start of the current row of operand `j`. */
// @ts-ignore: decorator
@inline export function rowPtr(desc: usize, j: i32): usize {
  return load<u32>(desc + (<usize>(POINTERS + j) << 2));
}

/**
 * Starts a walk: stores the operands' base pointers, zeroes the counters and returns the number of
 * rows (the product of every dimension but the last). Unused pointers may be 0.
 */
export function beginRows(desc: usize, p0: usize, p1: usize, p2: usize, p3: usize): i32 {
  const r = rankOf(desc);
  let rows = 1;
  for (let d = 0; d < r - 1; d++) {
    rows *= dimOf(desc, d);
    store<i32>(desc + (<usize>(COUNTERS + d) << 2), 0);
  }
  store<u32>(desc + (POINTERS << 2), p0);
  store<u32>(desc + ((POINTERS + 1) << 2), p1);
  store<u32>(desc + ((POINTERS + 2) << 2), p2);
  store<u32>(desc + ((POINTERS + 3) << 2), p3);
  return rows;
}

/**
 * Advances the row pointers of the first `k` operands to the next row: add a dimension's stride,
 * and on carry subtract the whole dimension and move to the next outer one (as forEachRow does).
 * Inlined into each kernel's row loop with `k` a constant, so short rows stay cheap.
 */
// @ts-ignore: decorator
@inline export function nextRow(desc: usize, k: i32): void {
  for (let d = rankOf(desc) - 2; d >= 0; d--) {
    const at = desc + (<usize>(COUNTERS + d) << 2);
    const count = load<i32>(at) + 1;
    const n = dimOf(desc, d);
    const carry = count == n;
    store<i32>(at, carry ? 0 : count);
    const times = carry ? 1 - n : 1;
    advance(desc, 0, d, times);
    if (k > 1) advance(desc, 1, d, times);
    if (k > 2) advance(desc, 2, d, times);
    if (k > 3) advance(desc, 3, d, times);
    if (!carry) return;
  }
}

/** Moves operand `j`'s row pointer by `times` strides of dimension `d`. */
// @ts-ignore: decorator
@inline function advance(desc: usize, j: i32, d: i32, times: i32): void {
  const p = desc + (<usize>(POINTERS + j) << 2);
  store<u32>(p, load<u32>(p) + <u32>(strideOf(desc, j, d) * times));
}

// Dtype codes shared with wasm-backend.ts.
export const F32: i32 = 0;
export const F64: i32 = 1;
export const I32: i32 = 2;

/** Bytes per element of a dtype code. */
// @ts-ignore: decorator
@inline export function sizeOf(dt: i32): i32 {
  return dt == F64 ? 8 : 4;
}

/** An element of any dtype as float64 (exact for all three), as JavaScript reads typed arrays. */
// @ts-ignore: decorator
@inline export function loadAs(p: usize, dt: i32): f64 {
  if (dt == F32) return <f64>load<f32>(p);
  if (dt == F64) return load<f64>(p);
  return <f64>load<i32>(p);
}

/**
 * Stores a float64 the way a typed-array store converts it: float32 rounds to nearest, int32 is
 * ECMAScript ToInt32 (truncate toward zero, wrap modulo 2³², NaN and ±Infinity become 0).
 */
// @ts-ignore: decorator
@inline export function storeAs(p: usize, dt: i32, v: f64): void {
  if (dt == F32) store<f32>(p, <f32>v);
  else if (dt == F64) store<f64>(p, v);
  else store<i32>(p, toInt32(v));
}

export function toInt32(v: f64): i32 {
  if (abs(v) < 2147483648.0) return <i32>v; // truncates toward zero; also maps -0 to 0
  if (!isFinite(v)) return 0;
  // Large values: truncate, then reduce modulo 2³² (fmod is exact), then wrap into the i32 range.
  return <i32><i64>(trunc(v) % 4294967296.0);
}
