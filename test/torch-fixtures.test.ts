import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type DType,
  type Tensor,
  add,
  gather,
  logSoftmax,
  matmul,
  mean,
  mul,
  neg,
  relu,
  sigmoid,
  softmax,
  sum,
  tanh,
  tensor,
  transpose,
} from '../src/index.js';

// PyTorch 1.13 reference values for the engine's ops, from tools/fixtures/engine_fixtures.py (see
// tools/fixtures/README.md to regenerate). Each case stores its inputs as float64; the float32 run
// rounds them to float32, as torch's `.float()` did, so both sides start from the same numbers.
// The loss is `(out * weight).sum()` (or `out` itself for a scalar case without weight), and every
// input's gradient is compared along with the forward output.

interface Arr {
  shape: number[];
  values: number[];
}

interface Result {
  output: Arr;
  grads: Arr[];
}

interface Case {
  name: string;
  op: 'matmul' | 'softmax' | 'logSoftmax' | 'tanh' | 'sigmoid' | 'relu' | 'sum' | 'mean' | 'mlp';
  options: { axis?: number | number[]; keepDims?: boolean; transposeA?: boolean };
  extra?: { targets?: number[] };
  inputs: Arr[];
  weight: Arr | null;
  results: Record<'float32' | 'float64', Result>;
}

interface Fixtures {
  torch: string;
  cases: Case[];
}

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/engine.json', import.meta.url), 'utf8')) as Fixtures;

/** The Keel spelling of each fixture op (the Python script spells the same ops in torch). */
function apply(c: Case, xs: Tensor[]): Tensor {
  const o = c.options;
  switch (c.op) {
    case 'matmul':
      return matmul(o.transposeA ? transpose(xs[0]) : xs[0], xs[1]);
    case 'softmax':
      return softmax(xs[0], o.axis as number);
    case 'logSoftmax':
      return logSoftmax(xs[0], o.axis as number);
    case 'tanh':
      return tanh(xs[0]);
    case 'sigmoid':
      return sigmoid(xs[0]);
    case 'relu':
      return relu(xs[0]);
    case 'sum':
      return sum(xs[0], { axis: o.axis, keepDims: o.keepDims });
    case 'mean':
      return mean(xs[0], { axis: o.axis, keepDims: o.keepDims });
    case 'mlp': {
      // logits = relu(x·W1 + b1)·W2 + b2; loss = −mean_i logSoftmax(logits)[i, target_i]
      const [x, w1, b1, w2, b2] = xs;
      const logits = add(matmul(relu(add(matmul(x, w1), b1)), w2), b2);
      const targets = c.extra?.targets ?? [];
      const index = tensor(targets, [targets.length, 1], { dtype: 'int32' });
      return neg(mean(gather(logSoftmax(logits, -1), 1, index)));
    }
    default:
      return c.op satisfies never;
  }
}

interface Tolerance {
  rtol: number;
  atol: number;
}

/**
 * float64: both sides compute in double with ~1 ulp kernels (Keel: V8's fdlibm `Math.tanh`/
 * `Math.exp`, sums in index order; torch: SLEEF vector functions and its own summation order), so
 * results agree to a few ulps (~1e-15). 1e-12 leaves room for error growth through a short chain of
 * ops without hiding any real bug (a wrong formula is off by far more). The absolute part covers
 * results near zero that come out of cancellation (a matmul entry or softmax gradient `w − Σ p·w`
 * that nearly cancels), whose relative error is not meaningful.
 *
 * float32: torch computes in float32 (SIMD exp/tanh ~1 ulp, float32 accumulation in matmul and sum,
 * in its own order); Keel's reference backend computes each op in float64 and rounds once on store.
 * So the two differ by a few float32 ulps per op (ulp = 2^-23 ≈ 1.2e-7 relative), and the chains
 * here are at most ~10 ops deep: 1e-6 relative is ~8 ulps. The absolute 1e-6 covers cancellation:
 * a float32 sum of K terms of size ~1 carries an absolute error up to ~K·6e-8 whatever the size of
 * the result.
 */
const DEFAULT_TOL: Record<'float32' | 'float64', Tolerance> = {
  float64: { rtol: 1e-12, atol: 1e-12 },
  float32: { rtol: 1e-6, atol: 1e-6 },
};

/**
 * Tighter where we can say why. sigmoid's forward output has no cancellation anywhere (Keel takes
 * `e / (1 + e)` with `e = exp(x)` for x < 0, torch `1 / (1 + exp(−x))`; both are within a few ulps
 * relative even at σ(−30) ≈ 9.4e-14), so it is checked relatively only: an absolute tolerance would
 * accept any tail value below it, e.g. a `1 − σ(−x)` formula that returns 0 there.
 */
function tolerance(c: Case, dtype: 'float32' | 'float64', part: 'forward' | 'grad'): Tolerance {
  const tol = DEFAULT_TOL[dtype];
  if (c.op === 'sigmoid' && part === 'forward') return { rtol: tol.rtol, atol: 0 };
  return tol;
}

/** Elements where `|actual − expected| > atol + rtol·|expected|` (up to 5), as readable lines. */
function mismatches(actual: ArrayLike<number>, expected: readonly number[], tol: Tolerance): string[] {
  const out: string[] = [];
  for (let i = 0; i < expected.length && out.length < 5; i++) {
    const a = actual[i];
    const e = expected[i];
    const err = Math.abs(a - e);
    if (!(err <= tol.atol + tol.rtol * Math.abs(e)))
      out.push(`[${i}] keel ${a} torch ${e} (|diff| ${err.toExponential(2)}, rel ${(err / Math.abs(e)).toExponential(2)})`);
  }
  return out;
}

function expectClose(what: string, t: Tensor | null, expected: Arr, tol: Tolerance): void {
  expect(t, `${what} is missing`).not.toBeNull();
  const actual = t as Tensor;
  expect([...actual.shape], `${what} shape`).toEqual(expected.shape);
  expect(mismatches(actual.toTypedArray(), expected.values, tol), `${what} (rtol ${tol.rtol}, atol ${tol.atol})`).toEqual([]);
}

describe(`engine ops against PyTorch ${fixtures.torch} fixtures`, () => {
  it('loads the fixtures', () => {
    expect(fixtures.cases.length).toBeGreaterThan(0);
  });

  for (const c of fixtures.cases) {
    for (const dtype of ['float64', 'float32'] as const satisfies readonly DType[]) {
      it(`${c.name} ${dtype}`, () => {
        const expected = c.results[dtype];
        const xs = c.inputs.map((x) => tensor(x.values, x.shape, { dtype, requiresGrad: true }));
        const out = apply(c, xs);
        expectClose('forward', out, expected.output, tolerance(c, dtype, 'forward'));
        if (c.weight === null) out.backward();
        else sum(mul(out, tensor(c.weight.values, c.weight.shape, { dtype }))).backward();
        const tol = tolerance(c, dtype, 'grad');
        xs.forEach((x, i) => expectClose(`grad of input ${i}`, x.grad, expected.grads[i], tol));
      });
    }
  }
});
