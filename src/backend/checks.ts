import { DTypeError, ShapeError, ConfigError, fmtShape } from '../core/errors.js';
import { contiguousStrides, numel } from '../core/shape.js';
import type { BackendBuffer, StatsActivation, View } from './backend.js';

// Argument checks shared by the backends: kernels read and write raw memory, so a malformed call
// must fail here, with a message naming the kernel and the operand, never corrupt a neighbour.

export function sameShapes(op: string, views: Record<string, View>): void {
  let first: readonly number[] | null = null;
  let same = true;
  for (const role in views) {
    const shape = views[role].shape;
    if (first === null) first = shape;
    else if (shape.length !== first.length || shape.some((n, d) => n !== first![d])) same = false;
  }
  if (!same)
    throw new ShapeError(
      `${op}: operand shapes differ (${Object.entries(views).map(([k, v]) => `${k} ${fmtShape(v.shape)}`).join(', ')}); ` +
        `the caller must broadcast them to one shape first`,
    );
}

/**
 * As the reference: an elementwise kernel may write into an input only when that input is laid
 * out exactly like the output (contiguous from element 0), so element i is read before it is
 * overwritten.
 */
export function checkAliasing(op: string, out: BackendBuffer, inputs: Record<string, View>): void {
  for (const role in inputs) {
    const v = inputs[role];
    if (v.buf !== out || numel(v.shape) === 0) continue;
    const strides = contiguousStrides(v.shape);
    if (v.offset !== 0 || v.shape.some((n, d) => n > 1 && v.strides[d] !== strides[d]))
      throw new ConfigError(
        `${op}: out is the buffer of input ${role}, whose view (strides ${fmtShape(v.strides)}, offset ${v.offset}) ` +
          `is not contiguous from element 0; in-place updates need a contiguous input, so write to a new buffer`,
      );
  }
}

export function checkAxis(op: string, axis: number, rank: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank)
    throw new ConfigError(
      `${op}: axis ${axis} is out of range for rank ${rank} (expected an integer in [0, ${rank - 1}])`,
    );
}

/** The rules of torch.gather/scatter_add, as the reference checks them (src/backend/js/js-backend.ts). */
export function checkIndexShape(
  op: string,
  axis: number,
  index: View,
  name: string,
  shape: readonly number[],
  withAxis: boolean,
): void {
  if (index.buf.dtype !== 'int32') throw new DTypeError(`${op}: index has dtype ${index.buf.dtype} (expected int32)`);
  checkAxis(op, axis, shape.length);
  const fits = index.shape.every((n, d) => n <= shape[d] || (d === axis && !withAxis));
  if (index.shape.length !== shape.length || !fits)
    throw new ShapeError(
      `${op}: index ${fmtShape(index.shape)} does not fit ${name} ${fmtShape(shape)} for axis ${axis} ` +
        `(expected the same rank, and index no larger than ${name} in every dimension` +
        `${withAxis ? '' : ' but the axis'})`,
    );
}

/**
 * Checks the buffers of a fused optimizer step: one float dtype and one size for all of them, and
 * no buffer given twice (the kernel reads and writes them element by element).
 */
export function checkUpdateBuffers(op: string, buffers: Record<string, BackendBuffer>): void {
  const entries = Object.entries(buffers);
  const [firstRole, first] = entries[0];
  if (first.dtype !== 'float32' && first.dtype !== 'float64')
    throw new DTypeError(`${op}: ${firstRole} is ${first.dtype}; expected float32 or float64 buffers`);
  for (const [role, b] of entries) {
    if (b.dtype !== first.dtype || b.size !== first.size)
      throw new ShapeError(
        `${op}: ${role} is ${b.size} ${b.dtype} elements but ${firstRole} ${first.size} ${first.dtype}; every buffer must match`,
      );
    for (const [other, c] of entries) if (other !== role && c === b) throw new ConfigError(`${op}: ${role} and ${other} are the same buffer`);
  }
}

/**
 * Checks the operands of the fused LSTM cell: 2-D row-major views (inner stride 1) of one dtype,
 * `gates` `[rows, 4h]`, `c` `[rows, h]`, and any others `[rows, 2h]`; returns `[rows, h]`.
 */
export function checkLstmOperands(op: string, gates: View, c: View, others: Record<string, View>): [number, number] {
  const views: Record<string, View> = { gates, c, ...others };
  for (const [role, v] of Object.entries(views)) {
    if (v.shape.length !== 2 || (v.strides[1] !== 1 && v.shape[1] > 1))
      throw new ShapeError(`${op}: ${role} must be a 2-D row-major view (inner stride 1); got shape ${fmtShape(v.shape)}, strides ${fmtShape(v.strides)}`);
    if (v.buf.dtype !== gates.buf.dtype) throw new DTypeError(`${op}: ${role} is ${v.buf.dtype} but gates ${gates.buf.dtype}`);
  }
  const [rows, width] = gates.shape;
  if (width % 4 !== 0) throw new ShapeError(`${op}: gates ${fmtShape(gates.shape)} must have 4·hidden columns`);
  const h = width / 4;
  const expect = (role: string, v: View, cols: number): void => {
    if (v.shape[0] !== rows || v.shape[1] !== cols)
      throw new ShapeError(`${op}: ${role} has shape ${fmtShape(v.shape)}; expected [${rows}, ${cols}] for gates ${fmtShape(gates.shape)}`);
  };
  expect('c', c, h);
  for (const [role, v] of Object.entries(others)) expect(role, v, 2 * h);
  return [rows, h];
}

/** Checks the operands of the fused cross-entropy: logits `[n, c]` float, target `[n]` int32, g `[n]`; returns `[n, c]`. */
export function checkCrossEntropyRows(op: string, logits: View, target: View, g?: View): [number, number] {
  if (logits.shape.length !== 2) throw new ShapeError(`${op}: logits must be [n, c] (got ${fmtShape(logits.shape)})`);
  if (logits.buf.dtype === 'int32') throw new DTypeError(`${op}: logits must be float32 or float64 (got int32)`);
  if (target.buf.dtype !== 'int32') throw new DTypeError(`${op}: target must hold int32 class indices (got ${target.buf.dtype})`);
  const [n, c] = logits.shape;
  if (target.shape.length !== 1 || target.shape[0] !== n)
    throw new ShapeError(`${op}: target has shape ${fmtShape(target.shape)}; expected [${n}] for logits ${fmtShape(logits.shape)}`);
  if (g !== undefined && (g.shape.length !== 1 || g.shape[0] !== n || g.buf.dtype !== logits.buf.dtype))
    throw new ShapeError(`${op}: g must be [${n}] ${logits.buf.dtype} (got ${fmtShape(g.shape)} ${g.buf.dtype})`);
  return [n, c];
}

/** The error for a class index outside [0, c) at row `row`. */
export function targetError(op: string, row: number, value: number, c: number): ConfigError {
  return new ConfigError(`${op}: target holds class ${value} at row ${row}, outside the valid range [0, ${c - 1}] for ${c} classes`);
}

/**
 * Checks the operand of valueStats (a contiguous float view, an integer number of bins ≥ 0) and
 * returns the `[batch, units, inner]` layout whose dead units a ReLU count looks at, or null.
 */
export function checkValueStats(op: string, x: View, bins: number, act: StatsActivation): [number, number, number] | null {
  if (x.buf.dtype !== 'float32' && x.buf.dtype !== 'float64') throw new DTypeError(`${op}: x is ${x.buf.dtype}; expected a float32 or float64 view`);
  if (!Number.isInteger(bins) || bins < 0) throw new ConfigError(`${op}: bins must be an integer ≥ 0 (got ${bins})`);
  if (!isRowMajor(x))
    throw new ShapeError(`${op}: x (shape ${fmtShape(x.shape)}, strides ${fmtShape(x.strides)}) must be contiguous; make a contiguous copy first`);
  const n = numel(x.shape);
  if (!Number.isInteger(x.offset) || x.offset < 0 || x.offset + n > x.buf.size)
    throw new ShapeError(`${op}: x ${fmtShape(x.shape)} from offset ${x.offset} is outside its buffer of ${x.buf.size} elements`);
  if (act !== 'relu' || x.shape.length < 2 || n === 0) return null;
  return [x.shape[0], x.shape[1], n / (x.shape[0] * x.shape[1])];
}

/** Whether `v`'s strides are row-major for its shape (dimensions of size 1 may have any stride). */
export function isRowMajor(v: View): boolean {
  if (v.strides.length !== v.shape.length) return false;
  let expected = 1;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    const n = v.shape[d];
    if (n !== 1 && v.strides[d] !== expected) return false;
    expected *= n;
  }
  return true;
}
