import { describe, expect, it } from 'vitest';
import { type BinaryOp, type UnaryOp, type View } from '../src/backend/backend.js';
import { JsBuffer, jsBackend as js } from '../src/backend/js/js-backend.js';
import { coalesce, forEachRow } from '../src/backend/js/strided.js';
import { DTYPES, type DType, type TypedArray, makeTypedArray } from '../src/core/dtype.js';
import { ConfigError, DTypeError, DisposedError, KeelError, ShapeError } from '../src/core/errors.js';
import { rng } from './helpers/rng.js';

/**
 * The reference backend against naive float64 loops written here: every kernel on contiguous,
 * transposed, broadcast (stride 0) and sliced (offset) views, in every dtype. Operands are built
 * as physical buffers plus a view, and the expected values are computed from the *logical* values
 * read back through the view with plain index arithmetic, independent of the kernels' iterator.
 */

// ---------------------------------------------------------------------------------------------
// Helpers: deterministic data, views of every layout, naive indexing, comparison.

function numel(shape: readonly number[]): number {
  return shape.reduce((p, n) => p * n, 1);
}

function rowMajor(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** Every multi-index of `shape`, in row-major order. */
function indices(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  const idx = shape.map(() => 0);
  if (numel(shape) === 0) return out;
  for (;;) {
    out.push(idx.slice());
    let d = shape.length - 1;
    while (d >= 0 && ++idx[d] === shape[d]) idx[d--] = 0;
    if (d < 0) return out;
  }
}

function at(view: View, idx: readonly number[]): number {
  return idx.reduce((p, i, d) => p + i * view.strides[d], view.offset);
}

type Layout = 'contiguous' | 'transposed' | 'broadcast' | 'scalar' | 'sliced';
const LAYOUTS: Layout[] = ['contiguous', 'transposed', 'broadcast', 'scalar', 'sliced'];

interface Operand {
  view: View;
  /** Logical values in row-major order, as stored (already converted to the dtype). */
  values: number[];
}

/** Values for a dtype: floats in [-3, 3), small integers for int32 (so ties and zeros occur). */
function sample(dtype: DType, r: () => number): number {
  return dtype === 'int32' ? Math.floor(r() * 11) - 5 : r() * 6 - 3;
}

/**
 * A view of `shape` in the given layout over a fresh buffer of random values.
 * transposed: stored with reversed dimensions. broadcast: every even dimension has stride 0.
 * scalar: one element, every stride 0. sliced: a window starting at 1 in a buffer 2 larger per dim.
 */
function operand(
  dtype: DType,
  shape: readonly number[],
  layout: Layout,
  seed: number,
  gen: (r: () => number) => number = (r) => sample(dtype, r),
): Operand {
  let phys: number[];
  let strides: number[];
  let offset = 0;
  switch (layout) {
    case 'contiguous':
      phys = [...shape];
      strides = rowMajor(phys);
      break;
    case 'transposed':
      phys = [...shape].reverse();
      strides = rowMajor(phys).reverse();
      break;
    case 'broadcast':
      phys = shape.map((n, d) => (d % 2 === 0 ? 1 : n));
      strides = rowMajor(phys).map((s, d) => (d % 2 === 0 ? 0 : s));
      break;
    case 'scalar':
      phys = [];
      strides = shape.map(() => 0);
      break;
    case 'sliced':
      phys = shape.map((n) => n + 2);
      strides = rowMajor(phys);
      offset = strides.reduce((p, s) => p + s, 0);
      break;
    default:
      throw new Error(layout satisfies never);
  }
  const buf = js.alloc(dtype, numel(phys));
  const r = rng(seed);
  js.write(buf, Array.from({ length: numel(phys) }, () => gen(r)));
  const view: View = { buf, shape, strides, offset };
  const stored = js.read(buf);
  return { view, values: indices(shape).map((idx) => stored[at(view, idx)]) };
}

function contiguousView(buf: JsBuffer, shape: readonly number[]): View {
  return { buf, shape, strides: rowMajor(shape), offset: 0 };
}

function view(buf: JsBuffer, shape: number[], strides: number[], offset = 0): View {
  return { buf, shape, strides, offset };
}

/** `values` converted to `dtype` the way a typed-array store converts them. */
function stored(dtype: DType, values: readonly number[]): TypedArray {
  const a = makeTypedArray(dtype, values.length);
  a.set(values);
  return a;
}

/**
 * Element-wise comparison with NaN equal to NaN. `tol` is relative to max(1, |expected|); 0 means
 * exact (where the kernel and the reference do the same float64 arithmetic in the same order).
 */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 0, what = ''): void {
  expect(got.length, `${what} length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const ok = (g !== g && w !== w) || g === w || Math.abs(g - w) <= tol * Math.max(1, Math.abs(w));
    if (!ok) expect.fail(`${what} element ${i}: got ${g}, expected ${w} (tolerance ${tol})`);
  }
}

/** Tolerance for a reference that computes the same function by a different float64 formula. */
function formulaTol(dtype: DType): number {
  return dtype === 'float64' ? 1e-12 : dtype === 'float32' ? 3e-7 : 0;
}

/** erf by its everywhere-positive series 2/√π·e^{-x²}·Σ 2ⁿx^{2n+1}/(2n+1)!!: no cancellation. */
function erfSeries(x: number): number {
  const ax = Math.abs(x);
  let term = ax;
  let sum = ax;
  for (let n = 1; term > 1e-18 * sum; n++) {
    term *= (2 * ax * ax) / (2 * n + 1);
    sum += term;
  }
  const r = (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum;
  return x < 0 ? -r : r;
}

const SHAPE = [3, 4, 5];

// ---------------------------------------------------------------------------------------------

describe('js backend: strided iteration', () => {
  it('merges dimensions every operand walks uniformly, and only those', () => {
    // Contiguous plus a broadcast scalar: one row.
    expect(coalesce([3, 4, 5], [[20, 5, 1], [0, 0, 0]])).toEqual({ shape: [60], strides: [[1], [0]] });
    // A row broadcast over rows: the broadcast dimension cannot merge with the contiguous one.
    expect(coalesce([3, 4, 5], [[20, 5, 1], [0, 5, 1]])).toEqual({ shape: [3, 20], strides: [[20, 1], [0, 1]] });
    // Size-1 dimensions vanish whatever their stride; equal but overlapping strides do not merge.
    expect(coalesce([1, 4, 1, 2], [[99, 2, 7, 1]])).toEqual({ shape: [8], strides: [[1]] });
    expect(coalesce([3, 4], [[1, 1]])).toEqual({ shape: [3, 4], strides: [[1, 1]] });
    expect(coalesce([], [[]])).toEqual({ shape: [], strides: [[]] });
  });

  it('visits every element once, in row-major order, for any strides', () => {
    const shape = [2, 3, 4];
    const strides = [[1, 2, 6], [12, 4, 1], [0, 4, 1]];
    const offsets = [5, 0, 1];
    const seen: number[][] = [];
    forEachRow(shape, strides, offsets, (start, n, step) => {
      for (let j = 0; j < n; j++) seen.push(start.map((s, k) => s + j * step[k]));
    });
    const want = indices(shape).map((idx) =>
      strides.map((st, k) => idx.reduce((p, i, d) => p + i * st[d], offsets[k])),
    );
    expect(seen).toEqual(want);
    let calls = 0;
    forEachRow([2, 0, 3], [[0, 3, 1]], [0], () => calls++);
    forEachRow([], [[]], [7], (start, n) => expect([start[0], n]).toEqual([7, 1]));
    expect(calls).toBe(0);
  });
});

describe('js backend: memory', () => {
  it('allocates zero-filled typed arrays of the dtype', () => {
    for (const dtype of DTYPES) {
      const buf = js.alloc(dtype, 5);
      expect(buf).toBeInstanceOf(JsBuffer);
      expect(buf.dtype).toBe(dtype);
      expect(buf.size).toBe(5);
      expect(js.read(buf)).toEqual(makeTypedArray(dtype, 5));
    }
    expect(js.alloc('float32', 0).size).toBe(0);
    expect(() => js.alloc('float32', -1)).toThrow(ConfigError);
    expect(() => js.alloc('float32', 1.5)).toThrow(ConfigError);
  });

  it('write converts through the store and read returns a copy of a range', () => {
    const values = [1.5, -1.5, 2.7, -2.7, NaN, 3e9, 0.1];
    const f32 = js.alloc('float32', 7);
    const i32 = js.alloc('int32', 7);
    const f64 = js.alloc('float64', 7);
    js.write(f32, values);
    js.write(i32, values);
    js.write(f64, new Float32Array(values));
    expect(js.read(f32)).toEqual(Float32Array.from(values));
    // int32 truncates toward zero, NaN stores as 0, and values wrap modulo 2^32 (3e9 - 2^32).
    expect(Array.from(js.read(i32))).toEqual([1, -1, 2, -2, 0, 3e9 - 2 ** 32, 0]);
    expect(js.read(f64)).toBeInstanceOf(Float64Array);
    expect(js.read(f64)[6]).toBe(Math.fround(0.1));

    const part = js.read(f32, 2, 3);
    expect(Array.from(part)).toEqual([Math.fround(2.7), Math.fround(-2.7), NaN]);
    expect(Array.from(js.read(f32, 5))).toEqual([3e9, Math.fround(0.1)]);
    part[0] = 42; // a copy: the buffer is unchanged
    expect(js.read(f32, 2, 1)[0]).toBe(Math.fround(2.7));

    js.write(f32, [9, 8], 5);
    expect(Array.from(js.read(f32, 4))).toEqual([NaN, 9, 8]);
  });

  it('rejects ranges outside the buffer', () => {
    const buf = js.alloc('float32', 4);
    expect(() => js.read(buf, 3, 2)).toThrow(ConfigError);
    expect(() => js.read(buf, -1)).toThrow(ConfigError);
    expect(() => js.read(buf, 5)).toThrow(/read: start 5/);
    expect(() => js.write(buf, [1, 2, 3], 2)).toThrow(/write/);
    expect(js.read(buf, 4).length).toBe(0);
  });

  it('fill sets every element, converting to the dtype', () => {
    const buf = js.alloc('int32', 3);
    js.fill(buf, -2.9);
    expect(Array.from(js.read(buf))).toEqual([-2, -2, -2]);
    const f = js.alloc('float32', 2);
    js.fill(f, 0.1);
    expect(Array.from(js.read(f))).toEqual([Math.fround(0.1), Math.fround(0.1)]);
  });

  it('a freed buffer raises DisposedError naming the kernel, including a second free', () => {
    const buf = js.alloc('float32', 4);
    const out = js.alloc('float32', 4);
    js.free(buf);
    expect(buf.data).toBeNull();
    expect(() => js.read(buf)).toThrow(DisposedError);
    expect(() => js.read(buf)).toThrow(/^read: /);
    expect(() => js.write(buf, [1])).toThrow(/^write: /);
    expect(() => js.unary('exp', contiguousView(buf, [4]), out)).toThrow(/^exp: x .*freed/);
    expect(() => js.binary('add', contiguousView(out, [4]), contiguousView(buf, [4]), out)).toThrow(/^add: b /);
    expect(() => js.matmul(contiguousView(buf, [1, 2, 2]), contiguousView(out, [1, 2, 2]), out)).toThrow(
      DisposedError,
    );
    expect(() => js.unary('exp', contiguousView(out, [4]), buf)).toThrow(/^exp: out /);
    expect(() => js.free(buf)).toThrow(DisposedError);
  });

  it('rejects buffers of another backend, views outside their buffer, and short outputs', () => {
    const foreign = { dtype: 'float32' as const, size: 4 };
    const buf = js.alloc('float32', 6);
    expect(() => js.read(foreign)).toThrow(ConfigError);
    const out = js.alloc('float32', 6);
    expect(() => js.unary('neg', view(buf, [2, 3], [3, 1], 1), out)).toThrow(ShapeError);
    expect(() => js.unary('neg', view(buf, [2, 3], [4, 1]), out)).toThrow(/neg: x view .* reaches elements 0 to 6/);
    expect(() => js.unary('neg', contiguousView(buf, [2, 3]), js.alloc('float32', 5))).toThrow(/neg: out has 5/);
    expect(() => js.binary('add', contiguousView(buf, [2, 3]), contiguousView(buf, [3, 2]), buf)).toThrow(ShapeError);
    // An empty view is valid wherever it points.
    expect(() => js.unary('neg', view(buf, [0, 3], [3, 1], 99), js.alloc('float32', 0))).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------

/** Naive float64 definitions, written independently of src/backend/js/math.ts where it matters. */
const UNARY_REF: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  sqrt: (x) => Math.sqrt(x),
  abs: (x) => (x < 0 ? -x : x),
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  tanh: (x) => (Math.exp(2 * x) - 1) / (Math.exp(2 * x) + 1),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (Number.isNaN(x) ? x : Math.max(x, 0)),
  erf: erfSeries,
  leakyRelu: (x) => (x > 0 ? x : 0.01 * x),
  elu: (x) => (x > 0 ? x : Math.exp(x) - 1),
  selu: (x) => 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (Math.exp(x) - 1)),
  gelu: (x) => 0.5 * x * (1 + erfSeries(x / Math.SQRT2)),
  geluTanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  softplus: (x) => (x > 20 ? x : Math.log(1 + Math.exp(x))),
};
const UNARY_OPS = Object.keys(UNARY_REF) as UnaryOp[];

describe('js backend: unary', () => {
  it.each(UNARY_OPS)('%s matches the float64 reference on every layout and dtype', (op) => {
    for (const dtype of DTYPES)
      for (const layout of LAYOUTS) {
        const x = operand(dtype, SHAPE, layout, 1);
        const out = js.alloc(dtype, numel(SHAPE));
        js.unary(op, x.view, out);
        const want = stored(dtype, x.values.map(UNARY_REF[op]));
        expectClose(js.read(out), want, formulaTol(dtype), `${op} ${dtype} ${layout}`);
      }
  });

  it('converts to the output dtype and works on rank 0 and empty tensors', () => {
    const x = operand('float64', SHAPE, 'transposed', 2);
    const out = js.alloc('float32', numel(SHAPE));
    js.unary('exp', x.view, out);
    expectClose(js.read(out), stored('float32', x.values.map(Math.exp)), 0);

    const s = js.alloc('float32', 1);
    js.write(s, [-4]);
    const so = js.alloc('int32', 1);
    js.unary('abs', view(s, [], []), so);
    expect(Array.from(js.read(so))).toEqual([4]);

    js.unary('abs', view(s, [3, 0], [0, 0]), js.alloc('float32', 0));
  });

  it('runs in place on a contiguous input', () => {
    const x = operand('float32', SHAPE, 'contiguous', 3);
    js.unary('sigmoid', x.view, x.view.buf);
    expectClose(js.read(x.view.buf), stored('float32', x.values.map(UNARY_REF.sigmoid)), 3e-7);
  });

  it('follows PyTorch on special values', () => {
    const run = (op: UnaryOp, xs: number[], params?: { alpha?: number; beta?: number; threshold?: number }) => {
      const x = js.alloc('float64', xs.length);
      js.write(x, xs);
      const out = js.alloc('float64', xs.length);
      js.unary(op, contiguousView(x, [xs.length]), out, params);
      return Array.from(js.read(out));
    };
    expect(run('sign', [0, -0, NaN, -2, 3])).toEqual([0, -0, NaN, -1, 1]);
    expect(run('relu', [NaN, -1, 0, 2, -Infinity])).toEqual([NaN, 0, 0, 2, 0]);
    expect(run('sigmoid', [-800, 800, 0, NaN])).toEqual([0, 1, 0.5, NaN]);
    expect(run('softplus', [30, -800, 20, 0])).toEqual([30, 0, Math.log1p(Math.exp(20)), Math.LN2]);
    expect(run('softplus', [6, 4], { beta: 2, threshold: 10 })).toEqual([6, Math.log1p(Math.exp(8)) / 2]);
    expect(run('leakyRelu', [-2, 3], { alpha: 0.2 })).toEqual([-0.4, 3]);
    expect(run('elu', [-1e-10, 2], { alpha: 2 })).toEqual([2 * Math.expm1(-1e-10), 2]);
    expect(run('elu', [-1e-10])[0]).not.toBe(Math.exp(-1e-10) - 1); // expm1, not exp - 1
    expect(run('selu', [0, 1])).toEqual([0, 1.0507009873554805]);
    expect(run('tanh', [Infinity, -Infinity, NaN])).toEqual([1, -1, NaN]);
    expect(run('erf', [0, -0, Infinity, -Infinity, NaN])).toEqual([0, -0, 1, -1, NaN]);
    expect(run('gelu', [0, -40, 40])).toEqual([0, -0, 40]);
    expect(run('geluTanh', [0, 40])).toEqual([0, 40]);
  });

  it('erf agrees with high-precision values to about 1e-16 relative', () => {
    // mpmath.erf at 50 digits, rounded to float64; the points cover every branch of fdlibm's s_erf.
    const table: [number, number][] = [
      [1e-300, 1.1283791670955126e-300],
      [1e-20, 1.1283791670955125e-20],
      [3.7e-9, 4.1750029182533965e-9],
      [0.1, 0.1124629160182849],
      [0.3, 0.3286267594591274],
      [0.5, 0.5204998778130465],
      [0.8, 0.7421009647076605],
      [0.84375, 0.7672256612323416],
      [0.9, 0.7969082124228322],
      [1.0, 0.8427007929497149],
      [1.2, 0.9103139782296353],
      [1.25, 0.9229001282564583],
      [1.5, 0.9661051464753108],
      [2.0, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [2.857, 0.9999466417399131],
      [2.86, 0.9999475988269556],
      [3.0, 0.9999779095030014],
      [4.0, 0.9999999845827421],
      [5.0, 0.9999999999984626],
      [5.9, 0.9999999999999999],
      [6.0, 1.0],
      [10.0, 1.0],
    ];
    const xs = table.flatMap(([x]) => [x, -x]);
    const x = js.alloc('float64', xs.length);
    js.write(x, xs);
    const out = js.alloc('float64', xs.length);
    js.unary('erf', contiguousView(x, [xs.length]), out);
    const got = js.read(out);
    table.forEach(([x0, want], i) => {
      expect(Math.abs(got[2 * i] - want), `erf(${x0})`).toBeLessThanOrEqual(2.3e-16 * want);
      expect(got[2 * i + 1], `erf(-${x0})`).toBe(-got[2 * i]);
    });
  });
});

// ---------------------------------------------------------------------------------------------

const BINARY_REF: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  maximum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b),
  minimum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b),
  gt: (a, b) => Number(a > b),
  ge: (a, b) => Number(a >= b),
  lt: (a, b) => Number(a < b),
  le: (a, b) => Number(a <= b),
  eq: (a, b) => Number(a === b),
  ne: (a, b) => Number(a !== b),
};
const BINARY_OPS = Object.keys(BINARY_REF) as BinaryOp[];

/** Layout pairs: both contiguous (one row), scalar broadcast on either side, and mixed strides. */
const PAIRS: [Layout, Layout][] = [
  ['contiguous', 'contiguous'],
  ['contiguous', 'scalar'],
  ['scalar', 'transposed'],
  ['transposed', 'broadcast'],
  ['sliced', 'contiguous'],
  ['broadcast', 'sliced'],
  ['transposed', 'transposed'],
];

describe('js backend: binary', () => {
  it.each(BINARY_OPS)('%s matches the float64 reference on every layout pair and dtype', (op) => {
    for (const dtype of DTYPES)
      for (const [la, lb] of PAIRS) {
        const a = operand(dtype, SHAPE, la, 11);
        const b = operand(dtype, SHAPE, lb, 12);
        const out = js.alloc(dtype, numel(SHAPE));
        js.binary(op, a.view, b.view, out);
        const want = stored(
          dtype,
          a.values.map((x, i) => BINARY_REF[op](x, b.values[i])),
        );
        expectClose(js.read(out), want, 0, `${op} ${dtype} ${la}/${lb}`);
      }
  });

  it('mixes input dtypes and converts to the output dtype', () => {
    const a = operand('int32', SHAPE, 'sliced', 13);
    const b = operand('float64', SHAPE, 'transposed', 14);
    const out = js.alloc('float32', numel(SHAPE));
    js.binary('mul', a.view, b.view, out);
    expectClose(js.read(out), stored('float32', a.values.map((x, i) => x * b.values[i])), 0);
  });

  it('int32 div truncates toward zero and stores x/0 as 0', () => {
    const a = js.alloc('int32', 5);
    const b = js.alloc('int32', 5);
    js.write(a, [7, -7, 1, 0, -9]);
    js.write(b, [2, 2, 0, 0, 4]);
    const out = js.alloc('int32', 5);
    js.binary('div', contiguousView(a, [5]), contiguousView(b, [5]), out);
    expect(Array.from(js.read(out))).toEqual([3, -3, 0, 0, -2]);
  });

  it('maximum and minimum propagate NaN; comparisons with NaN are false except ne', () => {
    const a = js.alloc('float32', 3);
    const b = js.alloc('float32', 3);
    js.write(a, [NaN, 1, 2]);
    js.write(b, [1, NaN, -1]);
    const run = (op: BinaryOp) => {
      const out = js.alloc('float32', 3);
      js.binary(op, contiguousView(a, [3]), contiguousView(b, [3]), out);
      return Array.from(js.read(out));
    };
    expect(run('maximum')).toEqual([NaN, NaN, 2]);
    expect(run('minimum')).toEqual([NaN, NaN, -1]);
    expect(run('gt')).toEqual([0, 0, 1]);
    expect(run('eq')).toEqual([0, 0, 0]);
    expect(run('ne')).toEqual([1, 1, 1]);
  });

  it('updates in place when out is a contiguous input (either operand)', () => {
    const a = operand('float64', SHAPE, 'contiguous', 15);
    const b = operand('float64', SHAPE, 'transposed', 16);
    js.binary('sub', a.view, b.view, a.view.buf);
    expectClose(js.read(a.view.buf), a.values.map((x, i) => x - b.values[i]), 0, 'into a');
    const c = operand('float32', SHAPE, 'contiguous', 17);
    js.binary('div', b.view, c.view, c.view.buf);
    expectClose(js.read(c.view.buf), stored('float32', b.values.map((x, i) => x / c.values[i])), 0, 'into b');
  });

  it('refuses to write into an input that is not contiguous from element 0', () => {
    const a = operand('float32', SHAPE, 'transposed', 18);
    const b = operand('float32', SHAPE, 'contiguous', 19);
    expect(() => js.binary('add', a.view, b.view, a.view.buf)).toThrow(/^add: out is the buffer of input a/);
    const row = js.alloc('float32', 5);
    expect(() => js.unary('exp', view(row, [5, 5], [0, 1]), row)).toThrow(ConfigError);
  });

  it('broadcasts a row against a column with stride-0 views', () => {
    const row = js.alloc('float32', 4);
    const col = js.alloc('float32', 3);
    js.write(row, [1, 2, 3, 4]);
    js.write(col, [10, 20, 30]);
    const out = js.alloc('float32', 12);
    js.binary('add', view(col, [3, 4], [1, 0]), view(row, [3, 4], [0, 1]), out);
    expect(Array.from(js.read(out))).toEqual([11, 12, 13, 14, 21, 22, 23, 24, 31, 32, 33, 34]);
  });
});

describe('js backend: where', () => {
  it('selects a where cond != 0 (NaN counts as true), for every cond dtype and layout', () => {
    for (const condType of DTYPES)
      for (const [la, lb] of PAIRS) {
        const cond = operand(condType, SHAPE, lb, 21, (r) => [0, 1, -2, 0.5, NaN, 0][Math.floor(r() * 6)]);
        const a = operand('float32', SHAPE, la, 22);
        const b = operand('float32', SHAPE, 'sliced', 23);
        const out = js.alloc('float32', numel(SHAPE));
        js.where(cond.view, a.view, b.view, out);
        const want = cond.values.map((c, i) => (c !== 0 ? a.values[i] : b.values[i]));
        expectClose(js.read(out), stored('float32', want), 0, `where ${condType} ${la}/${lb}`);
      }
  });

  it('runs in place into b', () => {
    const cond = operand('int32', SHAPE, 'broadcast', 24);
    const a = operand('float64', SHAPE, 'scalar', 25);
    const b = operand('float64', SHAPE, 'contiguous', 26);
    js.where(cond.view, a.view, b.view, b.view.buf);
    expectClose(js.read(b.view.buf), cond.values.map((c, i) => (c !== 0 ? a.values[i] : b.values[i])), 0);
  });
});

describe('js backend: copy', () => {
  it('copies between strided views of every layout, converting dtypes, touching nothing else', () => {
    const dstLayouts: Layout[] = ['contiguous', 'transposed', 'sliced'];
    for (const from of DTYPES)
      for (const to of DTYPES)
        for (const ls of LAYOUTS)
          for (const ld of dstLayouts) {
            const src = operand(from, SHAPE, ls, 31);
            const dst = operand(to, SHAPE, ld, 32, () => 99);
            js.copy(src.view, dst.view);
            const got = js.read(dst.view.buf);
            const want = stored(to, src.values);
            const seen = new Set<number>();
            indices(SHAPE).forEach((idx, i) => {
              const p = at(dst.view, idx);
              seen.add(p);
              if (got[p] !== want[i] && !(Number.isNaN(got[p]) && Number.isNaN(want[i])))
                expect.fail(`copy ${from}->${to} ${ls}->${ld} at ${idx}: got ${got[p]}, expected ${want[i]}`);
            });
            got.forEach((v, p) => {
              if (!seen.has(p)) expect(v, `padding ${p}`).toBe(99);
            });
          }
  });
});

// ---------------------------------------------------------------------------------------------

/** All subsets of [0, 1, 2], as sorted arrays. */
const AXIS_SUBSETS = [[], [0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]];

function reduceRef(op: 'sum' | 'max' | 'min', values: number[], shape: number[], axes: number[]): number[] {
  const keptShape = shape.filter((_, d) => !axes.includes(d));
  const keptStrides = rowMajor(keptShape);
  const init = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
  const acc = new Array<number>(numel(keptShape)).fill(init);
  indices(shape).forEach((idx, i) => {
    const o = idx.filter((_, d) => !axes.includes(d)).reduce((p, v, k) => p + v * keptStrides[k], 0);
    const v = values[i];
    if (op === 'sum') acc[o] += v;
    else if (Number.isNaN(v) || Number.isNaN(acc[o])) acc[o] = NaN;
    else acc[o] = op === 'max' ? Math.max(acc[o], v) : Math.min(acc[o], v);
  });
  return acc;
}

describe('js backend: reduce', () => {
  it.each(['sum', 'max', 'min'] as const)('%s over every axis subset of a rank-3 tensor', (op) => {
    for (const dtype of DTYPES)
      for (const layout of LAYOUTS)
        for (const axes of AXIS_SUBSETS) {
          const x = operand(dtype, SHAPE, layout, 41);
          const keptSize = numel(SHAPE.filter((_, d) => !axes.includes(d)));
          const out = js.alloc(dtype, keptSize);
          js.reduce(op, x.view, axes, out);
          const want = stored(dtype, reduceRef(op, x.values, SHAPE, axes));
          // Sums may add in another order than the reference; max/min are exact.
          const tol = op === 'sum' ? formulaTol(dtype) : 0;
          expectClose(js.read(out), want, tol, `${op} ${dtype} ${layout} [${axes}]`);
        }
  });

  it('sums in float64 and rounds once', () => {
    // 1 + 2^-24 ten times: float32 accumulation would stay at 1.
    const xs = [1, ...new Array<number>(16).fill(2 ** -24)];
    const x = js.alloc('float32', xs.length);
    js.write(x, xs);
    const out = js.alloc('float32', 1);
    js.reduce('sum', contiguousView(x, [xs.length]), [0], out);
    expect(js.read(out)[0]).toBe(Math.fround(1 + 16 * 2 ** -24));
  });

  it('max and min propagate NaN', () => {
    const x = js.alloc('float64', 6);
    js.write(x, [1, NaN, 3, 4, 5, -Infinity]);
    const view = contiguousView(x, [2, 3]);
    const run = (op: 'max' | 'min', axes: number[], size: number) => {
      const out = js.alloc('float64', size);
      js.reduce(op, view, axes, out);
      return Array.from(js.read(out));
    };
    expect(run('max', [1], 2)).toEqual([NaN, 5]);
    expect(run('min', [1], 2)).toEqual([NaN, -Infinity]);
    expect(run('max', [0], 3)).toEqual([4, NaN, 3]);
    expect(run('min', [0, 1], 1)).toEqual([NaN]);
  });

  it('sums over an empty axis give 0; max/min over one throw a ConfigError naming the op', () => {
    const x = js.alloc('float32', 0);
    const empty = view(x, [2, 0, 3], [0, 3, 1]);
    const out = js.alloc('float32', 6);
    js.fill(out, 7);
    js.reduce('sum', empty, [1], out);
    expect(Array.from(js.read(out))).toEqual([0, 0, 0, 0, 0, 0]);
    js.reduce('sum', empty, [0], js.alloc('float32', 0));
    expect(() => js.reduce('max', empty, [1], out)).toThrow(ConfigError);
    expect(() => js.reduce('min', empty, [0, 1, 2], out)).toThrow(/^min: .*size 0/);
    expect(() => js.reduce('sum', empty, [1, 0], out)).toThrow(ConfigError);
    expect(() => js.reduce('sum', empty, [3], out)).toThrow(/sum: axes \[3\]/);
  });
});

describe('js backend: argReduce', () => {
  it.each(['argmax', 'argmin'] as const)('%s along every axis picks the first extreme', (op) => {
    for (const dtype of DTYPES)
      for (const layout of LAYOUTS)
        for (const axis of [0, 1, 2]) {
          // Few distinct values, so ties are common.
          const x = operand(dtype, SHAPE, layout, 51, (r) => Math.floor(r() * 3));
          const outShape = SHAPE.filter((_, d) => d !== axis);
          const out = js.alloc('int32', numel(outShape));
          js.argReduce(op, x.view, axis, out);
          const xStrides = rowMajor(SHAPE);
          const want = indices(outShape).map((o) => {
            let best = 0;
            const pos = (k: number) =>
              [...o.slice(0, axis), k, ...o.slice(axis)].reduce((p, v, d) => p + v * xStrides[d], 0);
            for (let i = 1; i < SHAPE[axis]; i++) {
              const v = x.values[pos(i)];
              const b = x.values[pos(best)];
              if (op === 'argmax' ? v > b : v < b) best = i;
            }
            return best;
          });
          expect(Array.from(js.read(out)), `${op} ${dtype} ${layout} axis ${axis}`).toEqual(want);
        }
  });

  it('points at the first NaN (PyTorch), for argmax and argmin alike', () => {
    const x = js.alloc('float32', 8);
    js.write(x, [1, NaN, 3, NaN, 5, 4, 5, 4]);
    const view = contiguousView(x, [2, 4]);
    for (const op of ['argmax', 'argmin'] as const) {
      const out = js.alloc('int32', 2);
      js.argReduce(op, view, 1, out);
      expect(Array.from(js.read(out))).toEqual(op === 'argmax' ? [1, 0] : [1, 1]);
    }
  });

  it('rejects an empty axis, a bad axis and a non-int32 output', () => {
    const x = js.alloc('float32', 3);
    expect(() => js.argReduce('argmax', view(x, [3, 0], [1, 1]), 1, js.alloc('int32', 3))).toThrow(
      /argmax: axis 1 .* size 0/,
    );
    expect(() => js.argReduce('argmin', contiguousView(x, [3]), 1, js.alloc('int32', 1))).toThrow(ConfigError);
    expect(() => js.argReduce('argmin', contiguousView(x, [3]), 0, js.alloc('float32', 1))).toThrow(DTypeError);
  });
});

// ---------------------------------------------------------------------------------------------

/**
 * A `[B, M, K]`-shaped operand: `rows` stores each matrix row-major, `cols` column-major;
 * `batchStride0` stores a single matrix shared by the batch; `pad` elements precede it (offset).
 */
function matrixOperand(
  dtype: DType,
  [batch, rows, cols]: [number, number, number],
  layout: 'rows' | 'cols' | 'strided',
  batchStride0: boolean,
  pad: number,
  seed: number,
): Operand {
  const stored = batchStride0 ? 1 : batch;
  const step = layout === 'strided' ? 2 : 1; // strided: every other column of a row-major matrix
  const matSize = rows * cols * step;
  const inner = layout === 'cols' ? [1, rows] : [cols * step, step];
  const view: View = {
    buf: js.alloc(dtype, pad + stored * matSize),
    shape: [batch, rows, cols],
    strides: [batchStride0 ? 0 : matSize, inner[0], inner[1]],
    offset: pad,
  };
  const r = rng(seed);
  js.write(view.buf, Array.from({ length: view.buf.size }, () => sample(dtype, r)));
  const data = js.read(view.buf);
  return { view, values: indices(view.shape).map((idx) => data[at(view, idx)]) };
}

function matmulRef(a: number[], b: number[], batch: number, m: number, k: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < batch; i++)
    for (let r = 0; r < m; r++)
      for (let c = 0; c < n; c++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[(i * m + r) * k + p] * b[(i * k + p) * n + c];
        out.push(s);
      }
  return out;
}

describe('js backend: matmul', () => {
  const layouts = ['rows', 'cols'] as const;
  const batchModes = [
    [false, false],
    [true, false],
    [false, true],
  ] as const;

  it('matches a naive float64 loop exactly for all transpose combinations and batch strides', () => {
    const [batch, m, k, n] = [3, 4, 5, 6];
    for (const dtype of DTYPES)
      for (const la of layouts)
        for (const lb of layouts)
          for (const [a0, b0] of batchModes) {
            const a = matrixOperand(dtype, [batch, m, k], la, a0, 3, 61);
            const b = matrixOperand(dtype, [batch, k, n], lb, b0, 0, 62);
            const out = js.alloc(dtype, batch * m * n);
            js.matmul(a.view, b.view, out);
            const want = stored(dtype, matmulRef(a.values, b.values, batch, m, k, n));
            expectClose(js.read(out), want, 0, `matmul ${dtype} ${la}·${lb} batch0 ${a0}/${b0}`);
          }
  });

  it('handles size-1 dimensions whatever their strides say, K = 0, and arbitrary strides', () => {
    const cases: [number, number, number, number][] = [
      [2, 1, 5, 6],
      [2, 4, 1, 6],
      [2, 4, 5, 1],
      [1, 1, 1, 1],
      [2, 7, 13, 3],
    ];
    for (const [batch, m, k, n] of cases)
      for (const la of ['rows', 'cols', 'strided'] as const)
        for (const lb of ['rows', 'cols', 'strided'] as const) {
          const a = matrixOperand('float64', [batch, m, k], la, false, 1, 63);
          const b = matrixOperand('float64', [batch, k, n], lb, batch > 1, 2, 64);
          const out = js.alloc('float64', batch * m * n);
          js.matmul(a.view, b.view, out);
          const want = matmulRef(a.values, b.values, batch, m, k, n);
          expectClose(js.read(out), want, 0, `${batch}x${m}x${k}x${n} ${la}·${lb}`);
        }

    // A size-1 dimension with a stride that fits neither layout on its face.
    const a = js.alloc('float32', 6);
    js.write(a, [1, 2, 3, 4, 5, 6]);
    const b = js.alloc('float32', 3);
    js.write(b, [1, 10, 100]);
    const out = js.alloc('float32', 2);
    js.matmul(view(a, [1, 2, 3], [0, 3, 1]), view(b, [1, 3, 1], [0, 1, 7]), out);
    expect(Array.from(js.read(out))).toEqual([321, 654]);

    const zeroK = js.alloc('float32', 6);
    js.fill(zeroK, 5);
    const empty = js.alloc('float32', 0);
    js.matmul(view(empty, [1, 2, 0], [0, 0, 1]), view(empty, [1, 0, 3], [0, 3, 1]), zeroK);
    expect(Array.from(js.read(zeroK))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('rejects shapes that do not form a batched product', () => {
    const buf = js.alloc('float32', 24);
    const a = contiguousView(buf, [2, 3, 4]);
    const big = js.alloc('float32', 100);
    expect(() => js.matmul(a, contiguousView(buf, [2, 3, 4]), big)).toThrow(/matmul: a \[2, 3, 4\] and b/);
    expect(() => js.matmul(a, contiguousView(buf, [1, 4, 3]), js.alloc('float32', 100))).toThrow(ShapeError);
    expect(() => js.matmul(a, contiguousView(buf, [2, 4, 3]), js.alloc('float32', 17))).toThrow(/matmul: out has 17/);
  });
});

// ---------------------------------------------------------------------------------------------

/** An index of `x`'s rank: one smaller than `shape` on the other axes, `along` long on `axis`. */
function indexOperand(shape: readonly number[], axis: number, along: number, layout: Layout, seed: number): Operand {
  const ishape = shape.map((n, d) => (d === axis ? along : n - 1));
  return operand('int32', ishape, layout, seed, (r) => Math.floor(r() * shape[axis]));
}

describe('js backend: gather and scatterAdd', () => {
  it('gather along each axis matches a naive loop (torch.gather semantics)', () => {
    for (const dtype of DTYPES)
      for (const axis of [0, 1, 2])
        for (const [lx, li] of [
          ['contiguous', 'contiguous'],
          ['transposed', 'sliced'],
          ['sliced', 'transposed'],
          ['broadcast', 'contiguous'],
        ] as [Layout, Layout][]) {
          const x = operand(dtype, SHAPE, lx, 71);
          const index = indexOperand(SHAPE, axis, 6, li, 72);
          const ishape = index.view.shape;
          const out = js.alloc(dtype, numel(ishape));
          js.gather(x.view, axis, index.view, out);
          const xs = rowMajor(SHAPE);
          const want = indices(ishape).map((idx, i) =>
            x.values[idx.reduce((p, v, d) => p + (d === axis ? index.values[i] : v) * xs[d], 0)],
          );
          expectClose(js.read(out), want, 0, `gather ${dtype} axis ${axis} ${lx}/${li}`);
        }
  });

  it('scatterAdd along each axis accumulates repeated indices into the existing contents', () => {
    for (const dtype of DTYPES)
      for (const axis of [0, 1, 2])
        for (const [li, ls] of [
          ['contiguous', 'contiguous'],
          ['transposed', 'sliced'],
          ['sliced', 'broadcast'],
        ] as [Layout, Layout][]) {
          const index = indexOperand(SHAPE, axis, 7, li, 81);
          const ishape = index.view.shape;
          const src = operand(dtype, ishape, ls, 82);
          const out = js.alloc(dtype, numel(SHAPE));
          const r = rng(83);
          js.write(out, Array.from({ length: out.size }, () => sample(dtype, r)));
          // Reference: the same adds, in index order, into an array of the output dtype.
          const want = js.read(out);
          const os = rowMajor(SHAPE);
          indices(ishape).forEach((idx, i) => {
            want[idx.reduce((p, v, d) => p + (d === axis ? index.values[i] : v) * os[d], 0)] += src.values[i];
          });
          js.scatterAdd(out, SHAPE, axis, index.view, src.view);
          expectClose(js.read(out), want, 0, `scatterAdd ${dtype} axis ${axis} ${li}/${ls}`);
        }
  });

  it('scatterAdd is the adjoint of gather: <gather(x), g> = <x, scatterAdd(g)>', () => {
    const x = operand('float64', SHAPE, 'contiguous', 91);
    const index = indexOperand(SHAPE, 1, 9, 'contiguous', 92);
    const g = operand('float64', index.view.shape, 'contiguous', 93);
    const gathered = js.alloc('float64', numel(index.view.shape));
    js.gather(x.view, 1, index.view, gathered);
    const scattered = js.alloc('float64', numel(SHAPE));
    js.scatterAdd(scattered, SHAPE, 1, index.view, g.view);
    const dot = (p: ArrayLike<number>, q: ArrayLike<number>) => Array.from(p).reduce((s, v, i) => s + v * q[i], 0);
    expect(dot(js.read(gathered), g.values)).toBeCloseTo(dot(x.values, js.read(scattered)), 12);
  });

  it('an out-of-range or negative index raises a KeelError naming the op, the index and the range', () => {
    const x = operand('float32', [2, 4], 'contiguous', 94);
    const index = js.alloc('int32', 4);
    js.write(index, [0, 3, 4, 1]);
    const iview = contiguousView(index, [2, 2]);
    const out = js.alloc('float32', 4);
    expect(() => js.gather(x.view, 1, iview, out)).toThrow(KeelError);
    expect(() => js.gather(x.view, 1, iview, out)).toThrow(
      /^gather: index 4 at position \[1, 0\] is out of range for axis 1 of size 4 \(valid indices are 0 to 3/,
    );
    js.write(index, [-1], 3);
    js.write(index, [0], 2);
    expect(() => js.gather(x.view, 1, iview, out)).toThrow(
      /gather: index -1 .*valid indices are 0 to 3; negative indices are not wrapped/,
    );

    // scatterAdd checks every index before writing anything.
    const target = js.alloc('float32', 8);
    js.fill(target, 1);
    expect(() => js.scatterAdd(target, [2, 4], 1, iview, x.view)).toThrow(/^scatterAdd: index -1/);
    expect(Array.from(js.read(target))).toEqual(new Array(8).fill(1));
  });

  it('rejects index shapes and dtypes that torch.gather rejects', () => {
    const x = operand('float32', [2, 4], 'contiguous', 95);
    const idx = js.alloc('int32', 12);
    const fidx = js.alloc('float32', 4);
    const out = js.alloc('float32', 12);
    expect(() => js.gather(x.view, 1, contiguousView(idx, [3, 1]), out)).toThrow(ShapeError); // 3 > 2 on axis 0
    expect(() => js.gather(x.view, 1, contiguousView(idx, [8]), out)).toThrow(
      /gather: index \[8\] does not fit x \[2, 4\]/,
    );
    expect(() => js.gather(x.view, 1, contiguousView(fidx, [2, 2]), out)).toThrow(DTypeError);
    expect(() => js.gather(x.view, 2, contiguousView(idx, [2, 2]), out)).toThrow(ConfigError);
    // src must cover the index along the axis too.
    const src = contiguousView(js.alloc('float32', 4), [2, 2]);
    expect(() => js.scatterAdd(out, [2, 4], 1, contiguousView(idx, [2, 3]), src)).toThrow(
      /scatterAdd: index \[2, 3\] does not fit src \[2, 2\]/,
    );
  });
});
