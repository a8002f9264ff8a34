import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gradcheck } from '../src/autograd/gradcheck.js';
import type { DType } from '../src/core/dtype.js';
import { ConfigError, DTypeError, ShapeError } from '../src/core/errors.js';
import { Generator } from '../src/core/random.js';
import { relu } from '../src/ops/elementwise.js';
import { matmul } from '../src/ops/linalg.js';
import '../src/ops/methods.js';
import { sum } from '../src/ops/reduce.js';
import { flatten, select, transpose } from '../src/ops/shape.js';
import { ones, randn, tensor } from '../src/tensor/create.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { Conv1d, type Conv1dLayerOptions, Conv2d, type Conv2dLayerOptions } from '../src/nn/conv.js';
import { type PadOptions, avgPool2d, conv1d, conv2d, maxPool2d, pad } from '../src/nn/functional-conv.js';
import type { Module } from '../src/nn/module.js';
import { AvgPool2d, type AvgPool2dLayerOptions, MaxPool2d, type MaxPool2dLayerOptions } from '../src/nn/pooling.js';

// PyTorch 1.13 reference values from tools/fixtures/conv_fixtures.py (run it with /usr/bin/python3
// to regenerate test/fixtures/conv.json). Each case stores its inputs as float64 (the float32 run
// rounds them, as torch's `.float()` did), the forward output, and the gradient of every input for
// the loss `(out * weight).sum()`.

interface Arr {
  shape: number[];
  values: number[];
}

interface Result {
  output: Arr;
  grads: Record<string, Arr>;
}

/** Constructor/function arguments in Keel's spelling (which ones depend on the kind). */
interface Args {
  inChannels: number;
  outChannels: number;
  kernelSize: number | [number, number];
  padding: number[];
  options?: Conv2dLayerOptions & MaxPool2dLayerOptions & AvgPool2dLayerOptions & { mode?: PadOptions['mode']; value?: number };
}

interface Case {
  name: string;
  kind: 'Conv1d' | 'Conv2d' | 'MaxPool2d' | 'AvgPool2d' | 'pad' | 'cnn';
  args: Args;
  inputs: Record<string, Arr>;
  weight: Arr;
  results: Record<'float32' | 'float64', Result>;
}

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/conv.json', import.meta.url), 'utf8')) as { torch: string; cases: Case[] };

interface Tolerance {
  rtol: number;
  atol: number;
}

/**
 * float32: torch accumulates in float32 in its own order, Keel's backends each in theirs (the
 * wasm matmul with fused multiply-adds where the engine has them); the sums here have at most ~64
 * terms of size ~1, so they differ by a few float32 ulps: rtol 1e-5 (~80 ulps) with atol 2e-6
 * for results that nearly cancel, where each side's rounding is absolute: torch's float32 weight
 * gradient [55] of 'Conv2d 3→4 k3' (0.0352) is 1.09e-6 from its float64 value, Keel's fused
 * one 3.0e-7. float64: the same sums in double
 * agree to ~1e-15; 1e-10 leaves room without hiding any formula error.
 */
const TOL: Record<'float32' | 'float64', Tolerance> = {
  float32: { rtol: 1e-5, atol: 2e-6 },
  float64: { rtol: 1e-10, atol: 1e-12 },
};

function mismatches(actual: ArrayLike<number>, expected: readonly number[], tol: Tolerance): string[] {
  const out: string[] = [];
  for (let i = 0; i < expected.length && out.length < 5; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol.atol + tol.rtol * Math.abs(expected[i]))) out.push(`[${i}] keel ${actual[i]} torch ${expected[i]} (|diff| ${err.toExponential(2)})`);
  }
  return out;
}

function expectClose(what: string, t: Tensor | null, expected: Arr, tol: Tolerance): void {
  expect(t, `${what} is missing`).not.toBeNull();
  const actual = t as Tensor;
  expect([...actual.shape], `${what} shape`).toEqual(expected.shape);
  expect(mismatches(actual.toTypedArray(), expected.values, tol), `${what} (rtol ${tol.rtol}, atol ${tol.atol})`).toEqual([]);
}

const arrTensor = (a: Arr, dtype: DType, requiresGrad = false): Tensor => tensor(a.values, a.shape, { dtype, requiresGrad });

/** Runs one case in Keel: the output and the tensors whose gradients the fixture holds, by name. */
function runCase(c: Case, dtype: DType, functional: boolean): { out: Tensor; grads: () => Record<string, Tensor | null> } {
  const x = arrTensor(c.inputs.x, dtype, true);
  const o = c.args.options ?? {};
  switch (c.kind) {
    case 'Conv1d':
    case 'Conv2d': {
      const a = c.args;
      const m =
        c.kind === 'Conv1d'
          ? new Conv1d(a.inChannels, a.outChannels, a.kernelSize as number, { ...(o as Conv1dLayerOptions), dtype })
          : new Conv2d(a.inChannels, a.outChannels, a.kernelSize, { ...o, dtype });
      const state: Record<string, Tensor> = { weight: arrTensor(c.inputs.weight, dtype) };
      if (c.inputs.bias !== undefined) state.bias = arrTensor(c.inputs.bias, dtype);
      m.loadStateDict(state);
      let out: Tensor;
      if (functional && (o.paddingMode ?? 'zeros') === 'zeros') {
        const f = c.kind === 'Conv1d' ? conv1d : conv2d;
        out = f(x, m.weight, m.bias, o as Conv1dLayerOptions & Conv2dLayerOptions);
      } else out = m.call(x);
      return { out, grads: () => ({ x: x.grad, weight: m.weight.grad, ...(m.bias === null ? {} : { bias: m.bias.grad }) }) };
    }
    case 'MaxPool2d': {
      const out = functional ? maxPool2d(x, c.args.kernelSize, o) : new MaxPool2d(c.args.kernelSize, o).call(x);
      return { out, grads: () => ({ x: x.grad }) };
    }
    case 'AvgPool2d': {
      const out = functional ? avgPool2d(x, c.args.kernelSize, o) : new AvgPool2d(c.args.kernelSize, o).call(x);
      return { out, grads: () => ({ x: x.grad }) };
    }
    case 'pad':
      return { out: pad(x, c.args.padding, o), grads: () => ({ x: x.grad }) };
    case 'cnn': {
      const conv = new Conv2d(1, 4, 3, { padding: 1, dtype });
      conv.loadStateDict({ weight: arrTensor(c.inputs['conv.weight'], dtype), bias: arrTensor(c.inputs['conv.bias'], dtype) });
      const fcW = arrTensor(c.inputs['fc.weight'], dtype, true);
      const fcB = arrTensor(c.inputs['fc.bias'], dtype, true);
      const h = flatten(new MaxPool2d(2).call(relu(conv.call(x))), 1);
      const out = matmul(h, transpose(fcW)).add(fcB);
      return {
        out,
        grads: () => ({ x: x.grad, 'conv.weight': conv.weight.grad, 'conv.bias': conv.bias!.grad, 'fc.weight': fcW.grad, 'fc.bias': fcB.grad }),
      };
    }
    default:
      return c.kind satisfies never;
  }
}

describe(`convolution and pooling against PyTorch ${fixtures.torch} fixtures`, () => {
  it('covers every kind', () => {
    const kinds = new Set(fixtures.cases.map((c) => c.kind));
    expect([...kinds].sort()).toEqual(['AvgPool2d', 'Conv1d', 'Conv2d', 'MaxPool2d', 'cnn', 'pad']);
  });

  for (const c of fixtures.cases) {
    for (const dtype of ['float32', 'float64'] as const) {
      const variants = c.kind === 'pad' || c.kind === 'cnn' ? [false] : [false, true];
      for (const functional of variants) {
        it(`${c.name} ${dtype}${functional ? ' (functional)' : ''}`, () => {
          const expected = c.results[dtype];
          const { out, grads } = runCase(c, dtype, functional);
          expectClose('forward', out, expected.output, TOL[dtype]);
          sum(out.mul(arrTensor(c.weight, dtype))).backward();
          const got = grads();
          expect(Object.keys(got).sort()).toEqual(Object.keys(expected.grads).sort());
          for (const [k, g] of Object.entries(got)) expectClose(`grad of ${k}`, g, expected.grads[k], TOL[dtype]);
        });
      }
    }
  }
});

describe('finite-difference gradients (float64)', () => {
  const g = new Generator(7);
  const r = (shape: number[]): Tensor => randn(shape, { dtype: 'float64', generator: g, requiresGrad: true });

  it('conv2d with stride, padding, dilation and groups', () => {
    const x = r([2, 4, 5, 5]);
    const w = r([2, 2, 2, 3]);
    const b = r([2]);
    expect(gradcheck((a, ww, bb) => conv2d(a, ww, bb, { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2 }), [x, w, b])).toBe(true);
  });

  it("conv2d with padding 'same' and a reflect-padded Conv2d", () => {
    const x = r([1, 2, 4, 4]);
    const w = r([3, 2, 2, 3]);
    expect(gradcheck((a, ww) => conv2d(a, ww, null, { padding: 'same' }), [x, w])).toBe(true);
    const m = new Conv2d(2, 2, 3, { padding: 1, paddingMode: 'reflect', dtype: 'float64', generator: new Generator(1) });
    expect(gradcheck((a) => m.call(a), [x])).toBe(true);
  });

  it('conv1d', () => {
    const x = r([2, 2, 7]);
    const w = r([4, 1, 3]);
    const b = r([4]);
    expect(gradcheck((a, ww, bb) => conv1d(a, ww, bb, { stride: 2, padding: 1, groups: 2 }), [x, w, b])).toBe(true);
  });

  it('maxPool2d (no ties: continuous inputs)', () => {
    const x = r([1, 2, 5, 6]);
    expect(gradcheck((a) => maxPool2d(a, 3, { stride: 2, padding: 1, ceilMode: true }), [x])).toBe(true);
    expect(gradcheck((a) => maxPool2d(a, [2, 2], { stride: 1, dilation: 2 }), [x])).toBe(true);
  });

  it('avgPool2d with and without the padding in the divisor', () => {
    const x = r([1, 2, 5, 6]);
    for (const countIncludePad of [true, false])
      expect(gradcheck((a) => avgPool2d(a, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad }), [x])).toBe(true);
  });

  it('pad in every mode', () => {
    const x = r([1, 2, 3, 4]);
    for (const mode of ['constant', 'reflect', 'replicate', 'circular'] as const)
      expect(gradcheck((a) => pad(a, [2, 1, 1, 2], { mode }), [x])).toBe(true);
  });
});

describe('Conv1d / Conv2d layers', () => {
  it('have PyTorch-layout parameters with U(±1/√fanIn) initialization', () => {
    const m = new Conv2d(6, 8, [3, 5], { groups: 2, generator: new Generator(3) });
    expect([...m.namedParameters()].map(([n, p]) => [n, [...p.shape]])).toEqual([
      ['weight', [8, 3, 3, 5]],
      ['bias', [8]],
    ]);
    const bound = 1 / Math.sqrt(3 * 3 * 5); // fanIn = in/groups · kh · kw = 45
    const w = Array.from(m.weight.toTypedArray());
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w)).toBeGreaterThan(0.9 * bound);
    expect(Math.min(...w)).toBeLessThan(-0.9 * bound);
    // Uniform on [−b, b] has variance b²/3.
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    expect(variance).toBeGreaterThan(0.8 * (bound * bound) / 3);
    expect(variance).toBeLessThan(1.2 * (bound * bound) / 3);
    const b = Array.from(m.bias!.toTypedArray());
    expect(Math.max(...b.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(new Set(b).size).toBe(8);
    // The same generator seed gives the same weights; a Conv1d's fanIn is in/groups · k.
    expect(Array.from(new Conv2d(6, 8, [3, 5], { groups: 2, generator: new Generator(3) }).weight.toTypedArray())).toEqual(w);
    const c1 = new Conv1d(4, 2, 4, { bias: false, generator: new Generator(5) });
    expect(c1.bias).toBeNull();
    expect([...c1.weight.shape]).toEqual([2, 4, 4]);
    expect(Math.max(...Array.from(c1.weight.toTypedArray(), Math.abs))).toBeLessThanOrEqual(1 / 4);
  });

  it('accept unbatched input and give the batched result without the batch axis', () => {
    const m = new Conv2d(2, 3, 3, { padding: 1, generator: new Generator(0) });
    const x = randn([2, 4, 5], { generator: new Generator(1) });
    const batched = m.call(x.unsqueeze(0));
    const single = m.call(x);
    expect([...single.shape]).toEqual([3, 4, 5]);
    expect(Array.from(single.toTypedArray())).toEqual(Array.from(select(batched, 0, 0).toTypedArray()));
  });

  it('validate their arguments', () => {
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(ConfigError);
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(/Conv2d: inChannels \(3\) must be divisible by groups \(2\)/);
    expect(() => new Conv2d(4, 3, 3, { groups: 2 })).toThrow(/outChannels \(3\) must be divisible by groups \(2\)/);
    expect(() => new Conv2d(0, 3, 3)).toThrow(/Conv2d: inChannels must be a positive integer \(got 0\)/);
    expect(() => new Conv2d(1, 3, [3, 0])).toThrow(/kernelSize/);
    expect(() => new Conv1d(1, 3, 3, { stride: 0 })).toThrow(/Conv1d: stride must be a positive integer/);
    expect(() => new Conv2d(1, 3, 3, { padding: -1 })).toThrow(/padding must be a non-negative integer/);
    expect(() => new Conv2d(1, 3, 3, { padding: 'same', stride: 2 })).toThrow(/padding='same' is not supported for strided convolutions/);
    expect(() => new Conv2d(1, 3, 3, { dilation: [1, 2, 3] as unknown as [number, number] })).toThrow(/dilation must be a number or 2 numbers/);
    expect(() => new Conv2d(1, 3, 3, { paddingMode: 'mirror' as 'reflect' })).toThrow(/paddingMode must be one of/);
  });

  it('check the input and name the layer and both shapes', () => {
    const m = new Conv2d(3, 8, 3);
    expect(() => m.call(randn([2, 4, 8, 8]))).toThrow(ShapeError);
    expect(() => m.call(randn([2, 4, 8, 8]))).toThrow(
      'Conv2d(in=3, out=8, kernel=[3, 3]): input has 4 channels in dimension 1 (shape [2, 4, 8, 8]); expected 3',
    );
    expect(() => m.call(randn([2, 3, 8]))).toThrow('input has 2 channels in dimension 0 (shape [2, 3, 8]); expected 3'); // unbatched [C, H, W]
    expect(() => m.call(randn([8, 8]))).toThrow(/Conv2d\(.*\): expected a 4-D input \[N, C, H, W\] or an unbatched 3-D input \[C, H, W\] \(got shape \[8, 8\]\)/);
    expect(() => m.call(randn([1, 3, 2, 8]))).toThrow(/the padded input \[2, 8\] is smaller than the dilated kernel \[3, 3\]/);
    expect(() => m.call(randn([1, 3, 8, 8], { dtype: 'float64' }))).toThrow(DTypeError);
    expect(() => new Conv1d(2, 2, 3).call(randn([1, 2, 3, 3]))).toThrow(/expected a 3-D input \[N, C, L\] or an unbatched 2-D input \[C, L\]/);
    expect(() => conv2d(randn([1, 4, 5, 5]), randn([2, 2, 3, 3]), null, { groups: 3 })).toThrow(/not divisible by groups=3/);
    expect(() => conv2d(randn([1, 3, 5, 5]), randn([2, 2, 3, 3]), null, { groups: 2 })).toThrow(
      'conv2d: input has 3 channels in dimension 1 (shape [1, 3, 5, 5]); expected 4 (weight [2, 2, 3, 3] with groups=2)',
    );
    expect(() => conv2d(randn([1, 2, 5, 5]), randn([2, 2, 3, 3]), randn([3]))).toThrow(/bias \[3\] must be \[2\]/);
  });

  it('print their configuration', () => {
    expect(new Conv2d(3, 8, 3, { stride: 2, padding: 1 }).toString()).toBe('Conv2d(in=3, out=8, kernel=[3, 3], stride=[2, 2], padding=[1, 1])');
    expect(new Conv1d(4, 4, 5, { padding: 'same', groups: 4, bias: false }).toString()).toBe(
      "Conv1d(in=4, out=4, kernel=[5], padding='same', groups=4, bias=false)",
    );
  });
});

describe('pooling layers', () => {
  it('MaxPool2d shares the gradient among tied maxima (PyTorch picks the first)', () => {
    // A documented difference: with all four window entries equal, PyTorch gives the gradient 1 to
    // the first entry and 0 to the others; Keel's max reduction gives each 1/4.
    const x = ones([1, 1, 2, 2], { requiresGrad: true });
    sum(new MaxPool2d(2).call(x)).backward();
    expect(Array.from(x.grad!.toTypedArray())).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('validate their arguments and inputs', () => {
    expect(() => new MaxPool2d(2, { padding: 2 })).toThrow(/MaxPool2d: padding must be at most half of the kernel size/);
    expect(() => new AvgPool2d(3, { padding: [1, 2] })).toThrow(ConfigError);
    expect(() => new MaxPool2d(0)).toThrow(/MaxPool2d: kernelSize must be a positive integer/);
    expect(() => new AvgPool2d(2, { divisorOverride: 0 })).toThrow(/divisorOverride must be a finite nonzero number/);
    expect(() => new MaxPool2d(2).call(randn([4, 4]))).toThrow(/MaxPool2d\(.*\): expected a 4-D input \[N, C, H, W\] or an unbatched 3-D input/);
    expect(() => new MaxPool2d(3).call(randn([1, 1, 2, 5]))).toThrow(/too small for kernelSize \[3, 3\].*output size would be \[0, 1\]/);
    expect(() => avgPool2d(randn([1, 1, 2, 2]), 3)).toThrow(ShapeError);
  });

  it('print their configuration', () => {
    expect(new MaxPool2d(2).toString()).toBe('MaxPool2d(kernel=[2, 2], stride=[2, 2])');
    expect(new AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }).toString()).toBe(
      'AvgPool2d(kernel=[3, 3], stride=[2, 2], padding=[1, 1], countIncludePad=false)',
    );
  });

  it('have no parameters', () => {
    const layers: Module[] = [new MaxPool2d(2), new AvgPool2d(2)];
    for (const m of layers) expect(m.parameters()).toEqual([]);
  });
});

describe('pad', () => {
  it('checks its arguments', () => {
    const x = randn([2, 3]);
    expect(() => pad(x, [1])).toThrow(/even length/);
    expect(() => pad(x, [1, 1, 1, 1, 1, 1])).toThrow(/at most 2·rank = 4/);
    expect(() => pad(x, [3, 0], { mode: 'reflect' })).toThrow(/'reflect' padding \(3, 0\) must be smaller than the size 3/);
    expect(() => pad(x, [-1, 0], { mode: 'replicate' })).toThrow(/negative padding/);
    expect(() => pad(x, [1, 1], { mode: 'wrap' as 'circular' })).toThrow(/mode must be/);
  });
});
