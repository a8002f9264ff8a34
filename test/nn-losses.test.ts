import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../src/ops/methods.js';
import { gradcheck } from '../src/autograd/gradcheck.js';
import { ConfigError, DTypeError, ShapeError } from '../src/core/errors.js';
import { mul } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/reduce.js';
import { tensor } from '../src/tensor/create.js';
import type { Tensor } from '../src/tensor/tensor.js';
import {
  BCELoss,
  BCEWithLogitsLoss,
  BinaryCrossentropy,
  CategoricalCrossentropy,
  CrossEntropyLoss,
  HuberLoss,
  L1Loss,
  type Loss,
  MSELoss,
  NLLLoss,
  SmoothL1Loss,
  SparseCategoricalCrossentropy,
} from '../src/nn/loss-modules.js';
import {
  type Reduction,
  bce,
  bceWithLogits,
  binaryCrossentropy,
  categoricalCrossentropy,
  crossEntropy,
  huber,
  l1,
  mse,
  nllLoss,
  smoothL1,
  sparseCategoricalCrossentropy,
} from '../src/nn/losses.js';

// PyTorch 1.13 reference values (and Keras 3's formulas evaluated in torch) from
// tools/fixtures/losses_fixtures.py: every loss and option combination, forward value and the
// gradient of the input (and of a float target where torch differentiates it). Each case is run
// through the functional form and through the module form.

interface Arr {
  shape: number[];
  dtype: 'float32' | 'int32';
  values: (number | string)[];
}

type LossName =
  | 'crossEntropy'
  | 'nllLoss'
  | 'mse'
  | 'l1'
  | 'huber'
  | 'smoothL1'
  | 'bce'
  | 'bceWithLogits'
  | 'sparseCategoricalCrossentropy'
  | 'categoricalCrossentropy'
  | 'binaryCrossentropy';

interface Options {
  reduction?: Reduction;
  ignoreIndex?: number;
  labelSmoothing?: number;
  delta?: number;
  beta?: number;
  fromLogits?: boolean;
}

interface Case {
  name: string;
  loss: LossName;
  options: Options;
  input: Arr;
  target: Arr;
  weight: Arr | null;
  posWeight: Arr | null;
  outWeight: Arr | null;
  output: Arr;
  gradInput: Arr;
  gradTarget: Arr | null;
}

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/losses.json', import.meta.url), 'utf8')) as { torch: string; cases: Case[] };

const decode = (v: number | string): number => (typeof v === 'number' ? v : Number(v)); // "NaN", "Infinity", "-Infinity"
const values = (a: Arr): number[] => a.values.map(decode);
const make = (a: Arr, requiresGrad = false): Tensor => tensor(values(a), a.shape, { dtype: a.dtype, requiresGrad });
const maybe = (a: Arr | null): Tensor | null => (a === null ? null : make(a));

interface Inputs {
  input: Tensor;
  target: Tensor;
  weight: Tensor | null;
  posWeight: Tensor | null;
}

/** The Keel call for a case; Keras-style losses take (yTrue, yPred), so the target goes first. */
function functional(c: Case, t: Inputs): Tensor {
  const o = c.options;
  switch (c.loss) {
    case 'crossEntropy':
      return crossEntropy(t.input, t.target, { ...o, weight: t.weight });
    case 'nllLoss':
      return nllLoss(t.input, t.target, { ...o, weight: t.weight });
    case 'mse':
      return mse(t.input, t.target, o);
    case 'l1':
      return l1(t.input, t.target, o);
    case 'huber':
      return huber(t.input, t.target, o);
    case 'smoothL1':
      return smoothL1(t.input, t.target, o);
    case 'bce':
      return bce(t.input, t.target, { ...o, weight: t.weight });
    case 'bceWithLogits':
      return bceWithLogits(t.input, t.target, { ...o, weight: t.weight, posWeight: t.posWeight });
    case 'sparseCategoricalCrossentropy':
      return sparseCategoricalCrossentropy(t.target, t.input, o);
    case 'categoricalCrossentropy':
      return categoricalCrossentropy(t.target, t.input, o);
    case 'binaryCrossentropy':
      return binaryCrossentropy(t.target, t.input, o);
    default:
      return c.loss satisfies never;
  }
}

/** The module for a case, and its call in the library's argument order. */
function viaModule(c: Case, t: Inputs): Tensor {
  const o = c.options;
  const pytorch = (m: Loss): Tensor => m.call(t.input, t.target);
  const keras = (m: Loss): Tensor => m.call(t.target, t.input);
  switch (c.loss) {
    case 'crossEntropy':
      return pytorch(new CrossEntropyLoss({ ...o, weight: t.weight }));
    case 'nllLoss':
      return pytorch(new NLLLoss({ ...o, weight: t.weight }));
    case 'mse':
      return pytorch(new MSELoss(o));
    case 'l1':
      return pytorch(new L1Loss(o));
    case 'huber':
      return pytorch(new HuberLoss(o));
    case 'smoothL1':
      return pytorch(new SmoothL1Loss(o));
    case 'bce':
      return pytorch(new BCELoss({ ...o, weight: t.weight }));
    case 'bceWithLogits':
      return pytorch(new BCEWithLogitsLoss({ ...o, weight: t.weight, posWeight: t.posWeight }));
    case 'sparseCategoricalCrossentropy':
      return keras(new SparseCategoricalCrossentropy(o));
    case 'categoricalCrossentropy':
      return keras(new CategoricalCrossentropy(o));
    case 'binaryCrossentropy':
      return keras(new BinaryCrossentropy(o));
    default:
      return c.loss satisfies never;
  }
}

// float32 on both sides: torch computes each op in float32, Keel's reference backend in float64
// rounded once per op, so they differ by a few float32 ulps per op along chains of ~10 ops.
const RTOL = 1e-5;
const ATOL = 1e-6;

/** Elements outside `atol + rtol·|expected|` (NaN must match NaN, ±inf must match exactly). */
function mismatches(actual: ArrayLike<number>, expected: readonly number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < expected.length && out.length < 5; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Number.isFinite(e) ? Math.abs(a - e) <= ATOL + RTOL * Math.abs(e) : a === e;
    if (!ok) out.push(`[${i}] keel ${a} torch ${e} (|diff| ${Math.abs(a - e).toExponential(2)})`);
  }
  return out;
}

function expectClose(what: string, t: Tensor | null, expected: Arr): void {
  expect(t, `${what} is missing`).not.toBeNull();
  const actual = t as Tensor;
  expect([...actual.shape], `${what} shape`).toEqual(expected.shape);
  expect(mismatches(actual.toTypedArray(), values(expected)), `${what} (rtol ${RTOL}, atol ${ATOL})`).toEqual([]);
}

function check(c: Case, compute: (c: Case, t: Inputs) => Tensor): void {
  const t: Inputs = {
    input: make(c.input, true),
    target: make(c.target, c.gradTarget !== null),
    weight: maybe(c.weight),
    posWeight: maybe(c.posWeight),
  };
  const out = compute(c, t);
  expectClose('forward', out, c.output);
  if (c.outWeight === null) out.backward();
  else sum(mul(out, make(c.outWeight))).backward();
  expectClose('gradient of the input', t.input.grad, c.gradInput);
  if (c.gradTarget !== null) expectClose('gradient of the target', t.target.grad, c.gradTarget);
}

describe(`losses against PyTorch ${fixtures.torch} fixtures`, () => {
  it('loads the fixtures, covering every loss', () => {
    const losses = new Set(fixtures.cases.map((c) => c.loss));
    expect(losses.size).toBe(11);
  });

  describe('functional', () => {
    for (const c of fixtures.cases) it(c.name, () => check(c, functional));
  });

  describe('modules', () => {
    for (const c of fixtures.cases) it(c.name, () => check(c, viaModule));
  });
});

describe('loss gradients against finite differences (float64)', () => {
  const f64 = (data: number[], shape: number[]): Tensor => tensor(data, shape, { dtype: 'float64', requiresGrad: true });
  const logits = [0.3, -1.2, 2.0, 0.1, -0.5, 1.1, 0.7, -2.2, 0.0, 0.4, -0.3, 1.6];

  it('crossEntropy with weight, ignoreIndex and label smoothing', () => {
    const target = tensor([2, -100, 0, 3], [4], { dtype: 'int32' });
    const weight = tensor([0.5, 1.5, 2.0, 0.7], [4], { dtype: 'float64' });
    const x = f64([...logits, 0.9, -0.8, 0.2, 0.5], [4, 4]);
    expect(gradcheck((a) => crossEntropy(a, target, { weight, labelSmoothing: 0.2 }), [x])).toBe(true);
    expect(gradcheck((a) => crossEntropy(a, target, { weight, labelSmoothing: 0.2, reduction: 'none' }), [x])).toBe(true);
  });

  it('Keras categorical and binary crossentropy on probabilities', () => {
    const y = tensor([0.2, 0.8, 0.0, 1.0, 0.0, 0.0], [2, 3], { dtype: 'float64' });
    const p = [0.3, 0.5, 0.2, 0.6, 0.3, 0.1];
    expect(gradcheck((x) => categoricalCrossentropy(y, x, { labelSmoothing: 0.1 }), [f64(p, [2, 3])])).toBe(true);
    expect(gradcheck((x) => binaryCrossentropy(y, x, { labelSmoothing: 0.1 }), [f64(p, [2, 3])])).toBe(true);
  });

  it('huber and smoothL1 away from their kinks, bceWithLogits with posWeight', () => {
    const target = tensor([0.1, -0.4, 2.0, 0.3], [4], { dtype: 'float64' });
    const x = [0.5, 0.2, -1.0, 0.35];
    expect(gradcheck((a, b) => huber(a, b, { delta: 0.8 }), [f64(x, [4]), f64([0.1, -0.4, 2.0, 0.3], [4])])).toBe(true);
    expect(gradcheck((a) => smoothL1(a, target, { beta: 0.5, reduction: 'none' }), [f64(x, [4])])).toBe(true);
    const pw = tensor([2.0, 0.5, 1.0, 3.0], [4], { dtype: 'float64' });
    const y = tensor([1, 0, 0.3, 1], [4], { dtype: 'float64' });
    expect(gradcheck((a) => bceWithLogits(a, y, { posWeight: pw }), [f64(x, [4])])).toBe(true);
  });
});

describe('loss argument errors name the loss, the shapes or the value', () => {
  const logits = tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], [2, 5]);
  const labels = tensor([1, 4], [2], { dtype: 'int32' });

  it('crossEntropy: float labels where class indices are needed', () => {
    expect(() => crossEntropy(logits, tensor([1, 4], [2]))).toThrow(DTypeError);
    expect(() => crossEntropy(logits, tensor([1, 4], [2]))).toThrow(
      'crossEntropy: target must be int32 class indices (got float32); for probabilities pass a float tensor of shape [2, 5]',
    );
    expect(() => nllLoss(logits, tensor([1, 4], [2]))).toThrow("nllLoss: target must be int32 class indices (got float32) (convert with target.cast('int32'))");
  });

  it('crossEntropy: a label outside [0, C−1] names the value, its position and the range', () => {
    const bad = tensor([1, 5], [2], { dtype: 'int32' });
    expect(() => crossEntropy(logits, bad)).toThrow(ConfigError);
    expect(() => crossEntropy(logits, bad)).toThrow(
      'crossEntropy: target holds class 5 at index [1], outside the valid range [0, 4] for C = 5 classes (input shape [2, 5]); only ignoreIndex (-100) may lie outside it',
    );
    expect(() => crossEntropy(logits, tensor([-1, 0], [2], { dtype: 'int32' }))).toThrow('holds class -1 at index [0]');
    // −100 is fine (ignored), but not when another ignoreIndex is chosen
    expect(() => crossEntropy(logits, tensor([-100, 0], [2], { dtype: 'int32' }))).not.toThrow();
    expect(() => crossEntropy(logits, tensor([-100, 0], [2], { dtype: 'int32' }), { ignoreIndex: 3 })).toThrow('holds class -100');
  });

  it('crossEntropy: batch size and shape mismatches', () => {
    expect(() => crossEntropy(logits, tensor([1, 2, 3], [3], { dtype: 'int32' }))).toThrow(ShapeError);
    expect(() => crossEntropy(logits, tensor([1, 2, 3], [3], { dtype: 'int32' }))).toThrow(
      'crossEntropy: batch sizes differ: input [2, 5] has 2 samples but target [3] has 3',
    );
    expect(() => crossEntropy(logits, tensor([1, 2], [2, 1], { dtype: 'int32' }))).toThrow(
      'crossEntropy: target shape [2, 1] does not fit input shape [2, 5]: class indices must have shape [2]',
    );
    expect(() => crossEntropy(tensor(1), labels)).toThrow('crossEntropy: input must have a class dimension');
  });

  it('crossEntropy: weight, labelSmoothing, reduction, ignoreIndex with probabilities', () => {
    expect(() => crossEntropy(logits, labels, { weight: tensor([1, 2, 3]) })).toThrow(
      'crossEntropy: weight has 3 entries (shape [3]) but the input has C = 5 classes',
    );
    expect(() => crossEntropy(logits, labels, { weight: tensor([[1, 2, 3, 4, 5]]) })).toThrow('weight must be 1-D');
    expect(() => crossEntropy(logits, labels, { labelSmoothing: 1.5 })).toThrow('crossEntropy: labelSmoothing must be in [0, 1] (got 1.5)');
    expect(() => crossEntropy(logits, labels, { reduction: 'avg' as Reduction })).toThrow(
      `crossEntropy: reduction must be 'mean', 'sum' or 'none' (got "avg")`,
    );
    const probs = logits.softmax(1);
    expect(() => crossEntropy(logits, probs, { ignoreIndex: 0 })).toThrow('ignoreIndex (0) is not supported with probability targets');
    expect(() => crossEntropy(tensor([1, 2], [2], { dtype: 'int32' }), tensor(0, { dtype: 'int32' }))).toThrow(
      'crossEntropy: input (logits) must be a float tensor (got int32)',
    );
  });

  it('module constructors validate their options', () => {
    expect(() => new CrossEntropyLoss({ labelSmoothing: -0.1 })).toThrow('CrossEntropyLoss: labelSmoothing must be in [0, 1] (got -0.1)');
    expect(() => new CrossEntropyLoss({ ignoreIndex: 1.5 })).toThrow('CrossEntropyLoss: ignoreIndex must be an integer (got 1.5)');
    expect(() => new NLLLoss({ weight: tensor([1, 2], [2], { dtype: 'int32' }) })).toThrow('NLLLoss: weight must be a float tensor (got int32)');
    expect(() => new MSELoss({ reduction: 'batch' as Reduction })).toThrow(`MSELoss: reduction must be 'mean', 'sum' or 'none'`);
    expect(() => new HuberLoss({ delta: 0 })).toThrow('HuberLoss: delta must be a positive number (got 0)');
    expect(() => new SmoothL1Loss({ beta: -1 })).toThrow('SmoothL1Loss: beta must be a non-negative number (got -1)');
    expect(() => new BinaryCrossentropy({ labelSmoothing: 2 })).toThrow('BinaryCrossentropy: labelSmoothing must be in [0, 1]');
    expect(() => new BCEWithLogitsLoss({ posWeight: tensor([1], [1], { dtype: 'int32' }) })).toThrow(
      'BCEWithLogitsLoss: posWeight must be a float tensor (got int32)',
    );
  });

  it('regression losses need equal shapes (no silent [N] against [N, 1] broadcast)', () => {
    const pred = tensor([1, 2, 3], [3, 1]);
    expect(() => mse(pred, tensor([1, 2, 3]))).toThrow(ShapeError);
    expect(() => mse(pred, tensor([1, 2, 3]))).toThrow('mse: target shape [3] differs from input shape [3, 1]; they must match');
    expect(() => huber(pred, tensor([1, 2, 3]), { delta: -1 })).toThrow('huber: delta must be a positive number (got -1)');
    expect(() => l1(pred, tensor([1, 2, 3]))).toThrow('l1: target shape [3]');
  });

  it('bce: probabilities outside [0, 1] or NaN', () => {
    const y = tensor([1, 0, 1], [3]);
    expect(() => bce(tensor([0.5, 1.2, 0.1]), y)).toThrow(
      'bce: input must hold probabilities in [0, 1] (found 1.2000000476837158 at index [1]); for logits use bceWithLogits, or put a sigmoid before the loss',
    );
    expect(() => bce(tensor([0.5, NaN, 0.1]), y)).toThrow('found NaN at index [1]');
    expect(() => bce(tensor([0.5, 0.2, 0.1]), y, { weight: tensor([1, 2]) })).toThrow('bce: weight');
    expect(() => bceWithLogits(tensor([0.5, 0.2, 0.1]), y, { posWeight: tensor([1, 2, 3, 4]) })).toThrow(ShapeError);
  });

  it('Keras losses: labels, shapes and dtypes', () => {
    const probs = logits.softmax(-1);
    expect(() => sparseCategoricalCrossentropy(tensor([1, 4], [2]), probs)).toThrow(
      "sparseCategoricalCrossentropy: yTrue must be int32 class indices (got float32); convert with yTrue.cast('int32'), or use categoricalCrossentropy for one-hot targets",
    );
    expect(() => sparseCategoricalCrossentropy(tensor([1, 7], [2], { dtype: 'int32' }), probs)).toThrow(
      'sparseCategoricalCrossentropy: yTrue holds class 7 at index [1], outside the valid range [0, 4] for C = 5 classes (yPred shape [2, 5])',
    );
    expect(() => sparseCategoricalCrossentropy(tensor([1, 2, 3], [3], { dtype: 'int32' }), probs)).toThrow(
      'sparseCategoricalCrossentropy: batch sizes differ: yPred [2, 5] has 2 samples but yTrue [3] has 3',
    );
    expect(() => categoricalCrossentropy(tensor([1, 0, 0]), probs)).toThrow(
      'categoricalCrossentropy: yTrue shape [3] differs from yPred shape [2, 5]',
    );
    expect(() => binaryCrossentropy(tensor([1, 0]), tensor([0.2, 0.4, 0.1]))).toThrow('binaryCrossentropy: yTrue shape [2] differs from yPred shape [3]');
  });
});

describe('loss weights are constants', () => {
  it('no gradient reaches weight or posWeight, even when they require one (PyTorch does not differentiate them)', () => {
    const x = tensor([[0.2, -0.4, 1.0], [0.5, 0.1, -0.3]], { requiresGrad: true });
    const w = tensor([0.5, 2.0, 1.0], { requiresGrad: true });
    const pw = tensor([3.0, 1.0, 0.5], { requiresGrad: true });
    crossEntropy(x, tensor([2, 0], [2], { dtype: 'int32' }), { weight: w, labelSmoothing: 0.1 }).backward();
    bceWithLogits(x, tensor([[1, 0, 1], [0, 1, 1]]), { weight: w, posWeight: pw }).backward();
    expect(w.grad).toBeNull();
    expect(pw.grad).toBeNull();
    expect(x.grad).not.toBeNull();
  });
});

describe('loss modules', () => {
  it('keep per-class weights as PyTorch-named buffers', () => {
    const w = tensor([1, 2, 3]);
    expect([...new CrossEntropyLoss({ weight: w }).stateDict().keys()]).toEqual(['weight']);
    expect([...new CrossEntropyLoss().stateDict().keys()]).toEqual([]);
    const m = new BCEWithLogitsLoss({ posWeight: w });
    expect([...m.stateDict().keys()]).toEqual(['pos_weight']);
    expect(m.posWeight).toBe(w);
    expect(m.parameters()).toEqual([]);
  });

  it('print their options', () => {
    expect(new CrossEntropyLoss({ labelSmoothing: 0.1 }).toString()).toBe('CrossEntropyLoss(reduction=mean, ignoreIndex=-100, labelSmoothing=0.1)');
    expect(new HuberLoss({ delta: 2, reduction: 'sum' }).toString()).toBe('HuberLoss(reduction=sum, delta=2)');
    expect(new SparseCategoricalCrossentropy({ fromLogits: true }).toString()).toBe('SparseCategoricalCrossentropy(reduction=mean, fromLogits=true)');
  });
});
