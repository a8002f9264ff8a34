import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DType,
  Generator,
  type Tensor,
  add,
  argmax,
  argmin,
  div,
  eq,
  expand,
  ge,
  gt,
  le,
  lt,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  ne,
  permute,
  pow,
  slice,
  sub,
  sum,
  tensor,
  variance,
  where,
} from '../src/index.js';

// Broadcasting binary ops and reductions against a naive float64 reference written here: nested
// index arithmetic over plain arrays, with its own broadcasting. Shapes are random (rank 0..4,
// dims 1..4), operands are broadcast by setting dims to 1 and dropping leading dims, and every
// operand can be a non-contiguous view (a permute of a stored tensor, a stepped slice of a larger
// one with NaN in the gaps, both, or an explicit stride-0 expand). float64 results must match
// exactly (reductions: within 1e-12 of the magnitude they sum); float32 results within float32
// rounding.

// ---- the reference -------------------------------------------------------------------------

/** A row-major array of float64 values. */
interface Ref {
  shape: number[];
  data: number[];
}

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Every multi-index of `shape`, in row-major order. */
function indicesOf(shape: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const d of shape) {
    const next: number[][] = [];
    for (const idx of out) for (let i = 0; i < d; i++) next.push([...idx, i]);
    out = next;
  }
  return out;
}

/** The row-major position of `idx` in `shape`. */
function flatIndex(idx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * shape[i] + idx[i];
  return flat;
}

/** NumPy broadcasting, written out: align from the right, each dim equal or 1. */
function broadcastShape(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      const v = k >= 0 ? s[k] : 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) throw new Error(`reference: cannot broadcast ${shapes.map((x) => `[${x}]`).join(' and ')}`);
      d = v;
    }
    out.push(d);
  }
  return out;
}

/** `ref` read at an index of a (broadcast) output shape: size-1 and missing dims read index 0. */
function readBroadcast(ref: Ref, outIdx: readonly number[]): number {
  const lead = outIdx.length - ref.shape.length;
  let flat = 0;
  for (let i = 0; i < ref.shape.length; i++) flat = flat * ref.shape[i] + (ref.shape[i] === 1 ? 0 : outIdx[i + lead]);
  return ref.data[flat];
}

function refMap(refs: Ref[], f: (...v: number[]) => number): Ref {
  const shape = broadcastShape(...refs.map((r) => r.shape));
  return { shape, data: indicesOf(shape).map((idx) => f(...refs.map((r) => readBroadcast(r, idx)))) };
}

/** Groups the elements of `x` by their position with `axes` removed, in the output's order. */
function refReduce(x: Ref, axes: readonly number[], keepDims: boolean, fold: (values: number[]) => number): Ref {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups: number[][] = Array.from({ length: numel(kept) }, () => []);
  for (const idx of indicesOf(x.shape)) {
    const key = flatIndex(
      idx.map((v, i) => (axes.includes(i) ? 0 : v)),
      kept,
    );
    groups[key].push(x.data[flatIndex(idx, x.shape)]);
  }
  const shape = keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i));
  return { shape, data: groups.map(fold) };
}

const naiveSum = (v: number[]): number => {
  let s = 0;
  for (const x of v) s += x;
  return s;
};
const absSum = (v: number[]): number => naiveSum(v.map(Math.abs));
const naiveMax = (v: number[]): number => v.reduce((m, x) => (x > m ? x : m), -Infinity);
const naiveMin = (v: number[]): number => v.reduce((m, x) => (x < m ? x : m), Infinity);
const naiveArgmax = (v: number[]): number => v.reduce((best, x, i) => (x > v[best] ? i : best), 0);
const naiveArgmin = (v: number[]): number => v.reduce((best, x, i) => (x < v[best] ? i : best), 0);
function naiveVar(v: number[], correction: number): number {
  const m = naiveSum(v) / v.length;
  return naiveSum(v.map((x) => (x - m) * (x - m))) / Math.max(0, v.length - correction);
}

// ---- building tensors (possibly as views) from a reference ---------------------------------

type Layout = 'contiguous' | 'permuted' | 'strided' | 'permuted+strided';
const LAYOUTS: Layout[] = ['contiguous', 'permuted', 'strided', 'permuted+strided'];

/** A random permutation of 0..n-1 (Fisher–Yates with the seeded generator). */
function permutation(n: number, g: Generator): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = g.nextBelow(i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/**
 * A tensor whose elements (in row-major order of `ref.shape`) are `ref.data`, stored as `layout`:
 * `permuted` stores the data with the axes in another order and returns `permute(stored, p)`;
 * `strided` stores it at the odd positions of a `2d + 1` tensor full of NaN and returns the slice
 * `[1 : 2d + 1 : 2]` of every axis, so a kernel that reads a gap produces NaN.
 */
function build(ref: Ref, dtype: DType, layout: Layout, g: Generator): Tensor {
  const r = ref.shape.length;
  const p = layout.startsWith('permuted') ? permutation(r, g) : Array.from({ length: r }, (_, i) => i);
  // The view has shape[i] = stored.shape[p[i]]; element idx of the view is stored[j] with j[p[i]] = idx[i].
  const permShape = new Array<number>(r);
  p.forEach((pi, i) => (permShape[pi] = ref.shape[i]));
  const strided = layout.endsWith('strided');
  const storedShape = strided ? permShape.map((d) => 2 * d + 1) : permShape;
  const stored = new Float64Array(numel(storedShape)).fill(strided ? NaN : 0);
  for (const idx of indicesOf(ref.shape)) {
    const j = new Array<number>(r);
    p.forEach((pi, i) => (j[pi] = strided ? 1 + 2 * idx[i] : idx[i]));
    stored[flatIndex(j, storedShape)] = ref.data[flatIndex(idx, ref.shape)];
  }
  let t = tensor(stored, storedShape, { dtype });
  if (strided) t = slice(t, permShape.map((d) => [1, 1 + 2 * d, 2] as const));
  if (layout.startsWith('permuted')) t = permute(t, p);
  return t;
}

type ValueKind = 'real' | 'ints' | 'positive';

/** Reference values: real (N(0, 9)), small integers (ties and zeros), or positive (pow bases). */
function values(shape: readonly number[], kind: ValueKind, dtype: DType, g: Generator): Ref {
  const draw = (): number => {
    switch (kind) {
      case 'real':
        return 3 * g.nextNormal();
      case 'ints':
        return g.nextBelow(7) - 3;
      case 'positive':
        return 0.25 + 3 * g.nextFloat64();
      default:
        return kind satisfies never;
    }
  };
  const round = dtype === 'float32' ? Math.fround : (x: number) => x;
  return { shape: [...shape], data: Array.from({ length: numel(shape) }, () => round(draw())) };
}

// ---- comparing -----------------------------------------------------------------------------

const F32_ULP = 2 ** -23;
/** The spacing of float32 subnormals: below 2^-126 rounding is absolute, not relative. */
const F32_TINY = 2 ** -149;

/** Same shape and dtype, and every element equal or within `tol(i)` (NaN matches NaN). */
function expectClose(got: Tensor, want: Ref, dtype: DType, tol: (i: number) => number): void {
  expect(got.shape).toEqual(want.shape);
  expect(got.dtype).toBe(dtype);
  const data = got.toTypedArray();
  for (let i = 0; i < want.data.length; i++) {
    const a = data[i];
    const b = want.data[i];
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
    if (!(Math.abs(a - b) <= tol(i)))
      expect.fail(`element ${i} of [${want.shape}]: got ${a}, want ${b} (tolerance ${tol(i)}, ${dtype})`);
  }
}

/** Exact in float64; within float32 rounding (2 ulp) for float32 results. */
const elementwiseTol = (want: Ref, dtype: DType) => (i: number) =>
  dtype === 'float32' ? 2 * F32_ULP * Math.abs(want.data[i]) + F32_TINY : 0;

function promote(a: DType, b: DType): DType {
  return a === 'float64' || b === 'float64' ? 'float64' : 'float32';
}

// ---- arbitraries ---------------------------------------------------------------------------

const dimsArb = fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 4 });

/** A shape derived from `base` by dropping leading dims and setting some dims to 1. */
const derivedArb = (base: number[]): fc.Arbitrary<number[]> =>
  fc
    .tuple(fc.integer({ min: 0, max: base.length }), fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }))
    .map(([drop, ones]) => base.map((d, i) => (ones[i] ? 1 : d)).slice(drop));

/** How one operand is made: its dtype, its layout, and whether it is explicitly expanded first. */
const operandArb = fc.record({
  dtype: fc.constantFrom<DType>('float64', 'float32'),
  layout: fc.constantFrom(...LAYOUTS),
  expanded: fc.boolean(),
});

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** Builds an operand; `expanded` makes it a stride-0 view of the full output shape. */
function operand(ref: Ref, spec: { dtype: DType; layout: Layout; expanded: boolean }, outShape: number[], g: Generator): Tensor {
  const t = build(ref, spec.dtype, spec.layout, g);
  return spec.expanded ? expand(t, outShape) : t;
}

const RUNS = { numRuns: 150 };

// ---- properties ----------------------------------------------------------------------------

describe('property: broadcasting binary ops match the reference', () => {
  const OPS: { name: string; fn: (a: Tensor, b: Tensor) => Tensor; ref: (a: number, b: number) => number; kinds: [ValueKind, ValueKind][] }[] = [
    { name: 'add', fn: add, ref: (a, b) => a + b, kinds: [['real', 'real'], ['ints', 'ints']] },
    { name: 'sub', fn: sub, ref: (a, b) => a - b, kinds: [['real', 'real'], ['ints', 'ints']] },
    { name: 'mul', fn: mul, ref: (a, b) => a * b, kinds: [['real', 'real'], ['ints', 'ints']] },
    // Integers include 0: x/0 gives ±Infinity and 0/0 NaN, in float32 as in float64.
    { name: 'div', fn: div, ref: (a, b) => a / b, kinds: [['real', 'real'], ['ints', 'ints']] },
    { name: 'maximum', fn: maximum, ref: (a, b) => Math.max(a, b), kinds: [['real', 'real'], ['ints', 'ints']] },
    { name: 'minimum', fn: minimum, ref: (a, b) => Math.min(a, b), kinds: [['real', 'real'], ['ints', 'ints']] },
    { name: 'pow', fn: pow, ref: (a, b) => a ** b, kinds: [['positive', 'real'], ['positive', 'ints']] },
  ];
  const CMPS: { name: string; fn: (a: Tensor, b: Tensor) => Tensor; ref: (a: number, b: number) => boolean }[] = [
    { name: 'gt', fn: gt, ref: (a, b) => a > b },
    { name: 'ge', fn: ge, ref: (a, b) => a >= b },
    { name: 'lt', fn: lt, ref: (a, b) => a < b },
    { name: 'le', fn: le, ref: (a, b) => a <= b },
    { name: 'eq', fn: eq, ref: (a, b) => a === b },
    { name: 'ne', fn: ne, ref: (a, b) => a !== b },
  ];

  const pairArb = dimsArb.chain((base) => fc.tuple(derivedArb(base), derivedArb(base)));

  it.each(OPS)('$name', ({ fn, ref, kinds }) => {
    fc.assert(
      fc.property(pairArb, operandArb, operandArb, fc.constantFrom(...kinds), seedArb, ([sa, sb], oa, ob, [ka, kb], seed) => {
        const g = new Generator(seed);
        const out = broadcastShape(sa, sb);
        const ra = values(sa, ka, oa.dtype, g);
        const rb = values(sb, kb, ob.dtype, g);
        const want = refMap([ra, rb], ref);
        const dtype = promote(oa.dtype, ob.dtype);
        expectClose(fn(operand(ra, oa, out, g), operand(rb, ob, out, g)), want, dtype, elementwiseTol(want, dtype));
      }),
      RUNS,
    );
  });

  it.each(CMPS)('comparison $name (ties included)', ({ fn, ref }) => {
    fc.assert(
      fc.property(pairArb, operandArb, operandArb, fc.constantFrom<ValueKind>('real', 'ints'), seedArb, ([sa, sb], oa, ob, kind, seed) => {
        const g = new Generator(seed);
        const out = broadcastShape(sa, sb);
        const ra = values(sa, kind, oa.dtype, g);
        const rb = values(sb, kind, ob.dtype, g);
        const want = refMap([ra, rb], (a, b) => (ref(a, b) ? 1 : 0));
        expectClose(fn(operand(ra, oa, out, g), operand(rb, ob, out, g)), want, promote(oa.dtype, ob.dtype), () => 0);
      }),
      RUNS,
    );
  });

  it('where (condition, a and b all broadcast)', () => {
    const tripleArb = dimsArb.chain((base) => fc.tuple(derivedArb(base), derivedArb(base), derivedArb(base)));
    fc.assert(
      fc.property(tripleArb, operandArb, operandArb, operandArb, seedArb, ([sc, sa, sb], oc, oa, ob, seed) => {
        const g = new Generator(seed);
        const out = broadcastShape(sc, sa, sb);
        const rc = values(sc, 'ints', oc.dtype, g); // zeros are false, anything else true
        const ra = values(sa, 'real', oa.dtype, g);
        const rb = values(sb, 'real', ob.dtype, g);
        const want = refMap([rc, ra, rb], (c, a, b) => (c !== 0 ? a : b));
        const got = where(operand(rc, oc, out, g), operand(ra, oa, out, g), operand(rb, ob, out, g));
        expectClose(got, want, promote(oa.dtype, ob.dtype), () => 0);
      }),
      RUNS,
    );
  });

  it('a number operand broadcasts as a 0-d tensor of the other dtype', () => {
    fc.assert(
      fc.property(dimsArb, operandArb, fc.double({ min: -4, max: 4, noNaN: true }), seedArb, (shape, o, k, seed) => {
        const g = new Generator(seed);
        const ra = values(shape, 'real', o.dtype, g);
        const kd = o.dtype === 'float32' ? Math.fround(k) : k;
        const x = operand(ra, { ...o, expanded: false }, shape, g);
        const tol = (want: Ref) => elementwiseTol(want, o.dtype);
        let want = refMap([ra], (a) => a + kd);
        expectClose(add(x, k), want, o.dtype, tol(want));
        want = refMap([ra], (a) => kd - a);
        expectClose(sub(k, x), want, o.dtype, tol(want));
        want = refMap([ra], (a) => a * kd);
        expectClose(x.mul(k), want, o.dtype, tol(want));
        want = refMap([ra], (a) => Math.max(a, kd));
        expectClose(maximum(x, k), want, o.dtype, () => 0);
      }),
      RUNS,
    );
  });
});

describe('property: reductions match the reference', () => {
  /** A shape, an axis selection (one axis, several, possibly negative, or all), and keepDims. */
  const reduceArb = dimsArb.chain((shape) => {
    const r = shape.length;
    // A 0-d tensor accepts axis 0 or -1, as PyTorch (there is nothing to reduce).
    const axisArb = fc.integer({ min: -Math.max(r, 1), max: Math.max(r, 1) - 1 });
    const axesArb: fc.Arbitrary<number | number[] | undefined> = fc.oneof(
      fc.constant(undefined),
      axisArb,
      r === 0
        ? axisArb.map((a) => [a])
        : fc
            .subarray(
              Array.from({ length: r }, (_, i) => i),
              { minLength: 1 },
            )
            .chain((axes) => fc.tuple(...axes.map((a) => fc.constantFrom(a, a - r))))
            .chain((axes) => fc.shuffledSubarray(axes, { minLength: axes.length, maxLength: axes.length })),
    );
    return fc.tuple(fc.constant(shape), axesArb, fc.boolean());
  });

  /** The sorted non-negative axes the selection means (none for a 0-d tensor). */
  function normalized(axis: number | number[] | undefined, rank: number): number[] {
    if (rank === 0) return [];
    const list = axis === undefined ? Array.from({ length: rank }, (_, i) => i) : typeof axis === 'number' ? [axis] : axis;
    return list.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
  }

  type Op = {
    name: string;
    fn: (x: Tensor, axis: number | number[] | undefined, keepDims: boolean, correction: number) => Tensor;
    fold: (v: number[], correction: number) => number;
    /** The magnitude the result is accurate to (1e-12 of it in float64, n ulp in float32); 0: exact. */
    scale: (v: number[], correction: number) => number;
    kinds: ValueKind[];
  };
  const OPS: Op[] = [
    { name: 'sum', fn: (x, axis, keepDims) => sum(x, { axis, keepDims }), fold: naiveSum, scale: absSum, kinds: ['real', 'ints'] },
    {
      name: 'mean',
      fn: (x, axis, keepDims) => mean(x, { axis, keepDims }),
      fold: (v) => naiveSum(v) / v.length,
      scale: (v) => absSum(v) / v.length,
      kinds: ['real', 'ints'],
    },
    { name: 'max', fn: (x, axis, keepDims) => max(x, { axis, keepDims }), fold: naiveMax, scale: () => 0, kinds: ['real', 'ints'] },
    { name: 'min', fn: (x, axis, keepDims) => min(x, { axis, keepDims }), fold: naiveMin, scale: () => 0, kinds: ['real', 'ints'] },
    {
      name: 'variance',
      fn: (x, axis, keepDims, correction) => variance(x, { axis, keepDims, correction }),
      fold: naiveVar,
      // The centered sum of squares plus what the rounding of the mean can move it by.
      scale: (v, c) => (naiveVar(v, 0) * v.length + absSum(v) * naiveMax(v.map(Math.abs))) / Math.max(1, v.length - c),
      kinds: ['real', 'ints'],
    },
  ];

  it.each(OPS)('$name', ({ fn, fold, scale, kinds }) => {
    fc.assert(
      fc.property(
        reduceArb,
        operandArb,
        fc.constantFrom(...kinds),
        fc.constantFrom(0, 1),
        seedArb,
        ([shape, axis, keepDims], o, kind, correction, seed) => {
          const g = new Generator(seed);
          const rx = values(shape, kind, o.dtype, g);
          const axes = normalized(axis, shape.length);
          const want = refReduce(rx, axes, keepDims, (v) => fold(v, correction));
          const scales = refReduce(rx, axes, keepDims, (v) => scale(v, correction)).data;
          const n = numel(axes.map((a) => shape[a]));
          // float32: each input and partial result rounds at most once per element summed.
          const tol = (i: number): number =>
            scales[i] === 0 ? 0 : o.dtype === 'float64' ? 1e-12 * scales[i] : (n + 4) * F32_ULP * scales[i] + F32_TINY;
          expectClose(fn(build(rx, o.dtype, o.layout, g), axis, keepDims, correction), want, o.dtype, tol);
        },
      ),
      RUNS,
    );
  });

  it.each([
    { name: 'argmax', fn: argmax, fold: naiveArgmax },
    { name: 'argmin', fn: argmin, fold: naiveArgmin },
  ])('$name (first index on ties)', ({ fn, fold }) => {
    fc.assert(
      fc.property(
        dimsArb.chain((shape) =>
          fc.tuple(fc.constant(shape), fc.option(fc.integer({ min: -Math.max(shape.length, 1), max: Math.max(shape.length, 1) - 1 }), { nil: undefined })),
        ),
        fc.boolean(),
        operandArb,
        fc.constantFrom<ValueKind>('real', 'ints'),
        seedArb,
        ([shape, axis], keepDims, o, kind, seed) => {
          const g = new Generator(seed);
          const rx = values(shape, kind, o.dtype, g);
          const x = build(rx, o.dtype, o.layout, g);
          if (axis === undefined) {
            // No axis: the index into the flattened tensor.
            expectClose(fn(x), { shape: [], data: [fold(rx.data)] }, 'int32', () => 0);
            return;
          }
          const a = normalized(axis, shape.length);
          expectClose(fn(x, { axis, keepDims }), refReduce(rx, a, keepDims, fold), 'int32', () => 0);
        },
      ),
      RUNS,
    );
  });

  it('reductions of an explicitly expanded (stride-0) view', () => {
    fc.assert(
      fc.property(
        dimsArb.chain((base) => fc.tuple(fc.constant(base), derivedArb(base))),
        fc.constantFrom<DType>('float64', 'float32'),
        seedArb,
        ([shape, small], dtype, seed) => {
          const g = new Generator(seed);
          const rs = values(small, 'real', dtype, g);
          const full = refMap([rs, { shape, data: new Array<number>(numel(shape)).fill(0) }], (v) => v);
          const x = expand(build(rs, dtype, 'contiguous', g), shape);
          for (const axis of [undefined, shape.length > 0 ? 0 : undefined]) {
            const axes = normalized(axis, shape.length);
            const want = refReduce(full, axes, false, naiveSum);
            const scales = refReduce(full, axes, false, absSum).data;
            const tol = (i: number): number => (dtype === 'float64' ? 1e-12 * scales[i] : (numel(shape) + 4) * F32_ULP * scales[i] + F32_TINY);
            expectClose(sum(x, { axis }), want, dtype, tol);
            expectClose(max(x, { axis }), refReduce(full, axes, false, naiveMax), dtype, () => 0);
          }
        },
      ),
      RUNS,
    );
  });
});

describe('property: matmul matches a naive triple loop', () => {
  it('batched, broadcast, in any layout (row-major, transposed, permuted batch, copied slice, stride-0 batch)', () => {
    const batchArb = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }).chain((base) => fc.tuple(derivedArb(base), derivedArb(base)));
    const dimArb = fc.integer({ min: 1, max: 4 });
    fc.assert(
      fc.property(batchArb, dimArb, dimArb, dimArb, operandArb, operandArb, seedArb, ([ba, bb], m, k, n, oa, ob, seed) => {
        const g = new Generator(seed);
        const batch = broadcastShape(ba, bb);
        const ra = values([...ba, m, k], 'real', oa.dtype, g);
        const rb = values([...bb, k, n], 'real', ob.dtype, g);
        const shape = [...batch, m, n];
        const want: Ref = { shape, data: [] };
        const scale: number[] = [];
        for (const idx of indicesOf(shape)) {
          const bi = idx.slice(0, -2);
          const [i, j] = idx.slice(-2);
          let s = 0;
          let abs = 0;
          for (let p = 0; p < k; p++) {
            const prod = readBroadcast(ra, [...bi, i, p]) * readBroadcast(rb, [...bi, p, j]);
            s += prod;
            abs += Math.abs(prod);
          }
          want.data.push(s);
          scale.push(abs);
        }
        const dtype = promote(oa.dtype, ob.dtype);
        const got = matmul(operand(ra, oa, [...batch, m, k], g), operand(rb, ob, [...batch, k, n], g));
        expectClose(got, want, dtype, (i) => (dtype === 'float64' ? 1e-12 * scale[i] : (k + 2) * F32_ULP * scale[i] + F32_TINY));
      }),
      RUNS,
    );
  });
});
