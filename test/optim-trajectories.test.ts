import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { noGrad } from '../src/autograd/grad-mode.js';
import { clipGradNorm_ } from '../src/clip/grad-utils.js';
import { Linear } from '../src/nn/linear.js';
import { crossEntropy } from '../src/nn/losses.js';
import { Module } from '../src/nn/module.js';
import { LSTM } from '../src/nn/recurrent.js';
import { tanh } from '../src/ops/elementwise.js';
import { copy_ } from '../src/ops/inplace.js';
import '../src/ops/methods.js';
import { select } from '../src/ops/shape.js';
import { tensor } from '../src/tensor/create.js';
import { tidy } from '../src/tensor/scope.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { CosineAnnealingLR, ExponentialLR, type LRScheduler, LinearLR, LinearWarmup, StepLR } from '../src/optim/lr-scheduler.js';
import type { Optimizer, OptimizerStateDictInput, ParamGroupBase, ParamState } from '../src/optim/optimizer.js';
import { Adagrad, Adam, AdamW, RMSprop, SGD, type SGDGroupOptions } from '../src/optim/optimizers.js';
import type { GradientTransformation } from '../src/optim/transform.js';
import { mapUpdates } from '../src/optim/transforms.js';

// Acceptance: PyTorch 1.13 trajectories from tools/fixtures/optim_fixtures.py (see its docstring).
// From PyTorch's initial weights and fixed batches, each case runs the optimizer for 20 steps (10
// for the LSTM) and compares the loss of every step, the pre-clip gradient norm and the clip
// counters, and the final weights: per tensor ‖Δ‖/‖w‖ ≤ 1e-5 and allclose(rtol 1e-4, atol 1e-5)
// in float32 (float64: 1e-10 and rtol 1e-9). PyTorch-style cases are checked against torch.optim;
// Keras-style cases against Keras 3's update rules evaluated in torch (Keras is not installed).

interface Arr {
  shape: number[];
  values: number[];
}

type Dt = 'float32' | 'float64';

interface Result {
  losses: number[];
  gradNorms: number[];
  stepsClipped: number;
  params: Arr[];
}

interface Case {
  name: string;
  model: 'mlp' | 'lstm';
  steps: number;
  style: 'pytorch' | 'keras';
  optimizer: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop' | 'Adagrad';
  options: Record<string, unknown>;
  groups?: (Record<string, unknown> & { params: number[] })[];
  clip?: { kind: 'clipGradNorm'; maxNorm: number } | { kind: 'clipGradValue'; clipValue: number };
  scheduler?: { kind: string; options: Record<string, number> };
  results: Record<Dt, Result>;
}

interface Resume {
  case: string;
  at: number;
  params: Arr[];
  state: {
    state: Record<string, Record<string, Arr | number>>;
    paramGroups: (Record<string, unknown> & { params: number[] })[];
  };
}

interface Fixture {
  torch: string;
  models: Record<'mlp' | 'lstm', { params: (Arr & { name: string })[]; x: Arr; y: Arr }>;
  cases: Case[];
  resumes: Resume[];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/optim.json', import.meta.url), 'utf8')) as Fixture;

class MLP extends Module {
  fc1: Linear;
  fc2: Linear;
  constructor(dtype: Dt) {
    super();
    this.fc1 = new Linear(20, 16, { dtype });
    this.fc2 = new Linear(16, 5, { dtype });
  }
  forward(x: Tensor): Tensor {
    return this.fc2.call(tanh(this.fc1.call(x)));
  }
}

class LSTMClassifier extends Module {
  lstm: LSTM;
  fc: Linear;
  constructor(dtype: Dt) {
    super();
    this.lstm = new LSTM(6, 12, { dtype });
    this.fc = new Linear(12, 3, { dtype });
  }
  forward(x: Tensor): Tensor {
    const [, [h]] = this.lstm.call(x);
    return this.fc.call(select(h, 0, h.shape[0] - 1));
  }
}

/** The model with the given parameter values (PyTorch's names and order). */
function buildModel(kind: 'mlp' | 'lstm', dtype: Dt, values: Arr[] = fixture.models[kind].params): Module {
  const m = kind === 'mlp' ? new MLP(dtype) : new LSTMClassifier(dtype);
  const named = [...m.namedParameters()];
  expect(named.map(([n]) => n)).toEqual(fixture.models[kind].params.map((p) => p.name));
  // The values are float32 numbers written with 9 digits: round them to float32 first, so that the
  // float64 model starts from exactly the numbers PyTorch's float64 run started from.
  noGrad(() => named.forEach(([, p], i) => copy_(p, tensor(values[i].values.map(Math.fround), values[i].shape, { dtype }))));
  return m;
}

/** Batch `s` of the model's data. */
function batch(kind: 'mlp' | 'lstm', s: number, dtype: Dt): [Tensor, Tensor] {
  const { x, y } = fixture.models[kind];
  const xs = x.shape.slice(1);
  const ys = y.shape.slice(1);
  const nx = xs.reduce((a, b) => a * b, 1);
  const ny = ys.reduce((a, b) => a * b, 1);
  return [
    tensor(x.values.slice(s * nx, (s + 1) * nx), xs, { dtype }),
    tensor(Int32Array.from(y.values.slice(s * ny, (s + 1) * ny)), ys),
  ];
}

/**
 * PyTorch's `clip_grad_norm_(params, maxNorm)` as a transform for the `clip` option (until
 * src/clip lands): total = L2 norm of the per-tensor norms, coef = min(1, maxNorm/(total + 1e-6)),
 * every gradient multiplied by coef (float32 arithmetic for float32 gradients, as PyTorch).
 */
function torchClipGradNorm(maxNorm: number): GradientTransformation<null> {
  return {
    name: 'clipGradNorm',
    init: () => null,
    update(updates, state, _params, info) {
      const live = updates.filter((u): u is Tensor => u !== null);
      const f = live[0]?.dtype === 'float64' ? (v: number) => v : Math.fround;
      const norms = live.map((g) => f(Math.sqrt(g.backend.sumSquares(g))));
      const total = f(Math.sqrt(norms.reduce((a, n) => a + n * n, 0)));
      const coef = Math.min(1, f(maxNorm / f(total + 1e-6)));
      info.push({ transform: 'clipGradNorm', normBefore: total, normAfter: total * coef, clipped: total > maxNorm });
      return [mapUpdates(updates, (g) => g.mul(coef)), state];
    },
  };
}

const CLASSES = { SGD, Adam, AdamW, RMSprop, Adagrad } as const;

function makeOptimizer(c: Case, params: Tensor[]): Optimizer<ParamGroupBase> {
  const Cls = CLASSES[c.optimizer] as unknown as new (a?: unknown, b?: unknown) => Optimizer<ParamGroupBase>;
  const options: Record<string, unknown> = { ...c.options };
  if (c.clip?.kind === 'clipGradNorm') options.clip = torchClipGradNorm(c.clip.maxNorm);
  if (c.clip?.kind === 'clipGradValue') options.clipvalue = c.clip.clipValue; // same clamp as clip_grad_value_
  if (c.style === 'keras') {
    const opt = new Cls(options);
    expect(opt.style).toBe('keras');
    return opt.bind(params);
  }
  const first = c.groups ? c.groups.map(({ params: idx, ...rest }) => ({ params: idx.map((i) => params[i]), ...rest })) : params;
  const opt = new Cls(first, options);
  expect(opt.style).toBe('pytorch');
  return opt;
}

function makeScheduler(c: Case, opt: Optimizer<ParamGroupBase>): LRScheduler | null {
  const s = c.scheduler;
  if (s === undefined) return null;
  switch (s.kind) {
    case 'StepLR':
      return new StepLR(opt, { stepSize: s.options.stepSize, gamma: s.options.gamma });
    case 'ExponentialLR':
      return new ExponentialLR(opt, { gamma: s.options.gamma });
    case 'CosineAnnealingLR':
      return new CosineAnnealingLR(opt, { tMax: s.options.tMax, etaMin: s.options.etaMin });
    case 'LinearLR':
      return new LinearLR(opt, s.options);
    case 'LinearWarmup':
      return new LinearWarmup(opt, s.options);
    default:
      throw new Error(`unknown scheduler ${s.kind}`);
  }
}

/** The same SGD case with src/clip's `clipGradNorm_` called between backward and step, as in PyTorch. */
describe.each(['float32', 'float64'] as const)('clipGradNorm_ (src/clip) between backward and step (%s)', (dtype) => {
  it('matches the sgd_momentum_clip_grad_norm trajectory', () => {
    const c = fixture.cases.find((k) => k.name === 'sgd_momentum_clip_grad_norm')!;
    const maxNorm = c.clip!.kind === 'clipGradNorm' ? c.clip!.maxNorm : NaN;
    const ref = c.results[dtype];
    const model = buildModel(c.model, dtype);
    const opt = new SGD(model.parameters(), c.options as SGDGroupOptions);
    for (let s = 0; s < c.steps; s++)
      tidy(() => {
        opt.zeroGrad();
        const [x, y] = batch(c.model, s, dtype);
        crossEntropy(model.call(x) as Tensor, y).backward();
        const total = clipGradNorm_(model.parameters(), maxNorm);
        expect(Math.abs(total - ref.gradNorms[s])).toBeLessThanOrEqual(1e-5 * ref.gradNorms[s]);
        opt.step();
      });
    worstSeen[`${dtype} clipGradNorm_ ${c.name}`] = expectParamsClose(model, ref.params, dtype, `${c.name} with clipGradNorm_ (${dtype})`);
  });
});

interface Run {
  losses: number[];
  gradNorms: (number | undefined)[];
  opt: Optimizer<ParamGroupBase>;
}

/** Runs steps [from, to) of case `c` on `model`. */
function train(c: Case, model: Module, dtype: Dt, opt: Optimizer<ParamGroupBase>, from: number, to: number, sched: LRScheduler | null = null): Run {
  const losses: number[] = [];
  const gradNorms: (number | undefined)[] = [];
  for (let s = from; s < to; s++) {
    tidy(() => {
      opt.zeroGrad();
      const [x, y] = batch(c.model, s, dtype);
      const loss = crossEntropy(model.call(x) as Tensor, y);
      losses.push(loss.item());
      loss.backward();
      opt.step();
      sched?.step();
      gradNorms.push(opt.stats.lastGradNorm);
    });
  }
  return { losses, gradNorms, opt };
}

const TOL: Record<Dt, { relNorm: number; rtol: number; atol: number; loss: number }> = {
  float32: { relNorm: 1e-5, rtol: 1e-4, atol: 1e-5, loss: 1e-5 },
  float64: { relNorm: 1e-10, rtol: 1e-9, atol: 1e-12, loss: 1e-11 },
};

/** Per tensor ‖Δ‖/‖w‖ and allclose against the reference; returns the worst relative norm. */
function expectParamsClose(model: Module, expected: Arr[], dtype: Dt, label: string): number {
  const tol = TOL[dtype];
  let worst = 0;
  model.parameters().forEach((p, i) => {
    const got = p.toTypedArray();
    const want = expected[i].values;
    expect(p.shape, `${label} param ${i} shape`).toEqual(expected[i].shape);
    let dd = 0;
    let ww = 0;
    let bad = -1;
    for (let k = 0; k < want.length; k++) {
      const d = got[k] - want[k];
      dd += d * d;
      ww += want[k] * want[k];
      if (bad < 0 && !(Math.abs(d) <= tol.atol + tol.rtol * Math.abs(want[k]))) bad = k;
    }
    const rel = Math.sqrt(dd) / Math.sqrt(ww);
    worst = Math.max(worst, rel);
    expect(rel, `${label} param ${i}: ‖Δ‖/‖w‖`).toBeLessThanOrEqual(tol.relNorm);
    expect(bad, `${label} param ${i}: allclose fails at ${bad} (got ${got[bad]}, want ${want[bad]})`).toBe(-1);
  });
  return worst;
}

const worstSeen: Record<string, number> = {};

describe.each(['float32', 'float64'] as const)('trajectories against PyTorch 1.13 / Keras 3 formulas (%s)', (dtype) => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const ref = c.results[dtype];
    const model = buildModel(c.model, dtype);
    const opt = makeOptimizer(c, model.parameters());
    const sched = makeScheduler(c, opt);
    const run = train(c, model, dtype, opt, 0, c.steps, sched);
    const tol = TOL[dtype];
    run.losses.forEach((l, s) => expect(Math.abs(l - ref.losses[s]), `${c.name} loss at step ${s}`).toBeLessThanOrEqual(tol.loss * Math.max(1, Math.abs(ref.losses[s]))));
    if (c.clip !== undefined || ['clipnorm', 'clipvalue', 'globalClipnorm'].some((k) => k in c.options)) {
      run.gradNorms.forEach((n, s) => expect(Math.abs(n! - ref.gradNorms[s]), `${c.name} grad norm at step ${s}`).toBeLessThanOrEqual(1e-5 * ref.gradNorms[s]));
      expect(opt.stats.stepsClipped, `${c.name} steps clipped`).toBe(ref.stepsClipped);
      expect(ref.stepsClipped, 'the fixture makes the clip bite').toBeGreaterThan(0);
    } else {
      expect(opt.stats.stepsClipped).toBe(0);
      expect(opt.stats.lastGradNorm).toBeUndefined();
    }
    expect(opt.stats.steps).toBe(c.steps);
    worstSeen[`${dtype} ${c.name}`] = expectParamsClose(model, ref.params, dtype, `${c.name} (${dtype})`);
  });
});

describe('resuming from a PyTorch state dict after 5 steps', () => {
  const toTensor = (a: Arr | number): Tensor | number => (typeof a === 'number' ? a : tensor(a.values, a.shape));
  it.each(fixture.resumes.map((r) => [r.case, r] as const))('%s', (_name, r) => {
    const c = fixture.cases.find((k) => k.name === r.case)!;
    const model = buildModel(c.model, 'float32', r.params);
    const opt = makeOptimizer(c, model.parameters());
    const state: Record<number, ParamState> = {};
    for (const [i, rec] of Object.entries(r.state.state))
      state[Number(i)] = Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, toTensor(v)]));
    const sd: OptimizerStateDictInput = { state, paramGroups: r.state.paramGroups };
    opt.loadStateDict(sd);
    // The same names as Keel's own state dict after the same number of steps.
    const keel = makeOptimizer(c, buildModel(c.model, 'float32').parameters());
    const fresh = buildModel(c.model, 'float32');
    const k2 = makeOptimizer(c, fresh.parameters());
    train(c, fresh, 'float32', k2, 0, r.at);
    expect(Object.keys(k2.stateDict().state[0]).sort()).toEqual(Object.keys(r.state.state['0']).sort());
    expect(keel.stateDict().state).toEqual({}); // nothing before the first step
    train(c, model, 'float32', opt, r.at, c.steps);
    worstSeen[`resume ${c.name}`] = expectParamsClose(model, c.results.float32.params, 'float32', `${c.name} resumed`);
  });
});

describe('summary', () => {
  it('prints the worst per-tensor ‖Δ‖/‖w‖ of each case', () => {
    const entries = Object.entries(worstSeen);
    if (process.env.KEEL_OPTIM_REPORT) for (const [k, v] of entries) console.log(`${k.padEnd(60)} ${v.toExponential(2)}`);
    expect(entries.length).toBeGreaterThanOrEqual(0);
  });
});
