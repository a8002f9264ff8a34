import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, DTypeError, ShapeError } from '../src/core/errors.js';
import { Generator } from '../src/core/random.js';
import { type Module, parameter } from '../src/nn/module.js';
import { GRUCell, LSTMCell, RNNCell } from '../src/nn/recurrent-cell.js';
import { GRU, LSTM, RNN } from '../src/nn/recurrent.js';
import { abs, add, mul, sub } from '../src/ops/elementwise.js';
import '../src/ops/methods.js';
import { max, sum } from '../src/ops/reduce.js';
import { select, stack } from '../src/ops/shape.js';
import { randn, tensor, zeros } from '../src/tensor/create.js';
import type { Tensor } from '../src/tensor/tensor.js';

// PyTorch 1.13 reference values from tools/fixtures/recurrent_fixtures.py (see its docstring for
// the layout; regenerate with `/usr/bin/python3 tools/fixtures/recurrent_fixtures.py`). Each case
// loads torch's parameters into the Keel module by name, runs it in eval mode, and compares the
// outputs (output, h_n, c_n) and the gradients of the input, the initial states and every parameter
// for the loss Σ_k (outputs[k]·lossWeights[k]).sum().

interface Arr {
  shape: number[];
  values: number[];
}

type Kind = 'RNN' | 'LSTM' | 'GRU' | 'RNNCell' | 'LSTMCell' | 'GRUCell';

interface Result {
  outputs: Arr[];
  grads: { input: Arr; states: Arr[] | null; params: Arr[] };
}

interface Case {
  name: string;
  kind: Kind;
  options: {
    inputSize: number;
    hiddenSize: number;
    numLayers?: number;
    nonlinearity?: 'tanh' | 'relu';
    bias?: boolean;
    batchFirst?: boolean;
    dropout?: number;
    bidirectional?: boolean;
  };
  params: (Arr & { name: string })[];
  input: Arr;
  states: Arr[] | null;
  lossWeights: Arr[];
  results: Record<'float32' | 'float64', Result>;
}

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/recurrent.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: Case[];
};

type Dt = 'float32' | 'float64';

function build(c: Case, dtype: Dt): Module {
  const { inputSize, hiddenSize, ...rest } = c.options;
  const o = { ...rest, dtype };
  switch (c.kind) {
    case 'RNN':
      return new RNN(inputSize, hiddenSize, o);
    case 'LSTM':
      return new LSTM(inputSize, hiddenSize, o);
    case 'GRU':
      return new GRU(inputSize, hiddenSize, o);
    case 'RNNCell':
      return new RNNCell(inputSize, hiddenSize, { bias: o.bias, nonlinearity: o.nonlinearity, dtype });
    case 'LSTMCell':
      return new LSTMCell(inputSize, hiddenSize, { bias: o.bias, dtype });
    case 'GRUCell':
      return new GRUCell(inputSize, hiddenSize, { bias: o.bias, dtype });
    default:
      return c.kind satisfies never;
  }
}

/** Runs the module and flattens its result in the fixture's order. */
function call(kind: Kind, m: Module, x: Tensor, states: Tensor[] | null): Tensor[] {
  switch (kind) {
    case 'RNN':
    case 'GRU': {
      const [out, hn] = (m as RNN | GRU).call(x, states?.[0]);
      return [out, hn];
    }
    case 'LSTM': {
      const [out, [hn, cn]] = (m as LSTM).call(x, states === null ? null : [states[0], states[1]]);
      return [out, hn, cn];
    }
    case 'LSTMCell':
      return (m as LSTMCell).call(x, states === null ? null : [states[0], states[1]]);
    case 'RNNCell':
    case 'GRUCell':
      return [(m as RNNCell | GRUCell).call(x, states?.[0])];
    default:
      return kind satisfies never;
  }
}

interface Tolerance {
  rtol: number;
  atol: number;
}

/**
 * float64: both sides compute in double (~1 ulp kernels, different summation orders), so results
 * agree to ~1e-15 relative per op. Through ~15 ops per step, 48 steps and the backward pass, the
 * largest difference measured is ~5% of rtol 1e-12 / atol 1e-14 (both backends), far below what a
 * wrong formula, gate order or time direction gives.
 */
const F64: Tolerance = { rtol: 1e-12, atol: 1e-14 };

/**
 * float32: the brief's allclose, rtol 1e-5 and atol 1e-6. torch runs every op in float32 (float32
 * accumulation in its matmuls, SIMD sigmoid/tanh); Keel's JS backend computes each op in float64
 * and rounds once, the WASM backend in float32 in its own summation order. Each float32 result is
 * therefore checked twice:
 *
 * 1. against the float64 reference (the exact answer, to ~1e-15) with rtol 1e-5, atol 1e-6: Keel
 *    passes everywhere, using at most ~50% of the tolerance (JS 0.51, WASM 0.47);
 * 2. against torch's float32 result with the same tolerance, except for the parameter gradients,
 *    which get atol 2e-6. A parameter gradient sums the contributions of every time step and
 *    batch row (∂/∂b_ih is Σ_t Σ_n of the gate gradients: 36 terms of either sign here, each the
 *    end of a chain through the backward recurrence), so the float32 rounding of the terms shows
 *    as absolute error in small sums. torch's own float32 gradients are up to 0.64 × (1e-5, 1e-6)
 *    away from the float64 answer and Keel's up to 0.51×, in independent directions: on the worst
 *    element (GRU, 2 layers, bidirectional, batchFirst, ∂/∂bias_ih_l1_reverse[9]) torch is 8.0e-7
 *    below the answer and Keel's JS backend 6.3e-7 above, 1.14× the base tolerance apart although
 *    each is within it. Two values each within (rtol, atol) of the answer are within
 *    (2·rtol, 2·atol) of each other; doubling only atol is enough for every case here. Outputs and input/state gradients keep atol 1e-6. The long
 *    (48-step) cases use no more of the tolerance than the 12-step ones: with U(±1/√hidden) weights
 *    the recurrence is contractive, so rounding errors do not grow along the sequence.
 */
const F32: Tolerance = { rtol: 1e-5, atol: 1e-6 };
const F32_PARAM_GRAD_VS_TORCH_F32: Tolerance = { rtol: 1e-5, atol: 2e-6 };

function mismatches(actual: ArrayLike<number>, expected: readonly number[], tol: Tolerance): string[] {
  const out: string[] = [];
  for (let i = 0; i < expected.length && out.length < 5; i++) {
    const a = actual[i];
    const e = expected[i];
    const err = Math.abs(a - e);
    if (!(err <= tol.atol + tol.rtol * Math.abs(e))) out.push(`[${i}] keel ${a} torch ${e} (|diff| ${err.toExponential(2)})`);
  }
  return out;
}

/** Checks shape and values of `t` against each reference in `refs` ([label, values, tolerance]). */
function expectClose(what: string, t: Tensor | null, refs: [string, Arr, Tolerance][]): void {
  expect(t, `${what} is missing`).not.toBeNull();
  const actual = t as Tensor;
  const values = actual.toTypedArray();
  for (const [label, expected, tol] of refs) {
    expect([...actual.shape], `${what} shape`).toEqual(expected.shape);
    expect(mismatches(values, expected.values, tol), `${what} vs ${label} (rtol ${tol.rtol}, atol ${tol.atol})`).toEqual([]);
  }
}

describe(`recurrent layers against PyTorch ${fixtures.torch} fixtures`, () => {
  it('covers every kind', () => {
    expect(new Set(fixtures.cases.map((c) => c.kind))).toEqual(new Set(['RNN', 'LSTM', 'GRU', 'RNNCell', 'LSTMCell', 'GRUCell']));
  });

  for (const c of fixtures.cases) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${c.kind}: ${c.name} (${dtype})`, () => {
        const m = build(c, dtype);
        // PyTorch's parameter names, shapes and order.
        const named = [...m.namedParameters()];
        expect(named.map(([n, p]) => [n, [...p.shape]])).toEqual(c.params.map((p) => [p.name, p.shape]));
        m.loadStateDict(new Map(c.params.map((p) => [p.name, tensor(p.values, p.shape, { dtype })])));
        m.eval();
        const x = tensor(c.input.values, c.input.shape, { dtype, requiresGrad: true });
        const states = c.states?.map((s) => tensor(s.values, s.shape, { dtype, requiresGrad: true })) ?? null;
        const outs = call(c.kind, m, x, states);
        const f32 = c.results.float32;
        const f64 = c.results.float64;
        // What each result is compared with: float64 against torch float64; float32 against torch
        // float32 and against the float64 answer (see F32 above).
        const refs = (pick: (r: Result) => Arr, paramGrad = false): [string, Arr, Tolerance][] =>
          dtype === 'float64'
            ? [['torch float64', pick(f64), F64]]
            : [
                ['torch float32', pick(f32), paramGrad ? F32_PARAM_GRAD_VS_TORCH_F32 : F32],
                ['torch float64', pick(f64), F32],
              ];
        expect(outs.length).toBe(f64.outputs.length);
        outs.forEach((o, k) => expectClose(`output ${k}`, o, refs((r) => r.outputs[k])));
        const losses = outs.map((o, k) => sum(mul(o, tensor(c.lossWeights[k].values, c.lossWeights[k].shape, { dtype }))));
        losses.reduce((a, b) => add(a, b)).backward();
        expectClose('grad of input', x.grad, refs((r) => r.grads.input));
        states?.forEach((s, k) => expectClose(`grad of state ${k}`, s.grad, refs((r) => r.grads.states![k])));
        named.forEach(([n, p], k) => expectClose(`grad of ${n}`, p.grad, refs((r) => r.grads.params[k], true)));
      });
    }
  }
});

describe('recurrent parameters', () => {
  it('are named and ordered as PyTorch (2 layers, bidirectional)', () => {
    const lstm = new LSTM(3, 5, { numLayers: 2, bidirectional: true });
    const names = [...lstm.namedParameters()].map(([n, p]) => `${n} ${p.shape.join('x')}`);
    expect(names).toEqual([
      'weight_ih_l0 20x3',
      'weight_hh_l0 20x5',
      'bias_ih_l0 20',
      'bias_hh_l0 20',
      'weight_ih_l0_reverse 20x3',
      'weight_hh_l0_reverse 20x5',
      'bias_ih_l0_reverse 20',
      'bias_hh_l0_reverse 20',
      'weight_ih_l1 20x10',
      'weight_hh_l1 20x5',
      'bias_ih_l1 20',
      'bias_hh_l1 20',
      'weight_ih_l1_reverse 20x10',
      'weight_hh_l1_reverse 20x5',
      'bias_ih_l1_reverse 20',
      'bias_hh_l1_reverse 20',
    ]);
    expect(lstm.allWeights.map((w) => w.length)).toEqual([4, 4, 4, 4]);
    expect(lstm.allWeights[2][0]).toBe(lstm.parameters()[8]);
  });

  it('have no biases with bias: false, and the gate count sets the rows', () => {
    expect([...new GRU(3, 5, { bias: false }).namedParameters()].map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual([
      'weight_ih_l0 15x3',
      'weight_hh_l0 15x5',
    ]);
    expect([...new RNN(3, 5).namedParameters()].map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual([
      'weight_ih_l0 5x3',
      'weight_hh_l0 5x5',
      'bias_ih_l0 5',
      'bias_hh_l0 5',
    ]);
    const cell = new LSTMCell(3, 5, { bias: false });
    expect([...cell.namedParameters()].map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual(['weight_ih 20x3', 'weight_hh 20x5']);
    expect(cell.bias_ih).toBeNull();
    expect([...new GRUCell(3, 5).namedParameters()].map(([n]) => n)).toEqual(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']);
  });

  it('are drawn from U(±1/√hidden) by default, from the given generator', () => {
    const hidden = 16;
    const bound = 1 / Math.sqrt(hidden);
    const gru = new GRU(24, hidden, { numLayers: 2, generator: new Generator(7) });
    const values = gru.parameters().flatMap((p) => [...p.toTypedArray()]);
    expect(values.length).toBe(48 * 24 + 48 * 16 + 96 + (48 * 16 + 48 * 16 + 96));
    // All inside the bound, and spread over it: U(−b, b) has mean 0 and variance b²/3.
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...values)).toBeGreaterThan(0.99 * bound);
    expect(Math.min(...values)).toBeLessThan(-0.99 * bound);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(variance / (bound * bound / 3)).toBeCloseTo(1, 1);
    // Every parameter, biases included, uses the same bound (no forget-gate bias, no zero bias).
    for (const [name, p] of gru.namedParameters()) expect(Math.max(...[...p.toTypedArray()].map(Math.abs)), name).toBeGreaterThan(0.8 * bound);
    // Same seed, same parameters; another seed, others.
    const again = new GRU(24, hidden, { numLayers: 2, generator: new Generator(7) });
    expect(again.parameters().flatMap((p) => [...p.toTypedArray()])).toEqual(values);
    const other = new GRU(24, hidden, { numLayers: 2, generator: new Generator(8) });
    expect(other.parameters()[0].toTypedArray()).not.toEqual(gru.parameters()[0].toTypedArray());
    const cell = new RNNCell(4, 9, { generator: new Generator(1) });
    for (const p of cell.parameters()) expect(Math.max(...[...p.toTypedArray()].map(Math.abs))).toBeLessThanOrEqual(1 / 3);
  });

  it('are read from their fields at every call, so a replaced parameter is used (as PyTorch)', () => {
    const gru = new GRU(3, 4, { generator: new Generator(2) });
    const x = randn([5, 2, 3], { generator: new Generator(3) });
    const [before] = gru.call(x);
    const replacement = parameter(zeros([12, 4]));
    (gru as unknown as Record<string, Tensor>).weight_hh_l0 = replacement;
    expect(gru.allWeights[0][1]).toBe(replacement);
    expect(gru.parameters()[1]).toBe(replacement);
    const [after] = gru.call(x);
    expect(after.toTypedArray()).not.toEqual(before.toTypedArray());
  });

  it('print their configuration', () => {
    expect(new LSTM(3, 5, { numLayers: 2, batchFirst: true, bidirectional: true }).toString()).toBe(
      'LSTM(inputSize=3, hiddenSize=5, numLayers=2, batchFirst=true, bidirectional=true)',
    );
    expect(new RNN(3, 5, { nonlinearity: 'relu', bias: false }).toString()).toBe("RNN(inputSize=3, hiddenSize=5, nonlinearity='relu', bias=false)");
    expect(new GRUCell(3, 5).toString()).toBe('GRUCell(inputSize=3, hiddenSize=5)');
  });
});

describe('recurrent layers and cells agree', () => {
  it('an LSTM layer equals its cell stepped over time (and runs the reverse direction backwards)', () => {
    const g = new Generator(3);
    const lstm = new LSTM(3, 4, { bidirectional: true, generator: g });
    const fwd = new LSTMCell(3, 4);
    const bwd = new LSTMCell(3, 4);
    const p = lstm.parameters();
    fwd.loadStateDict({ weight_ih: p[0], weight_hh: p[1], bias_ih: p[2], bias_hh: p[3] });
    bwd.loadStateDict({ weight_ih: p[4], weight_hh: p[5], bias_ih: p[6], bias_hh: p[7] });
    const x = randn([5, 2, 3], { generator: g });
    const [out, [hn, cn]] = lstm.call(x);
    let s: [Tensor, Tensor] = [zeros([2, 4]), zeros([2, 4])];
    const f: Tensor[] = [];
    for (let t = 0; t < 5; t++) f.push((s = fwd.call(select(x, 0, t), s))[0]);
    const fLast = s;
    s = [zeros([2, 4]), zeros([2, 4])];
    const b: Tensor[] = new Array<Tensor>(5);
    for (let t = 4; t >= 0; t--) b[t] = (s = bwd.call(select(x, 0, t), s))[0];
    const diff = (a: Tensor, e: Tensor): number => max(abs(sub(a, e))).item();
    expect(diff(out.slice([null, null, [0, 4]]), stack(f, 0))).toBeLessThan(1e-6);
    expect(diff(out.slice([null, null, [4, 8]]), stack(b, 0))).toBeLessThan(1e-6);
    expect(diff(hn, stack([fLast[0], s[0]], 0))).toBeLessThan(1e-6);
    expect(diff(cn, stack([fLast[1], s[1]], 0))).toBeLessThan(1e-6);
  });
});

describe('dropout between layers', () => {
  afterEach(() => vi.restoreAllMocks());

  const input = (): Tensor => randn([6, 2, 3], { generator: new Generator(11) });

  it('is active only in training mode, reproducible with a generator', () => {
    // Parameters and then the masks come from the generator: two layers built from the same seed
    // draw the same masks, and every training call draws new ones.
    const make = (): GRU => new GRU(3, 4, { numLayers: 2, dropout: 0.5, generator: new Generator(5) });
    const a = make();
    const [first] = a.call(input());
    const [second] = a.call(input());
    const [again] = make().call(input());
    a.eval();
    const [outEval] = a.call(input());
    const [outEval2] = a.call(input());
    expect(first.toTypedArray()).toEqual(again.toTypedArray());
    expect(first.toTypedArray()).not.toEqual(second.toTypedArray());
    expect(first.toTypedArray()).not.toEqual(outEval.toTypedArray());
    expect(outEval.toTypedArray()).toEqual(outEval2.toTypedArray());
  });

  it('with p = 1 feeds zeros to the next layer', () => {
    const g = new Generator(4);
    const lstm = new LSTM(3, 4, { numLayers: 2, dropout: 1, generator: g });
    const top = new LSTM(4, 4);
    const p = lstm.parameters();
    top.loadStateDict({ weight_ih_l0: p[4], weight_hh_l0: p[5], bias_ih_l0: p[6], bias_hh_l0: p[7] });
    const [out, [hn]] = lstm.call(input());
    const [expected, [hnTop]] = top.call(zeros([6, 2, 4]));
    expect(out.toTypedArray()).toEqual(expected.toTypedArray());
    expect(select(hn, 0, 1).toTypedArray()).toEqual(select(hnTop, 0, 0).toTypedArray());
  });

  it('warns, as PyTorch, when there is no layer boundary to apply it at', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const rnn = new RNN(3, 4, { dropout: 0.3 });
    expect(warn).toHaveBeenCalledOnce();
    expect(String(warn.mock.calls[0][0])).toMatch(/dropout=0.3 has no effect with numLayers=1/);
    // ... and then does nothing: training and eval agree.
    const [a] = rnn.call(input());
    rnn.eval();
    const [b] = rnn.call(input());
    expect(a.toTypedArray()).toEqual(b.toTypedArray());
  });
});

describe('recurrent shapes', () => {
  it('follow PyTorch for every layout', () => {
    const dims = (...ts: Tensor[]): number[][] => ts.map((t) => [...t.shape]);
    const [o1, [h1, c1]] = new LSTM(3, 4, { numLayers: 3, bidirectional: true }).call(zeros([7, 2, 3]));
    expect(dims(o1, h1, c1)).toEqual([[7, 2, 8], [6, 2, 4], [6, 2, 4]]);
    const [o2, h2] = new GRU(3, 4, { numLayers: 2, batchFirst: true }).call(zeros([2, 7, 3]));
    expect(dims(o2, h2)).toEqual([[2, 7, 4], [2, 2, 4]]);
    // Unbatched input is [T, in] whatever batchFirst says, as in PyTorch.
    const [o3, h3] = new RNN(3, 4, { bidirectional: true, batchFirst: true }).call(zeros([7, 3]));
    expect(dims(o3, h3)).toEqual([[7, 8], [2, 4]]);
    // An empty batch gives empty results (PyTorch too); an empty sequence is an error (below).
    const [o4, h4] = new RNN(3, 4).call(zeros([5, 0, 3]));
    expect(dims(o4, h4)).toEqual([[5, 0, 4], [1, 0, 4]]);
  });
});

describe('bad input', () => {
  const expectError = (f: () => unknown, cls: new (...a: never[]) => Error, pattern: RegExp): void => {
    let caught: unknown = null;
    try {
      f();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(cls);
    expect((caught as Error).message).toMatch(pattern);
  };

  it('wrong input size names the layer, both shapes and the expected size', () => {
    const lstm = new LSTM(3, 4, { numLayers: 2 });
    expectError(
      () => lstm.call(zeros([5, 2, 7])),
      ShapeError,
      /^LSTM\(inputSize=3, hiddenSize=4, numLayers=2\): input has 7 features in its last dimension \(shape \[5, 2, 7\]\); expected 3$/,
    );
    expectError(() => new GRUCell(3, 4).call(zeros([2, 5])), ShapeError, /GRUCell\(inputSize=3, hiddenSize=4\): input has 5 features .*\[2, 5\].*expected 3/);
  });

  it('wrong rank', () => {
    expectError(() => new GRU(3, 4).call(zeros([3])), ShapeError, /GRU\(.*\): expected input of rank 3 \(\[seq, batch, inputSize\]\) or 2 .*got shape \[3\]/);
    expectError(() => new RNN(3, 4, { batchFirst: true }).call(zeros([1, 2, 5, 3])), ShapeError, /\[batch, seq, inputSize\].*got shape \[1, 2, 5, 3\]/);
    expectError(() => new LSTMCell(3, 4).call(zeros([2, 2, 3])), ShapeError, /LSTMCell\(.*\): expected input of rank 2 .*got shape \[2, 2, 3\]/);
    expectError(() => new RNN(3, 4).call(zeros([0, 2, 3])), ShapeError, /sequence is empty/);
  });

  it('mis-shaped initial states name the layer, the state and both shapes', () => {
    const lstm = new LSTM(3, 4, { numLayers: 2, bidirectional: true });
    const x = zeros([5, 2, 3]);
    const good = zeros([4, 2, 4]);
    expectError(
      () => lstm.call(x, [zeros([2, 2, 4]), good]),
      ShapeError,
      /^LSTM\(inputSize=3, hiddenSize=4, numLayers=2, bidirectional=true\): initial state h_0 has shape \[2, 2, 4\]; expected \[4, 2, 4\]/,
    );
    expectError(() => lstm.call(x, [good, zeros([4, 3, 4])]), ShapeError, /initial state c_0 has shape \[4, 3, 4\]; expected \[4, 2, 4\]/);
    expectError(() => lstm.call(x, [good, zeros([4, 2, 5])]), ShapeError, /c_0 has shape \[4, 2, 5\]; expected \[4, 2, 4\]/);
    // unbatched input wants unbatched states
    expectError(() => new GRU(3, 4).call(zeros([5, 3]), zeros([1, 1, 4])), ShapeError, /h_0 has shape \[1, 1, 4\]; expected \[1, 4\].*unbatched/);
    expectError(() => new RNN(3, 4).call(x, zeros([1, 4])), ShapeError, /h_0 has shape \[1, 4\]; expected \[1, 2, 4\]/);
    expectError(() => lstm.call(x, [good] as unknown as [Tensor, Tensor]), ConfigError, /hx must be a pair \[h_0, c_0\]/);
    expectError(() => new LSTMCell(3, 4).call(zeros([2, 3]), [zeros([2, 4]), zeros([3, 4])]), ShapeError, /state c has shape \[3, 4\]; expected \[2, 4\]/);
    expectError(() => new LSTMCell(3, 4).call(zeros([2, 3]), zeros([2, 4]) as unknown as [Tensor, Tensor]), ConfigError, /hx must be a pair \[h, c\] \(got object\)/);
    expectError(() => new RNNCell(3, 4).call(zeros([3]), zeros([1, 4])), ShapeError, /state hx has shape \[1, 4\]; expected \[4\]/);
  });

  it('a dtype other than the parameters is an error, not a silent promotion', () => {
    expectError(() => new GRU(3, 4).call(zeros([5, 2, 3], { dtype: 'float64' })), DTypeError, /GRU\(.*\): input has dtype float64; expected float32/);
    expectError(
      () => new GRU(3, 4, { dtype: 'float64' }).call(zeros([5, 2, 3], { dtype: 'float64' }), zeros([1, 2, 4])),
      DTypeError,
      /initial state h_0 has dtype float32; expected float64/,
    );
  });

  it('constructors validate their arguments', () => {
    expectError(() => new LSTM(0, 4), ConfigError, /LSTM\(inputSize=0, hiddenSize=4\): inputSize must be a positive integer \(got 0\)/);
    expectError(() => new GRU(3, 2.5), ConfigError, /hiddenSize must be a positive integer \(got 2.5\)/);
    expectError(() => new RNN(3, 4, { numLayers: 0 }), ConfigError, /numLayers must be a positive integer \(got 0\)/);
    expectError(() => new LSTM(3, 4, { numLayers: 2, dropout: 1.5 }), ConfigError, /dropout must be a probability in \[0, 1\] \(got 1.5\)/);
    expectError(() => new RNN(3, 4, { nonlinearity: 'gelu' as 'relu' }), ConfigError, /unknown nonlinearity 'gelu'; choose 'tanh' or 'relu'/);
    expectError(() => new RNNCell(3, 4, { nonlinearity: 'sigmoid' as 'relu' }), ConfigError, /RNNCell\(.*\): unknown nonlinearity/);
    expectError(() => new GRUCell(3, 4, { dtype: 'int32' as 'float32' }), ConfigError, /dtype must be 'float32' or 'float64'/);
  });
});
