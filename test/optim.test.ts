import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, DTypeError, ShapeError } from '../src/core/errors.js';
import { Generator } from '../src/core/random.js';
import { Linear } from '../src/nn/linear.js';
import { crossEntropy } from '../src/nn/losses.js';
import { Module } from '../src/nn/module.js';
import { tanh } from '../src/ops/elementwise.js';
import '../src/ops/methods.js';
import { randint, randn, tensor, zeros } from '../src/tensor/create.js';
import { keep, tidy } from '../src/tensor/scope.js';
import { memory } from '../src/tensor/storage.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { applyIfFinite } from '../src/clip/finite.js';
import { scaleByAdagrad, scaleByAdam, scaleByRmsprop } from '../src/optim/adaptive.js';
import { kerasClip } from '../src/optim/keras-clip.js';
import {
  CosineAnnealingLR,
  ExponentialLR,
  LambdaLR,
  type LRScheduler,
  LinearLR,
  LinearWarmup,
  StepLR,
} from '../src/optim/lr-scheduler.js';
import type { Optimizer, ParamGroupBase } from '../src/optim/optimizer.js';
import { Adagrad, Adam, AdamW, RMSprop, SGD } from '../src/optim/optimizers.js';
import { type GradientTransformation, type UpdateInfo, chain } from '../src/optim/transform.js';
import { addDecayedWeights, disposeStaleState, mapUpdates, scaleByLearningRate, scaleBySchedule, trace } from '../src/optim/transforms.js';

const f64 = (values: number[]): Tensor => tensor(values, { dtype: 'float64' });
const vals = (t: Tensor | null): number[] => Array.from(t!.toTypedArray());

/** Runs `transform` over a list of gradient steps for one float64 parameter; returns each update. */
function drive<S>(transform: GradientTransformation<S>, grads: number[][], param: number[] = grads[0].map(() => 1)): number[][] {
  const p = f64(param);
  let state = transform.init([p]);
  return grads.map((g) => {
    const [u, s] = transform.update([f64(g)], state, [p], []);
    state = s;
    return vals(u[0]);
  });
}

// ------------------------------------------------------------------------------------------------
// Transforms: each against the PyTorch 1.13 / Keras 3 formula written out in float64 here.

describe('transforms', () => {
  it('trace: buffer = g on the first step (no dampening), then μ·buf + (1 − d)·g; Nesterov adds μ·buf', () => {
    const g1 = [0.5, -1];
    const g2 = [0.25, 2];
    const [u1, u2] = drive(trace({ decay: 0.9, dampening: 0.3 }), [g1, g2]);
    expect(u1).toEqual(g1);
    expect(u2).toEqual(g1.map((b, i) => 0.9 * b + 0.7 * g2[i]));
    const [n1, n2] = drive(trace({ decay: 0.9, nesterov: true }), [g1, g2]);
    expect(n1).toEqual(g1.map((g) => g + 0.9 * g));
    const buf2 = g1.map((b, i) => 0.9 * b + g2[i]);
    expect(n2).toEqual(g2.map((g, i) => g + 0.9 * buf2[i]));
    // μ = 0 passes the updates through and keeps no buffer.
    const t = trace({ decay: 0 });
    const s = t.init([f64([1])]);
    const [u, s2] = t.update([f64([3])], s, [f64([1])], []);
    expect(vals(u[0])).toEqual([3]);
    expect(s2.momentumBuffer).toEqual([null]);
    expect(() => trace({ decay: 0.9, dampening: 0.1, nesterov: true })).toThrow(/Nesterov momentum requires a momentum .* and zero dampening/);
  });

  it('scaleByAdam (PyTorch): (m / (√v/√(1−β2ᵗ) + ε)) / (1−β1ᵗ); AMSGrad uses the running max of v', () => {
    const grads = [[0.5], [-0.2], [0.01]];
    for (const amsgrad of [false, true]) {
      const got = drive(scaleByAdam({ b1: 0.8, b2: 0.99, eps: 1e-3, amsgrad }), grads);
      let m = 0;
      let v = 0;
      let vmax = 0;
      grads.forEach(([g], k) => {
        const t = k + 1;
        m = 0.8 * m + 0.2 * g;
        v = 0.99 * v + 0.01 * g * g;
        vmax = Math.max(vmax, v);
        const want = m / (Math.sqrt(amsgrad ? vmax : v) / Math.sqrt(1 - 0.99 ** t) + 1e-3) / (1 - 0.8 ** t);
        expect(got[k][0]).toBeCloseTo(want, 14);
      });
    }
  });

  it('scaleByAdam (Keras): √(1−β2ᵗ)/(1−β1ᵗ)·m/(√v + ε), ε on the uncorrected v', () => {
    const grads = [[0.5], [-0.2]];
    const got = drive(scaleByAdam({ eps: 1e-3, formula: 'keras' }), grads);
    let m = 0;
    let v = 0;
    grads.forEach(([g], k) => {
      const t = k + 1;
      m += (g - m) * 0.1;
      v += (g * g - v) * 0.001;
      expect(got[k][0]).toBeCloseTo(((Math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)) * m) / (Math.sqrt(v) + 1e-3), 14);
    });
  });

  it('scaleByRmsprop: PyTorch (ε outside √, centered, momentum) and Keras (ε inside √)', () => {
    const grads = [[0.5], [-0.2], [0.3]];
    const got = drive(scaleByRmsprop({ decay: 0.9, eps: 1e-2, centered: true, momentum: 0.5 }), grads);
    let v = 0;
    let ga = 0;
    let buf = 0;
    grads.forEach(([g], k) => {
      v = 0.9 * v + 0.1 * g * g;
      ga = 0.9 * ga + 0.1 * g;
      buf = 0.5 * buf + g / (Math.sqrt(v - ga * ga) + 1e-2);
      expect(got[k][0]).toBeCloseTo(buf, 14);
    });
    const keras = drive(scaleByRmsprop({ decay: 0.9, eps: 1e-2, epsInSqrt: true }), grads);
    v = 0;
    grads.forEach(([g], k) => {
      v = 0.9 * v + 0.1 * g * g;
      expect(keras[k][0]).toBeCloseTo(g / Math.sqrt(v + 1e-2), 14);
    });
  });

  it('scaleByAdagrad: g/(√(s0 + Σg²) + ε) / (1 + (t−1)·lrDecay)', () => {
    const grads = [[0.5], [-0.2], [0.3]];
    const got = drive(scaleByAdagrad({ eps: 1e-3, initialAccumulatorValue: 0.1, lrDecay: 0.5 }), grads);
    let s = 0.1;
    grads.forEach(([g], k) => {
      s += g * g;
      expect(got[k][0]).toBeCloseTo(g / (Math.sqrt(s) + 1e-3) / (1 + k * 0.5), 14);
    });
  });

  it('scaleByLearningRate reads a function at every update; scaleBySchedule counts from 0; addDecayedWeights adds wd·p', () => {
    let lr = 0.5;
    const t = scaleByLearningRate(() => lr);
    const g = [f64([2])];
    expect(vals(t.update(g, null, [f64([0])], [])[0][0])).toEqual([-1]);
    lr = 0.25;
    expect(vals(t.update(g, null, [f64([0])], [])[0][0])).toEqual([-0.5]);
    expect(vals(scaleByLearningRate(0.5, { flipSign: false }).update(g, null, [f64([0])], [])[0][0])).toEqual([1]);
    expect(drive(scaleBySchedule((c) => c + 1), [[1], [1], [1]])).toEqual([[1], [2], [3]]);
    expect(drive(addDecayedWeights(0.1), [[1]], [3])[0][0]).toBeCloseTo(1.3, 15);
  });

  it('a null update (no gradient) stays null and leaves that parameter’s state alone, as PyTorch skips it', () => {
    const a = f64([1]);
    const b = f64([2]);
    const tr = chain(addDecayedWeights(0.1), scaleByAdam(), scaleByLearningRate(0.1));
    let state = tr.init([a, b]);
    [, state] = tr.update([f64([1]), null], state, [a, b], []);
    const [u, s2] = tr.update([null, f64([1])], state, [a, b], []);
    expect(u[0]).toBeNull();
    const adam = s2[1] as { step: number[]; expAvg: Tensor[] };
    expect(adam.step).toEqual([1, 1]);
    expect(adam.expAvg[0]).toBe((state[1] as { expAvg: Tensor[] }).expAvg[0]);
  });

  it('transforms never modify their inputs or the old state; disposeStaleState frees what was replaced', () => {
    const p = f64([1, 2]);
    const g = f64([0.5, -0.5]);
    const tr = chain(trace({ decay: 0.9 }), scaleByAdam(), scaleByRmsprop({ centered: true, momentum: 0.9 }), scaleByAdagrad());
    const s0 = tr.init([p]);
    const [, s1] = tr.update([g], s0, [p], []);
    const before = JSON.stringify(s1, (_k, v: unknown) => (v instanceof Object && 'toTypedArray' in v ? Array.from((v as Tensor).toTypedArray()) : v));
    const [, s2] = tr.update([g], s1, [p], []);
    const after = JSON.stringify(s1, (_k, v: unknown) => (v instanceof Object && 'toTypedArray' in v ? Array.from((v as Tensor).toTypedArray()) : v));
    expect(after).toBe(before);
    expect(vals(g)).toEqual([0.5, -0.5]);
    expect(vals(p)).toEqual([1, 2]);
    const adam1 = (s1[1] as { expAvg: Tensor[] }).expAvg[0];
    disposeStaleState(s1, s2);
    expect(adam1.isDisposed).toBe(true);
    expect((s2[1] as { expAvg: Tensor[] }).expAvg[0].isDisposed).toBe(false);
  });

  it('validates its options', () => {
    expect(() => scaleByAdam({ b1: 1 })).toThrow(/scaleByAdam: b1 must be in \[0, 1\) \(got 1\)/);
    expect(() => scaleByAdam({ eps: -1 })).toThrow(ConfigError);
    expect(() => scaleByRmsprop({ momentum: Number.NaN })).toThrow(/momentum must be a finite number/);
    expect(() => scaleByAdagrad({ initialAccumulatorValue: -0.1 })).toThrow(/initialAccumulatorValue/);
    expect(() => scaleBySchedule(3 as unknown as (c: number) => number)).toThrow(/must be a function/);
  });
});

// ------------------------------------------------------------------------------------------------
// Keras clipping options

describe('Keras clipping options (clipnorm, globalClipnorm, clipvalue)', () => {
  const run = (t: GradientTransformation<null>, gs: (Tensor | null)[]): [(Tensor | null)[], UpdateInfo[]] => {
    const info: UpdateInfo[] = [];
    const [u] = t.update(gs, null, gs.map((g) => g ?? f64([0])), info);
    return [u, info];
  };
  const norm = (t: Tensor | null): number => Math.sqrt(vals(t).reduce((a, x) => a + x * x, 0));

  it('clipnorm: each gradient g·c/max(‖g‖, c) on its own; norms after are min(‖g‖, c)', () => {
    const [u, info] = run(kerasClip('Adam', { clipnorm: 1 })!, [f64([3, 4]), f64([0.3, 0.4]), null]);
    expect(vals(u[0])).toEqual([0.6, 0.8]);
    expect(vals(u[1])).toEqual([0.3, 0.4]);
    expect(u[2]).toBeNull();
    expect(info).toEqual([{ transform: 'clipnorm', normBefore: Math.sqrt(25.25), normAfter: Math.sqrt(1.25), clipped: true }]);
  });

  it('globalClipnorm: scale c·min(1/n, 1/c); n = 0 leaves the gradients; a non-finite norm makes them all NaN', () => {
    const [u, info] = run(kerasClip('Adam', { globalClipnorm: 2.5 })!, [f64([3, 4]), f64([0]), null]);
    expect(vals(u[0])).toEqual([1.5, 2]);
    expect(info[0]).toMatchObject({ normBefore: 5, normAfter: 2.5, clipped: true });
    expect(vals(run(kerasClip('Adam', { globalClipnorm: 2.5 })!, [f64([0, 0])])[0][0])).toEqual([0, 0]);
    const [nan] = run(kerasClip('Adam', { globalClipnorm: 1 })!, [f64([1, Number.NaN]), f64([2])]);
    expect([...vals(nan[0]), ...vals(nan[1])].every(Number.isNaN)).toBe(true);
    const [inf] = run(kerasClip('Adam', { globalClipnorm: 1 })!, [f64([1, Infinity])]);
    expect(vals(inf[0]).every(Number.isNaN)).toBe(true);
  });

  it('clipvalue: clamp to [−v, v]; NaN stays NaN', () => {
    const [u, info] = run(kerasClip('SGD', { clipvalue: 0.5 })!, [f64([-2, 0.1, Number.NaN, 0.7])]);
    const got = vals(u[0]);
    expect(got.slice(0, 2)).toEqual([-0.5, 0.1]);
    expect(Number.isNaN(got[2])).toBe(true);
    expect(got[3]).toBe(0.5);
    expect(info[0].clipped).toBe(true);
  });

  it('property: after clipnorm every norm is ≤ c, and clipping twice changes nothing more (to rounding)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }),
        fc.double({ min: 0.01, max: 50, noNaN: true }),
        (arrays, c) => {
          const t = kerasClip('Adam', { clipnorm: c })!;
          const [once] = run(t, arrays.map(f64));
          const [twice] = run(t, once);
          once.forEach((g, i) => {
            expect(norm(g)).toBeLessThanOrEqual(c * (1 + 1e-12));
            vals(twice[i]).forEach((x, k) => expect(x).toBeCloseTo(vals(g)[k], 10));
          });
        },
      ),
      { numRuns: 50 },
    );
  });

  it('one option at most; zero, negative or non-finite values are errors that say to omit the option', () => {
    expect(() => kerasClip('Adam', { clipnorm: 1, clipvalue: 1 })).toThrow(
      'Adam: Only one of `clipnorm`, `clipvalue` and `globalClipnorm` can be set. Received: clipnorm=1, clipvalue=1, globalClipnorm=undefined',
    );
    for (const v of [0, -1, Number.NaN, Infinity])
      expect(() => kerasClip('Adam', { globalClipnorm: v })).toThrow(
        new RegExp(`globalClipnorm must be a positive finite number \\(got ${String(v)}\\); to disable clipping, omit the option`),
      );
    expect(kerasClip('Adam', {})).toBeNull();
  });
});

// ------------------------------------------------------------------------------------------------
// The optimizer classes

function param(values: number[], dtype: 'float32' | 'float64' = 'float64'): Tensor {
  return tensor(values, { dtype, requiresGrad: true });
}

function setGrad(p: Tensor, values: number[]): void {
  p.grad = tensor(values, { dtype: p.dtype });
}

describe('optimizer classes', () => {
  it('SGD (PyTorch): p ← p − lr·(momentum buffer) with the buffer starting at the first gradient', () => {
    const p = param([1, 2]);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    setGrad(p, [1, -1]);
    opt.step();
    expect(vals(p)).toEqual([1 - 0.1 * 1, 2 + 0.1 * 1]);
    setGrad(p, [1, -1]);
    opt.step();
    expect(vals(p)[0]).toBeCloseTo(0.9 - 0.1 * 1.9, 15);
  });

  it('the style follows the option names, with each library’s defaults', () => {
    const p = [param([1])];
    const adamPt = new Adam(p);
    expect([adamPt.style, adamPt.paramGroups[0].eps, adamPt.paramGroups[0].lr]).toEqual(['pytorch', 1e-8, 1e-3]);
    const adamK = new Adam({ learningRate: 2e-3 });
    expect([adamK.style, adamK.defaults.eps, adamK.defaults.lr, adamK.isBound]).toEqual(['keras', 1e-7, 2e-3, false]);
    expect(new AdamW(p).paramGroups[0].weightDecay).toBe(0.01);
    expect(new AdamW().defaults.weightDecay).toBe(0.004);
    expect(new RMSprop().defaults).toMatchObject({ lr: 1e-3, alpha: 0.9, eps: 1e-7 });
    expect(new RMSprop(p).paramGroups[0]).toMatchObject({ lr: 1e-2, alpha: 0.99, eps: 1e-8 });
    expect(new RMSprop({ rho: 0.8 }).defaults.alpha).toBe(0.8);
    expect(new Adagrad().defaults).toMatchObject({ lr: 1e-3, initialAccumulatorValue: 0.1, eps: 1e-7 });
    expect(new Adagrad(p).paramGroups[0]).toMatchObject({ lr: 1e-2, initialAccumulatorValue: 0, eps: 1e-10 });
    expect(new SGD().defaults.lr).toBe(0.01);
    expect(new Adam({ beta1: 0.5 }).defaults.betas).toEqual([0.5, 0.999]);
    // Keras names with parameters are Keras style; PyTorch names without are PyTorch style.
    expect(new Adam(p, { epsilon: 1e-6 }).style).toBe('keras');
    expect(new Adam({ lr: 0.1 }).style).toBe('pytorch');
    // The clipping options go with either style.
    expect(new SGD(p, { lr: 0.1, clipnorm: 1 }).style).toBe('pytorch');
  });

  it('rejects mixed styles, unknown options and bad hyperparameters, naming the optimizer, option and value', () => {
    const p = [param([1])];
    expect(() => new Adam(p, { lr: 1e-3, epsilon: 1e-7 } as never)).toThrow(/Adam: options mix PyTorch names \(lr\) and Keras names \(epsilon\)/);
    expect(() => new Adam(p, { lrr: 1 } as never)).toThrow(/Adam: unknown option 'lrr'/);
    expect(() => new SGD(p)).toThrow(/SGD: lr is required/);
    expect(() => new Adam(p, { lr: -1 })).toThrow(/Adam: invalid lr -1/);
    expect(() => new Adam({ learningRate: Number.NaN })).toThrow(/Adam: invalid learningRate NaN/);
    expect(() => new Adam(p, { betas: [1, 0.9] })).toThrow(/Adam: invalid beta parameter at index 0: 1/);
    expect(() => new Adam({ beta2: -0.1 })).toThrow(/Adam: invalid beta2 -0.1/);
    expect(() => new Adam(p, { eps: -1e-8 })).toThrow(/invalid eps/);
    expect(() => new SGD(p, { lr: 0.1, nesterov: true })).toThrow(/SGD: Nesterov momentum requires a momentum and zero dampening/);
    expect(() => new SGD({ momentum: 1.5 })).not.toThrow(); // unbound: checked when groups are made
    expect(() => new SGD({ momentum: 1.5 }).bind(p)).toThrow(/SGD: momentum must be a float between \[0, 1\] \(got 1.5\)/);
    expect(() => new RMSprop(p, { alpha: -0.5 })).toThrow(/RMSprop: invalid alpha -0.5/);
    expect(() => new Adagrad(p, { lrDecay: -1 })).toThrow(/Adagrad: invalid lrDecay -1/);
    expect(() => new Adam(p, { amsgrad: 1 } as never)).toThrow(/amsgrad must be true or false/);
    expect(() => new Adam(p, { clipnorm: 1, globalClipnorm: 1 })).toThrow(/Only one of `clipnorm`, `clipvalue` and `globalClipnorm` can be set/);
    expect(() => new Adam(p, { clipvalue: 0 })).toThrow(/clipvalue must be a positive finite number \(got 0\); to disable clipping, omit the option/);
    expect(() => new Adam(p, { clip: 3 } as never)).toThrow(/clip must be a gradient transformation/);
  });

  it('checks the parameters', () => {
    const a = param([1]);
    expect(() => new Adam([])).toThrow(/Adam: optimizer got an empty parameter list/);
    expect(() => new Adam(a as never)).toThrow(/must be an iterable of tensors/);
    expect(() => new Adam([a.mul(2)])).toThrow(/can't optimize a non-leaf tensor/);
    expect(() => new Adam([tensor([1], { dtype: 'int32' })])).toThrow(DTypeError);
    expect(() => new Adam([a, a])).toThrow(/appears twice/);
    expect(() => new Adam([{ params: [a] }, { params: [a] }])).toThrow(/some parameters appear in more than one parameter group/);
    expect(() => new Adam([a, { params: [param([2])] }] as never)).toThrow(/mixes tensors and param groups/);
    expect(() => new Adam([{ params: [a], learningRate: 0.1 }], { lr: 0.1 } as never)).toThrow(/mix PyTorch names \(lr\) and Keras names \(learningRate\)/);
  });

  it('param groups fill missing options from the defaults; paramGroups[i].lr changes take effect on the next step', () => {
    const a = param([1]);
    const b = param([1]);
    const opt = new SGD([{ params: [a], lr: 0.5 }, { params: b }], { lr: 0.1, momentum: 0.9 });
    expect(opt.paramGroups.map((g) => [g.lr, g.momentum])).toEqual([
      [0.5, 0.9],
      [0.1, 0.9],
    ]);
    setGrad(a, [1]);
    setGrad(b, [1]);
    opt.step();
    expect([vals(a)[0], vals(b)[0]]).toEqual([0.5, 0.9]);
    opt.paramGroups[0].lr = 0;
    opt.step();
    expect(vals(a)[0]).toBe(0.5);
    opt.learningRate = 0.2;
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.2, 0.2]);
    const c = param([1]);
    opt.addParamGroup({ params: [c], momentum: 0 });
    expect(opt.paramGroups[2]).toMatchObject({ lr: 0.2, momentum: 0 });
  });

  it('Keras style: bind() gives the parameters; step() before it, or a second bind, is a clear error', () => {
    const opt = new Adam({ learningRate: 0.1 });
    expect(() => opt.step()).toThrow(/Adam.step: the optimizer has no parameters yet; .* call bind\(model.parameters\(\)\)/);
    const p = param([1]);
    expect(opt.bind([p])).toBe(opt);
    expect(() => opt.bind([param([2])])).toThrow(/Adam.bind: the optimizer already has 1 parameters/);
    setGrad(p, [3]);
    opt.step();
    // Keras Adam's first step: lr·√(1−β2)/(1−β1)·m/(√v+ε) with m = 0.1·g, v = 0.001·g².
    const m = 0.3;
    const v = 0.001 * 9;
    expect(vals(p)[0]).toBeCloseTo(1 - ((0.1 * Math.sqrt(0.001)) / 0.1) * (m / (Math.sqrt(v) + 1e-7)), 12);
  });

  it('zeroGrad sets gradients to null, or to zeros in place with setToNone: false', () => {
    const p = param([1, 2]);
    const opt = new SGD([p], { lr: 0.1 });
    setGrad(p, [1, 1]);
    const g = p.grad!;
    opt.zeroGrad({ setToNone: false });
    expect(p.grad).toBe(g);
    expect(vals(g)).toEqual([0, 0]);
    opt.zeroGrad();
    expect(p.grad).toBeNull();
    opt.step(); // no gradients: nothing moves
    expect(vals(p)).toEqual([1, 2]);
  });

  it('stats count steps, clipped steps and skipped steps from what the transforms report', () => {
    const p = param([3, 4]);
    let skip = false;
    const skipper: GradientTransformation<null> = {
      name: 'skipIfAsked',
      init: () => null,
      update: (u, s, _p, info) => {
        info.push({ transform: 'skipIfAsked', skipped: skip });
        return [skip ? mapUpdates(u, (t) => t.mul(0)) : [...u], s];
      },
    };
    const opt = new SGD([p], { lr: 0.1, clip: skipper, globalClipnorm: 1 });
    setGrad(p, [3, 4]);
    opt.step();
    expect(opt.stats).toEqual({ steps: 1, stepsClipped: 1, stepsSkipped: 0, lastGradNorm: 5 });
    expect(opt.lastUpdateInfo.map((i) => i.transform)).toEqual(['skipIfAsked', 'globalClipnorm']);
    skip = true;
    opt.step();
    expect(opt.stats).toMatchObject({ steps: 2, stepsClipped: 1, stepsSkipped: 1, lastGradNorm: 0 });
    expect(vals(p).map((x) => +x.toFixed(12))).toEqual([3 - 0.06, 4 - 0.08]);
  });

  it('a clip transform that skips the step (applyIfFinite from src/clip) skips it for the whole optimizer', () => {
    const p = param([1, 2]);
    const identity: GradientTransformation<null> = { name: 'identity', init: () => null, update: (u, s) => [[...u], s] };
    const opt = new Adam([p], { lr: 0.1, clip: applyIfFinite(identity) });
    setGrad(p, [1, 1]);
    opt.step();
    const after1 = vals(p);
    const state1 = opt.stateDict().state[0];
    setGrad(p, [Number.NaN, 1]);
    opt.step();
    expect(vals(p)).toEqual(after1); // no update at all
    const state2 = opt.stateDict().state[0];
    expect(state2.step).toBe(1); // Adam's moments and step count were not touched
    expect(vals(state2.exp_avg as Tensor)).toEqual(vals(state1.exp_avg as Tensor));
    expect(opt.stats).toMatchObject({ steps: 2, stepsSkipped: 1 });
    setGrad(p, [1, 1]);
    opt.step();
    expect(opt.stateDict().state[0].step).toBe(2);
  });

  it('step(closure) evaluates the closure with gradients enabled and returns its value', () => {
    const p = param([2]);
    const opt = new SGD([p], { lr: 0.25 });
    const loss = opt.step(() => {
      opt.zeroGrad();
      const l = p.mul(p).sum();
      l.backward();
      return l.item();
    });
    expect(loss).toBe(4);
    expect(vals(p)).toEqual([1]); // 2 − 0.25·4
  });
});

// ------------------------------------------------------------------------------------------------
// State dicts: save after 5 steps, load into a fresh optimizer, continue: bit-identical.

class Net extends Module {
  fc1: Linear;
  fc2: Linear;
  constructor(seed: number) {
    super();
    const generator = new Generator(seed);
    this.fc1 = new Linear(6, 8, { generator });
    this.fc2 = new Linear(8, 3, { generator });
  }
  forward(x: Tensor): Tensor {
    return this.fc2.call(tanh(this.fc1.call(x)));
  }
}

function trainSteps(net: Net, opt: Optimizer<ParamGroupBase>, from: number, to: number, sched?: LRScheduler): void {
  for (let s = from; s < to; s++)
    tidy(() => {
      const g = new Generator(1000 + s);
      const x = randn([5, 6], { generator: g });
      const y = randint(0, 3, [5], { generator: g });
      opt.zeroGrad();
      crossEntropy(net.call(x), y).backward();
      opt.step();
      sched?.step();
    });
}

/** A stateful clip transform (clips to the running mean of the norms seen), to check clip state round trips. */
function meanNormClip(): GradientTransformation<{ norms: number[]; last: Tensor | null }> {
  return {
    name: 'meanNormClip',
    init: () => ({ norms: [], last: null }),
    update(updates, state, _params, info) {
      const n = Math.sqrt(updates.reduce((a, u) => a + (u === null ? 0 : u.backend.sumSquares(u)), 0));
      const norms = [...state.norms, n];
      const thr = norms.reduce((a, b) => a + b, 0) / norms.length;
      const scale = Math.min(1, thr / n);
      info.push({ transform: 'meanNormClip', normBefore: n, clipped: scale < 1 });
      const out = mapUpdates(updates, (u) => u.mul(scale));
      return [out, { norms, last: keep((out[0] as Tensor).clone()) }];
    },
  };
}

const CONFIGS: [string, (params: Tensor[]) => Optimizer<ParamGroupBase>, ((o: Optimizer<ParamGroupBase>) => LRScheduler)?][] = [
  ['SGD nesterov + weight decay', (p) => new SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
  ['SGD dampening, param groups, StepLR', (p) => new SGD([{ params: p.slice(0, 2), lr: 0.2 }, { params: p.slice(2) }], { lr: 0.05, momentum: 0.8, dampening: 0.3 }), (o) => new StepLR(o, { stepSize: 3, gamma: 0.5 })],
  ['Adam amsgrad + L2', (p) => new Adam(p, { lr: 1e-2, amsgrad: true, weightDecay: 1e-2 })],
  ['AdamW + stateful clip + cosine', (p) => new AdamW(p, { lr: 1e-2, clip: meanNormClip() }), (o) => new CosineAnnealingLR(o, { tMax: 4 })],
  ['RMSprop centered momentum', (p) => new RMSprop(p, { lr: 1e-3, momentum: 0.9, centered: true })],
  ['Adagrad lrDecay', (p) => new Adagrad(p, { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1 })],
  ['Keras Adam clipnorm + weight decay', (p) => new Adam({ learningRate: 1e-2, clipnorm: 0.5, weightDecay: 0.01 }).bind(p)],
  ['Keras RMSprop centered momentum globalClipnorm', (p) => new RMSprop({ momentum: 0.9, centered: true, globalClipnorm: 0.5 }).bind(p)],
  ['Keras SGD nesterov clipvalue + warmup', (p) => new SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true, clipvalue: 0.05 }).bind(p), (o) => new LinearWarmup(o, { startFactor: 0, totalIters: 4 })],
  ['Keras Adagrad', (p) => new Adagrad({ learningRate: 0.1 }).bind(p)],
];

describe('stateDict / loadStateDict', () => {
  it.each(CONFIGS)('%s: resuming after 5 steps is bit-identical to an uninterrupted run', (_name, make, makeSched) => {
    const a = new Net(7);
    const optA = make(a.parameters());
    const schedA = makeSched?.(optA);
    trainSteps(a, optA, 0, 5, schedA);
    const saved = optA.stateDict();
    const savedSched = schedA?.stateDict();
    const savedWeights = new Map([...a.stateDict()].map(([k, v]) => [k, v.clone()])); // stateDict() shares memory
    const snapshot = JSON.stringify(Object.values(saved.state).map((r) => Object.values(r).map((v) => (typeof v === 'number' ? v : Array.from(v.toTypedArray())))));
    trainSteps(a, optA, 5, 12, schedA);
    // Later steps do not change a saved state dict (its tensors are copies).
    expect(JSON.stringify(Object.values(saved.state).map((r) => Object.values(r).map((v) => (typeof v === 'number' ? v : Array.from(v.toTypedArray())))))).toBe(snapshot);

    const b = new Net(99);
    b.loadStateDict(savedWeights);
    const optB = make(b.parameters());
    const schedB = makeSched?.(optB);
    optB.loadStateDict(saved);
    if (schedB !== undefined) schedB.loadStateDict(savedSched!);
    expect(optB.paramGroups.map((g) => g.lr)).toEqual(saved.paramGroups.map((g) => g.lr));
    trainSteps(b, optB, 5, 12, schedB);
    const pa = a.parameters();
    b.parameters().forEach((p, i) => expect(p.toTypedArray()).toEqual(pa[i].toTypedArray()));
    expect(optB.stats).toEqual(optA.stats);
    expect(Object.keys(optB.stateDict().state)).toEqual(Object.keys(optA.stateDict().state));
  });

  it('uses PyTorch’s state names and param-group indices', () => {
    const net = new Net(1);
    const opt = new Adam([{ params: net.fc1.parameters() }, { params: net.fc2.parameters(), lr: 0.1 }], { amsgrad: true });
    expect(opt.stateDict().state).toEqual({}); // nothing before the first step
    trainSteps(net, opt, 0, 2);
    const sd = opt.stateDict();
    expect(Object.keys(sd.state)).toEqual(['0', '1', '2', '3']);
    expect(Object.keys(sd.state[2]).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step']);
    expect(sd.state[2].step).toBe(2);
    expect(sd.paramGroups.map((g) => g.params)).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(sd.paramGroups[1]).toMatchObject({ lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, amsgrad: true, weightDecay: 0 });
    const sgd = new SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
    trainSteps(net, sgd, 0, 1);
    expect(Object.keys(sgd.stateDict().state[0])).toEqual(['momentum_buffer']);
    const rms = new RMSprop({ momentum: 0.9, centered: true }).bind(net.parameters());
    trainSteps(net, rms, 0, 1);
    expect(Object.keys(rms.stateDict().state[0]).sort()).toEqual(['grad_avg', 'momentum_buffer', 'square_avg', 'step']);
  });

  it('refuses a state dict that does not fit', () => {
    const net = new Net(1);
    const opt = new Adam(net.parameters());
    trainSteps(net, opt, 0, 1);
    const sd = opt.stateDict();
    expect(() => new Adam({}).bind(net.parameters()).loadStateDict(sd)).toThrow(/saved by a pytorch-style optimizer but this one is keras-style/);
    expect(() => new Adam([{ params: [net.fc1.weight] }, { params: [net.fc1.bias!, net.fc2.weight, net.fc2.bias!] }]).loadStateDict(sd)).toThrow(
      /different number of parameter groups \(1 vs 2\)/,
    );
    expect(() => new Adam(net.fc1.parameters()).loadStateDict(sd)).toThrow(/doesn't match the size of optimizer's group/);
    const swapped = new Adam([net.fc1.bias!, net.fc1.weight, net.fc2.weight, net.fc2.bias!]);
    expect(() => swapped.loadStateDict(sd)).toThrow(ShapeError);
  });
});

// ------------------------------------------------------------------------------------------------
// Memory: the live-buffer count stays flat across steps.

describe('memory', () => {
  it.each(CONFIGS)('%s: 30 steps keep the live-buffer count flat', (_name, make, makeSched) => {
    const net = new Net(3);
    const opt = make(net.parameters());
    const sched = makeSched?.(opt);
    trainSteps(net, opt, 0, 2, sched);
    const counts: number[] = [];
    for (let s = 2; s < 30; s++) {
      trainSteps(net, opt, s, s + 1, sched);
      counts.push(memory().numBuffers);
    }
    expect(new Set(counts).size).toBe(1);
  });
});

// ------------------------------------------------------------------------------------------------
// Schedulers against torch.optim.lr_scheduler (tools/fixtures/optim_fixtures.py).

interface SchedulerFixture {
  name: string;
  kind: string;
  options?: Record<string, number>;
  lambdas?: 'shared' | 'per_group';
  lrs: number[][];
}

const schedulers = (JSON.parse(readFileSync(new URL('./fixtures/optim.json', import.meta.url), 'utf8')) as { schedulers: SchedulerFixture[] }).schedulers;

const LAMBDAS = {
  shared: (e: number) => 0.95 ** e,
  per_group: [(e: number) => 1 / (e + 1), (e: number) => (e < 10 ? 0.9 ** e : 0.5)],
};

function twoGroups(): SGD {
  return new SGD([{ params: [zeros([1], { requiresGrad: true })], lr: 0.1 }, { params: [zeros([1], { requiresGrad: true })], lr: 0.05 }], { lr: 0.1 });
}

function buildScheduler(s: SchedulerFixture, opt: SGD, warmup = false): LRScheduler {
  const o = s.options ?? {};
  switch (s.kind) {
    case 'StepLR':
      return new StepLR(opt, { stepSize: o.stepSize, gamma: o.gamma });
    case 'ExponentialLR':
      return new ExponentialLR(opt, { gamma: o.gamma });
    case 'CosineAnnealingLR':
      return new CosineAnnealingLR(opt, { tMax: o.tMax, etaMin: o.etaMin });
    case 'LinearLR':
      return warmup ? new LinearWarmup(opt, { startFactor: o.startFactor, totalIters: o.totalIters }) : new LinearLR(opt, o);
    case 'LambdaLR':
      return new LambdaLR(opt, LAMBDAS[s.lambdas!]);
    default:
      throw new Error(s.kind);
  }
}

describe('learning-rate schedulers', () => {
  afterEach(() => vi.restoreAllMocks());

  const cases = schedulers.flatMap((s) => [
    [s.name, s, false] as const,
    ...(s.kind === 'LinearLR' && (s.options?.endFactor ?? 1) === 1 ? [[`${s.name} as LinearWarmup`, s, true] as const] : []),
  ]);
  it.each(cases)('%s matches torch.optim.lr_scheduler', (_name, s, warmup) => {
    const opt = twoGroups();
    const sched = buildScheduler(s, opt, warmup);
    const got = [sched.getLastLr()];
    for (let i = 0; i < 25; i++) {
      opt.step();
      sched.step();
      got.push(sched.getLastLr());
      expect(opt.paramGroups.map((g) => g.lr)).toEqual(got[got.length - 1]);
    }
    got.forEach((lrs, i) => lrs.forEach((lr, j) => expect(Math.abs(lr - s.lrs[i][j]), `${s.name} epoch ${i} group ${j}: ${lr} vs ${s.lrs[i][j]}`).toBeLessThanOrEqual(1e-12 * Math.abs(s.lrs[i][j]) + 1e-18)));
  });

  it('LinearWarmup can start from 0; LinearLR refuses startFactor 0 (PyTorch 1.13 divides by it)', () => {
    const opt = twoGroups();
    const w = new LinearWarmup(opt, { startFactor: 0, totalIters: 4 });
    const lrs = [w.getLastLr()[0]];
    for (let i = 0; i < 5; i++) {
      opt.step();
      w.step();
      lrs.push(w.getLastLr()[0]);
    }
    expect(lrs).toEqual([0, 0.025, 0.05, 0.07500000000000001, 0.1, 0.1]);
    expect(() => new LinearLR(twoGroups(), { startFactor: 0 })).toThrow(/LinearLR: startFactor must be in \(0, 1\] \(got 0\)/);
  });

  it('warns when scheduler.step() comes before optimizer.step(), as PyTorch', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const opt = twoGroups();
    const s = new StepLR(opt, { stepSize: 2 });
    s.step();
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/StepLR: Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`/));
    warn.mockClear();
    const opt2 = twoGroups();
    const s2 = new StepLR(opt2, { stepSize: 2 });
    opt2.step();
    s2.step();
    expect(warn).not.toHaveBeenCalled();
  });

  it('validates its options', () => {
    expect(() => new StepLR(twoGroups(), { stepSize: 0 })).toThrow(/StepLR: stepSize must be a positive integer \(got 0\)/);
    expect(() => new CosineAnnealingLR(twoGroups(), { tMax: 1.5 })).toThrow(/tMax must be a positive integer/);
    expect(() => new ExponentialLR(twoGroups(), { gamma: Number.NaN })).toThrow(/gamma must be a finite number/);
    expect(() => new LambdaLR(twoGroups(), [(e: number) => e])).toThrow(/LambdaLR: expected 2 lrLambdas/);
    expect(() => new StepLR(new Adam({}), { stepSize: 1 })).toThrow(/bind them/);
    expect(() => new StepLR(twoGroups(), { stepSize: 2, lastEpoch: 4 })).toThrow(/initialLr' is not specified in paramGroups\[0\]/);
  });
});
