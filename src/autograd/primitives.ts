import type { BinaryOp, ReduceOp, UnaryOp, UnaryParams, View } from '../backend/backend.js';
import { type DType, isFloat, promoteTypes } from '../core/dtype.js';
import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import { broadcastShapes, contiguousStrides, numel, viewStrides } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { broadcastView, run } from './run.js';

/**
 * The primitives: every differentiable operation is one of these or a composition of them.
 * Each rule keeps its forward kernel call and its backward side by side; the table is typed by
 * primitive so that adding one to `PrimitiveParams` without a rule fails to compile.
 *
 * Backward rules return gradients in the shape of the forward output's broadcast; the engine sums
 * them down to each input's shape and casts them to its dtype, so rules never handle broadcasting.
 */

type NoParams = Record<string, never>;

/** Axes to reduce (sorted, non-negative) and whether to keep them as size-1 dimensions. */
export interface ReduceParams {
  axes: readonly number[];
  keepDims: boolean;
}

/** Parameters of each primitive. */
export interface PrimitiveParams {
  add: NoParams;
  sub: NoParams;
  mul: NoParams;
  div: NoParams;
  pow: NoParams;
  maximum: NoParams;
  minimum: NoParams;
  gt: NoParams;
  ge: NoParams;
  lt: NoParams;
  le: NoParams;
  eq: NoParams;
  ne: NoParams;
  where: NoParams;
  neg: NoParams;
  exp: NoParams;
  log: NoParams;
  sqrt: NoParams;
  abs: NoParams;
  sign: NoParams;
  tanh: NoParams;
  sigmoid: NoParams;
  relu: NoParams;
  erf: NoParams;
  leakyRelu: { alpha: number };
  elu: { alpha: number };
  selu: NoParams;
  gelu: { approximate: 'none' | 'tanh' };
  softplus: { beta: number; threshold: number };
  clamp: { min: number | null; max: number | null };
  cast: { dtype: DType };
  sum: ReduceParams;
  max: ReduceParams;
  min: ReduceParams;
  argmax: { axis: number; keepDims: boolean };
  argmin: { axis: number; keepDims: boolean };
  /** `squares`: record `Σ out²` on the output's storage, summed by the kernel (a weight gradient's norm). */
  matmul: { squares?: boolean };
  linear: NoParams;
  lstmCell: NoParams;
  crossEntropyRows: NoParams;
  reshape: { shape: readonly number[] };
  permute: { dims: readonly number[] };
  expand: { shape: readonly number[] };
  slice: { starts: readonly number[]; ends: readonly number[]; steps: readonly number[] };
  contiguous: NoParams;
  concat: { axis: number };
  gather: { axis: number };
}

/** The name of a primitive. */
export type Primitive = keyof PrimitiveParams;

/** What a backward rule knows about the node's inputs. */
export interface InputInfo {
  shapes: (readonly number[])[];
  dtypes: DType[];
  /** Which inputs need a gradient (skip the work for the others). */
  needsGrad: boolean[];
}

/** Forward and backward of one primitive. */
export interface Rule<P extends Primitive> {
  /** The gradFn name shown when printing, e.g. `MulBackward`. */
  readonly name: string;
  forward(inputs: readonly Tensor[], params: PrimitiveParams[P]): Tensor;
  /** The tensors backward needs (inputs or the output); nothing is kept when absent. */
  save?(inputs: readonly Tensor[], out: Tensor, params: PrimitiveParams[P]): Tensor[];
  /** Gradients of the inputs given the output's gradient; null for non-differentiable ops. */
  backward: ((g: Tensor, saved: readonly Tensor[], params: PrimitiveParams[P], info: InputInfo) => (Tensor | null)[]) | null;
}

// ---- helpers used by the rules -------------------------------------------------------------

const none = {} as NoParams;
const add = (a: Tensor, b: Tensor): Tensor => run('add', [a, b], none);
const sub = (a: Tensor, b: Tensor): Tensor => run('sub', [a, b], none);
const mul = (a: Tensor, b: Tensor): Tensor => run('mul', [a, b], none);
const div = (a: Tensor, b: Tensor): Tensor => run('div', [a, b], none);
const neg = (a: Tensor): Tensor => run('neg', [a], none);
const cmp = (op: 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne', a: Tensor, b: Tensor): Tensor => run(op, [a, b], none);
const where = (c: Tensor, a: Tensor, b: Tensor): Tensor => run('where', [c, a, b], none);
const unary = (op: 'exp' | 'log' | 'tanh' | 'sigmoid' | 'erf' | 'sign', a: Tensor): Tensor => run(op, [a], none);
const transposeLast = (t: Tensor): Tensor => {
  const dims = t.shape.map((_, i) => i);
  [dims[t.ndim - 2], dims[t.ndim - 1]] = [dims[t.ndim - 1], dims[t.ndim - 2]];
  return run('permute', [t], { dims });
};

/** Whether the last two dimensions of `t` are a transposed (column-major) matrix. */
const columnMajor = (t: Tensor): boolean => {
  const r = t.ndim - 2;
  return t.shape[r] > 1 && t.shape[r + 1] > 1 && t.strides[r] === 1 && t.strides[r + 1] !== 1;
};

/** A 0-d tensor holding `value`, with `like`'s dtype and backend. */
export function scalarLike(value: number, like: Tensor, dtype: DType = like.dtype): Tensor {
  const t = Tensor.empty(like.backend, [], dtype);
  if (!Object.is(value, 0)) like.backend.fill(t.buf, value); // −0 must be written: it is not +0
  return t;
}

/** Float dtype for results of transcendental functions (int32 inputs give float32, as PyTorch). */
const floatOf = (d: DType): DType => (isFloat(d) ? d : 'float32');

function binaryForward(op: BinaryOp, dtypeRule: (a: DType, b: DType) => DType) {
  return (inputs: readonly Tensor[]): Tensor => {
    const [a, b] = inputs;
    const shape = broadcastShapes(op, a.shape, b.shape);
    const out = Tensor.empty(a.backend, shape, dtypeRule(a.dtype, b.dtype), false);
    if (out.size > 0) a.backend.binary(op, broadcastView(a, shape), broadcastView(b, shape), out.buf);
    return out;
  };
}

function unaryForward(op: UnaryOp, keepsInt: boolean, toParams: (p: never) => UnaryParams | undefined = () => undefined) {
  return (inputs: readonly Tensor[], params: unknown): Tensor => {
    const [x] = inputs;
    const out = Tensor.empty(x.backend, x.shape, keepsInt ? x.dtype : floatOf(x.dtype), false);
    if (out.size > 0) x.backend.unary(op, x, out.buf, toParams(params as never));
    return out;
  };
}

const comparison = (op: 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne'): Rule<typeof op> => ({
  name: `${op}`,
  // Comparisons give 1/0 in the operands' promoted dtype, so masks multiply gradients directly.
  forward: binaryForward(op, promoteTypes),
  backward: null,
});

function reduceForward(op: ReduceOp) {
  return (inputs: readonly Tensor[], p: ReduceParams): Tensor => {
    const [x] = inputs;
    const kept = x.shape.map((d, i) => (p.axes.includes(i) ? 1 : d));
    const shape = p.keepDims ? kept : x.shape.filter((_, i) => !p.axes.includes(i));
    if (op !== 'sum')
      for (const a of p.axes)
        if (x.shape[a] === 0)
          throw new ShapeError(`${op}: cannot reduce over axis ${a} of size 0 (shape ${fmtShape(x.shape)}); the ${op} of nothing is undefined`);
    const out = Tensor.empty(x.backend, shape, x.dtype, false);
    if (out.size === 0) return out;
    if (p.axes.length === 0) x.backend.copy(x, { buf: out.buf, shape: x.shape, strides: contiguousStrides(x.shape), offset: 0 });
    else x.backend.reduce(op, x, p.axes, out.buf);
    return out;
  };
}

/** The reduced tensor `t` seen with `axes` as size-1 dimensions, so it broadcasts against the input. */
function withKeptDims(t: Tensor, inputShape: readonly number[], p: ReduceParams): Tensor {
  if (p.keepDims) return t;
  return run('reshape', [t], { shape: inputShape.map((d, i) => (p.axes.includes(i) ? 1 : d)) });
}

/** Backward of max/min: the gradient is shared equally among the elements that attain it. */
function extremumBackward(g: Tensor, saved: readonly Tensor[], p: ReduceParams): Tensor[] {
  const [x, out] = saved;
  const mask = cmp('eq', x, withKeptDims(out, x.shape, p));
  const count = run('sum', [mask], { axes: p.axes, keepDims: true });
  return [mul(div(withKeptDims(g, x.shape, p), count), mask)];
}

/**
 * A `[B, rows, cols]` view of `t` (batch dims broadcast to `batch`) in a layout the matmul kernel
 * takes: row-major or transposed inner matrix, one batch stride. Anything else is copied first;
 * `temps` collects such copies so the caller can free them.
 */
function matmulOperand(t: Tensor, batch: readonly number[], temps: Tensor[]): View {
  const rows = t.shape[t.ndim - 2];
  const cols = t.shape[t.ndim - 1];
  let rs = t.strides[t.ndim - 2];
  let cs = t.strides[t.ndim - 1];
  const full = [...batch, rows, cols];
  const bview = broadcastView(t, full);
  let ok = true;
  if (cs === 1 || cols === 1) {
    cs = 1;
    if (rows === 1) rs = cols;
  } else if (rs === 1 || rows === 1) {
    rs = 1;
    if (cols === 1) cs = rows;
  } else ok = false;
  // Batch dims must collapse to one stride.
  let bstride = 0;
  let bsize = 1;
  for (let i = batch.length - 1; i >= 0 && ok; i--) {
    if (batch[i] === 1) continue;
    const s = bview.strides[i];
    if (bsize === 1) bstride = s;
    else if (s !== bstride * bsize) ok = false;
    bsize *= batch[i];
  }
  const B = numel(batch);
  if (!ok) {
    const copy = Tensor.empty(t.backend, full, t.dtype, false);
    t.backend.copy(bview, copy);
    temps.push(copy);
    return { buf: copy.buf, shape: [B, rows, cols], strides: [rows * cols, cols, 1], offset: 0 };
  }
  return { buf: t.buf, shape: [B, rows, cols], strides: [B === 1 ? 0 : bstride, rs, cs], offset: t.offset };
}

/**
 * Runs `fn` on row-major views of the 2-D `tensors` (inner stride 1, any row stride), copying
 * only those laid out otherwise.
 */
function withRows(tensors: readonly Tensor[], fn: (views: View[]) => void): void {
  const temps: Tensor[] = [];
  const views = tensors.map((t): View => {
    if (t.strides[1] === 1 || t.shape[1] <= 1) return { buf: t.buf, shape: t.shape, strides: [t.strides[0], 1], offset: t.offset };
    const copy = Tensor.empty(t.backend, t.shape, t.dtype, false);
    t.backend.copy(t, copy);
    temps.push(copy);
    return { buf: copy.buf, shape: t.shape, strides: [t.shape[1], 1], offset: 0 };
  });
  try {
    fn(views);
  } finally {
    for (const t of temps) t.dispose();
  }
}

/**
 * `x·Wᵀ + b` for `x` `[..., in]`, `W` `[out, in]`, `b` `[out]` (optional): one matmul that reads
 * W through a transposed view, and the bias added into the product in place.
 */
function linearForward(inputs: readonly Tensor[]): Tensor {
  const [x, w, b] = inputs;
  const inF = w.shape[1];
  const outF = w.shape[0];
  const rows = numel(x.shape.slice(0, -1));
  const flat = RULES.reshape.forward([x], { shape: [rows, inF] });
  const wt = w.view([inF, outF], [w.strides[1], w.strides[0]], w.offset);
  const out = matmulForward([flat, wt]);
  flat.dispose();
  wt.dispose();
  if (b !== undefined && out.size > 0) {
    const bias = { buf: b.buf, shape: [rows, outF], strides: [0, b.strides[0]], offset: b.offset };
    out.backend.binary('add', out, bias, out.buf);
  }
  if (x.ndim === 2) return out;
  const shaped = out.view([...x.shape.slice(0, -1), outF], contiguousStrides([...x.shape.slice(0, -1), outF]), 0);
  out.dispose();
  return shaped;
}

function matmulForward(inputs: readonly Tensor[], params?: PrimitiveParams['matmul']): Tensor {
  const [a, b] = inputs;
  if (a.ndim < 2 || b.ndim < 2)
    throw new ShapeError(`matmul: both operands need at least 2 dimensions here (a is ${fmtShape(a.shape)}, b is ${fmtShape(b.shape)})`);
  const M = a.shape[a.ndim - 2];
  const K = a.shape[a.ndim - 1];
  const N = b.shape[b.ndim - 1];
  if (b.shape[b.ndim - 2] !== K)
    throw new ShapeError(
      `matmul: inner dimensions differ: a is ${fmtShape(a.shape)}, b is ${fmtShape(b.shape)} ` +
        `(a.shape[${a.ndim - 1}] must equal b.shape[${b.ndim - 2}])`,
    );
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = Tensor.empty(a.backend, [...batch, M, N], promoteTypes(a.dtype, b.dtype), false);
  if (out.size === 0) return out;
  const temps: Tensor[] = [];
  let av = matmulOperand(a, batch, temps);
  let bv = matmulOperand(b, batch, temps);
  // Mixed dtypes: bring both operands to the result dtype.
  for (const [v, t] of [
    [av, a],
    [bv, b],
  ] as const) {
    if (t.dtype === out.dtype) continue;
    const c = Tensor.empty(t.backend, v.shape, out.dtype, false);
    t.backend.copy(v, c);
    temps.push(c);
    if (t === a) av = c;
    else bv = c;
  }
  if (params?.squares === true) {
    const squares = a.backend.matmulSquares(av, bv, out.buf);
    if (squares !== null) out.storage.noteSumSquares(squares); // after the kernel: reaching out.buf forgets any earlier value
  } else a.backend.matmul(av, bv, out.buf);
  for (const t of temps) t.dispose();
  return out;
}

export function sliceView(t: Tensor, p: PrimitiveParams['slice']): View & { shape: number[] } {
  let offset = t.offset;
  const shape: number[] = [];
  const strides: number[] = [];
  for (let i = 0; i < t.ndim; i++) {
    offset += p.starts[i] * t.strides[i];
    shape.push(Math.max(0, Math.ceil((p.ends[i] - p.starts[i]) / p.steps[i])));
    strides.push(t.strides[i] * p.steps[i]);
  }
  return { buf: t.buf, shape, strides, offset };
}

// ---- the table -----------------------------------------------------------------------------

export const RULES: { readonly [P in Primitive]: Rule<P> } = {
  add: {
    name: 'AddBackward',
    forward: binaryForward('add', promoteTypes),
    backward: (g) => [g, g],
  },
  sub: {
    name: 'SubBackward',
    forward: binaryForward('sub', promoteTypes),
    backward: (g, _s, _p, info) => [g, info.needsGrad[1] ? neg(g) : null],
  },
  mul: {
    name: 'MulBackward',
    forward: binaryForward('mul', promoteTypes),
    save: ([a, b]) => [a, b],
    backward: (g, [a, b], _p, info) => [info.needsGrad[0] ? mul(g, b) : null, info.needsGrad[1] ? mul(g, a) : null],
  },
  div: {
    name: 'DivBackward',
    forward: binaryForward('div', (a, b) => floatOf(promoteTypes(a, b))),
    save: ([, b], out) => [b, out],
    // d(a/b)/da = 1/b; d(a/b)/db = -a/b² = -out/b
    backward: (g, [b, out], _p, info) => [
      info.needsGrad[0] ? div(g, b) : null,
      info.needsGrad[1] ? neg(div(mul(g, out), b)) : null,
    ],
  },
  pow: {
    name: 'PowBackward',
    forward: binaryForward('pow', promoteTypes),
    save: ([a, b], out) => [a, b, out],
    backward: (g, [a, b, out], _p, info) => {
      const one = scalarLike(1, b);
      const ga = info.needsGrad[0] ? mul(g, mul(b, run('pow', [a, sub(b, one)], none))) : null;
      // d(a^b)/db = a^b·ln a, defined as 0 where a == 0 and b >= 0 (as PyTorch).
      let gb: Tensor | null = null;
      if (info.needsGrad[1]) {
        const zero = scalarLike(0, a);
        const atZero = mul(cmp('eq', a, zero), cmp('ge', b, scalarLike(0, b)));
        gb = mul(g, where(atZero, scalarLike(0, out), mul(out, unary('log', a))));
      }
      return [ga, gb];
    },
  },
  maximum: {
    name: 'MaximumBackward',
    forward: binaryForward('maximum', promoteTypes),
    save: ([a, b]) => [a, b],
    // Ties split the gradient in half, as PyTorch.
    backward: (g, [a, b]) => {
      const half = mul(cmp('eq', a, b), scalarLike(0.5, g));
      return [mul(g, add(cmp('gt', a, b), half)), mul(g, add(cmp('lt', a, b), half))];
    },
  },
  minimum: {
    name: 'MinimumBackward',
    forward: binaryForward('minimum', promoteTypes),
    save: ([a, b]) => [a, b],
    backward: (g, [a, b]) => {
      const half = mul(cmp('eq', a, b), scalarLike(0.5, g));
      return [mul(g, add(cmp('lt', a, b), half)), mul(g, add(cmp('gt', a, b), half))];
    },
  },
  gt: comparison('gt'),
  ge: comparison('ge'),
  lt: comparison('lt'),
  le: comparison('le'),
  eq: comparison('eq'),
  ne: comparison('ne'),
  where: {
    name: 'WhereBackward',
    forward: ([c, a, b]) => {
      const shape = broadcastShapes('where', c.shape, a.shape, b.shape);
      const out = Tensor.empty(a.backend, shape, promoteTypes(a.dtype, b.dtype), false);
      if (out.size > 0) a.backend.where(broadcastView(c, shape), broadcastView(a, shape), broadcastView(b, shape), out.buf);
      return out;
    },
    save: ([c]) => [c],
    backward: (g, [c], _p, info) => {
      const zero = scalarLike(0, g);
      return [null, info.needsGrad[1] ? where(c, g, zero) : null, info.needsGrad[2] ? where(c, zero, g) : null];
    },
  },
  neg: { name: 'NegBackward', forward: unaryForward('neg', true), backward: (g) => [neg(g)] },
  exp: {
    name: 'ExpBackward',
    forward: unaryForward('exp', false),
    save: (_i, out) => [out],
    backward: (g, [out]) => [mul(g, out)],
  },
  log: {
    name: 'LogBackward',
    forward: unaryForward('log', false),
    save: ([x]) => [x],
    backward: (g, [x]) => [div(g, x)],
  },
  sqrt: {
    name: 'SqrtBackward',
    forward: unaryForward('sqrt', false),
    save: (_i, out) => [out],
    backward: (g, [out]) => [div(g, mul(out, scalarLike(2, out)))],
  },
  abs: {
    name: 'AbsBackward',
    forward: unaryForward('abs', true),
    save: ([x]) => [x],
    backward: (g, [x]) => [mul(g, unary('sign', x))],
  },
  sign: {
    name: 'SignBackward',
    forward: unaryForward('sign', true),
    // sign is flat almost everywhere: its gradient is zero (as PyTorch).
    backward: (g) => [mul(g, scalarLike(0, g))],
  },
  tanh: {
    name: 'TanhBackward',
    forward: unaryForward('tanh', false),
    save: (_i, out) => [out],
    backward: (g, [out]) => [mul(g, sub(scalarLike(1, out), mul(out, out)))],
  },
  sigmoid: {
    name: 'SigmoidBackward',
    forward: unaryForward('sigmoid', false),
    save: (_i, out) => [out],
    backward: (g, [out]) => [mul(g, mul(out, sub(scalarLike(1, out), out)))],
  },
  relu: {
    name: 'ReluBackward',
    forward: unaryForward('relu', true),
    save: (_i, out) => [out],
    backward: (g, [out]) => [mul(g, cmp('gt', out, scalarLike(0, out)))],
  },
  erf: {
    name: 'ErfBackward',
    forward: unaryForward('erf', false),
    save: ([x]) => [x],
    // d erf(x)/dx = 2/√π · exp(−x²)
    backward: (g, [x]) => [mul(g, mul(scalarLike(2 / Math.sqrt(Math.PI), x), unary('exp', neg(mul(x, x)))))],
  },
  leakyRelu: {
    name: 'LeakyReluBackward',
    forward: unaryForward('leakyRelu', false, (p: { alpha: number }) => ({ alpha: p.alpha })),
    save: ([x]) => [x],
    backward: (g, [x], p) => [mul(g, where(cmp('gt', x, scalarLike(0, x)), scalarLike(1, x), scalarLike(p.alpha, x)))],
  },
  elu: {
    name: 'EluBackward',
    forward: unaryForward('elu', false, (p: { alpha: number }) => ({ alpha: p.alpha })),
    save: ([x], out) => [x, out],
    // for x ≤ 0: d(α(eˣ−1))/dx = αeˣ = out + α
    backward: (g, [x, out], p) => [
      mul(g, where(cmp('gt', x, scalarLike(0, x)), scalarLike(1, x), add(out, scalarLike(p.alpha, out)))),
    ],
  },
  selu: {
    name: 'SeluBackward',
    forward: unaryForward('selu', false),
    save: ([x], out) => [x, out],
    backward: (g, [x, out]) => [
      mul(g, where(cmp('gt', x, scalarLike(0, x)), scalarLike(SELU_SCALE, x), add(out, scalarLike(SELU_SCALE * SELU_ALPHA, out)))),
    ],
  },
  gelu: {
    name: 'GeluBackward',
    forward: (inputs, p) => unaryForward(p.approximate === 'tanh' ? 'geluTanh' : 'gelu', false)(inputs, p),
    save: ([x]) => [x],
    backward: (g, [x], p) => [mul(g, p.approximate === 'tanh' ? geluTanhGrad(x) : geluGrad(x))],
  },
  softplus: {
    name: 'SoftplusBackward',
    forward: unaryForward('softplus', false, (p: { beta: number; threshold: number }) => ({ beta: p.beta, threshold: p.threshold })),
    save: ([x]) => [x],
    // Above the threshold softplus is the identity (as PyTorch); below, its slope is σ(βx).
    backward: (g, [x], p) => {
      const bx = mul(x, scalarLike(p.beta, x));
      return [mul(g, where(cmp('gt', bx, scalarLike(p.threshold, x)), scalarLike(1, x), unary('sigmoid', bx)))];
    },
  },
  clamp: {
    name: 'ClampBackward',
    forward: ([x], p) => {
      let out = x;
      if (p.min !== null) out = run('maximum', [out, scalarLike(p.min, x)], none);
      if (p.max !== null) out = run('minimum', [out, scalarLike(p.max, x)], none);
      return out === x ? run('contiguous', [x], none) : out;
    },
    save: ([x]) => [x],
    // The gradient passes where min ≤ x ≤ max, bounds included (as PyTorch).
    backward: (g, [x], p) => {
      let m = g;
      if (p.min !== null) m = mul(m, cmp('ge', x, scalarLike(p.min, x)));
      if (p.max !== null) m = mul(m, cmp('le', x, scalarLike(p.max, x)));
      return [m];
    },
  },
  cast: {
    name: 'CastBackward',
    forward: ([x], p) => {
      const out = Tensor.empty(x.backend, x.shape, p.dtype, false);
      if (out.size > 0) x.backend.copy(x, out);
      return out;
    },
    backward: (g) => [g], // the engine casts gradients to each input's dtype
  },
  sum: {
    name: 'SumBackward',
    forward: reduceForward('sum'),
    backward: (g, _s, p, info) => [withKeptDims(g, info.shapes[0], p)], // broadcast back by the engine
  },
  max: {
    name: 'MaxBackward',
    forward: reduceForward('max'),
    save: ([x], out) => [x, out],
    backward: (g, saved, p) => extremumBackward(g, saved, p),
  },
  min: {
    name: 'MinBackward',
    forward: reduceForward('min'),
    save: ([x], out) => [x, out],
    backward: (g, saved, p) => extremumBackward(g, saved, p),
  },
  argmax: { name: 'argmax', forward: argForward('argmax'), backward: null },
  argmin: { name: 'argmin', forward: argForward('argmin'), backward: null },
  matmul: {
    name: 'MatmulBackward',
    forward: matmulForward,
    save: ([a, b]) => [a, b],
    // dA = G·Bᵀ and dB = Aᵀ·G, with the transposes as views (the kernel reads them in place).
    // An operand that is itself a transposed view (the weight of `x·Wᵀ`) gets its gradient
    // computed transposed, (Gᵀ·A)ᵀ, so it arrives in the layout of the tensor behind the view and
    // reaches W without a transposing copy; each element is the same dot product, bit for bit.
    backward: (g, [a, b], _p, info) => [
      info.needsGrad[0]
        ? columnMajor(a)
          ? transposeLast(run('matmul', [b, transposeLast(g)], none))
          : run('matmul', [g, transposeLast(b)], none)
        : null,
      info.needsGrad[1]
        ? columnMajor(b)
          ? transposeLast(run('matmul', [transposeLast(g), a], none))
          : run('matmul', [transposeLast(a), g], none)
        : null,
    ],
  },
  linear: {
    name: 'AddmmBackward',
    forward: linearForward,
    save: ([x, w]) => [x, w],
    // y = x·Wᵀ + b over x's rows: dx = G·W, dW = Gᵀ·x (made in W's own layout, so the parameter
    // adopts it without a transposing copy), db = Σ over the rows of G.
    backward: (g, [x, w], _p, info) => {
      const inF = w.shape[1];
      const outF = w.shape[0];
      const rows = numel(g.shape.slice(0, -1));
      const g2 = run('reshape', [g], { shape: [rows, outF] });
      return [
        info.needsGrad[0] ? run('reshape', [run('matmul', [g2, w], none)], { shape: info.shapes[0] }) : null,
        // dW is measured as it is written: clipping reads its norm without another pass.
        info.needsGrad[1] ? run('matmul', [transposeLast(g2), run('reshape', [x], { shape: [rows, inF] })], { squares: true }) : null,
        info.needsGrad[2] ? run('sum', [g2], { axes: [0], keepDims: false }) : null,
      ];
    },
  },
  crossEntropyRows: {
    name: 'CrossEntropyBackward',
    // Per row of logits [N, C] and int32 targets [N]: log Σ exp(x) − x[t], one kernel each way.
    forward: ([logits, target]) => {
      const out = Tensor.empty(logits.backend, [logits.shape[0]], logits.dtype, false);
      logits.backend.crossEntropyRows(logits, target, out.buf);
      return out;
    },
    save: ([logits, target]) => [logits, target],
    backward: (g, [logits, target]) => {
      const dx = Tensor.empty(logits.backend, logits.shape, logits.dtype, false);
      logits.backend.crossEntropyRowsBackward(logits, target, g, dx.buf);
      return [dx, null];
    },
  },
  lstmCell: {
    name: 'LstmCellBackward',
    forward: ([gates, c]) => {
      const [n, width] = gates.shape;
      const out = Tensor.empty(gates.backend, [n, width / 2], gates.dtype, false);
      withRows([gates, c], ([gv, cv]) => gates.backend.lstmCell(gv, cv, out.buf));
      return out;
    },
    save: ([gates, c], out) => [gates, c, out],
    backward: (g, [gates, c, out], _p, info) => {
      const [n, width] = gates.shape;
      const dGates = Tensor.empty(gates.backend, [n, width], gates.dtype, false);
      const dC = Tensor.empty(gates.backend, [n, width / 4], gates.dtype, false);
      withRows([gates, c, out, g], ([gv, cv, ov, dv]) => gates.backend.lstmCellBackward(gv, cv, ov, dv, dGates.buf, dC.buf));
      return [dGates, info.needsGrad[1] ? dC : (dC.dispose(), null)];
    },
  },
  reshape: {
    name: 'ReshapeBackward',
    forward: ([x], p) => {
      if (numel(p.shape) !== x.size)
        throw new ShapeError(`reshape: cannot view shape ${fmtShape(x.shape)} (${x.size} elements) as ${fmtShape(p.shape)} (${numel(p.shape)} elements)`);
      const strides = viewStrides(x.shape, x.strides, p.shape);
      if (strides !== null) return x.view(p.shape, strides, x.offset);
      const c = run('contiguous', [x], none);
      const v = c.view(p.shape, contiguousStrides(p.shape), 0);
      c.dispose();
      return v;
    },
    backward: (g, _s, _p, info) => [run('reshape', [g], { shape: info.shapes[0] })],
  },
  permute: {
    name: 'PermuteBackward',
    forward: ([x], p) =>
      x.view(
        p.dims.map((d) => x.shape[d]),
        p.dims.map((d) => x.strides[d]),
        x.offset,
      ),
    backward: (g, _s, p) => {
      const inverse = new Array<number>(p.dims.length);
      p.dims.forEach((d, i) => (inverse[d] = i));
      return [run('permute', [g], { dims: inverse })];
    },
  },
  expand: {
    name: 'ExpandBackward',
    forward: ([x], p) => {
      const v = broadcastView(x, p.shape);
      return x.view(p.shape, v.strides, x.offset);
    },
    backward: (g) => [g], // the engine sums the gradient back to the input's shape
  },
  slice: {
    name: 'SliceBackward',
    forward: ([x], p) => {
      const v = sliceView(x, p);
      return x.view(v.shape, v.strides, v.offset);
    },
    backward: (g, _s, p, info) => {
      const gx = Tensor.empty(g.backend, info.shapes[0], g.dtype);
      const dst = sliceView(gx, p);
      if (g.size > 0) g.backend.copy(g, dst);
      return [gx];
    },
  },
  contiguous: {
    name: 'CloneBackward',
    forward: ([x]) => {
      const out = Tensor.empty(x.backend, x.shape, x.dtype, false);
      if (out.size > 0) x.backend.copy(x, out);
      return out;
    },
    backward: (g) => [g],
  },
  concat: {
    name: 'CatBackward',
    forward: (inputs, p) => {
      const first = inputs[0];
      const shape = [...first.shape];
      let dtype = first.dtype;
      shape[p.axis] = 0;
      for (const t of inputs) {
        if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== p.axis && d !== first.shape[i]))
          throw new ShapeError(
            `concat: tensors must have the same shape except along axis ${p.axis} (got ${inputs.map((u) => fmtShape(u.shape)).join(', ')})`,
          );
        shape[p.axis] += t.shape[p.axis];
        dtype = promoteTypes(dtype, t.dtype);
      }
      const out = Tensor.empty(first.backend, shape, dtype, false);
      let at = 0;
      for (const t of inputs) {
        const len = t.shape[p.axis];
        if (t.size > 0) {
          const strides = contiguousStrides(shape);
          first.backend.copy(t, { buf: out.buf, shape: t.shape, strides, offset: at * strides[p.axis] });
        }
        at += len;
      }
      return out;
    },
    backward: (g, _s, p, info) => {
      let at = 0;
      return info.shapes.map((s) => {
        const starts = s.map(() => 0);
        const ends = [...s];
        starts[p.axis] = at;
        ends[p.axis] = at + s[p.axis];
        at += s[p.axis];
        return run('slice', [g], { starts, ends, steps: s.map(() => 1) });
      });
    },
  },
  gather: {
    name: 'GatherBackward',
    forward: ([x, index], p) => {
      if (index.dtype !== 'int32') throw new ConfigError(`gather: index must be an int32 tensor (got ${index.dtype})`);
      if (index.ndim !== x.ndim || index.shape.some((d, i) => i !== p.axis && d > x.shape[i]))
        throw new ShapeError(
          `gather: index ${fmtShape(index.shape)} must have the rank of the input ${fmtShape(x.shape)} and no larger size in any dimension but axis ${p.axis}`,
        );
      const out = Tensor.empty(x.backend, index.shape, x.dtype, false);
      if (out.size > 0) x.backend.gather(x, p.axis, index, out.buf);
      return out;
    },
    save: ([, index]) => [index],
    backward: (g, [index], p, info) => {
      const gx = Tensor.empty(g.backend, info.shapes[0], g.dtype);
      if (g.size > 0) g.backend.scatterAdd(gx.buf, info.shapes[0], p.axis, index, g);
      return [gx, null];
    },
  },
};

function argForward(op: 'argmax' | 'argmin') {
  return ([x]: readonly Tensor[], p: { axis: number; keepDims: boolean }): Tensor => {
    if (x.shape[p.axis] === 0) throw new ShapeError(`${op}: cannot reduce over axis ${p.axis} of size 0 (shape ${fmtShape(x.shape)})`);
    const shape = p.keepDims ? x.shape.map((d, i) => (i === p.axis ? 1 : d)) : x.shape.filter((_, i) => i !== p.axis);
    const out = Tensor.empty(x.backend, shape, 'int32', false);
    if (out.size > 0) x.backend.argReduce(op, x, p.axis, out.buf);
    return out;
  };
}

const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

/** d/dx of x·Φ(x) = Φ(x) + x·φ(x). */
function geluGrad(x: Tensor): Tensor {
  const cdf = mul(scalarLike(0.5, x), add(scalarLike(1, x), unary('erf', mul(x, scalarLike(Math.SQRT1_2, x)))));
  const pdf = mul(scalarLike(1 / Math.sqrt(2 * Math.PI), x), unary('exp', mul(mul(x, x), scalarLike(-0.5, x))));
  return add(cdf, mul(x, pdf));
}

/** d/dx of ½x(1 + tanh(k(x + 0.044715x³))), k = √(2/π). */
function geluTanhGrad(x: Tensor): Tensor {
  const k = Math.sqrt(2 / Math.PI);
  const x2 = mul(x, x);
  const t = unary('tanh', mul(scalarLike(k, x), add(x, mul(scalarLike(0.044715, x), mul(x2, x)))));
  const one = scalarLike(1, x);
  const left = mul(scalarLike(0.5, x), add(one, t));
  const dInner = mul(scalarLike(k, x), add(one, mul(scalarLike(3 * 0.044715, x), x2)));
  const right = mul(mul(scalarLike(0.5, x), x), mul(sub(one, mul(t, t)), dInner));
  return add(left, right);
}
