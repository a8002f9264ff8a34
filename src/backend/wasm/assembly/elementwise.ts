// Elementwise kernels with a float32 output: copy (any dtypes), unary, binary, where, and the
// optimizer kernels axpby and sumSquares. Each walks the rows of a descriptor (strided.ts); along a
// row it takes f32x4 loads when the operand is contiguous (byte step 4), splats when it is
// broadcast (step 0), and gathers lanes otherwise, so every layout runs the same vector math and
// gives the same bits. Outputs are contiguous, written in the order the inputs are read (element i
// read before it is written), which keeps writing into a contiguous, offset-0 input safe.

import {
  F32, F64, beginRows, loadAs, nextRow, rowLength, rowPtr, rowStep, sizeOf, storeAs,
} from './strided';
import {
  ABS, ADD, DIV, ELU, EQ, ERF, EXP, GE, GELU, GELU_TANH, GT, LE, LEAKY_RELU, LOG, LT, MAXIMUM, MINIMUM,
  MUL, NE, NEG, POW, RELU, SELU, SIGMOID, SIGN, SQRT, SUB, TANH,
  binary64, binaryVec, unary64, unaryIsScalar, unaryVec,
} from './vmath';
import { blockSquares64 } from './update';

/** Four float32 lanes from `p` with byte step `s`: a load, a splat, or a gather. */
// @ts-ignore: decorator
@inline export function loadVec(p: usize, s: i32): v128 {
  if (s == 4) return v128.load(p);
  if (s == 0) return v128.load32_splat(p);
  return gather4(p, s);
}

// @ts-ignore: decorator
@inline export function gather4(p: usize, s: i32): v128 {
  let v = v128.load32_splat(p);
  v = v128.load32_lane(p + <usize>s, v, 1);
  v = v128.load32_lane(p + <usize>(s * 2), v, 2);
  return v128.load32_lane(p + <usize>(s * 3), v, 3);
}

// ---------------------------------------------------------------------------------------------
// copy

/**
 * `dst[i] = src[i]` between two strided views (operands 0 and 1 of `desc`) of any dtypes.
 * The same dtype moves bits (memory.copy for contiguous rows); different dtypes convert like a
 * typed-array store (float32 rounds, int32 truncates and wraps).
 */
export function copyStrided(desc: usize, src: usize, sdt: i32, dst: usize, ddt: i32): void {
  const rows = beginRows(desc, src, dst, 0, 0);
  const n = rowLength(desc);
  const ss = rowStep(desc, 0);
  const ds = rowStep(desc, 1);
  const size = sizeOf(sdt);
  for (let row = 0; row < rows; row++) {
    let sp = rowPtr(desc, 0);
    let dp = rowPtr(desc, 1);
    if (sdt == ddt && ss == size && ds == size) {
      memory.copy(dp, sp, <usize>n * size);
    } else if (sdt == ddt && size == 4) {
      for (let i = 0; i < n; i++, sp += <usize>ss, dp += <usize>ds) store<u32>(dp, load<u32>(sp));
    } else if (sdt == ddt) {
      for (let i = 0; i < n; i++, sp += <usize>ss, dp += <usize>ds) store<u64>(dp, load<u64>(sp));
    } else {
      for (let i = 0; i < n; i++, sp += <usize>ss, dp += <usize>ds) storeAs(dp, ddt, loadAs(sp, sdt));
    }
    nextRow(desc, 2);
  }
}

// ---------------------------------------------------------------------------------------------
// unary

/**
 * `out[i] = op(x[i])` into the contiguous float32 `out` (operands 0 and 1 of `desc`). float32 input
 * runs the f32x4 definition of the op; int32 input, and the ops defined in float64 (unaryIsScalar),
 * run the float64 reference formula element by element.
 */
export function unaryF32(
  op: i32, desc: usize, x: usize, xdt: i32, out: usize, alpha: f64, beta: f64, threshold: f64,
): void {
  if (xdt != F32 || unaryIsScalar(op)) {
    unaryScalar(op, desc, x, xdt, out, alpha, beta, threshold);
    return;
  }
  const a = f32x4.splat(<f32>alpha);
  // One copy of the row loop per op, each with its op folded in (a switch per vector would cost
  // more than the arithmetic of the cheap ops).
  switch (op) {
    case NEG: unaryRows(NEG, desc, x, out, a); break;
    case EXP: unaryRows(EXP, desc, x, out, a); break;
    case LOG: unaryRows(LOG, desc, x, out, a); break;
    case SQRT: unaryRows(SQRT, desc, x, out, a); break;
    case ABS: unaryRows(ABS, desc, x, out, a); break;
    case SIGN: unaryRows(SIGN, desc, x, out, a); break;
    case TANH: unaryRows(TANH, desc, x, out, a); break;
    case SIGMOID: unaryRows(SIGMOID, desc, x, out, a); break;
    case RELU: unaryRows(RELU, desc, x, out, a); break;
    case ERF: unaryRows(ERF, desc, x, out, a); break;
    case GELU: unaryRows(GELU, desc, x, out, a); break;
    case LEAKY_RELU: unaryRows(LEAKY_RELU, desc, x, out, a); break;
    case ELU: unaryRows(ELU, desc, x, out, a); break;
    case SELU: unaryRows(SELU, desc, x, out, a); break;
    case GELU_TANH: unaryRows(GELU_TANH, desc, x, out, a); break;
    default: unaryScalar(op, desc, x, xdt, out, alpha, beta, threshold);
  }
}

// @ts-ignore: decorator
@inline function unaryRows(op: i32, desc: usize, x: usize, out: usize, alpha: v128): void {
  const rows = beginRows(desc, x, out, 0, 0);
  const n = rowLength(desc);
  const xs = rowStep(desc, 0);
  for (let row = 0; row < rows; row++) {
    let xp = rowPtr(desc, 0);
    let o = rowPtr(desc, 1);
    let i = 0;
    if (xs == 4) {
      for (; i + 4 <= n; i += 4, xp += 16, o += 16) v128.store(o, unaryVec(op, v128.load(xp), alpha));
    } else {
      for (; i + 4 <= n; i += 4, xp += <usize>(xs << 2), o += 16) v128.store(o, unaryVec(op, gather4(xp, xs), alpha));
    }
    for (; i < n; i++, xp += <usize>xs, o += 4) {
      store<f32>(o, f32x4.extract_lane(unaryVec(op, v128.load32_splat(xp), alpha), 0));
    }
    nextRow(desc, 2);
  }
}

function unaryScalar(
  op: i32, desc: usize, x: usize, xdt: i32, out: usize, alpha: f64, beta: f64, threshold: f64,
): void {
  const rows = beginRows(desc, x, out, 0, 0);
  const n = rowLength(desc);
  const xs = rowStep(desc, 0);
  for (let row = 0; row < rows; row++) {
    let xp = rowPtr(desc, 0);
    let o = rowPtr(desc, 1);
    for (let i = 0; i < n; i++, xp += <usize>xs, o += 4) {
      store<f32>(o, <f32>unary64(op, loadAs(xp, xdt), alpha, beta, threshold));
    }
    nextRow(desc, 2);
  }
}

// ---------------------------------------------------------------------------------------------
// binary

/**
 * `out[i] = op(a[i], b[i])` into the contiguous float32 `out` (operands 0, 1, 2 of `desc`). Two
 * float32 inputs run f32x4 code; an int32 input runs the float64 reference formula.
 */
export function binaryF32(op: i32, desc: usize, a: usize, adt: i32, b: usize, bdt: i32, out: usize): void {
  if (adt != F32 || bdt != F32) {
    binaryScalar(op, desc, a, adt, b, bdt, out);
    return;
  }
  switch (op) {
    case ADD: binaryRows(ADD, desc, a, b, out); break;
    case SUB: binaryRows(SUB, desc, a, b, out); break;
    case MUL: binaryRows(MUL, desc, a, b, out); break;
    case DIV: binaryRows(DIV, desc, a, b, out); break;
    case POW: binaryRows(POW, desc, a, b, out); break;
    case MAXIMUM: binaryRows(MAXIMUM, desc, a, b, out); break;
    case MINIMUM: binaryRows(MINIMUM, desc, a, b, out); break;
    case GT: binaryRows(GT, desc, a, b, out); break;
    case GE: binaryRows(GE, desc, a, b, out); break;
    case LT: binaryRows(LT, desc, a, b, out); break;
    case LE: binaryRows(LE, desc, a, b, out); break;
    case EQ: binaryRows(EQ, desc, a, b, out); break;
    default: binaryRows(NE, desc, a, b, out);
  }
}

// @ts-ignore: decorator
@inline function binaryRows(op: i32, desc: usize, a: usize, b: usize, out: usize): void {
  const rows = beginRows(desc, a, b, out, 0);
  const n = rowLength(desc);
  const as = rowStep(desc, 0);
  const bs = rowStep(desc, 1);
  for (let row = 0; row < rows; row++) {
    let ap = rowPtr(desc, 0);
    let bp = rowPtr(desc, 1);
    let o = rowPtr(desc, 2);
    let i = 0;
    if (as == 4 && bs == 4) {
      // Four vectors per iteration: the loop bookkeeping, not the arithmetic, bounds this loop.
      for (; i + 16 <= n; i += 16, ap += 64, bp += 64, o += 64) {
        const r0 = binaryVec(op, v128.load(ap), v128.load(bp));
        const r1 = binaryVec(op, v128.load(ap, 16), v128.load(bp, 16));
        const r2 = binaryVec(op, v128.load(ap, 32), v128.load(bp, 32));
        const r3 = binaryVec(op, v128.load(ap, 48), v128.load(bp, 48));
        v128.store(o, r0);
        v128.store(o, r1, 16);
        v128.store(o, r2, 32);
        v128.store(o, r3, 48);
      }
      for (; i + 4 <= n; i += 4, ap += 16, bp += 16, o += 16) {
        v128.store(o, binaryVec(op, v128.load(ap), v128.load(bp)));
      }
    } else if (as == 4 && bs == 0) {
      const bv = v128.load32_splat(bp);
      for (; i + 4 <= n; i += 4, ap += 16, o += 16) v128.store(o, binaryVec(op, v128.load(ap), bv));
    } else if (as == 0 && bs == 4) {
      const av = v128.load32_splat(ap);
      for (; i + 4 <= n; i += 4, bp += 16, o += 16) v128.store(o, binaryVec(op, av, v128.load(bp)));
    } else {
      for (; i + 4 <= n; i += 4, ap += <usize>(as << 2), bp += <usize>(bs << 2), o += 16) {
        v128.store(o, binaryVec(op, loadVec(ap, as), loadVec(bp, bs)));
      }
    }
    for (; i < n; i++, ap += <usize>as, bp += <usize>bs, o += 4) {
      store<f32>(o, f32x4.extract_lane(binaryVec(op, v128.load32_splat(ap), v128.load32_splat(bp)), 0));
    }
    nextRow(desc, 3);
  }
}

function binaryScalar(op: i32, desc: usize, a: usize, adt: i32, b: usize, bdt: i32, out: usize): void {
  const rows = beginRows(desc, a, b, out, 0);
  const n = rowLength(desc);
  const as = rowStep(desc, 0);
  const bs = rowStep(desc, 1);
  for (let row = 0; row < rows; row++) {
    let ap = rowPtr(desc, 0);
    let bp = rowPtr(desc, 1);
    let o = rowPtr(desc, 2);
    for (let i = 0; i < n; i++, ap += <usize>as, bp += <usize>bs, o += 4) {
      store<f32>(o, <f32>binary64(op, loadAs(ap, adt), loadAs(bp, bdt)));
    }
    nextRow(desc, 3);
  }
}

// ---------------------------------------------------------------------------------------------
// where

/**
 * `out[i] = cond[i] != 0 ? a[i] : b[i]` (a NaN condition counts as true) into the contiguous
 * float32 `out`; operands 0 to 3 of `desc` are cond, a, b, out. A float32 or int32 condition with
 * float32 values selects whole vectors; other dtypes go element by element.
 */
export function whereF32(desc: usize, c: usize, cdt: i32, a: usize, adt: i32, b: usize, bdt: i32, out: usize): void {
  const rows = beginRows(desc, c, a, b, out);
  const n = rowLength(desc);
  const cs = rowStep(desc, 0);
  const as = rowStep(desc, 1);
  const bs = rowStep(desc, 2);
  const vector = adt == F32 && bdt == F32 && cdt != F64;
  const zero = i32x4.splat(0);
  for (let row = 0; row < rows; row++) {
    let cp = rowPtr(desc, 0);
    let ap = rowPtr(desc, 1);
    let bp = rowPtr(desc, 2);
    let o = rowPtr(desc, 3);
    let i = 0;
    if (vector) {
      for (; i + 4 <= n; i += 4, cp += <usize>(cs << 2), ap += <usize>(as << 2), bp += <usize>(bs << 2), o += 16) {
        const cv = loadVec(cp, cs);
        const mask = cdt == F32 ? f32x4.ne(cv, zero) : i32x4.ne(cv, zero);
        v128.store(o, v128.bitselect(loadVec(ap, as), loadVec(bp, bs), mask));
      }
    }
    for (; i < n; i++, cp += <usize>cs, ap += <usize>as, bp += <usize>bs, o += 4) {
      store<f32>(o, <f32>(loadAs(cp, cdt) != 0 ? loadAs(ap, adt) : loadAs(bp, bdt)));
    }
    nextRow(desc, 4);
  }
}

// ---------------------------------------------------------------------------------------------
// optimizer kernels

/**
 * `y ← alpha·x + beta·y` for the contiguous float32 `y` (operands 0 and 1 of `desc`: x, y), in
 * float64 like the reference (two f64x2 halves per vector), so the result is the reference's
 * to the bit.
 */
export function axpbyF32(desc: usize, alpha: f64, x: usize, xdt: i32, beta: f64, y: usize): void {
  const rows = beginRows(desc, x, y, 0, 0);
  const n = rowLength(desc);
  const xs = rowStep(desc, 0);
  const va = f64x2.splat(alpha);
  const vb = f64x2.splat(beta);
  for (let row = 0; row < rows; row++) {
    let xp = rowPtr(desc, 0);
    let yp = rowPtr(desc, 1);
    let i = 0;
    if (xdt == F32) {
      for (; i + 4 <= n; i += 4, xp += <usize>(xs << 2), yp += 16) {
        const xv = loadVec(xp, xs);
        const yv = v128.load(yp);
        const lo = f64x2.add(f64x2.mul(va, f64x2.promote_low_f32x4(xv)), f64x2.mul(vb, f64x2.promote_low_f32x4(yv)));
        const hi = f64x2.add(
          f64x2.mul(va, f64x2.promote_low_f32x4(f32x4.shuffle(xv, xv, 2, 3, 2, 3))),
          f64x2.mul(vb, f64x2.promote_low_f32x4(f32x4.shuffle(yv, yv, 2, 3, 2, 3))),
        );
        v128.store(yp, f32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
      }
    }
    for (; i < n; i++, xp += <usize>xs, yp += 4) {
      store<f32>(yp, <f32>(alpha * loadAs(xp, xdt) + beta * <f64>load<f32>(yp)));
    }
    nextRow(desc, 2);
  }
}

/** `Σ x²` over a float32 view (operand 0 of `desc`), accumulated in float64. */
export function sumSquaresF32(desc: usize, x: usize): f64 {
  const rows = beginRows(desc, x, 0, 0, 0);
  const n = rowLength(desc);
  const xs = rowStep(desc, 0);
  let total: f64 = 0;
  for (let row = 0; row < rows; row++) {
    let xp = rowPtr(desc, 0);
    if (xs == 4) total += blockSquares64(xp, 0, n);
    else {
      let acc: f64 = 0;
      for (let i = 0; i < n; i++, xp += <usize>xs) {
        const v = <f64>load<f32>(xp);
        acc += v * v;
      }
      total += acc;
    }
    nextRow(desc, 1);
  }
  return total;
}
