import { DTYPES, type DType, type TypedArray, makeTypedArray } from '../../core/dtype.js';
import { ConfigError, DTypeError, DisposedError, ShapeError, fmtShape } from '../../core/errors.js';
import { checkShape, numel } from '../../core/shape.js';
import type {
  AdamStepScalars,
  ArgReduceOp,
  Backend,
  BackendBuffer,
  BinaryOp,
  ReduceOp,
  StatsActivation,
  UnaryOp,
  UnaryParams,
  UpdateSquares,
  ValueStats,
  View,
} from '../backend.js';
import { checkAliasing, checkAxis, checkCrossEntropyRows, checkIndexShape, checkLstmOperands, checkUpdateBuffers, checkValueStats, sameShapes, targetError } from '../checks.js';
import { crossEntropyRowsArrays, crossEntropyRowsBackwardArrays } from './loss.js';
import { axpbyStrided, copyStrided, mapBinary, mapUnary, select, sumSquaresStrided } from './elementwise.js';
import { gatherAxis, scatterAddAxis } from './gather.js';
import { binaryFn, unaryFn } from './math.js';
import { matmulBatched } from './matmul.js';
import { argReduceAxis, reduceAxes } from './reduce.js';
import { adamArrays, scaleArray, updateSquaresArrays } from './update.js';
import { valueStatsArray } from './stats.js';
import { type Rows, lstmCellBackwardRows, lstmCellRows } from './recurrent.js';
import type { ArrayView } from './strided.js';

/**
 * The pure-TypeScript reference backend: the readable oracle that every other backend is tested
 * against. Kernels live in the files next to this one and work on plain typed arrays; this file
 * owns the buffers and checks every call (live buffers, views inside their buffer, matching
 * shapes, output sizes), because an oracle that silently reads garbage would bless bugs elsewhere.
 */

/** A js backend buffer: a typed array of the dtype, dropped by `free`. */
export class JsBuffer implements BackendBuffer {
  readonly dtype: DType;
  readonly size: number;
  /** The elements; `null` once the buffer has been freed. */
  data: TypedArray | null;

  constructor(dtype: DType, data: TypedArray) {
    this.dtype = dtype;
    this.size = data.length;
    this.data = data;
  }
}

export class JsBackend implements Backend {
  readonly name = 'js';

  alloc(dtype: DType, size: number): JsBuffer {
    if (!DTYPES.includes(dtype))
      throw new DTypeError(`alloc: dtype ${String(dtype)} is not supported (expected one of ${DTYPES.join(', ')})`);
    if (!Number.isInteger(size) || size < 0)
      throw new ConfigError(`alloc: size ${size} is invalid (expected a non-negative integer)`);
    return new JsBuffer(dtype, makeTypedArray(dtype, size));
  }

  /** Drops the typed array so the memory can be collected; any later use (a second free included) throws. */
  free(buf: BackendBuffer): void {
    arrayOf('free', 'buf', buf);
    (buf as JsBuffer).data = null;
  }

  read(buf: BackendBuffer, start = 0, length?: number): TypedArray {
    const data = arrayOf('read', 'buf', buf);
    const len = length ?? data.length - start;
    checkRange('read', start, len, data.length);
    return data.slice(start, start + len);
  }

  /** Converts through the typed-array store: int32 truncates toward zero, NaN becomes 0. */
  write(buf: BackendBuffer, data: ArrayLike<number>, start = 0): void {
    const dst = arrayOf('write', 'buf', buf);
    checkRange('write', start, data.length, dst.length);
    dst.set(data, start);
  }

  fill(out: BackendBuffer, value: number): void {
    arrayOf('fill', 'out', out).fill(value);
  }

  copy(src: View, dst: View): void {
    sameShapes('copy', { src, dst });
    copyStrided(resolve('copy', 'src', src), resolve('copy', 'dst', dst));
  }

  unary(op: UnaryOp, x: View, out: BackendBuffer, params?: UnaryParams): void {
    const xa = resolve(op, 'x', x);
    checkAliasing(op, out, { x });
    mapUnary(unaryFn(op, params), xa, output(op, out, x.shape));
  }

  binary(op: BinaryOp, a: View, b: View, out: BackendBuffer): void {
    sameShapes(op, { a, b });
    const [aa, ba] = [resolve(op, 'a', a), resolve(op, 'b', b)];
    checkAliasing(op, out, { a, b });
    mapBinary(binaryFn(op), aa, ba, output(op, out, a.shape));
  }

  where(cond: View, a: View, b: View, out: BackendBuffer): void {
    sameShapes('where', { cond, a, b });
    const [ca, aa, ba] = [resolve('where', 'cond', cond), resolve('where', 'a', a), resolve('where', 'b', b)];
    checkAliasing('where', out, { cond, a, b });
    select(ca, aa, ba, output('where', out, a.shape));
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[], out: BackendBuffer): void {
    const xa = resolve(op, 'x', x);
    axes.forEach((d, i) => {
      if (!Number.isInteger(d) || d < 0 || d >= x.shape.length || (i > 0 && d <= axes[i - 1]))
        throw new ConfigError(
          `${op}: axes [${axes.join(', ')}] are invalid for a tensor of rank ${x.shape.length} ` +
            `(expected sorted, unique axes in [0, ${x.shape.length - 1}])`,
        );
      if (op !== 'sum' && x.shape[d] === 0)
        throw new ConfigError(
          `${op}: cannot reduce axis ${d} of shape ${fmtShape(x.shape)}, which has size 0 ` +
            `(${op} of an empty set is undefined; use sum, or check the shape)`,
        );
    });
    reduceAxes(op, xa, axes, output(op, out, x.shape.filter((_, d) => !axes.includes(d))));
  }

  argReduce(op: ArgReduceOp, x: View, axis: number, out: BackendBuffer): void {
    const xa = resolve(op, 'x', x);
    checkAxis(op, axis, x.shape.length);
    if (x.shape[axis] === 0)
      throw new ConfigError(`${op}: axis ${axis} of shape ${fmtShape(x.shape)} has size 0, so there is no ${op}`);
    if (out.dtype !== 'int32') throw new DTypeError(`${op}: out has dtype ${out.dtype} (expected int32)`);
    argReduceAxis(op, xa, axis, output(op, out, x.shape.filter((_, d) => d !== axis)));
  }

  matmul(a: View, b: View, out: BackendBuffer): void {
    if (a.shape.length !== 3 || b.shape.length !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1])
      throw new ShapeError(
        `matmul: a ${fmtShape(a.shape)} and b ${fmtShape(b.shape)} do not form a batched product ` +
          `(expected [B, M, K] and [B, K, N])`,
      );
    const [aa, ba] = [resolve('matmul', 'a', a), resolve('matmul', 'b', b)];
    matmulBatched(aa, ba, output('matmul', out, [a.shape[0], a.shape[1], b.shape[2]]));
  }

  matmulSquares(a: View, b: View, out: BackendBuffer): number {
    this.matmul(a, b, out);
    return this.sumSquares({ buf: out, shape: [out.size], strides: [1], offset: 0 });
  }

  gather(x: View, axis: number, index: View, out: BackendBuffer): void {
    const [xa, ia] = [resolve('gather', 'x', x), resolve('gather', 'index', index)];
    checkIndexShape('gather', axis, index, 'x', x.shape, false);
    gatherAxis(xa, axis, ia, output('gather', out, index.shape));
  }

  scatterAdd(out: BackendBuffer, outShape: readonly number[], axis: number, index: View, src: View): void {
    checkShape('scatterAdd', outShape);
    const [ia, sa] = [resolve('scatterAdd', 'index', index), resolve('scatterAdd', 'src', src)];
    checkIndexShape('scatterAdd', axis, index, 'out', outShape, false);
    checkIndexShape('scatterAdd', axis, index, 'src', src.shape, true);
    scatterAddAxis(output('scatterAdd', out, outShape), outShape, axis, ia, sa);
  }

  axpby(alpha: number, x: View, beta: number, y: BackendBuffer): void {
    const xa = resolve('axpby', 'x', x);
    const ya = output('axpby', y, x.shape);
    if (ya.length !== numel(x.shape))
      throw new ShapeError(`axpby: y has ${ya.length} elements but x ${fmtShape(x.shape)} has ${numel(x.shape)}`);
    checkAliasing('axpby', y, { x });
    axpbyStrided(alpha, xa, beta, ya);
  }

  sumSquares(x: View): number {
    return sumSquaresStrided(resolve('sumSquares', 'x', x));
  }

  scale(y: BackendBuffer, alpha: number): void {
    scaleArray(arrayOf('scale', 'y', y), alpha);
  }

  crossEntropyRows(logits: View, target: View, loss: BackendBuffer): void {
    const op = 'crossEntropyRows';
    const [n, c] = checkCrossEntropyRows(op, logits, target);
    const t = resolve(op, 'target', target);
    const bad = crossEntropyRowsArrays(resolve(op, 'logits', logits), t, output(op, loss, [n]));
    if (bad >= 0) throw targetError(op, bad, t.data[t.offset + bad * target.strides[0]], c);
  }

  crossEntropyRowsBackward(logits: View, target: View, g: View, dx: BackendBuffer): void {
    const op = 'crossEntropyRowsBackward';
    const [n, c] = checkCrossEntropyRows(op, logits, target, g);
    const t = resolve(op, 'target', target);
    const bad = crossEntropyRowsBackwardArrays(resolve(op, 'logits', logits), t, resolve(op, 'g', g), output(op, dx, [n, c]));
    if (bad >= 0) throw targetError(op, bad, t.data[t.offset + bad * target.strides[0]], c);
  }

  lstmCell(gates: View, c: View, out: BackendBuffer): void {
    const [n, h] = checkLstmOperands('lstmCell', gates, c, {});
    const o = output('lstmCell', out, [n, 2 * h]);
    lstmCellRows(n, h, rows('lstmCell', 'gates', gates), rows('lstmCell', 'c', c), { data: o, offset: 0, rowStride: 2 * h });
  }

  lstmCellBackward(gates: View, c: View, out: View, dout: View, dGates: BackendBuffer, dC: BackendBuffer): void {
    const op = 'lstmCellBackward';
    const [n, h] = checkLstmOperands(op, gates, c, { out, dout });
    const dg = output(op, dGates, [n, 4 * h]);
    const dc = output(op, dC, [n, h]);
    lstmCellBackwardRows(n, h, rows(op, 'gates', gates), rows(op, 'c', c), rows(op, 'out', out), rows(op, 'dout', dout), dg, dc);
  }

  updateSquares(p: BackendBuffer, before: BackendBuffer, g: BackendBuffer | null): UpdateSquares {
    checkUpdateBuffers('updateSquares', g === null ? { p, before } : { p, before, g });
    return updateSquaresArrays(arrayOf('updateSquares', 'p', p), arrayOf('updateSquares', 'before', before), g === null ? null : arrayOf('updateSquares', 'g', g));
  }

  valueStats(x: View, bins: number, act: StatsActivation): ValueStats {
    const layout = checkValueStats('valueStats', x, bins, act);
    return valueStatsArray(arrayOf('valueStats', 'x', x.buf), x.offset, numel(x.shape), bins, act, layout);
  }

  adamStep(p: BackendBuffer, g: BackendBuffer, m: BackendBuffer, v: BackendBuffer, s: AdamStepScalars, measure = false): UpdateSquares | null {
    checkUpdateBuffers('adamStep', { p, g, m, v });
    return adamArrays(arrayOf('adamStep', 'p', p), arrayOf('adamStep', 'g', g), arrayOf('adamStep', 'm', m), arrayOf('adamStep', 'v', v), s, measure);
  }
}

export const jsBackend = new JsBackend();

/** The typed array behind `buf`, or a clear error if it is freed or not a js buffer. */
function arrayOf(op: string, role: string, buf: BackendBuffer): TypedArray {
  if (!(buf instanceof JsBuffer))
    throw new ConfigError(`${op}: ${role} is not a buffer of the js backend (move the tensor to the js backend first)`);
  if (buf.data === null)
    throw new DisposedError(
      `${op}: ${role} (a ${buf.dtype} buffer of ${buf.size} elements) was already freed ` +
        `(its tensor was disposed; keep it alive, or clone it before disposing)`,
    );
  return buf.data;
}

/** Checks that a view is well formed and lies inside its buffer, then unwraps it. */
/** A checked 2-D row-major view as the LSTM kernels take it. */
function rows(op: string, role: string, v: View): Rows {
  const a = resolve(op, role, v);
  return { data: a.data, offset: a.offset, rowStride: v.strides[0] };
}

function resolve(op: string, role: string, v: View): ArrayView {
  const data = arrayOf(op, role, v.buf);
  const where = `${role} view (shape ${fmtShape(v.shape)}, strides ${fmtShape(v.strides)}, offset ${v.offset})`;
  if (v.strides.length !== v.shape.length || !v.shape.every((n) => Number.isInteger(n) && n >= 0))
    throw new ShapeError(`${op}: ${where} is malformed (expected one stride per non-negative integer dimension)`);
  if (numel(v.shape) > 0) {
    let lo = v.offset;
    let hi = v.offset;
    v.shape.forEach((n, d) => {
      const reach = (n - 1) * v.strides[d];
      if (reach < 0) lo += reach;
      else hi += reach;
    });
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi >= data.length)
      throw new ShapeError(
        `${op}: ${where} reaches elements ${lo} to ${hi}, outside its buffer of ${data.length} elements`,
      );
  }
  return { data, shape: v.shape, strides: v.strides, offset: v.offset };
}

/** The typed array of an output buffer, checked to hold a contiguous tensor of `shape`. */
function output(op: string, out: BackendBuffer, shape: readonly number[]): TypedArray {
  const data = arrayOf(op, 'out', out);
  if (data.length < numel(shape))
    throw new ShapeError(
      `${op}: out has ${data.length} elements, too few for shape ${fmtShape(shape)} (${numel(shape)})`,
    );
  return data;
}




function checkRange(op: string, start: number, length: number, size: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > size)
    throw new ConfigError(
      `${op}: start ${start} and length ${length} do not fit a buffer of ${size} elements ` +
        `(expected 0 <= start and start + length <= ${size})`,
    );
}

