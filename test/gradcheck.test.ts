import { describe, expect, it } from 'vitest';
import { linear } from '../src/nn/functional.js';
import {
  DTypeError,
  Generator,
  GraphError,
  ShapeError,
  type Tensor,
  abs,
  add,
  broadcastTo,
  cast,
  clamp,
  clone,
  concat,
  contiguous,
  div,
  elu,
  enableGrad,
  erf,
  exp,
  expand,
  flatten,
  gather,
  gelu,
  gradcheck,
  indexSelect,
  isGradEnabled,
  leakyRelu,
  log,
  logSoftmax,
  logSumExp,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  narrow,
  neg,
  noGrad,
  ones,
  permute,
  pow,
  randn,
  reciprocal,
  relu,
  reshape,
  select,
  selu,
  sigmoid,
  sign,
  slice,
  softmax,
  softplus,
  sqrt,
  square,
  squeeze,
  stack,
  std,
  sub,
  sum,
  tanh,
  tensor,
  transpose,
  unsqueeze,
  variance,
  where,
  zeros,
} from '../src/index.js';

// Every primitive and public op against central finite differences in float64, through the
// exported gradcheck(): the whole Jacobian, every output element against every input element.
// Inputs come from seeded generators; points where a function is not differentiable (ties of
// max/maximum, 0 for abs/relu/sign, clamp bounds, the softplus threshold) are avoided by
// construction, never by luck.

const F64 = { dtype: 'float64', requiresGrad: true } as const;

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A float64 leaf that requires grad, filled by `draw` from a generator seeded with `seed`. */
function leaf(seed: number, shape: readonly number[], draw: (g: Generator) => number = (g) => g.nextNormal()): Tensor {
  const g = new Generator(seed);
  return tensor(Float64Array.from({ length: numel(shape) }, () => draw(g)), shape, F64);
}

/** Standard normal leaf, made by `randn` itself. */
const normal = (seed: number, shape: readonly number[]): Tensor => randn(shape, { ...F64, generator: new Generator(seed) });

/** Uniform in [lo, hi). */
const uniform = (seed: number, shape: readonly number[], lo: number, hi: number): Tensor =>
  leaf(seed, shape, (g) => lo + (hi - lo) * g.nextFloat64());

/** Normal values pushed at least `gap` away from 0 (for abs, relu, sign, the ELU family). */
const awayFromZero = (seed: number, shape: readonly number[], gap = 0.2): Tensor =>
  leaf(seed, shape, (g) => {
    const z = g.nextNormal();
    return z < 0 ? z - gap : z + gap;
  });

/** Normal values resampled until they are at least `gap` away from each of `points`. */
function awayFrom(seed: number, shape: readonly number[], points: readonly number[], scale = 1, center = 0, gap = 0.05): Tensor {
  return leaf(seed, shape, (g) => {
    for (;;) {
      const v = center + scale * g.nextNormal();
      if (points.every((p) => Math.abs(v - p) >= gap)) return v;
    }
  });
}

/**
 * A random permutation of an evenly spaced grid (step 0.3) plus noise below 0.05: all values
 * differ by more than 0.2, so max/min never meet a tie within a finite-difference step.
 */
function distinct(seed: number, shape: readonly number[]): Tensor {
  const g = new Generator(seed);
  const n = numel(shape);
  const values = Array.from({ length: n }, (_, i) => 0.3 * (i - n / 2) + 0.05 * g.nextFloat64());
  for (let i = n - 1; i > 0; i--) {
    const j = g.nextBelow(i + 1);
    [values[i], values[j]] = [values[j], values[i]];
  }
  return tensor(Float64Array.from(values), shape, F64);
}

/**
 * Values on the grid 0.4·k (`offset` 0) or 0.4·k + 0.2 (`offset` 0.2): two tensors with different
 * offsets never tie, whatever broadcasting pairs up.
 */
const grid = (seed: number, shape: readonly number[], offset: number): Tensor =>
  leaf(seed, shape, (g) => 0.4 * (g.nextBelow(11) - 5) + offset);

/** int32 indices in [0, n). */
function indices(seed: number, shape: readonly number[], n: number): Tensor {
  const g = new Generator(seed);
  return tensor(Int32Array.from({ length: numel(shape) }, () => g.nextBelow(n)), shape);
}

function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options?: Parameters<typeof gradcheck>[2]): void {
  expect(gradcheck(fn, inputs, options)).toBe(true);
}

const SHAPE = [2, 3, 4] as const;
const AXES: { name: string; axis: number | number[] | undefined }[] = [
  { name: 'axis 0', axis: 0 },
  { name: 'axis 1', axis: 1 },
  { name: 'axis 2', axis: 2 },
  { name: 'axis -1', axis: -1 },
  { name: 'axes [0, 2]', axis: [0, 2] },
  { name: 'axes [0, 1]', axis: [0, 1] },
  { name: 'axes [-1, 1]', axis: [-1, 1] },
  { name: 'axes [0, 1, 2]', axis: [0, 1, 2] },
  { name: 'all axes (undefined)', axis: undefined },
];

describe('gradcheck: unary elementwise', () => {
  const S = [3, 4];
  const cases: { name: string; fn: (x: Tensor) => Tensor; x: () => Tensor; opts?: Parameters<typeof gradcheck>[2] }[] = [
    { name: 'neg', fn: neg, x: () => normal(1, S) },
    { name: 'exp', fn: exp, x: () => normal(2, S) },
    { name: 'log', fn: log, x: () => uniform(3, S, 0.2, 3) },
    { name: 'sqrt', fn: sqrt, x: () => uniform(4, S, 0.2, 3) },
    { name: 'abs', fn: abs, x: () => awayFromZero(5, S) },
    { name: 'sign', fn: sign, x: () => awayFromZero(6, S) },
    { name: 'tanh', fn: tanh, x: () => normal(7, S) },
    { name: 'sigmoid', fn: sigmoid, x: () => normal(8, S) },
    { name: 'sigmoid (large |x|)', fn: sigmoid, x: () => awayFrom(9, S, [], 8) },
    { name: 'relu', fn: relu, x: () => awayFromZero(10, S) },
    { name: 'erf', fn: erf, x: () => normal(11, S) },
    // One value in every branch of the fdlibm kernel: |x| < 0.84375, < 1.25, < 1/0.35, < 6, ≥ 6.
    { name: 'erf (every branch of the kernel)', fn: erf, x: () => tensor([-6.5, -4, -2.2, -1.1, -0.6, -0.01, 0.3, 0.9, 1.2, 2, 3.5, 5.9], S, F64) },
    { name: 'leakyRelu (default slope)', fn: (x) => leakyRelu(x), x: () => awayFromZero(13, S) },
    { name: 'leakyRelu (slope 0.2)', fn: (x) => leakyRelu(x, 0.2), x: () => awayFromZero(14, S) },
    { name: 'elu (alpha 1)', fn: (x) => elu(x), x: () => awayFromZero(15, S) },
    { name: 'elu (alpha 0.7)', fn: (x) => elu(x, 0.7), x: () => awayFromZero(16, S) },
    { name: 'selu', fn: selu, x: () => awayFromZero(17, S) },
    { name: "gelu (approximate 'none')", fn: (x) => gelu(x), x: () => awayFrom(18, S, [], 2) },
    { name: "gelu (approximate 'tanh')", fn: (x) => gelu(x, { approximate: 'tanh' }), x: () => awayFrom(19, S, [], 2) },
    { name: 'softplus (defaults)', fn: (x) => softplus(x), x: () => awayFrom(20, S, [], 3) },
    // βx = 2x crosses the threshold 3 at x = 1.5: values on both sides, none near it.
    { name: 'softplus (beta 2, threshold 3, both sides)', fn: (x) => softplus(x, { beta: 2, threshold: 3 }), x: () => awayFrom(21, S, [1.5], 1, 1.5, 0.1) },
    // The default threshold 20: points above it (identity) and just below it.
    { name: 'softplus (above the default threshold)', fn: (x) => softplus(x), x: () => awayFrom(22, S, [20], 4, 20, 0.1) },
    { name: 'clamp (min only)', fn: (x) => clamp(x, -0.3), x: () => awayFrom(23, S, [-0.3]) },
    { name: 'clamp (max only)', fn: (x) => clamp(x, null, 0.4), x: () => awayFrom(24, S, [0.4]) },
    { name: 'clamp (min and max)', fn: (x) => clamp(x, -0.3, 0.4), x: () => awayFrom(25, S, [-0.3, 0.4]) },
    { name: 'clamp (method, max only via undefined min)', fn: (x) => x.clamp(undefined, 0.4), x: () => awayFrom(26, S, [0.4]) },
    { name: 'cast (float64 identity)', fn: (x) => cast(x, 'float64'), x: () => normal(27, S) },
    // float64 → float32 → float64 is the identity up to float32 rounding (~6e-8 at |x| ≈ 1), so
    // the step is large enough for rounding not to matter.
    { name: 'cast (float64 → float32 → float64)', fn: (x) => cast(cast(x, 'float32'), 'float64'), x: () => normal(28, S), opts: { eps: 1e-3, atol: 1e-3 } },
    { name: 'square', fn: square, x: () => normal(29, S) },
    { name: 'reciprocal', fn: reciprocal, x: () => uniform(30, S, 0.3, 2) },
    { name: 'contiguous (already contiguous)', fn: contiguous, x: () => normal(31, S) },
    { name: 'clone', fn: clone, x: () => normal(32, S) },
    { name: 'a 0-d input', fn: (x) => tanh(mul(x, x)), x: () => normal(33, []) },
  ];
  it.each(cases)('$name', ({ fn, x, opts }) => check(fn, [x()], opts));

  it('method sugar matches the functional forms', () => {
    check((x) => x.neg().exp().tanh().sigmoid().square(), [normal(40, S)]);
    check((x) => x.abs().sqrt().log(), [awayFromZero(41, S, 0.3)]);
    check((x) => x.relu().sign().add(x.relu()), [awayFromZero(42, S)]);
  });
});

describe('gradcheck: binary elementwise with broadcasting', () => {
  const PAIRS: [number[], number[]][] = [
    [[3, 4], [3, 4]],
    [[3, 1], [1, 4]],
    [[2, 3, 4], [4]],
    [[4], [2, 3, 4]],
    [[], [2, 3]],
    [[2, 3], []],
    [[2, 1, 4], [3, 1]],
    [[1, 3, 1], [2, 1, 4]],
  ];
  const OPS: { name: string; fn: (a: Tensor, b: Tensor) => Tensor; a: (s: number[]) => Tensor; b: (s: number[]) => Tensor }[] = [
    { name: 'add', fn: add, a: (s) => normal(1, s), b: (s) => normal(2, s) },
    { name: 'sub', fn: sub, a: (s) => normal(3, s), b: (s) => normal(4, s) },
    { name: 'mul', fn: mul, a: (s) => normal(5, s), b: (s) => normal(6, s) },
    { name: 'div', fn: div, a: (s) => normal(7, s), b: (s) => awayFromZero(8, s, 0.5) },
    { name: 'pow (positive base)', fn: pow, a: (s) => uniform(9, s, 0.3, 2.5), b: (s) => normal(10, s) },
    { name: 'maximum', fn: maximum, a: (s) => grid(11, s, 0), b: (s) => grid(12, s, 0.2) },
    { name: 'minimum', fn: minimum, a: (s) => grid(13, s, 0.2), b: (s) => grid(14, s, 0) },
  ];
  const cases = OPS.flatMap((op) => PAIRS.map(([sa, sb]) => ({ ...op, sa, sb, label: `${op.name} [${sa}] x [${sb}]` })));
  it.each(cases)('$label', ({ fn, a, b, sa, sb }) => check(fn, [a(sa), b(sb)]));

  it('pow with a zero base (gradient wrt the exponent is defined as 0 there)', () => {
    const a = tensor([0, 0.5, 1.5, 2], { dtype: 'float64' });
    const b = uniform(20, [4], 1.5, 3);
    check((e) => pow(a, e), [b]);
  });

  it('numbers as operands', () => {
    const x = uniform(21, [3, 4], 0.5, 2);
    check((t) => add(mul(t, 2.5), sub(1, t)), [x]);
    check((t) => add(div(1, t), div(t, 3)), [x]);
    check((t) => add(pow(t, 3), pow(2, t)), [x]);
    check((t) => t.mul(-1.5).add(0.25).sub(t.div(4)).pow(2), [x]);
  });

  it('maximum/minimum against a number', () => {
    check((t) => add(maximum(t, 0.1), minimum(0.1, t)), [grid(22, [3, 4], 0)]);
  });

  it.each([
    { label: 'cond [3, 4], a [3, 4], b [3, 4]', sc: [3, 4], sa: [3, 4], sb: [3, 4] },
    { label: 'cond [3, 1], a [1, 4], b [3, 4]', sc: [3, 1], sa: [1, 4], sb: [3, 4] },
    { label: 'cond [4], a [2, 3, 1], b []', sc: [4], sa: [2, 3, 1], sb: [] },
    { label: 'cond [2, 3, 4], a [3, 1], b [1]', sc: [2, 3, 4], sa: [3, 1], sb: [1] },
  ])('where: $label', ({ sc, sa, sb }) => {
    const cond = randn(sc, { dtype: 'float64', generator: new Generator(23) }).gt(0);
    check((a, b) => where(cond, a, b), [normal(24, sa), normal(25, sb)]);
    check((a) => where(cond, a, 0.5), [normal(26, sa)]);
    check((b) => where(cond, -2, b), [normal(27, sb)]);
  });

  it('comparisons are constants: a masked product differentiates through the product only', () => {
    check((a, b) => mul(mul(a, b), a.gt(b)), [grid(28, [3, 4], 0), grid(29, [3, 4], 0.2)]);
  });
});

describe('gradcheck: reductions over a rank-3 tensor', () => {
  const OPS: { name: string; fn: (x: Tensor, axis: number | number[] | undefined, keepDims: boolean) => Tensor }[] = [
    { name: 'sum', fn: (x, axis, keepDims) => sum(x, { axis, keepDims }) },
    { name: 'mean', fn: (x, axis, keepDims) => mean(x, { axis, keepDims }) },
    { name: 'max', fn: (x, axis, keepDims) => max(x, { axis, keepDims }) },
    { name: 'min', fn: (x, axis, keepDims) => min(x, { axis, keepDims }) },
    { name: 'variance', fn: (x, axis, keepDims) => variance(x, { axis, keepDims }) },
    { name: 'variance (correction 0)', fn: (x, axis, keepDims) => variance(x, { axis, keepDims, correction: 0 }) },
    { name: 'std', fn: (x, axis, keepDims) => std(x, { axis, keepDims }) },
    { name: 'logSumExp', fn: (x, axis, keepDims) => logSumExp(x, { axis, keepDims }) },
  ];
  const cases = OPS.flatMap((op, i) =>
    AXES.flatMap(({ name, axis }, j) =>
      [false, true].map((keepDims) => ({ ...op, axis, keepDims, seed: 100 * i + 2 * j + Number(keepDims), label: `${op.name} over ${name}, keepDims ${keepDims}` })),
    ),
  );
  // Distinct values for every op: max/min need them, and they keep std away from 0.
  it.each(cases)('$label', ({ fn, axis, keepDims, seed }) => check((x) => fn(x, axis, keepDims), [distinct(seed, SHAPE)]));

  it('methods: sum/mean/max/min/var/std', () => {
    const x = distinct(500, SHAPE);
    check((t) => t.sum({ axis: 1 }).mul(t.mean({ axis: [0, 2], keepDims: true }).sum()), [x]);
    check((t) => add(t.max({ axis: -1 }), t.min({ axis: -1 })), [x]);
    check((t) => add(t.var({ axis: 0 }), t.std({ axis: [1, 2], keepDims: true }).sum()), [x]);
  });

  it('logSumExp of large values (the shift by the maximum)', () => {
    check((t) => logSumExp(t, { axis: 1 }), [awayFrom(501, SHAPE, [], 30, 500)]);
  });
});

describe('gradcheck: matmul', () => {
  const cases: { label: string; fn: (a: Tensor, b: Tensor) => Tensor; sa: number[]; sb: number[] }[] = [
    { label: '2-D [3, 4] x [4, 5]', fn: matmul, sa: [3, 4], sb: [4, 5] },
    { label: 'batched 3-D [2, 3, 4] x [2, 4, 5]', fn: matmul, sa: [2, 3, 4], sb: [2, 4, 5] },
    { label: 'broadcast batch [2, 3, 4] x [4, 5]', fn: matmul, sa: [2, 3, 4], sb: [4, 5] },
    { label: 'broadcast batch [3, 4] x [2, 4, 5]', fn: matmul, sa: [3, 4], sb: [2, 4, 5] },
    { label: 'broadcast batch [1, 3, 4] x [2, 4, 5]', fn: matmul, sa: [1, 3, 4], sb: [2, 4, 5] },
    { label: 'broadcast batch [2, 1, 3, 4] x [3, 4, 5]', fn: matmul, sa: [2, 1, 3, 4], sb: [3, 4, 5] },
    { label: 'vector on the left [4] x [4, 5]', fn: matmul, sa: [4], sb: [4, 5] },
    { label: 'vector on the right [3, 4] x [4]', fn: matmul, sa: [3, 4], sb: [4] },
    { label: 'two vectors [4] x [4]', fn: matmul, sa: [4], sb: [4] },
    { label: 'batch times a vector [2, 3, 4] x [4]', fn: matmul, sa: [2, 3, 4], sb: [4] },
    { label: 'a vector times a batch [4] x [2, 4, 5]', fn: matmul, sa: [4], sb: [2, 4, 5] },
    { label: 'a · transpose(b): [3, 4] x transpose([5, 4])', fn: (a, b) => matmul(a, transpose(b)), sa: [3, 4], sb: [5, 4] },
    { label: 'a.T · b: [4, 3].T x [4, 5]', fn: (a, b) => matmul(a.T, b), sa: [4, 3], sb: [4, 5] },
    { label: 'a.T · b.T: [4, 3].T x [5, 4].T', fn: (a, b) => matmul(a.T, b.T), sa: [4, 3], sb: [5, 4] },
    { label: 'batched a · b.T: [2, 3, 4] x [2, 5, 4].T', fn: (a, b) => a.matmul(b.T), sa: [2, 3, 4], sb: [2, 5, 4] },
    { label: 'batched a.T · b: [2, 4, 3].T x [2, 4, 5]', fn: (a, b) => a.T.matmul(b), sa: [2, 4, 3], sb: [2, 4, 5] },
    { label: 'batched a.T · b.T: [2, 4, 3].T x [2, 5, 4].T', fn: (a, b) => matmul(a.T, b.T), sa: [2, 4, 3], sb: [2, 5, 4] },
    { label: 'broadcast batch with a transposed matrix: [2, 3, 4] x [5, 4].T', fn: (a, b) => matmul(a, b.T), sa: [2, 3, 4], sb: [5, 4] },
    { label: 'a transposed batch of rows: transpose([2, 4, 3]) x [4, 5]', fn: (a, b) => matmul(transpose(a, 1, 2), b), sa: [2, 4, 3], sb: [4, 5] },
    { label: 'permuted batch axes: permute([3, 2, 4], [1, 0, 2]) x [2, 4, 5]', fn: (a, b) => matmul(permute(a, [1, 0, 2]), b), sa: [3, 2, 4], sb: [2, 4, 5] },
    { label: 'a stepped slice (copied operand): [3, 8][:, ::2] x [4, 5]', fn: (a, b) => matmul(slice(a, [null, [0, 8, 2]]), b), sa: [3, 8], sb: [4, 5] },
    { label: 'vector times a transposed matrix [4] x [5, 4].T', fn: (a, b) => matmul(a, b.T), sa: [4], sb: [5, 4] },
    { label: 'transposed matrix times a vector [4, 3].T x [4]', fn: (a, b) => matmul(a.T, b), sa: [4, 3], sb: [4] },
    { label: '1 x 1 inner matrices [3, 1] x [1, 5]', fn: matmul, sa: [3, 1], sb: [1, 5] },
  ];
  it.each(cases)('$label', ({ fn, sa, sb }) => check(fn, [normal(1, sa), normal(2, sb)]));

  it('linear (x·Wᵀ + b as one primitive): 2-D and 3-D inputs, with and without bias, a transposed input', () => {
    check((x, w, b) => linear(x, w, b), [normal(11, [3, 4]), normal(12, [5, 4]), normal(13, [5])]);
    check((x, w) => linear(x, w), [normal(14, [2, 3, 4]), normal(15, [5, 4])]);
    check((x, w, b) => linear(x.T, w, b), [normal(16, [4, 3]), normal(17, [5, 4]), normal(18, [5])]);
    check((x, w, b) => linear(x, w.T, b), [normal(19, [3, 4]), normal(20, [4, 5]), normal(21, [5])]);
    const w = randn([5, 4], { dtype: 'float64', generator: new Generator(22) });
    check((x) => linear(x, w), [normal(23, [2, 1, 3, 4])]);
  });

  it('only one operand requires grad', () => {
    const c = randn([4, 5], { dtype: 'float64', generator: new Generator(3) });
    check((a) => matmul(a, c), [normal(4, [3, 4])]);
    check((b) => matmul(c.T, b), [normal(5, [4, 2])]);
  });
});

describe('gradcheck: shape ops', () => {
  const x3 = (seed: number): Tensor => normal(seed, SHAPE);
  const cases: { label: string; fn: (x: Tensor) => Tensor; x: () => Tensor }[] = [
    { label: 'reshape [2, 3, 4] → [6, 4]', fn: (x) => reshape(x, [6, 4]), x: () => x3(1) },
    { label: 'reshape with -1', fn: (x) => reshape(x, [4, -1]), x: () => x3(2) },
    { label: 'reshape to 1-D', fn: (x) => x.reshape([24]), x: () => x3(3) },
    { label: 'reshape [1] → [] → [1, 1]', fn: (x) => reshape(reshape(x, []), [1, 1]), x: () => normal(4, [1]) },
    { label: 'reshape of a transpose (non-contiguous)', fn: (x) => reshape(transpose(x, 0, 2), [4, 6]), x: () => x3(5) },
    { label: 'reshape of a permute, times a weight (the copy feeds another op)', fn: (x) => mul(reshape(permute(x, [2, 0, 1]), [8, 3]), reshape(x, [8, 3])), x: () => x3(6) },
    { label: 'flatten', fn: (x) => flatten(x, 1), x: () => x3(7) },
    { label: 'permute [2, 0, 1]', fn: (x) => permute(x, [2, 0, 1]), x: () => x3(8) },
    { label: 'permute with negative dims', fn: (x) => x.permute([-1, -3, -2]), x: () => x3(9) },
    { label: 'transpose(x, 0, 2)', fn: (x) => transpose(x, 0, 2), x: () => x3(10) },
    { label: 'transpose (default: last two)', fn: (x) => transpose(x), x: () => x3(11) },
    { label: 'x.T', fn: (x) => x.T, x: () => normal(12, [3, 4]) },
    { label: 'expand [3, 1] → [2, 3, 4]', fn: (x) => expand(x, [2, 3, 4]), x: () => normal(13, [3, 1]) },
    { label: 'expand with -1', fn: (x) => x.expand([3, -1]), x: () => normal(14, [1, 4]) },
    { label: 'expand of a 0-d tensor', fn: (x) => expand(x, [2, 3]), x: () => normal(15, []) },
    { label: 'broadcastTo [3, 1] → [2, 3, 4]', fn: (x) => broadcastTo(x, [2, 3, 4]), x: () => normal(16, [3, 1]) },
    { label: 'broadcastTo [4] → [3, 4]', fn: (x) => broadcastTo(x, [3, 4]), x: () => normal(17, [4]) },
    { label: 'unsqueeze 0', fn: (x) => unsqueeze(x, 0), x: () => x3(18) },
    { label: 'unsqueeze -1', fn: (x) => x.unsqueeze(-1), x: () => x3(19) },
    { label: 'unsqueeze 1', fn: (x) => unsqueeze(x, 1), x: () => x3(20) },
    { label: 'squeeze (all)', fn: (x) => squeeze(x), x: () => normal(21, [2, 1, 3, 1]) },
    { label: 'squeeze one axis', fn: (x) => x.squeeze(-1), x: () => normal(22, [2, 1, 3, 1]) },
    { label: 'squeeze a list of axes', fn: (x) => squeeze(x, [1, 3]), x: () => normal(23, [2, 1, 3, 1]) },
    { label: 'slice with ranges and steps', fn: (x) => slice(x, [[0, 2], null, [1, 4, 2]]), x: () => x3(24) },
    { label: 'slice with negative starts/ends', fn: (x) => slice(x, [null, [-2], [-3, -1]]), x: () => x3(25) },
    { label: 'slice with integer selection', fn: (x) => slice(x, [1, null, -2]), x: () => x3(26) },
    { label: 'slice with steps 3 and a negative index', fn: (x) => x.slice([-1, [0, 3, 2], [0, 4, 3]]), x: () => x3(27) },
    { label: 'slice of a transpose', fn: (x) => slice(transpose(x, 0, 2), [[1, 3], 0]), x: () => x3(28) },
    { label: 'narrow', fn: (x) => narrow(x, 1, 1, 2), x: () => x3(29) },
    { label: 'narrow on the last axis', fn: (x) => narrow(x, -1, 0, 3), x: () => x3(30) },
    { label: 'select', fn: (x) => select(x, 0, 1), x: () => x3(31) },
    { label: 'select with negative axis and index', fn: (x) => select(x, -1, -1), x: () => x3(32) },
    { label: 'contiguous of a transpose', fn: (x) => contiguous(transpose(x, 0, 1)), x: () => x3(33) },
    { label: 'clone of a slice', fn: (x) => x.slice([null, [0, 3, 2]]).clone(), x: () => x3(34) },
    { label: 'a view used twice (x + x.T)', fn: (x) => add(x, x.T), x: () => normal(35, [4, 4]) },
    // Many slices of one computed tensor (a recurrent layer's time steps): backward adds each
    // slice's gradient into one accumulator in place, overlapping slices included.
    {
      label: 'many selects, overlapping narrows and a strided slice of one computed tensor',
      fn: (x) => {
        const y = tanh(x);
        const parts = [0, 1, 2].map((t) => mul(select(y, 0, t), t + 1));
        parts.push(narrow(y, 0, 0, 2).sum({ axis: 0 }), narrow(y, 0, 1, 2).sum({ axis: 0 }), select(y, 0, 1), slice(y, [[0, 3, 2]]).sum({ axis: 0 }));
        return stack(parts.map((p) => p.exp()));
      },
      x: () => normal(36, [4, 3]),
    },
  ];
  it.each(cases)('$label', ({ fn, x }) => check(fn, [x()]));

  it.each([0, 1, 2, -1])('concat of 3 inputs along axis %i', (axis) => {
    const a = normalizeAxis(axis);
    const shapes = [2, 1, 3].map((n) => SHAPE.map((d, i) => (i === a ? n : d)));
    check((p, q, r) => concat([p, q, r], axis), shapes.map((s, i) => normal(40 + i, s)));
  });

  it.each([0, 1, 2, 3, -1])('stack of 3 inputs along axis %i', (axis) => {
    check((p, q, r) => stack([p, q, r], axis), [0, 1, 2].map((i) => normal(50 + i, SHAPE)));
  });

  it.each([0, 1, 2, -1])('gather along axis %i (repeated indices accumulate)', (axis) => {
    const a = normalizeAxis(axis);
    // The index is as long as the axis plus two along it (so some entries repeat), and smaller
    // than the input in the other dimensions.
    const ishape = SHAPE.map((d, i) => (i === a ? d + 2 : Math.max(1, d - 1)));
    const idx = indices(60 + a, ishape, SHAPE[a]);
    check((x) => gather(x, axis, idx), [normal(70 + a, SHAPE)]);
  });

  it.each([0, 1, 2, -1])('indexSelect along axis %i (with a repeated index)', (axis) => {
    const a = normalizeAxis(axis);
    const picks = tensor(Int32Array.from([SHAPE[a] - 1, 0, SHAPE[a] - 1, 1]), [4]);
    check((x) => indexSelect(x, axis, picks), [normal(80 + a, SHAPE)]);
  });

  it('gather with the input used again (the scattered gradient adds to another path)', () => {
    const idx = indices(90, [2, 3, 4], 3);
    check((x) => add(gather(x, 1, idx), mul(x, x)), [normal(91, SHAPE)]);
  });
});

function normalizeAxis(axis: number): number {
  return axis < 0 ? axis + SHAPE.length : axis;
}

describe('gradcheck: softmax and logSoftmax', () => {
  const cases = [0, 1, 2, -1].flatMap((axis) => [
    { label: `softmax over axis ${axis}`, fn: (x: Tensor) => softmax(x, axis) },
    { label: `logSoftmax over axis ${axis}`, fn: (x: Tensor) => logSoftmax(x, axis) },
  ]);
  it.each(cases)('$label', ({ fn }) => check(fn, [normal(1, SHAPE)]));

  it('default axis and method sugar', () => {
    check((x) => x.softmax(), [normal(2, [3, 4])]);
    check((x) => x.logSoftmax(0), [normal(3, [3, 4])]);
  });

  it('large logits (the max shift)', () => {
    check((x) => softmax(x, 1), [awayFrom(4, [3, 4], [], 3, 300)]);
    check((x) => logSoftmax(x, 1), [awayFrom(5, [3, 4], [], 3, -300)]);
  });

  it('a loss: cross-entropy from logSoftmax and gather', () => {
    const target = tensor(Int32Array.from([2, 0, 3]), [3, 1]);
    check((x) => neg(mean(gather(logSoftmax(x, 1), 1, target))), [normal(6, [3, 4])]);
  });
});

describe('gradcheck: graphs that reuse values', () => {
  it('one value feeding several paths (a diamond)', () => {
    check((x) => {
      const e = exp(x);
      return mul(add(mul(x, e), add(x, e)), tanh(e));
    }, [normal(1, [3])]);
  });

  it('a leaf that receives a fresh gradient before an intermediate that shares it has run', () => {
    // (x·eˣ + (x + eˣ))·c: the inner add hands the same gradient to x and to eˣ; x's second
    // contribution (from x·eˣ) arrives before eˣ's node runs and must not change that gradient.
    const c = tensor([2, 3, -1], { dtype: 'float64' });
    check((x) => {
      const e = exp(x);
      return mul(c, add(mul(x, e), add(x, e)));
    }, [normal(2, [3])]);
  });

  it('a two-layer network with a loss', () => {
    const xIn = randn([5, 3], { dtype: 'float64', generator: new Generator(3) });
    check(
      (w1, b1, w2) => mean(square(matmul(tanh(add(matmul(xIn, w1), b1)), w2))),
      [normal(4, [3, 4]), normal(5, [4]), normal(6, [4, 2])],
    );
  });
});

describe('autograd engine', () => {
  const vec = (seed: number): Tensor => normal(seed, [3]);
  const values = (t: Tensor): number[] => Array.from(t.toTypedArray());

  it('gradients accumulate across two backward calls', () => {
    const x = vec(1);
    mul(x, x).sum().backward();
    const first = values(x.grad!);
    expect(first).toEqual(values(x).map((v) => 2 * v));
    mul(x, x).sum().backward();
    expect(values(x.grad!)).toEqual(first.map((v) => 2 * v));
  });

  it('backward through a released graph throws a GraphError that mentions retainGraph', () => {
    const x = vec(2);
    const y = exp(x).sum();
    y.backward();
    expect(() => y.backward()).toThrow(GraphError);
    expect(() => y.backward()).toThrow(/retainGraph/);
  });

  it('retainGraph: true allows a second call (and the gradient doubles)', () => {
    const x = vec(3);
    const y = mul(exp(x), x).sum();
    y.backward(undefined, { retainGraph: true });
    const first = values(x.grad!);
    y.backward();
    expect(values(x.grad!)).toEqual(first.map((v) => 2 * v));
    expect(() => y.backward()).toThrow(/retainGraph/);
  });

  it('noGrad results have no gradFn; enableGrad records again inside it', () => {
    const x = vec(4);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return mul(exp(x), 2);
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.gradFn).toBeNull();
    expect(y.requiresGrad).toBe(false);
    expect(y.isLeaf).toBe(true);
    expect(() => y.sum().backward()).toThrow(GraphError);
    const z = noGrad(() => enableGrad(() => mul(x, 2)));
    expect(z.gradFn?.name).toBe('MulBackward');
  });

  it('detach stops gradients', () => {
    const x = vec(5);
    const d = x.detach();
    expect(d.gradFn).toBeNull();
    expect(d.requiresGrad).toBe(false);
    mul(x, d).sum().backward(); // d/dx of x·const is the constant, not 2x
    expect(values(x.grad!)).toEqual(values(x));
    const y = exp(x);
    const stopped = add(y.detach(), x).sum();
    x.grad = null;
    stopped.backward();
    expect(values(x.grad!)).toEqual([1, 1, 1]);
  });

  it('int32 tensors cannot require gradients', () => {
    expect(() => tensor([1, 2], { dtype: 'int32', requiresGrad: true })).toThrow(DTypeError);
    expect(() => zeros([2], { dtype: 'int32' }).requiresGrad_()).toThrow(DTypeError);
    const i = tensor(Int32Array.from([1, 2]));
    expect(() => {
      i.requiresGrad = true;
    }).toThrow(/only floating-point tensors/);
  });

  it('non-scalar backward without a gradient throws; with one of the right shape it works', () => {
    const x = vec(6);
    const y = mul(x, 3);
    expect(() => y.backward()).toThrow(GraphError);
    expect(() => y.backward()).toThrow(/shape is \[3\]/);
    expect(() => y.backward(ones([2], { dtype: 'float64' }))).toThrow(ShapeError);
    y.backward(tensor([1, 2, 3], { dtype: 'float64' }));
    expect(values(x.grad!)).toEqual([3, 6, 9]);
  });

  it("the caller's gradient tensor is never adopted or changed", () => {
    const x = vec(7);
    const gout = tensor([1, 2, 3], { dtype: 'float64' });
    const y = add(x, 0);
    y.backward(gout, { retainGraph: true });
    expect(x.grad).not.toBe(gout);
    y.backward(gout);
    expect(values(gout)).toEqual([1, 2, 3]);
    expect(values(x.grad!)).toEqual([2, 4, 6]);
  });

  it('retainGrad keeps the gradient of a non-leaf', () => {
    const x = vec(8);
    const h = mul(x, 2).retainGrad();
    const y = mul(h, h).sum();
    y.backward();
    expect(h.grad).not.toBeNull();
    expect(values(h.grad!)).toEqual(values(h).map((v) => 2 * v));
    expect(values(x.grad!)).toEqual(values(h).map((v) => 4 * v));
  });

  it('a scalar leaf can be the root', () => {
    const x = normal(9, []);
    x.backward();
    expect(x.grad!.item()).toBe(1);
  });

  it('matmul names both shapes and the rule when inner dimensions differ', () => {
    const a = zeros([32, 784]);
    const b = zeros([128, 10]);
    expect(() => matmul(a, b)).toThrow(ShapeError);
    expect(() => matmul(a, b)).toThrow(
      new ShapeError('matmul: inner dimensions differ: a is [32, 784], b is [128, 10] (a.shape[1] must equal b.shape[0])'),
    );
    let message = '';
    try {
      a.matmul(b);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('matmul: inner dimensions differ: a is [32, 784], b is [128, 10] (a.shape[1] must equal b.shape[0])');
  });

  it('gradcheck itself rejects what it cannot check, and reports a wrong gradient', () => {
    expect(() => gradcheck((x) => x, [randn([2], { requiresGrad: true })])).toThrow(DTypeError);
    const x = normal(10, [2, 3]);
    expect(() => gradcheck((t) => t, [x.T.contiguous().detach().requiresGrad_().T])).toThrow(/contiguous/);
    // A function whose gradient is wrong on purpose: the value of x·x with the gradient of x (via detach).
    expect(() => gradcheck((t) => mul(t, t.detach()), [x])).toThrow(GraphError);
  });
});
