import { describe, expect, it } from 'vitest';
import type { ArgReduceOp, Backend, BackendBuffer, BinaryOp, ReduceOp, UnaryOp, UnaryParams, View } from '../src/backend/backend.js';
import { jsBackend as js } from '../src/backend/js/js-backend.js';
import { wasmSupported } from '../src/backend/wasm/module.js';
import { WasmBackend } from '../src/backend/wasm/wasm-backend.js';
import { ConfigError } from '../src/core/errors.js';
import {
  Generator, argmax, elu, gather, gelu, getBackend, gt, leakyRelu, logSoftmax, matmul, max, noGrad, randint, randn, relu,
  setBackend, sigmoid, softplus, tanh, tidy, where,
} from '../src/index.js';
import type { DType } from '../src/core/dtype.js';
import { rng } from './helpers/rng.js';

/**
 * The WebAssembly kernels against the reference backend (the oracle): every float32 kernel and op
 * on seeded random data with special values (NaN, ±Infinity, ±0, huge and tiny), in every layout
 * (contiguous, transposed, sliced with an offset, strided, broadcast with stride 0, one scalar
 * broadcast everywhere), ranks 0 to 4, sizes that are not multiples of 4, and a few large ones.
 * Values must agree within 1e-6 + 1e-5·|expected|, NaN where the reference has NaN, and zeros
 * with the reference's sign; indices and comparisons exactly. Then: no float32 kernel may fall
 * back to JavaScript, and results stay right across memory growth.
 */

const supported = wasmSupported();
if (!supported)
  console.warn('test/backend-wasm.test.ts skipped: this JavaScript engine has no WebAssembly SIMD128 with shared memory');

// ---------------------------------------------------------------------------------------------
// Helpers

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

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30, 1e-40, 50, -50, 100, -100, 1e6, -1e6];

type Gen = (r: () => number) => number;
/** Floats in [-3, 3), with one value in 16 drawn from SPECIALS. */
const floats: Gen = (r) => (r() < 1 / 16 ? SPECIALS[Math.floor(r() * SPECIALS.length)] : r() * 6 - 3);
/** Floats in [-3, 3) only (sums of these stay finite). */
const plain: Gen = (r) => r() * 6 - 3;
/** Few distinct values with both zeros and a rare NaN: ties for max/min and argmax/argmin. */
const ties: Gen = (r) => {
  const u = r();
  if (u < 0.02) return NaN;
  return [-2, -1, -0, 0, 1, 2][Math.floor(r() * 6)];
};
/** Conditions for where: zero of either sign, NaN (true), and other values. */
const conds: Gen = (r) => [0, -0, 1, NaN, 2, -3][Math.floor(r() * 6)];
/** Small integers (int32 operands). */
const ints: Gen = (r) => Math.floor(r() * 11) - 5;

type Layout = 'contiguous' | 'transposed' | 'sliced' | 'strided' | 'broadcast' | 'scalar';
const LAYOUTS: Layout[] = ['contiguous', 'transposed', 'sliced', 'strided', 'broadcast', 'scalar'];

/** The same view of the same data on both backends. */
interface Pair {
  js: View;
  wasm: View;
}

/**
 * A view of `shape` in `layout` over fresh buffers (one per backend) holding the same values.
 * transposed: stored with reversed dimensions. sliced: a window starting at 1 in a buffer 2 larger
 * per dimension. strided: every second element of the last dimension. broadcast: stride 0 in every
 * even dimension. scalar: one element seen everywhere.
 */
function operand(wasm: Backend, dtype: DType, shape: readonly number[], layout: Layout, r: () => number, gen: Gen): Pair {
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
    case 'sliced':
      phys = shape.map((n) => n + 2);
      strides = rowMajor(phys);
      offset = strides.reduce((p, s) => p + s, 0);
      break;
    case 'strided':
      phys = shape.map((n, d) => (d === shape.length - 1 ? 2 * n : n));
      strides = rowMajor(phys).map((s, d) => (d === shape.length - 1 ? 2 * s : s));
      break;
    case 'broadcast':
      phys = shape.map((n, d) => (d % 2 === 0 ? 1 : n));
      strides = rowMajor(phys).map((s, d) => (d % 2 === 0 ? 0 : s));
      break;
    case 'scalar':
      phys = [];
      strides = shape.map(() => 0);
      break;
    default:
      throw new Error(layout satisfies never);
  }
  const values = Array.from({ length: Math.max(1, numel(phys)) }, () => gen(r));
  const make = (b: Backend): View => {
    const buf = b.alloc(dtype, values.length);
    b.write(buf, values);
    return { buf, shape, strides, offset };
  };
  return { js: make(js), wasm: make(wasm) };
}

function contiguous(buf: BackendBuffer, shape: readonly number[]): View {
  return { buf, shape, strides: rowMajor(shape), offset: 0 };
}

/** Output buffers of `size` elements on both backends, filled with the same garbage (or `fill`). */
function outputs(wasm: Backend, dtype: DType, size: number, fill = 7.5): { js: BackendBuffer; wasm: BackendBuffer } {
  const j = js.alloc(dtype, size);
  const w = wasm.alloc(dtype, size);
  js.fill(j, fill);
  wasm.fill(w, fill);
  return { js: j, wasm: w };
}

/**
 * Collects mismatches instead of stopping at the first, so a failure shows which ops and layouts
 * are wrong. `exact`: bit for bit (indices, comparisons, moves); otherwise the brief's tolerance.
 */
class Mismatches {
  readonly list: string[] = [];
  check(got: ArrayLike<number>, want: ArrayLike<number>, what: string, exact = false): void {
    if (got.length !== want.length) {
      this.list.push(`${what}: length ${got.length}, expected ${want.length}`);
      return;
    }
    for (let i = 0; i < want.length; i++) {
      const g = got[i];
      const w = want[i];
      let ok: boolean;
      if (w !== w) ok = g !== g;
      else if (g === w) ok = w !== 0 || Object.is(g, w); // zeros carry the reference's sign
      else ok = !exact && Math.abs(g - w) <= 1e-6 + 1e-5 * Math.abs(w);
      if (!ok) {
        this.list.push(`${what}: element ${i} is ${Object.is(g, -0) ? '-0' : g}, expected ${Object.is(w, -0) ? '-0' : w}`);
        return;
      }
    }
  }
  expectNone(): void {
    expect(this.list.slice(0, 20), `${this.list.length} mismatches`).toEqual([]);
  }
}

const SHAPES: number[][] = [[], [1], [7], [3, 5], [4, 4], [2, 3, 5], [2, 1, 3, 7], [3, 2, 2, 5]];
const UNARY: [UnaryOp, UnaryParams?][] = [
  ['neg'], ['exp'], ['log'], ['sqrt'], ['abs'], ['sign'], ['tanh'], ['sigmoid'], ['relu'], ['erf'],
  ['leakyRelu'], ['leakyRelu', { alpha: 0.2 }], ['elu'], ['elu', { alpha: 0.5 }], ['selu'], ['gelu'], ['geluTanh'],
  ['softplus'], ['softplus', { beta: 2, threshold: 5 }], ['softplus', { beta: 0.5 }],
];
const BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'gt', 'ge', 'lt', 'le', 'eq', 'ne'];
const REDUCE: ReduceOp[] = ['sum', 'max', 'min'];
const ARG: ArgReduceOp[] = ['argmax', 'argmin'];

/** Every sorted subset of the axes of a rank. */
function axisSets(rank: number): number[][] {
  const out: number[][] = [];
  for (let m = 0; m < 1 << rank; m++) out.push(Array.from({ length: rank }, (_, d) => d).filter((d) => (m >> d) & 1));
  return out;
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(!supported)('wasm backend against the reference backend', () => {
  const wasm = supported ? new WasmBackend() : (null as unknown as WasmBackend);

  function unaryCase(m: Mismatches, op: UnaryOp, params: UnaryParams | undefined, x: Pair, what: string, dtype: DType = 'float32'): void {
    const n = numel(x.js.shape);
    const out = outputs(wasm, dtype, n);
    js.unary(op, x.js, out.js, params);
    wasm.unary(op, x.wasm, out.wasm, params);
    m.check(wasm.read(out.wasm), js.read(out.js), what);
  }

  it('unary: every op and parameter set, every layout and rank', () => {
    const m = new Mismatches();
    const r = rng(1);
    for (const [op, params] of UNARY)
      for (const shape of SHAPES)
        for (const layout of LAYOUTS) {
          const x = operand(wasm, 'float32', shape, layout, r, floats);
          unaryCase(m, op, params, x, `${op}${params ? JSON.stringify(params) : ''} ${layout} [${shape}]`);
        }
    m.expectNone();
  });

  it('unary: edge values one by one (NaN, ±0, ±Infinity, thresholds, overflow, subnormals)', () => {
    const m = new Mismatches();
    const edges = [
      NaN, 0, -0, Infinity, -Infinity, 1e-45, -1e-45, 1e-38, -1e-38, 1e-7, -1e-7, 0.3, -0.3, 0.625, -0.625, 0.35, -0.35,
      1, -1, 5, -5, 9, -9, 10, -10, 20, 20.000002, -20, 30, -30, 44, -44, 80, -80, 87, -87, 88, -88, 89, -89, 103, -103,
      104, -104, 200, -200, 1e6, -1e6, 3e38, -3e38,
    ];
    for (const [op, params] of UNARY) {
      const x = operand(wasm, 'float32', [edges.length], 'contiguous', rng(0), (() => {
        let i = 0;
        return () => edges[i++];
      })());
      unaryCase(m, op, params, x, `${op}${params ? JSON.stringify(params) : ''} edges`);
    }
    m.expectNone();
  });

  it('unary: large and odd sizes (1e5 + 3 elements, a 317×331 transpose)', () => {
    const m = new Mismatches();
    const r = rng(2);
    for (const [op, params] of UNARY) {
      unaryCase(m, op, params, operand(wasm, 'float32', [100_003], 'contiguous', r, floats), `${op} [100003]`);
      unaryCase(m, op, params, operand(wasm, 'float32', [317, 331], 'transposed', r, floats), `${op} [317, 331]ᵀ`);
    }
    m.expectNone();
  });

  it('unary: int32 input into a float32 output (the float64 reference formula)', () => {
    const m = new Mismatches();
    const r = rng(3);
    for (const [op, params] of UNARY)
      for (const layout of LAYOUTS)
        unaryCase(m, op, params, operand(wasm, 'int32', [3, 5], layout, r, ints), `${op} int32 ${layout}`);
    m.expectNone();
  });

  function binaryCase(m: Mismatches, op: BinaryOp, a: Pair, b: Pair, what: string): void {
    const out = outputs(wasm, 'float32', numel(a.js.shape));
    js.binary(op, a.js, b.js, out.js);
    wasm.binary(op, a.wasm, b.wasm, out.wasm);
    const exact = ['gt', 'ge', 'lt', 'le', 'eq', 'ne', 'maximum', 'minimum'].includes(op);
    m.check(wasm.read(out.wasm), js.read(out.js), what, exact);
  }

  it('binary: every op, every pair of layouts, every rank', () => {
    const m = new Mismatches();
    const r = rng(4);
    for (const op of BINARY)
      for (const shape of SHAPES)
        for (const la of LAYOUTS)
          for (const lb of LAYOUTS) {
            const a = operand(wasm, 'float32', shape, la, r, floats);
            const b = operand(wasm, 'float32', shape, lb, r, op === 'pow' ? (q) => (q() < 0.5 ? Math.floor(q() * 7) - 3 : floats(q)) : floats);
            binaryCase(m, op, a, b, `${op} ${la}×${lb} [${shape}]`);
          }
    m.expectNone();
  });

  it('binary: equal operands, ±0 pairs and NaN against every op (exact ties and NaN propagation)', () => {
    const m = new Mismatches();
    const av = [0, -0, 0, -0, NaN, 1, NaN, Infinity, -Infinity, 2, 1, -1, 0, 3, 1, -1, -1, NaN, -0];
    const bv = [-0, 0, 0, -0, 1, NaN, NaN, Infinity, Infinity, 2, -1, 1, -1, 0, Infinity, -Infinity, Infinity, 0, -3];
    for (const op of BINARY) {
      const seq = (v: number[]) => {
        let i = 0;
        return () => v[i++];
      };
      const a = operand(wasm, 'float32', [av.length], 'contiguous', rng(0), seq(av));
      const b = operand(wasm, 'float32', [bv.length], 'contiguous', rng(0), seq(bv));
      binaryCase(m, op, a, b, `${op} edges`);
    }
    m.expectNone();
  });

  it('binary: large operands, broadcast rows, and int32 operands into float32', () => {
    const m = new Mismatches();
    const r = rng(5);
    for (const op of BINARY) {
      binaryCase(m, op, operand(wasm, 'float32', [100_001], 'contiguous', r, floats), operand(wasm, 'float32', [100_001], 'strided', r, floats), `${op} [100001]`);
      // A row vector broadcast down the rows: [rows, cols] + [1, cols] seen as [rows, cols] with stride 0.
      const row = operand(wasm, 'float32', [301, 203], 'broadcast', r, floats);
      binaryCase(m, op, operand(wasm, 'float32', [301, 203], 'transposed', r, floats), row, `${op} [301, 203] + row`);
      binaryCase(m, op, operand(wasm, 'int32', [3, 5], 'contiguous', r, ints), operand(wasm, 'float32', [3, 5], 'sliced', r, floats), `${op} int32×float32`);
      binaryCase(m, op, operand(wasm, 'float32', [3, 5], 'broadcast', r, floats), operand(wasm, 'int32', [3, 5], 'transposed', r, ints), `${op} float32×int32`);
    }
    m.expectNone();
  });

  it('where: every layout of cond, a and b; float32, int32 and float64 conditions; int32 values', () => {
    const m = new Mismatches();
    const r = rng(6);
    const shapes = [[], [7], [3, 5], [2, 3, 5], [2, 1, 3, 7]];
    const cases: [DType, DType, DType][] = [
      ['float32', 'float32', 'float32'],
      ['int32', 'float32', 'float32'],
      ['float64', 'float32', 'float32'],
      ['float32', 'int32', 'float32'],
    ];
    for (const [cd, ad, bd] of cases)
      for (const shape of shapes)
        for (const lc of LAYOUTS)
          for (const la of LAYOUTS) {
            const lb = LAYOUTS[Math.floor(r() * LAYOUTS.length)];
            const c = operand(wasm, cd, shape, lc, r, conds);
            const a = operand(wasm, ad, shape, la, r, ad === 'int32' ? ints : floats);
            const b = operand(wasm, bd, shape, lb, r, floats);
            const out = outputs(wasm, 'float32', numel(shape));
            js.where(c.js, a.js, b.js, out.js);
            wasm.where(c.wasm, a.wasm, b.wasm, out.wasm);
            m.check(wasm.read(out.wasm), js.read(out.js), `where ${cd}/${ad}/${bd} ${lc}/${la}/${lb} [${shape}]`, true);
          }
    m.expectNone();
  });

  function reduceCase(m: Mismatches, op: ReduceOp, x: Pair, axes: number[], what: string): void {
    const kept = x.js.shape.filter((_, d) => !axes.includes(d));
    const out = outputs(wasm, 'float32', numel(kept));
    js.reduce(op, x.js, axes, out.js);
    wasm.reduce(op, x.wasm, axes, out.wasm);
    m.check(wasm.read(out.wasm), js.read(out.js), what, op !== 'sum');
  }

  it('reduce: sum/max/min over every axis subset, every layout and rank (max/min exact, ties and NaN)', () => {
    const m = new Mismatches();
    const r = rng(7);
    for (const op of REDUCE)
      for (const shape of SHAPES)
        for (const layout of LAYOUTS)
          for (const axes of axisSets(shape.length))
            for (const gen of [floats, ties]) {
              const x = operand(wasm, 'float32', shape, layout, r, gen);
              reduceCase(m, op, x, axes, `${op} ${layout} [${shape}] axes [${axes}] ${gen === ties ? 'ties' : 'floats'}`);
            }
    m.expectNone();
  });

  it('reduce: long rows and columns, and a float64-accurate sum of 1e6 elements', () => {
    const m = new Mismatches();
    const r = rng(8);
    // Rows whose max (min) is a zero of either sign: the first zero decides the sign.
    const zeroMax: Gen = (q) => [-0, 0, -1, -2][Math.floor(q() * 4)];
    const zeroMin: Gen = (q) => [-0, 0, 1, 2][Math.floor(q() * 4)];
    for (const op of REDUCE)
      for (const gen of [plain, ties, op === 'min' ? zeroMin : zeroMax])
        for (const layout of ['contiguous', 'transposed', 'strided'] as Layout[]) {
          const x = operand(wasm, 'float32', [37, 1001], layout, r, gen);
          for (const axes of [[0], [1], [0, 1]]) reduceCase(m, op, x, axes, `${op} [37, 1001] ${layout} axes [${axes}]`);
        }
    const big = operand(wasm, 'float32', [1000, 1000], 'contiguous', r, (q) => q() + 1e3); // no cancellation to hide behind
    for (const axes of [[0], [1], [0, 1]]) reduceCase(m, 'sum', big, axes, `sum 1e6 axes [${axes}]`);
    // And against an exact-enough float64 sum of the stored values.
    const out = wasm.alloc('float32', 1);
    wasm.reduce('sum', big.wasm, [0, 1], out);
    let want = 0;
    for (const v of js.read(big.js.buf)) want += v;
    expect(Math.abs(wasm.read(out)[0] - want)).toBeLessThanOrEqual(1e-7 * want);
    m.expectNone();
  });

  it('argReduce: argmax/argmin along every axis, every layout, with ties, ±0 and NaN (exact)', () => {
    const m = new Mismatches();
    const r = rng(9);
    const shapes = [...SHAPES.filter((s) => s.length > 0), [5, 37], [37, 9], [3, 64, 5]];
    for (const op of ARG)
      for (const shape of shapes)
        for (const layout of LAYOUTS)
          for (let axis = 0; axis < shape.length; axis++)
            for (const gen of [floats, ties]) {
              const x = operand(wasm, 'float32', shape, layout, r, gen);
              const n = numel(shape.filter((_, d) => d !== axis));
              const out = outputs(wasm, 'int32', n, -7);
              js.argReduce(op, x.js, axis, out.js);
              wasm.argReduce(op, x.wasm, axis, out.wasm);
              m.check(wasm.read(out.wasm), js.read(out.js), `${op} ${layout} [${shape}] axis ${axis}`, true);
            }
    m.expectNone();
  });

  it('gather and scatterAdd: every axis, index and value layouts, repeated indices (exact)', () => {
    const m = new Mismatches();
    const r = rng(10);
    const shapes = [[7], [3, 5], [2, 3, 5], [2, 1, 3, 7], [4, 33]];
    for (const shape of shapes)
      for (let axis = 0; axis < shape.length; axis++)
        for (const xl of LAYOUTS)
          for (const il of ['contiguous', 'transposed', 'broadcast', 'sliced'] as Layout[]) {
            // An index no larger than x but along the axis, where it may be longer (and repeats).
            const ishape = shape.map((n, d) => (d === axis ? n + 2 : Math.max(1, n - (d % 2))));
            const len = shape[axis];
            const index = operand(wasm, 'int32', ishape, il, r, (q) => Math.floor(q() * len));
            const x = operand(wasm, 'float32', shape, xl, r, floats);
            const out = outputs(wasm, 'float32', numel(ishape));
            js.gather(x.js, axis, index.js, out.js);
            wasm.gather(x.wasm, axis, index.wasm, out.wasm);
            m.check(wasm.read(out.wasm), js.read(out.js), `gather ${xl}/${il} [${shape}] axis ${axis}`, true);
            // scatterAdd: src has the index's shape (any layout); out starts from the same values.
            const src = operand(wasm, 'float32', ishape, xl, r, floats);
            const acc = outputs(wasm, 'float32', numel(shape), 0.25);
            js.scatterAdd(acc.js, shape, axis, index.js, src.js);
            wasm.scatterAdd(acc.wasm, shape, axis, index.wasm, src.wasm);
            m.check(wasm.read(acc.wasm), js.read(acc.js), `scatterAdd ${xl}/${il} [${shape}] axis ${axis}`, true);
          }
    m.expectNone();
  });

  it('gather and scatterAdd: an out-of-range index raises the reference error and writes nothing', () => {
    for (const bad of [-1, 5, 2 ** 31 - 1]) {
      const x = operand(wasm, 'float32', [3, 5], 'contiguous', rng(11), floats);
      const index = operand(wasm, 'int32', [3, 2], 'transposed', rng(12), (q) => Math.floor(q() * 5));
      for (const b of [js, wasm] as Backend[]) b.write((b === js ? index.js : index.wasm).buf, [1, 2, 0, 4, bad, 3]);
      const run = (b: Backend, kernel: 'gather' | 'scatterAdd'): string => {
        const pair = b === js ? 'js' : 'wasm';
        const out = b.alloc('float32', 15);
        b.fill(out, 2);
        try {
          if (kernel === 'gather') b.gather(x[pair], 1, index[pair], out);
          else b.scatterAdd(out, [3, 5], 1, index[pair], { ...x[pair], shape: [3, 2] });
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
          expect(Array.from(b.read(out))).toEqual(new Array(15).fill(2));
          return (e as Error).message;
        }
        throw new Error(`${b.name} ${kernel} accepted index ${bad}`);
      };
      for (const kernel of ['gather', 'scatterAdd'] as const) {
        const message = run(wasm, kernel);
        expect(message).toBe(run(js, kernel));
        expect(message).toContain(`index ${bad} at position`);
      }
    }
  });

  it('axpby and sumSquares: every layout of x, parameters including 0 and negatives', () => {
    const m = new Mismatches();
    const r = rng(13);
    for (const shape of [...SHAPES, [100_003]])
      for (const layout of LAYOUTS)
        for (const [alpha, beta] of [[1, 1], [-0.01, 1], [0.9, 0.1], [0, 0.5], [2.5, 0], [-1, -1]]) {
          const x = operand(wasm, 'float32', shape, layout, r, floats);
          const y = operand(wasm, 'float32', shape, 'contiguous', r, floats);
          js.axpby(alpha, x.js, beta, y.js.buf);
          wasm.axpby(alpha, x.wasm, beta, y.wasm.buf);
          m.check(wasm.read(y.wasm.buf), js.read(y.js.buf), `axpby(${alpha}, ${beta}) ${layout} [${shape}]`);
          const p = operand(wasm, 'float32', shape, layout, r, plain);
          m.check([wasm.sumSquares(p.wasm)], [js.sumSquares(p.js)], `sumSquares ${layout} [${shape}]`);
        }
    // Large values: the squares overflow float32 but not the float64 accumulator.
    const big = operand(wasm, 'float32', [9], 'contiguous', r, () => 1e30);
    expect(wasm.sumSquares(big.wasm)).toBe(js.sumSquares(big.js));
    m.expectNone();
  });

  it('scale and adamStep: bit for bit the reference, every size and edge value, float32 and float64', () => {
    const m = new Mismatches();
    const r = rng(15);
    const moments: Gen = (q) => (q() < 1 / 16 ? [0, -0, 1e-30, 3e38][Math.floor(q() * 4)] : q() * 2);
    for (const dtype of ['float32', 'float64'] as DType[])
      for (const n of [1, 3, 4, 17, 64, 1000, 40_003, 100_352]) {
        for (const alpha of [1, 0, -0, 0.3, 1 / 3, -2.5, Infinity, NaN, 1e-40]) {
          const y = operand(wasm, dtype, [n], 'contiguous', r, floats);
          js.scale(y.js.buf, alpha);
          wasm.scale(y.wasm.buf, alpha);
          m.check(wasm.read(y.wasm.buf), js.read(y.js.buf), `scale(${alpha}) ${dtype} [${n}]`, true);
        }
        for (const [weightDecay, gradScale, step] of [[0, 1, 1], [0.01, 0.37, 3], [0, 0, 1000]]) {
          const scalars = {
            gradScale, weightDecay, beta1: 0.9, beta2: 0.999, eps: 1e-8, lr: 1e-3,
            biasCorrection1: 1 - 0.9 ** step, biasCorrection2: 1 - 0.999 ** step,
          };
          const [p, g] = [0, 1].map(() => operand(wasm, dtype, [n], 'contiguous', r, floats));
          const [mm, v] = [0, 1].map(() => operand(wasm, dtype, [n], 'contiguous', r, moments));
          const measure = step !== 3; // measuring must not change a bit of the step
          const copy = js.alloc(dtype, n);
          js.write(copy, js.read(p.js.buf));
          const wantSq = js.adamStep(p.js.buf, g.js.buf, mm.js.buf, v.js.buf, scalars, measure);
          const gotSq = wasm.adamStep(p.wasm.buf, g.wasm.buf, mm.wasm.buf, v.wasm.buf, scalars, measure);
          const what = `adamStep(wd ${weightDecay}, scale ${gradScale}, t ${step}) ${dtype} [${n}]`;
          for (const [name, t] of [['p', p], ['g', g], ['m', mm], ['v', v]] as const)
            m.check(wasm.read(t.wasm.buf), js.read(t.js.buf), `${what} ${name}`, true);
          if (!measure) {
            expect([wantSq, gotSq]).toEqual([null, null]);
            continue;
          }
          // What it measures is what updateSquares gives from a copy taken before the step.
          m.check(wantSq!, js.updateSquares(p.js.buf, copy, g.js.buf), `${what} measured (reference)`);
          m.check(gotSq!, wantSq!, `${what} measured`);
        }
      }
    m.expectNone();
    const a = wasm.alloc('float32', 4);
    expect(() => wasm.adamStep(a, wasm.alloc('float32', 5), wasm.alloc('float32', 4), wasm.alloc('float32', 4), {
      gradScale: 1, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, lr: 1e-3, biasCorrection1: 0.1, biasCorrection2: 0.001,
    })).toThrow(/adamStep: g is 5 float32 elements but p 4 float32; every buffer must match/);
    expect(() => wasm.adamStep(a, a, wasm.alloc('float32', 4), wasm.alloc('float32', 4), {
      gradScale: 1, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, lr: 1e-3, biasCorrection1: 0.1, biasCorrection2: 0.001,
    })).toThrow(/adamStep: p and g are the same buffer/);
  });

  it('matmul of a few rows against a transposed operand (the dot-product kernel of x·Wᵀ): shapes with tails, sliced rows, batches', () => {
    const m = new Mismatches();
    const r = rng(23);
    for (const [rows, k, n] of [[1, 1, 1], [2, 3, 5], [3, 4, 4], [5, 17, 9], [31, 9, 130], [32, 784, 128], [33, 70, 13]])
      for (const batch of [1, 3])
        for (const pad of [0, 3]) {
          // A: [batch, rows, k] row-major with rows `k + pad` apart; B: [batch, k, n] as the transpose of [batch, n, k + pad].
          const aData = Array.from({ length: batch * rows * (k + pad) }, () => plain(r));
          const bData = Array.from({ length: batch * n * (k + pad) }, () => plain(r));
          const views = (be: Backend): [View, View, BackendBuffer] => {
            const ab = be.alloc('float32', aData.length);
            const bb = be.alloc('float32', bData.length);
            be.write(ab, aData);
            be.write(bb, bData);
            return [
              { buf: ab, shape: [batch, rows, k], strides: [rows * (k + pad), k + pad, 1], offset: 0 },
              { buf: bb, shape: [batch, k, n], strides: [n * (k + pad), 1, k + pad], offset: 0 },
              be.alloc('float32', batch * rows * n),
            ];
          };
          const [ja, jb, jo] = views(js);
          const [wa, wb, wo] = views(wasm);
          js.matmul(ja, jb, jo);
          wasm.matmul(wa, wb, wo);
          // float32 sums of k products of values in [-3, 3): within k·ε of the reference's scale.
          const got = wasm.read(wo);
          const want = js.read(jo);
          let worst = 0;
          want.forEach((w, i) => (worst = Math.max(worst, Math.abs(got[i] - w))));
          if (worst > k * 9 * 2 ** -22) m.list.push(`matmul [${batch}, ${rows}, ${k}]·[${k}, ${n}]ᵀ pad ${pad}: off by ${worst}`);
        }
    m.expectNone();
  });

  it('updateSquares: the three sums of a monitored parameter, with and without a gradient, huge and tiny values', () => {
    const m = new Mismatches();
    const r = rng(21);
    const near: Gen = (q) => q() * 0.02 - 0.01;
    for (const dtype of ['float32', 'float64'] as DType[])
      for (const n of [1, 3, 4, 17, 1000, 1025, 100_352])
        for (const gen of [plain, floats, (q: () => number) => 1e30 * plain(q), (q: () => number) => 1e-25 * plain(q)] as Gen[]) {
          const p = operand(wasm, dtype, [n], 'contiguous', r, gen);
          const before = operand(wasm, dtype, [n], 'contiguous', r, near);
          // `before` = p plus a small step, as a copy taken before an update would be.
          const pv = js.read(p.js.buf);
          const bv = Array.from(js.read(before.js.buf), (d, i) => pv[i] + d);
          js.write(before.js.buf, bv);
          wasm.write(before.wasm.buf, bv);
          const g = operand(wasm, dtype, [n], 'contiguous', r, gen);
          for (const withGrad of [true, false]) {
            const want = js.updateSquares(p.js.buf, before.js.buf, withGrad ? g.js.buf : null);
            const got = wasm.updateSquares(p.wasm.buf, before.wasm.buf, withGrad ? g.wasm.buf : null);
            m.check(got, want, `updateSquares ${dtype} [${n}] grad ${withGrad} ${gen === floats ? 'specials' : ''}`);
          }
        }
    m.expectNone();
    expect(() => wasm.updateSquares(wasm.alloc('float32', 4), wasm.alloc('float32', 5), null)).toThrow(/updateSquares: before is 5 float32 elements but p 4 float32/);
  });

  it('valueStats: moments, range, histogram, saturated and dead counts of contiguous views, non-finite values included', () => {
    const r = rng(22);
    const reluish: Gen = (q) => (q() < 0.5 ? 0 : q() * 3);
    const cases: [number[], Gen][] = [[[32, 128], plain], [[7, 5], floats], [[3, 4, 5, 2], reluish], [[1001], plain], [[6], () => NaN], [[16], () => 0.99]];
    for (const dtype of ['float32', 'float64'] as DType[])
      for (const [shape, gen] of cases)
        for (const bins of [0, 1, 30])
          for (const act of [null, 'relu', 'tanh', 'sigmoid'] as const)
            for (const layout of ['contiguous', 'sliced1d'] as const) {
              const n = numel(shape);
              const values = Array.from({ length: n + 3 }, () => gen(r));
              const view = (b: Backend): View => {
                const buf = b.alloc(dtype, n + 3);
                b.write(buf, values);
                return { buf, shape, strides: rowMajor(shape), offset: layout === 'sliced1d' ? 3 : 0 };
              };
              const want = js.valueStats(view(js), bins, act);
              const got = wasm.valueStats(view(wasm), bins, act);
              const what = `valueStats ${dtype} [${shape}] bins ${bins} ${act} ${layout}`;
              // Sums in a different order: within float64 rounding of the magnitudes involved.
              for (const k of ['sum', 'sumSquares'] as const) {
                if (!Number.isFinite(want[k])) expect(got[k], what).toBe(want[k]);
                else expect(Math.abs(got[k] - want[k]), `${what} ${k}`).toBeLessThanOrEqual(1e-12 * n * (1 + want.sumSquares));
              }
              expect({ ...got, sum: 0, sumSquares: 0 }, what).toEqual({ ...want, sum: 0, sumSquares: 0 });
            }
    const x = wasm.alloc('float32', 6);
    expect(() => wasm.valueStats({ buf: x, shape: [2, 3], strides: [1, 2], offset: 0 }, 4, null)).toThrow(/valueStats: x \(shape \[2, 3\], strides \[1, 2\]\) must be contiguous/);
    expect(() => wasm.valueStats({ buf: x, shape: [6], strides: [1], offset: 0 }, -1, null)).toThrow(/valueStats: bins must be an integer ≥ 0/);
  });

  it('lstmCell and lstmCellBackward: contiguous and row-sliced operands, hidden sizes with tails', () => {
    const m = new Mismatches();
    const r = rng(16);
    const wide: Gen = (q) => q() * 8 - 4;
    for (const dtype of ['float32', 'float64'] as DType[])
      for (const [n, h] of [[1, 1], [3, 5], [4, 8], [16, 33]])
        for (const layout of ['contiguous', 'sliced'] as Layout[]) {
          const gates = operand(wasm, dtype, [n, 4 * h], layout, r, wide);
          const c = operand(wasm, dtype, [n, h], layout, r, wide);
          const out = outputs(wasm, dtype, n * 2 * h);
          js.lstmCell(gates.js, c.js, out.js);
          wasm.lstmCell(gates.wasm, c.wasm, out.wasm);
          const what = `lstmCell ${dtype} [${n}, ${h}] ${layout}`;
          m.check(wasm.read(out.wasm), js.read(out.js), what);
          const dout = operand(wasm, dtype, [n, 2 * h], layout, r, wide);
          const outView = (b: BackendBuffer): View => ({ buf: b, shape: [n, 2 * h], strides: [2 * h, 1], offset: 0 });
          const dg = outputs(wasm, dtype, n * 4 * h);
          const dc = outputs(wasm, dtype, n * h);
          js.lstmCellBackward(gates.js, c.js, outView(out.js), dout.js, dg.js, dc.js);
          wasm.lstmCellBackward(gates.wasm, c.wasm, outView(out.wasm), dout.wasm, dg.wasm, dc.wasm);
          m.check(wasm.read(dg.wasm), js.read(dg.js), `${what} backward dGates`);
          m.check(wasm.read(dc.wasm), js.read(dc.js), `${what} backward dC`);
        }
    m.expectNone();
    const g = wasm.alloc('float32', 8);
    expect(() => wasm.lstmCell(contiguous(g, [2, 4]), contiguous(wasm.alloc('float32', 4), [2, 2]), wasm.alloc('float32', 4))).toThrow(
      /lstmCell: c has shape \[2, 2\]; expected \[2, 1\]/,
    );
  });

  it('crossEntropyRows and its backward: every logits layout, row counts and class counts with tails', () => {
    const m = new Mismatches();
    const r = rng(17);
    const logits: Gen = (q) => q() * 20 - 10;
    for (const [n, c] of [[1, 1], [3, 5], [8, 10], [2, 33]])
      for (const layout of ['contiguous', 'transposed', 'sliced', 'strided'] as Layout[]) {
        const x = operand(wasm, 'float32', [n, c], layout, r, logits);
        const t = operand(wasm, 'int32', [n], 'contiguous', r, (q) => Math.floor(q() * c));
        const g = operand(wasm, 'float32', [n], layout === 'strided' ? 'broadcast' : 'contiguous', r, logits);
        const loss = outputs(wasm, 'float32', n);
        js.crossEntropyRows(x.js, t.js, loss.js);
        wasm.crossEntropyRows(x.wasm, t.wasm, loss.wasm);
        m.check(wasm.read(loss.wasm), js.read(loss.js), `crossEntropyRows [${n}, ${c}] ${layout}`);
        const dx = outputs(wasm, 'float32', n * c);
        js.crossEntropyRowsBackward(x.js, t.js, g.js, dx.js);
        wasm.crossEntropyRowsBackward(x.wasm, t.wasm, g.wasm, dx.wasm);
        m.check(wasm.read(dx.wasm), js.read(dx.js), `crossEntropyRowsBackward [${n}, ${c}] ${layout}`);
      }
    m.expectNone();
  });

  it('copy: float32 between any layouts, and conversions between every pair of dtypes (exact)', () => {
    const m = new Mismatches();
    const r = rng(14);
    const dtypes: DType[] = ['float32', 'float64', 'int32'];
    const wide: Gen = (q) => (q() < 0.2 ? [NaN, Infinity, -Infinity, -0, 3e9, -3e9, 1e20, -2.5, 2 ** 31, -(2 ** 31) - 1][Math.floor(q() * 10)] : q() * 2e3 - 1e3);
    for (const shape of SHAPES)
      for (const sl of LAYOUTS)
        for (const dl of ['contiguous', 'transposed', 'sliced', 'strided'] as Layout[])
          for (const sd of dtypes)
            for (const dd of dtypes) {
              const src = operand(wasm, sd, shape, sl, r, sd === 'int32' ? (q) => Math.floor(q() * 2 ** 32) - 2 ** 31 : wide);
              const dst = operand(wasm, dd, shape, dl, r, () => 5);
              js.copy(src.js, dst.js);
              wasm.copy(src.wasm, dst.wasm);
              m.check(wasm.read(dst.wasm.buf), js.read(dst.js.buf), `copy ${sd}→${dd} ${sl}→${dl} [${shape}]`, true);
            }
    m.expectNone();
  });

  it('checks its arguments like the reference: shapes, axes, aliasing', () => {
    const a = wasm.alloc('float32', 6);
    const b = wasm.alloc('float32', 6);
    const out = wasm.alloc('float32', 6);
    expect(() => wasm.binary('add', contiguous(a, [2, 3]), contiguous(b, [3, 2]), out)).toThrow(/operand shapes differ/);
    expect(() => wasm.reduce('sum', contiguous(a, [2, 3]), [1, 0], out)).toThrow(/axes \[1, 0\] are invalid/);
    expect(() => wasm.reduce('max', contiguous(a, [0, 3]), [0], out)).toThrow(/has size 0/);
    expect(() => wasm.unary('exp', { buf: out, shape: [3, 2], strides: [1, 3], offset: 0 }, out)).toThrow(/in-place updates need a contiguous input/);
    expect(() => wasm.unary('exp', contiguous(a, [7]), out)).toThrow(/outside its buffer/);
    expect(() => wasm.unary('exp', contiguous(a, [2, 3]), wasm.alloc('float32', 5))).toThrow(/too few for shape/);
    expect(() => wasm.argReduce('argmax', contiguous(a, [2, 3]), 2, wasm.alloc('int32', 2))).toThrow(/axis 2 is out of range/);
  });
});

describe.skipIf(!supported)('wasm backend: no float32 kernel runs in JavaScript', () => {
  it('runs every float32 kernel and op once and records no float32 fallback', () => {
    const wasm = new WasmBackend();
    const f = (shape: number[], values?: number[]): View => {
      const buf = wasm.alloc('float32', numel(shape));
      wasm.write(buf, values ?? Array.from({ length: numel(shape) }, (_, i) => (i % 7) - 3.5));
      return contiguous(buf, shape);
    };
    const x = f([4, 6]);
    const y = f([4, 6]);
    const xt: View = { ...f([6, 4]), shape: [4, 6], strides: [1, 4] };
    const out = wasm.alloc('float32', 24);
    const index = wasm.alloc('int32', 24);
    wasm.write(index, Array.from({ length: 24 }, (_, i) => i % 6));
    const iv = contiguous(index, [4, 6]);
    for (const [op, params] of UNARY) wasm.unary(op, xt, out, params);
    for (const op of BINARY) wasm.binary(op, x, xt, out);
    wasm.where(x, y, xt, out);
    for (const op of REDUCE) wasm.reduce(op, xt, [1], out);
    for (const op of ARG) wasm.argReduce(op, xt, 1, wasm.alloc('int32', 4));
    wasm.matmul({ ...x, shape: [1, 4, 6], strides: [0, 6, 1] }, { ...f([6, 4]), shape: [1, 6, 4], strides: [0, 4, 1] }, out);
    wasm.gather(x, 1, iv, out);
    wasm.scatterAdd(out, [4, 6], 1, iv, xt);
    wasm.axpby(0.5, xt, 2, out);
    wasm.sumSquares(xt);
    wasm.sumSquares(x);
    wasm.scale(out, 0.5);
    wasm.updateSquares(out, x.buf, y.buf);
    wasm.valueStats(x, 10, 'relu');
    const moment = (): BackendBuffer => wasm.alloc('float32', 24);
    wasm.adamStep(out, x.buf, moment(), moment(), {
      gradScale: 1, weightDecay: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, lr: 1e-3, biasCorrection1: 0.1, biasCorrection2: 0.001,
    });
    const labels = wasm.alloc('int32', 4);
    wasm.write(labels, [0, 5, 2, 1]);
    wasm.crossEntropyRows(x, contiguous(labels, [4]), wasm.alloc('float32', 4));
    wasm.crossEntropyRowsBackward(xt, contiguous(labels, [4]), contiguous(wasm.alloc('float32', 4), [4]), wasm.alloc('float32', 24));
    wasm.lstmCell(contiguous(x.buf, [2, 12]), contiguous(y.buf, [2, 3]), wasm.alloc('float32', 12));
    wasm.lstmCellBackward(contiguous(x.buf, [2, 12]), contiguous(y.buf, [2, 3]), contiguous(out, [2, 6]), contiguous(out, [2, 6]), wasm.alloc('float32', 24), wasm.alloc('float32', 6));
    wasm.copy(xt, contiguous(out, [4, 6]));
    wasm.copy(iv, contiguous(out, [4, 6])); // int32 → float32
    wasm.copy(x, iv); // float32 → int32
    // float32 outputs from int32 operands (as the ops layer promotes them) run in wasm too.
    wasm.unary('exp', iv, out);
    wasm.binary('mul', iv, x, out);
    wasm.where(iv, x, iv, out);
    wasm.axpby(1, iv, 1, out);
    const float32 = [...wasm.fallbacks.keys()].filter((k) => k.endsWith(':float32'));
    expect(float32).toEqual([]);
    // And the counter does count: a float64 kernel still runs the reference.
    const d = wasm.alloc('float64', 24);
    wasm.unary('exp', contiguous(d, [24]), wasm.alloc('float64', 24));
    expect(wasm.fallbacks.get('exp:float64')).toBe(1);
  });

  it('a float32 training step through the public API runs no kernel in JavaScript', () => {
    const previous = getBackend();
    const wasm = setBackend('wasm') as WasmBackend;
    try {
      const g = new Generator(3);
      const w1 = randn([12, 8], { generator: g }).mul(0.3).requiresGrad_();
      const b1 = randn([8], { generator: g }).mul(0.01).requiresGrad_();
      const w2 = randn([8, 4], { generator: g }).mul(0.3).requiresGrad_();
      const x = randn([16, 12], { generator: g });
      const y = randint(0, 4, [16, 1], { generator: g });
      const params = [w1, b1, w2];
      wasm.fallbacks.clear();
      for (let step = 0; step < 3; step++)
        tidy(() => {
          const z = matmul(x, w1).add(b1);
          const h = gelu(z).add(gelu(z, { approximate: 'tanh' })).mul(sigmoid(z)).add(tanh(z).mul(0.1)).add(elu(z)).add(leakyRelu(z)).add(softplus(z));
          const logp = logSoftmax(matmul(relu(h), w2));
          const penalty = w1.pow(2).sum().mul(1e-4).add(where(gt(w2, 0), w2, w2.neg()).mean().mul(1e-3));
          const loss = gather(logp, 1, y).mean().neg().add(penalty).add(max(logp).mul(0));
          for (const p of params) p.grad?.zero_();
          loss.backward();
          noGrad(() => {
            for (const p of params) p.sub_(p.grad!, 0.1);
          });
          argmax(logp, { axis: 1 });
        });
      expect([...wasm.fallbacks.keys()].filter((k) => k.endsWith(':float32'))).toEqual([]);
    } finally {
      setBackend(previous.name);
    }
  });
});

describe.skipIf(!supported)('wasm backend: memory growth between kernel calls', () => {
  it('keeps results right, and tensors made before the growth readable, through several memory.grow', () => {
    const wasm = new WasmBackend();
    const r = rng(15);
    const early = Array.from({ length: 1000 }, () => r() * 6 - 3);
    const a = wasm.alloc('float32', early.length);
    wasm.write(a, early);
    const ea = js.alloc('float32', early.length);
    js.write(ea, early);
    const m = new Mismatches();
    const held: BackendBuffer[] = [];
    const sizes: number[] = [wasm.memoryInfo().memoryBytes];
    const W = 4096;
    for (let round = 0; round < 4; round++) {
      // A quarter of the memory is more than the slack a growth leaves, so this has to grow it.
      const n = Math.ceil(wasm.memoryInfo().memoryBytes / 16) + 16;
      const big = wasm.alloc('float32', n);
      held.push(big);
      sizes.push(wasm.memoryInfo().memoryBytes);
      // Values in the last W elements of the new buffer (the rest stays zero), mirrored on js.
      const values = Array.from({ length: W }, (_, i) => Math.sin(i + round) * 3);
      wasm.write(big, values, n - W);
      const win = js.alloc('float32', W);
      js.write(win, values);
      const vw: View = { buf: big, shape: [W / 4, 4], strides: [4, 1], offset: n - W };
      const vj = contiguous(win, [W / 4, 4]);
      // A kernel between the old tensor and the new memory.
      const o = wasm.alloc('float32', early.length);
      const oj = js.alloc('float32', early.length);
      wasm.binary('mul', contiguous(a, [early.length]), { buf: big, shape: [early.length], strides: [3], offset: n - W + 5 }, o);
      js.binary('mul', contiguous(ea, [early.length]), { buf: win, shape: [early.length], strides: [3], offset: 5 }, oj);
      m.check(wasm.read(o), js.read(oj), `mul after growth ${round}`);
      // Reductions over the whole new buffer and over the window.
      const s = wasm.alloc('float32', 4);
      const sj = js.alloc('float32', 4);
      wasm.reduce('sum', contiguous(big, [n]), [0], s);
      js.reduce('sum', contiguous(win, [W]), [0], sj);
      m.check(wasm.read(s, 0, 1), js.read(sj, 0, 1), `sum after growth ${round}`);
      wasm.reduce('max', vw, [0], s);
      js.reduce('max', vj, [0], sj);
      m.check(wasm.read(s), js.read(sj), `max after growth ${round}`);
      const t = wasm.alloc('float32', W);
      const tj = js.alloc('float32', W);
      wasm.unary('tanh', { ...vw, shape: [4, W / 4], strides: [1, 4] }, t);
      js.unary('tanh', { ...vj, shape: [4, W / 4], strides: [1, 4] }, tj);
      m.check(wasm.read(t), js.read(tj), `tanh after growth ${round}`);
      wasm.free(t);
      wasm.free(o);
      wasm.free(s);
    }
    m.check(wasm.read(a), js.read(ea), 'a tensor created before the growth');
    m.expectNone();
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeGreaterThan(sizes[i - 1]);
    for (const b of held) wasm.free(b);
  });
});
