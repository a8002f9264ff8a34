import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DTypeError,
  Generator,
  ShapeError,
  type Tensor,
  manualSeed,
  mean,
  memory,
  noGrad,
  mul,
  ones,
  randn,
  sum,
  tensor,
  tidy,
  variance,
  zeros,
} from '../src/index.js';
import type { DType } from '../src/core/dtype.js';
import { ELU, GELU, Identity, LeakyReLU, LogSoftmax, ReLU, SELU, Sigmoid, Softmax, Softplus, Tanh } from '../src/nn/activation.js';
import { Dropout } from '../src/nn/dropout.js';
import { Embedding } from '../src/nn/embedding.js';
import { Flatten } from '../src/nn/flatten.js';
import * as F from '../src/nn/functional.js';
import { Linear } from '../src/nn/linear.js';
import type { Module } from '../src/nn/module.js';
import { BatchNorm1d, BatchNorm2d, LayerNorm } from '../src/nn/normalization.js';

// PyTorch 1.13 reference values from tools/fixtures/layers_fixtures.py (run it with
// /usr/bin/python3 to regenerate). Each case gives the PyTorch state dict (loaded into the Keel
// module with a strict loadStateDict, so the parameter and buffer names must match PyTorch's too),
// the inputs of one or two forward steps, and the loss weight w; we compare the output of the last
// step, the gradients of (out * w).sum() with respect to the input and every parameter, and the
// buffers afterwards (running statistics), in float32 and float64.

interface Arr {
  shape: number[];
  values: number[];
}

interface Result {
  output: Arr;
  gradInput: Arr | null;
  grads: Record<string, Arr>;
  buffersAfter: Record<string, Arr>;
}

interface Case {
  name: string;
  layer: string;
  args: (number | number[])[];
  options: Record<string, number | string | boolean | null>;
  mode: 'train' | 'eval';
  inputs: Arr[];
  state: Record<string, Arr>;
  weight: Arr;
  results: Record<'float32' | 'float64', Result>;
}

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/layers.json', import.meta.url), 'utf8')) as {
  torch: string;
  cases: Case[];
};

/** The Keel spelling of each fixture layer (the Python script builds the same in torch). */
function build(c: Case, dtype: 'float32' | 'float64'): Module & { forward(x: Tensor): Tensor } {
  const a = c.args as number[];
  const o = c.options;
  switch (c.layer) {
    case 'Linear':
      return new Linear(a[0], a[1], { bias: o.bias as boolean | undefined, dtype });
    case 'LayerNorm':
      return new LayerNorm(c.args[0], { eps: o.eps as number | undefined, elementwiseAffine: o.elementwiseAffine as boolean | undefined, dtype });
    case 'BatchNorm1d':
    case 'BatchNorm2d': {
      const Cls = c.layer === 'BatchNorm1d' ? BatchNorm1d : BatchNorm2d;
      return new Cls(a[0], {
        eps: o.eps as number | undefined,
        momentum: o.momentum as number | null | undefined,
        affine: o.affine as boolean | undefined,
        trackRunningStats: o.trackRunningStats as boolean | undefined,
        dtype,
      });
    }
    case 'Embedding':
      return new Embedding(a[0], a[1], { paddingIdx: o.paddingIdx as number | undefined, dtype });
    case 'ReLU':
      return new ReLU();
    case 'LeakyReLU':
      return new LeakyReLU(...a);
    case 'ELU':
      return new ELU(...a);
    case 'SELU':
      return new SELU();
    case 'GELU':
      return new GELU({ approximate: o.approximate as 'none' | 'tanh' | undefined });
    case 'Tanh':
      return new Tanh();
    case 'Sigmoid':
      return new Sigmoid();
    case 'Softplus':
      return new Softplus({ beta: o.beta as number | undefined, threshold: o.threshold as number | undefined });
    case 'Softmax':
      return new Softmax(a[0]);
    case 'LogSoftmax':
      return new LogSoftmax(a[0]);
    case 'Identity':
      return new Identity();
    case 'Flatten':
      return new Flatten(...a);
    case 'Dropout':
      return new Dropout(a[0]);
    default:
      throw new Error(`no Keel layer for fixture layer ${c.layer}`);
  }
}

interface Tolerance {
  rtol: number;
  atol: number;
}

/**
 * float32: rtol 1e-5, atol 1e-6 (the project's float32 comparison). PyTorch computes in float32
 * (with double accumulators in its CPU batch norm), Keel rounds once per op; the deepest chain here
 * (the batch-norm gradient) is ~15 ops. float64: both sides are within a few ulps per op.
 */
const TOL: Record<'float32' | 'float64', Tolerance> = {
  float32: { rtol: 1e-5, atol: 1e-6 },
  float64: { rtol: 1e-10, atol: 1e-12 },
};

function mismatches(actual: ArrayLike<number>, expected: readonly number[], tol: Tolerance): string[] {
  const out: string[] = [];
  for (let i = 0; i < expected.length && out.length < 5; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol.atol + tol.rtol * Math.abs(expected[i])))
      out.push(`[${i}] keel ${actual[i]} torch ${expected[i]} (|diff| ${err.toExponential(2)})`);
  }
  return out;
}

function expectClose(what: string, t: Tensor | null | undefined, expected: Arr, tol: Tolerance): void {
  expect(t, `${what} is missing`).toBeTruthy();
  const actual = t as Tensor;
  expect([...actual.shape], `${what} shape`).toEqual(expected.shape);
  expect(actual.toTypedArray().length, `${what} size`).toBe(expected.values.length);
  expect(mismatches(actual.toTypedArray(), expected.values, tol), `${what} (rtol ${tol.rtol}, atol ${tol.atol})`).toEqual([]);
}

const isIndexState = (key: string): boolean => key.endsWith('num_batches_tracked');

describe(`basic layers against PyTorch ${fixtures.torch} fixtures`, () => {
  it('has the cases', () => {
    expect(fixtures.cases.length).toBeGreaterThan(40);
  });

  for (const c of fixtures.cases) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${c.name} ${dtype}`, () => {
        const expected = c.results[dtype];
        const m = build(c, dtype);
        const state = new Map(
          Object.entries(c.state).map(([k, v]) => [k, tensor(v.values, v.shape, { dtype: isIndexState(k) ? 'int32' : dtype })] as const),
        );
        m.loadStateDict(state); // strict: Keel's names are PyTorch's
        if (c.mode === 'eval') m.eval();
        else m.train();
        const isIndex = c.layer === 'Embedding';
        let x: Tensor | null = null;
        let out: Tensor | null = null;
        for (const step of c.inputs) {
          x = tensor(step.values, step.shape, isIndex ? { dtype: 'int32' } : { dtype, requiresGrad: true });
          out = m.call(x) as Tensor;
        }
        expectClose('output', out, expected.output, TOL[dtype]);
        sum(mul(out!, tensor(c.weight.values, c.weight.shape, { dtype }))).backward();
        if (expected.gradInput !== null) expectClose('grad of input', x!.grad, expected.gradInput, TOL[dtype]);
        const params = new Map(m.namedParameters());
        expect([...params.keys()].sort()).toEqual(Object.keys(expected.grads).sort());
        for (const [name, g] of Object.entries(expected.grads)) expectClose(`grad of ${name}`, params.get(name)!.grad, g, TOL[dtype]);
        const buffers = new Map(m.namedBuffers());
        expect([...buffers.keys()].sort()).toEqual(Object.keys(expected.buffersAfter).sort());
        for (const [name, b] of Object.entries(expected.buffersAfter)) {
          if (isIndexState(name)) expect(buffers.get(name)!.toArray(), name).toEqual(b.values[0]);
          else expectClose(`buffer ${name} after`, buffers.get(name), b, TOL[dtype]);
        }
      });
    }
  }
});

describe('default initialization (PyTorch)', () => {
  it('Linear: weight [out, in] and bias [out] from U(±1/√in), weight drawn first', () => {
    const fcl = new Linear(400, 300, { generator: new Generator(7) });
    expect(fcl.weight.shape).toEqual([300, 400]);
    expect(fcl.bias!.shape).toEqual([300]);
    const bound = 1 / Math.sqrt(400);
    const w = fcl.weight.toTypedArray();
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of w) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(lo).toBeGreaterThanOrEqual(-bound);
    expect(hi).toBeLessThanOrEqual(bound);
    expect(lo).toBeLessThan(-0.99 * bound); // the whole range is used
    expect(hi).toBeGreaterThan(0.99 * bound);
    // U(−b, b) has variance b²/3; with 120 000 samples the estimate is within 1% (≈ 3σ).
    expect(variance(fcl.weight).item() / (bound * bound / 3)).toBeCloseTo(1, 1);
    expect(Math.abs(mean(fcl.weight).item())).toBeLessThan(0.01 * bound);
    // The draws, in order, from the same generator: 120 000 weights, then 300 biases.
    const g = new Generator(7);
    const expectedW = Array.from({ length: 5 }, () => Math.fround(-bound + 2 * bound * g.nextFloat32()));
    expect(Array.from(w.slice(0, 5))).toEqual(expectedW);
    for (let i = 5; i < 120_000; i++) g.nextFloat32();
    const expectedB = Math.fround(-bound + 2 * bound * g.nextFloat32());
    expect(fcl.bias!.toTypedArray()[0]).toBe(expectedB);
  });

  it('Linear: the global generator by default (manualSeed reproduces), an explicit one otherwise', () => {
    manualSeed(123);
    const a = new Linear(8, 4).weight.toArray();
    manualSeed(123);
    const b = new Linear(8, 4).weight.toArray();
    const c = new Linear(8, 4).weight.toArray();
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    const d = new Linear(8, 4, { generator: new Generator(1) }).weight.toArray();
    const e = new Linear(8, 4, { generator: new Generator(1) }).weight.toArray();
    expect(d).toEqual(e);
    expect(d).not.toEqual(a);
  });

  it('Linear: the forward reads the weight through a transposed view (the only new buffer is the output)', () => {
    const l = new Linear(32, 16, { bias: false });
    for (const shape of [[8, 32], [2, 4, 32]]) {
      const x = randn(shape);
      const before = memory().numBuffers;
      const y = noGrad(() => l.forward(x));
      expect(memory().numBuffers - before).toBe(1);
      expect(y.shape).toEqual([...shape.slice(0, -1), 16]);
    }
  });

  it('Linear: no bias, float64 parameters', () => {
    const l = new Linear(3, 2, { bias: false, dtype: 'float64' });
    expect(l.bias).toBeNull();
    expect([...l.namedParameters()].map(([n]) => n)).toEqual(['weight']);
    expect(l.weight.dtype).toBe('float64');
    expect(l.weight.requiresGrad).toBe(true);
    expect(String(l)).toBe('Linear(in=3, out=2, bias=false)');
  });

  it('Embedding: N(0, 1) weights, the padding row zero', () => {
    const e = new Embedding(400, 50, { paddingIdx: 3, generator: new Generator(2) });
    expect(e.weight.shape).toEqual([400, 50]);
    const rows = e.weight.toArray() as number[][];
    expect(rows[3]).toEqual(new Array(50).fill(0));
    // 19 950 nonzero samples: mean within ±0.03 (4σ), variance within ±4%.
    expect(Math.abs(mean(e.weight).item())).toBeLessThan(0.03);
    expect(variance(e.weight).item() * (20_000 / 19_950)).toBeCloseTo(1, 1);
    expect(new Embedding(5, 2, { paddingIdx: -1 }).paddingIdx).toBe(4);
  });

  it('LayerNorm and BatchNorm: weight 1, bias 0, running mean 0, running var 1, no batches', () => {
    const ln = new LayerNorm([2, 3]);
    expect(ln.weight!.toArray()).toEqual([[1, 1, 1], [1, 1, 1]]);
    expect(ln.bias!.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(new LayerNorm(4, { elementwiseAffine: false }).parameters()).toEqual([]);
    const bn = new BatchNorm2d(3);
    expect(bn.weight!.toArray()).toEqual([1, 1, 1]);
    expect(bn.bias!.toArray()).toEqual([0, 0, 0]);
    expect(bn.running_mean!.toArray()).toEqual([0, 0, 0]);
    expect(bn.running_var!.toArray()).toEqual([1, 1, 1]);
    expect(bn.num_batches_tracked!.toArray()).toBe(0);
    expect(bn.num_batches_tracked!.dtype).toBe('int32');
    expect(bn.running_mean!.requiresGrad).toBe(false);
  });

  it('BatchNorm: buffers with PyTorch names, null and absent from stateDict without running stats', () => {
    const bn = new BatchNorm1d(4);
    expect([...bn.stateDict().keys()]).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    const plain = new BatchNorm1d(4, { trackRunningStats: false, affine: false });
    expect(plain.running_mean).toBeNull();
    expect([...plain.stateDict().keys()]).toEqual([]);
  });

  it('layers made inside tidy keep their parameters and buffers', () => {
    const bn = tidy(() => new BatchNorm1d(3));
    const fcl = tidy(() => new Linear(3, 3));
    const y = bn.call(fcl.call(randn([4, 3])));
    expect(y.shape).toEqual([4, 3]);
    expect(bn.num_batches_tracked!.item()).toBe(1);
  });
});

describe('BatchNorm running statistics', () => {
  it('are updated only in training, from the unbiased variance, and never require grad', () => {
    const bn = new BatchNorm1d(1, { affine: false });
    const x = tensor([[1], [2], [3], [6]]); // mean 3, biased var 3.5, unbiased var 14/3
    const y = bn.call(x);
    expect(bn.running_mean!.item()).toBeCloseTo(0.3, 6);
    expect(bn.running_var!.item()).toBeCloseTo(0.9 + 0.1 * (14 / 3), 6);
    // Normalized with the biased variance: (1 − 3)/√(3.5 + 1e-5).
    expect((y.toArray() as number[][])[0][0]).toBeCloseTo(-2 / Math.sqrt(3.5 + 1e-5), 6);
    bn.eval();
    bn.call(x);
    expect(bn.running_mean!.item()).toBeCloseTo(0.3, 6);
    expect(bn.num_batches_tracked!.item()).toBe(1);
  });

  it('momentum null is the cumulative average of the batch statistics', () => {
    const bn = new BatchNorm1d(1, { momentum: null, affine: false });
    bn.call(tensor([[0], [2]]));
    bn.call(tensor([[4], [8]]));
    bn.call(tensor([[1], [1]]));
    expect(bn.running_mean!.item()).toBeCloseTo((1 + 6 + 1) / 3, 6);
    expect(bn.running_var!.item()).toBeCloseTo((2 + 8 + 0) / 3, 6);
    expect(bn.num_batches_tracked!.item()).toBe(3);
  });
});

describe('Dropout', () => {
  it('in training zeroes about p of the elements and scales the rest by 1/(1 − p)', () => {
    const p = 0.3;
    const d = new Dropout(p, { generator: new Generator(11) });
    const x = ones([200, 500], { requiresGrad: true });
    const y = d.call(x);
    const v = y.toTypedArray();
    const scale = Math.fround(1 / (1 - p));
    let kept = 0;
    for (const e of v) {
      if (e !== 0) {
        expect(e).toBe(scale);
        kept++;
      }
    }
    // The kept fraction is 1 − p within 5σ (σ = √(p(1 − p)/n) ≈ 0.0014).
    expect(Math.abs(kept / v.length - (1 - p))).toBeLessThan(0.0075);
    // The mean is preserved in expectation: E[y] = 1.
    expect(Math.abs(mean(y).item() - 1)).toBeLessThan(0.011);
    // The gradient is the same mask.
    sum(y).backward();
    expect(Array.from(x.grad!.toTypedArray())).toEqual(Array.from(v));
  });

  it('draws a new mask per call, reproducible from the generator or the global seed', () => {
    const x = ones([64]);
    const a = new Dropout(0.5, { generator: new Generator(3) });
    const b = new Dropout(0.5, { generator: new Generator(3) });
    const a1 = a.call(x).toArray();
    expect(b.call(x).toArray()).toEqual(a1);
    expect(a.call(x).toArray()).not.toEqual(a1);
    manualSeed(9);
    const g1 = new Dropout(0.5).call(x).toArray();
    manualSeed(9);
    expect(new Dropout(0.5).call(x).toArray()).toEqual(g1);
  });

  it('is the identity in eval mode and for p = 0; p = 1 zeroes everything', () => {
    const x = randn([3, 4]);
    const d = new Dropout(0.5);
    d.eval();
    expect(d.call(x)).toBe(x);
    expect(new Dropout(0).call(x).toArray()).toEqual(x.toArray());
    expect(Array.from(new Dropout(1).call(x).toTypedArray()).every((v) => v === 0)).toBe(true); // x·0, as PyTorch
    expect(F.dropout(x, 0.5, { training: false })).toBe(x);
  });

  it('validates p', () => {
    for (const p of [-0.1, 1.5, Number.NaN])
      expect(() => new Dropout(p)).toThrow(new ConfigError(`Dropout: p must be a probability in [0, 1] (got ${p})`));
    expect(() => F.dropout(ones([2]), 2)).toThrow(/dropout: p must be a probability in \[0, 1\] \(got 2\)/);
  });
});

describe('bad inputs name the layer and the shapes', () => {
  it('Linear: wrong feature width, a scalar, another dtype', () => {
    const l = new Linear(32, 64);
    expect(() => l.call(zeros([8, 16]))).toThrow(
      new ShapeError('Linear(in=32, out=64): input has 16 features in its last dimension (shape [8, 16]); expected 32'),
    );
    expect(() => l.call(zeros([2, 3, 33]))).toThrow(/Linear\(in=32, out=64\): input has 33 features .*shape \[2, 3, 33\].*expected 32/);
    expect(() => l.call(zeros([]))).toThrow(ShapeError);
    expect(() => l.call(zeros([]))).toThrow(/Linear\(in=32, out=64\): input is a scalar/);
    expect(() => l.call(zeros([2, 32], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => l.call(zeros([2, 32], { dtype: 'float64' }))).toThrow(/input dtype float64 does not match the layer's float32/);
  });

  it('LayerNorm: wrong trailing shape, too low a rank', () => {
    const ln = new LayerNorm([3, 4]);
    expect(() => ln.call(zeros([2, 4, 3]))).toThrow(
      new ShapeError('LayerNorm([3, 4], eps=0.00001): input of shape [2, 4, 3] must end with the normalized shape [3, 4] (its last 2 dimensions are [4, 3])'),
    );
    expect(() => ln.call(zeros([4]))).toThrow(/LayerNorm\(\[3, 4\].*input of shape \[4\] .*rank 1; expected at least 2/);
  });

  it('BatchNorm1d/2d: wrong rank, wrong channel count, a single value per channel in training', () => {
    const bn1 = new BatchNorm1d(3);
    expect(() => bn1.call(zeros([2, 3, 4, 5]))).toThrow(
      new ShapeError('BatchNorm1d(3, eps=0.00001, momentum=0.1): expected a 2-D or 3-D input [N, C] or [N, C, L] (got 4-D input of shape [2, 3, 4, 5])'),
    );
    expect(() => bn1.call(zeros([4, 5]))).toThrow(
      new ShapeError('BatchNorm1d(3, eps=0.00001, momentum=0.1): input has 5 channels in dimension 1 (shape [4, 5]); expected 3'),
    );
    expect(() => bn1.call(zeros([1, 3]))).toThrow(/BatchNorm1d\(3.*expected more than 1 value per channel when training \(got input of shape \[1, 3\]\)/);
    expect(bn1.num_batches_tracked!.item()).toBe(0); // nothing counted on an error
    bn1.eval();
    expect(bn1.call(zeros([1, 3])).shape).toEqual([1, 3]); // fine in eval mode
    const bn2 = new BatchNorm2d(3);
    expect(() => bn2.call(zeros([2, 3, 4]))).toThrow(/BatchNorm2d\(3.*expected a 4-D input \[N, C, H, W\] \(got 3-D input of shape \[2, 3, 4\]\)/);
    expect(() => bn2.call(zeros([2, 4, 5, 5]))).toThrow(/BatchNorm2d\(3.*input has 4 channels in dimension 1 \(shape \[2, 4, 5, 5\]\); expected 3/);
  });

  it('Embedding: non-integer indices, out-of-range indices', () => {
    const e = new Embedding(10, 4);
    expect(() => e.call(zeros([2, 3]))).toThrow(DTypeError);
    expect(() => e.call(zeros([2, 3]))).toThrow(/Embedding\(10, 4\): indices must be an int32 tensor \(got float32\)/);
    expect(() => e.call(tensor([[1, 10]], { dtype: 'int32' }))).toThrow(
      new ShapeError('Embedding(10, 4): index 10 (at flat position 1 of indices [1, 2]) is out of range; expected 0 ≤ index < 10'),
    );
    expect(() => e.call(tensor([-1], { dtype: 'int32' }))).toThrow(/index -1 .*out of range/);
  });

  it('Softmax/LogSoftmax/Flatten: a dimension beyond the input rank', () => {
    expect(() => new Softmax(2).call(zeros([3, 4]))).toThrow(
      new ShapeError('Softmax(dim=2): input of shape [3, 4] has rank 2; dim must be in [-2, 1]'),
    );
    expect(() => new LogSoftmax(-3).call(zeros([3, 4]))).toThrow(/LogSoftmax\(dim=-3\): input of shape \[3, 4\] has rank 2/);
    expect(() => new Flatten().call(zeros([5]))).toThrow(
      new ShapeError('Flatten(startDim=1, endDim=-1): startDim 1 is out of range for input of shape [5] (rank 1; expected a dimension in [-1, 0])'),
    );
    expect(() => new Flatten(2, -2).call(zeros([2, 3, 4]))).toThrow(/startDim 2 \(= 2\) comes after endDim -2 \(= 1\)/);
  });
});

describe('constructor arguments are validated', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['Linear in 0', () => new Linear(0, 3), /^Linear: inFeatures must be a positive integer \(got 0\)$/],
    ['Linear out 2.5', () => new Linear(3, 2.5), /^Linear: outFeatures must be a positive integer \(got 2.5\)$/],
    ['Linear int32', () => new Linear(3, 2, { dtype: 'int32' as DType }), /^Linear: dtype must be 'float32' or 'float64'/],
    ['Embedding paddingIdx', () => new Embedding(5, 2, { paddingIdx: 5 }), /^Embedding: paddingIdx must be an integer in \[-5, 4\] for 5 embeddings \(got 5\)$/],
    ['Embedding dim', () => new Embedding(5, -1), /^Embedding: embeddingDim must be a positive integer/],
    ['LayerNorm []', () => new LayerNorm([]), /^LayerNorm: normalizedShape must have at least one dimension/],
    ['LayerNorm 0', () => new LayerNorm([3, 0]), /^LayerNorm: normalizedShape \[3, 0\] must hold positive integers$/],
    ['LayerNorm eps', () => new LayerNorm(3, { eps: -1 }), /^LayerNorm: eps must be a finite number ≥ 0 \(got -1\)$/],
    ['BatchNorm momentum', () => new BatchNorm1d(3, { momentum: 1.5 }), /^BatchNorm1d: momentum must be in \[0, 1\], or null/],
    ['BatchNorm2d features', () => new BatchNorm2d(0), /^BatchNorm2d: numFeatures must be a positive integer \(got 0\)$/],
    ['LeakyReLU slope', () => new LeakyReLU(Number.NaN), /^LeakyReLU: negativeSlope must be a finite number \(got NaN\)$/],
    ['ELU alpha', () => new ELU(Infinity), /^ELU: alpha must be a finite number/],
    ['GELU approximate', () => new GELU({ approximate: 'fast' as 'tanh' }), /^GELU: approximate must be 'none' or 'tanh' \(got 'fast'\)$/],
    ['Softplus beta', () => new Softplus({ beta: 0 }), /^Softplus: beta must be nonzero/],
    ['Softmax dim', () => new Softmax(0.5), /^Softmax: dim must be an integer \(got 0.5\)$/],
    ['Flatten order', () => new Flatten(2, 1), /^Flatten: startDim 2 comes after endDim 1$/],
  ];
  for (const [name, make, message] of cases)
    it(name, () => {
      expect(make).toThrow(message);
      expect(make).toThrow(ConfigError);
    });
});

describe('functional forms', () => {
  it('batchNorm without training needs running statistics; linear checks its operands', () => {
    expect(() => F.batchNorm(ones([4, 3]), null, null)).toThrow(/batchNorm: runningMean and runningVar are required when not training/);
    expect(() => F.linear(ones([2, 3]), ones([4, 5]))).toThrow(/linear: input \[2, 3\] must end with the weight's in-features 5/);
    expect(() => F.linear(ones([2, 3]), ones([4, 3]), ones([3]))).toThrow(/linear: bias \[3\] must be \[4\]/);
    expect(() => F.embedding(tensor([0, 3], { dtype: 'int32' }), ones([3, 2]))).toThrow(/embedding: index 3 is out of range for 3 embeddings/);
  });

  it('layerNorm gives zero mean and unit variance per sample (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 2, max: 12 }),
        fc.double({ min: -100, max: 100, noNaN: true }),
        fc.double({ min: 0.1, max: 50, noNaN: true }),
        fc.integer({ min: 0, max: 1000 }),
        (rows, width, shift, scale, seed) => {
          const x = randn([rows, width], { dtype: 'float64', generator: new Generator(seed) });
          const y = F.layerNorm(x.mul(scale).add(shift), width, { eps: 0 });
          const m = mean(y, { axis: -1 }).toTypedArray();
          const v = variance(y, { axis: -1, correction: 0 }).toTypedArray();
          for (let i = 0; i < rows; i++) {
            expect(Math.abs(m[i])).toBeLessThan(1e-9);
            expect(Math.abs(v[i] - 1)).toBeLessThan(1e-9);
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('Flatten keeps the elements in order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 5 }), fc.nat(), fc.nat(), (shape, s, e) => {
        const rank = shape.length;
        const [a, b] = [s % rank, e % rank].sort((p, q) => p - q);
        const x = randn(shape, { generator: new Generator(s + e) });
        const y = new Flatten(a, b).call(x);
        const expectedShape = [...shape.slice(0, a), shape.slice(a, b + 1).reduce((p, q) => p * q, 1), ...shape.slice(b + 1)];
        expect(y.shape).toEqual(expectedShape);
        expect(Array.from(y.toTypedArray())).toEqual(Array.from(x.toTypedArray()));
      }),
      { numRuns: 50 },
    );
  });
});
