import { describe, expect, it } from 'vitest';
import '../src/ops/methods.js';
import { noGrad } from '../src/autograd/grad-mode.js';
import { ConfigError } from '../src/core/errors.js';
import { Generator } from '../src/core/random.js';
import { Linear } from '../src/nn/linear.js';
import { crossEntropy } from '../src/nn/losses.js';
import { sub_ } from '../src/ops/inplace.js';
import { type GradientTransformation, type UpdateInfo, chain } from '../src/optim/transform.js';
import { randn, tensor, zeros } from '../src/tensor/create.js';
import { tidy } from '../src/tensor/scope.js';
import { memory } from '../src/tensor/storage.js';
import type { Tensor } from '../src/tensor/tensor.js';
import {
  type AutoClipState,
  type ZClipState,
  adaptiveGradClip,
  applyIfFinite,
  autoClip,
  clipByGlobalNorm,
  skipNonfinite,
  zClip,
} from '../src/clip/index.js';

// AGC, AutoClip and ZClip on small cases computed by hand (the expected values are written out
// from the papers' / reference implementations' formulas below, not taken from Keel), the
// non-finite guard, and short training runs of a small MLP with exploding gradients (inputs
// scaled by 20, learning rate 0.5): plain SGD diverges to NaN, each clipped run stays finite.

const flat = (t: Tensor | null): number[] => Array.from(t!.toTypedArray());

function expectClose(actual: number[], expected: number[], rel = 1e-6): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => {
    if (Math.abs(v - expected[i]) > rel * Math.abs(expected[i]) + 1e-12) expect.fail(`element ${i} is ${v}, expected ${expected[i]}`);
  });
}

/** A transform driven step by step, keeping its state and the infos of the last step. */
class Driver<S> {
  state: S;
  info: UpdateInfo[] = [];
  constructor(
    readonly t: GradientTransformation<S>,
    readonly params: Tensor[],
  ) {
    this.state = t.init(params);
  }
  step(updates: (Tensor | null)[]): (Tensor | null)[] {
    this.info = [];
    const [out, state] = this.t.update(updates, this.state, this.params, this.info);
    this.state = state;
    return out;
  }
}

describe('adaptiveGradClip: hand-computed units', () => {
  it('clips each output row against its own weight norm, biases as one unit', () => {
    const w = tensor([
      [3, 4],
      [0, 0],
    ]); // row norms 5 and 0 (eps 1e-3 takes over)
    const gw = tensor([
      [30, 40],
      [0.001, 0],
    ]); // row norms 50 and 1e-3
    const b = tensor([0, 0]);
    const gb = tensor([0.00005, 0]); // norm 5e-5 < λ·eps = 1e-4: kept
    const conv = tensor([1, 0, 0, 2], [2, 1, 2, 1]); // [out 2, in 1, 2, 1]: unit norms 1 and 2
    const gconv = tensor([0, 0.05, 3, 4], [2, 1, 2, 1]); // unit norms 0.05 (< 0.1: kept) and 5 (> 0.2)
    const d = new Driver(adaptiveGradClip(0.1), [w, b, conv]);
    const [ow, ob, oc] = d.step([gw, gb, gconv]);
    // row 0: maxNorm 0.1·5 = 0.5, scale 0.5/50; row 1: maxNorm 0.1·1e-3, scale 1e-4/1e-3
    expectClose(flat(ow), [30 * 0.01, 40 * 0.01, 0.001 * 0.1, 0]);
    expect(ob).toBe(gb);
    expectClose(flat(oc), [0, 0.05, 3 * (0.2 / 5), 4 * (0.2 / 5)]);
    expect(d.info).toHaveLength(1);
    expect(d.info[0]).toMatchObject({ transform: 'adaptiveGradClip', clipped: true });
    expect(d.info[0].normBefore).toBeCloseTo(Math.sqrt(2500 + 1e-6 + 0.0025e-6 + 0.0025 + 25), 5);
  });

  it('does not clip a unit whose gradient norm is below λ·‖W‖', () => {
    const d = new Driver(adaptiveGradClip(0.1), [tensor([[3, 4]])]);
    const g = tensor([[0.3, 0.39]]); // norm 0.4938 < 0.5
    const [out] = d.step([g]);
    expectClose(flat(out), [0.3, 0.39]);
    expect(d.info[0].clipped).toBe(false);
  });
});

describe('autoClip: hand-computed percentiles', () => {
  const g = (a: number, b: number): Tensor[] => [tensor([a, b])];

  it('appends the norm first, then clips at the percentile of all norms (NumPy linear interpolation)', () => {
    const d = new Driver(autoClip({ percentile: 50 }), [zeros([2])]);
    // step 1: history [5], threshold 5: PyTorch-style coefficient 5/(5 + 1e-6), just below 1
    expectClose(flat(d.step(g(3, 4))[0]), [3 * (5 / (5 + 1e-6)), 4 * (5 / (5 + 1e-6))]);
    // step 2: history [5, 1], median 3 > 1: unchanged
    expectClose(flat(d.step(g(0, 1))[0]), [0, 1]);
    expect(d.info[0].clipped).toBe(false);
    // step 3: history [5, 1, 13], median 5: scaled by 5/(13 + 1e-6)
    expectClose(flat(d.step(g(5, 12))[0]), [5 * (5 / (13 + 1e-6)), 12 * (5 / (13 + 1e-6))]);
    expect(d.info[0]).toMatchObject({ transform: 'autoClip', normBefore: 13, clipped: true });
    expect(d.state.history).toEqual([5, 1, 13]);
  });

  it('the 10th percentile of [5, 1, 13] is 1.8, as np.percentile gives', () => {
    const d = new Driver(autoClip(), [zeros([2])]);
    d.step(g(3, 4));
    d.step(g(0, 1));
    const [out] = d.step(g(5, 12));
    // sorted [1, 5, 13], rank (3 − 1)·0.1 = 0.2: 1 + 0.2·(5 − 1) = 1.8
    expectClose(flat(out), [5 * (1.8 / (13 + 1e-6)), 12 * (1.8 / (13 + 1e-6))]);
  });

  it('a window keeps only the last norms', () => {
    const d = new Driver(autoClip({ percentile: 50, window: 2 }), [zeros([2])]);
    d.step(g(3, 4));
    d.step(g(0, 1));
    const [out] = d.step(g(5, 12)); // history [1, 13]: median 7
    expectClose(flat(out), [5 * (7 / (13 + 1e-6)), 12 * (7 / (13 + 1e-6))]);
    expect(d.state.history).toEqual([1, 13]);
    expect(Array.from(d.state.sorted)).toEqual([1, 13]);
  });

  it('keeps NaN norms out of the history; its state is immutable', () => {
    const d = new Driver(autoClip({ percentile: 50 }), [zeros([2])]);
    d.step(g(3, 4));
    const before: AutoClipState = d.state;
    const [out] = d.step(g(NaN, 1));
    expect(flat(out).every(Number.isNaN)).toBe(true);
    expect(d.state.history).toEqual([5]);
    d.step(g(0, 1));
    expect(before.history).toEqual([5]); // the old state object did not change
    expect(d.state.history).toEqual([5, 1]);
  });

  it('validates its options', () => {
    expect(() => autoClip({ percentile: 101 })).toThrow(/autoClip: percentile must be a number in \[0, 100\] \(got 101\)/);
    expect(() => autoClip({ percentile: NaN })).toThrow(ConfigError);
    expect(() => autoClip({ window: 0 })).toThrow(/window must be an integer ≥ 1 \(got 0\)/);
    expect(() => autoClip({ window: 2.5 })).toThrow(ConfigError);
  });
});

describe('zClip: the reference zclip.py step by step', () => {
  const g = (n: number): Tensor[] => [tensor([n])]; // a one-entry gradient: its norm is |n|

  it('warm-up clips at maxNorm, then clips spikes to μ + zThresh·σ/(z/zThresh) and feeds that to the EMA', () => {
    const d = new Driver(zClip({ warmupSteps: 3, zThresh: 2, alpha: 0.5, maxNorm: 10 }), [zeros([1])]);
    // warm-up: norms 1, 2, 3 are below maxNorm: unchanged (coefficient min(1, 10/(g + 1e-6)) = 1)
    for (const n of [1, 2, 3]) expect(flat(d.step(g(n))[0])).toEqual([n]);
    let mu = 2;
    let v = (1 + 0 + 1) / 3; // population variance of [1, 2, 3]
    expect(d.state.mean).toBeCloseTo(mu, 12);
    expect(d.state.variance).toBeCloseTo(v, 12);
    // step 4: g = 2.5, z = 0.5/(√v + 1e-6) ≈ 0.61 < 2: no clipping, the EMA takes g
    expect(flat(d.step(g(2.5))[0])).toEqual([2.5]);
    mu = 0.5 * mu + 0.5 * 2.5; // 2.25
    v = 0.5 * v + 0.5 * (2.5 - mu) ** 2; // 0.3645833
    expect(d.state.mean).toBeCloseTo(2.25, 12);
    expect(d.state.variance).toBeCloseTo(0.36458333, 7);
    // step 5: g = 20, a spike: z = (20 − 2.25)/(0.6038 + 1e-6) ≈ 29.40
    const std = Math.sqrt(v);
    const z = (20 - mu) / (std + 1e-6);
    const thr = mu + (2 * std) / (z / 2); // ≈ 2.33216
    expect(thr).toBeCloseTo(2.33216, 4);
    expectClose(flat(d.step(g(20))[0]), [20 * (thr / (20 + 1e-6))], 1e-6);
    expect(d.info[0]).toMatchObject({ transform: 'zClip', normBefore: 20, clipped: true });
    // the EMA saw the adaptive threshold, not 20
    const mu2 = 0.5 * mu + 0.5 * thr;
    expect(d.state.mean).toBeCloseTo(mu2, 10);
    expect(d.state.variance).toBeCloseTo(0.5 * v + 0.5 * (thr - mu2) ** 2, 10);
  });

  it('warm-up clips as clipGradNorm_(maxNorm); maxNorm caps the threshold afterwards', () => {
    const d = new Driver(zClip({ warmupSteps: 2, maxNorm: 3 }), [zeros([1])]);
    expectClose(flat(d.step(g(4))[0]), [4 * (3 / (4 + 1e-6))]);
    expectClose(flat(d.step(g(4.25))[0]), [4.25 * (3 / (4.25 + 1e-6))]);
    expect(d.state.mean).toBe(4.125); // raw norms, not the clipped ones
    expect(d.state.variance).toBe(0.015625);
    // no spike (z = 0.125/(0.125 + 1e-6) ≈ 1), so the adaptive threshold is g = 4.25; the ceiling 3 applies
    expectClose(flat(d.step(g(4.25))[0]), [4.25 * (3 / (4.25 + 1e-6))]);
    expect(d.state.mean).toBeCloseTo(0.97 * 4.125 + 0.03 * 4.25, 12); // the EMA takes g, not the ceiling
  });

  it('without a ceiling the warm-up does not clip', () => {
    const d = new Driver(zClip({ warmupSteps: 2, maxNorm: null }), [zeros([1])]);
    expect(flat(d.step(g(100))[0])).toEqual([100]);
  });

  it('never lets a NaN norm into its statistics', () => {
    const d = new Driver(zClip({ warmupSteps: 2 }), [zeros([1])]);
    d.step(g(0.5));
    d.step(g(NaN));
    expect(d.state.buffer).toEqual([0.5]);
    d.step(g(0.75));
    const s: ZClipState = d.state;
    expect(s.mean).toBe(0.625);
    d.step(g(NaN));
    expect(d.state).toBe(s); // unchanged after warm-up too
  });

  it('validates its options', () => {
    expect(() => zClip({ warmupSteps: 0 })).toThrow(/zClip: warmupSteps must be an integer ≥ 1 \(got 0\)/);
    expect(() => zClip({ alpha: 1 })).toThrow(/alpha must be a number in \[0, 1\) \(got 1\)/);
    expect(() => zClip({ zThresh: -1 })).toThrow(/zThresh must be a positive number/);
    expect(() => zClip({ maxNorm: 0 })).toThrow(/maxNorm must be a positive number \(got 0\).*null/);
    expect(() => zClip({ warmup: 3 } as never)).toThrow(/unknown option 'warmup'/);
  });
});

describe('applyIfFinite / skipNonfinite', () => {
  /** Doubles the updates and counts its calls. */
  const counter: GradientTransformation<{ calls: number }> = {
    name: 'double',
    init: () => ({ calls: 0 }),
    update: (updates, state) => [updates.map((u) => (u === null ? null : u.mul(2))), { calls: state.calls + 1 }],
  };

  it('gives zero updates on a non-finite step and keeps the inner state', () => {
    const d = new Driver(skipNonfinite(counter), [zeros([2]), zeros([1])]);
    expect(d.t.name).toBe('applyIfFinite(double)');
    expect(flat(d.step([tensor([1, 2]), null])[0])).toEqual([2, 4]);
    const inner = d.state.inner;
    for (const bad of [NaN, Infinity, -Infinity]) {
      const out = d.step([tensor([1, bad]), tensor([3])]);
      expect(out.map(flat)).toEqual([[0, 0], [0]]);
      expect(d.info).toEqual([{ transform: 'applyIfFinite', skipped: true }]);
      expect(d.state.inner).toBe(inner);
    }
    expect(d.state).toMatchObject({ notFiniteCount: 3, totalNotFinite: 3, skipped: 3, lastFinite: false });
    expect(flat(d.step([tensor([1, 1]), tensor([1])])[1])).toEqual([2]);
    expect(d.state).toMatchObject({ notFiniteCount: 0, totalNotFinite: 3, skipped: 3, lastFinite: true, inner: { calls: 2 } });
    expect(d.info[0]).toEqual({ transform: 'applyIfFinite', skipped: false });
  });

  it('checks float64 updates without overflowing their squares', () => {
    const d = new Driver(skipNonfinite(counter), [zeros([1])]);
    expect(flat(d.step([tensor([1e200], [1], { dtype: 'float64' })])[0])).toEqual([2e200]);
    expect(d.state.skipped).toBe(0);
  });

  it('applies a non-finite step after maxConsecutiveErrors skips in a row (Optax)', () => {
    const d = new Driver(applyIfFinite(counter, { maxConsecutiveErrors: 1 }), [zeros([1])]);
    d.step([tensor([NaN])]);
    expect(d.state.skipped).toBe(1);
    expect(flat(d.step([tensor([NaN])])[0])[0]).toBeNaN(); // second in a row: applied
    expect(d.state).toMatchObject({ skipped: 1, totalNotFinite: 2, inner: { calls: 1 } });
    expect(() => applyIfFinite(counter, { maxConsecutiveErrors: -1 })).toThrow(ConfigError);
    expect(() => applyIfFinite(null as never)).toThrow(/inner must be a gradient transformation/);
  });
});

// ---- short training runs ------------------------------------------------------------------------

interface RunResult {
  losses: number[];
  clippedSteps: number;
  buffers: number[];
}

/**
 * Trains a 10 → 32 → 3 ReLU MLP on 64 points with inputs scaled by 20 (so gradients explode) by
 * p ← p − lr·u, where u is the gradient passed through `transform` (or the raw gradient).
 */
function train(transform: GradientTransformation<unknown> | null, steps = 60, lr = 0.5): RunResult {
  const gen = new Generator(7);
  const fc1 = new Linear(10, 32, { generator: gen });
  const fc2 = new Linear(32, 3, { generator: gen });
  const params = [...fc1.parameters(), ...fc2.parameters()];
  const x = randn([64, 10], { generator: gen }).mul(20);
  const y = x.matmul(randn([10, 3], { generator: gen })).argmax({ axis: 1 });
  let state = transform?.init(params);
  const result: RunResult = { losses: [], clippedSteps: 0, buffers: [] };
  for (let s = 0; s < steps; s++) {
    tidy(() => {
      for (const p of params) p.grad = null;
      const loss = crossEntropy(fc2.call(fc1.call(x).relu()), y);
      loss.backward();
      result.losses.push(loss.item());
      let updates: (Tensor | null)[] = params.map((p) => p.grad);
      if (transform !== null) {
        const info: UpdateInfo[] = [];
        [updates, state] = transform.update(updates, state, params, info);
        if (info.some((i) => i.clipped === true)) result.clippedSteps++;
      }
      noGrad(() => params.forEach((p, i) => sub_(p, updates[i]!, lr)));
    });
    for (const p of params) {
      p.grad?.dispose(); // backward keeps gradients out of tidy; free them rather than wait for GC
      p.grad = null;
    }
    result.buffers.push(memory().numBuffers);
  }
  return result;
}

describe('training with exploding gradients (10 → 32 → 3 MLP, inputs × 20, lr 0.5)', () => {
  const plain = train(null);

  it('diverges without clipping', () => {
    expect(plain.losses.some((l) => !Number.isFinite(l))).toBe(true);
  });

  it.each([
    ['adaptiveGradClip(0.05)', () => adaptiveGradClip(0.05)],
    ['autoClip()', () => autoClip()],
    ['zClip({ warmupSteps: 10 })', () => zClip({ warmupSteps: 10 })],
    ['zClip() in a chain', () => chain(zClip(), clipByGlobalNorm(10))],
  ] as const)('%s clips, stays finite and ends far below the starting loss', (_, make) => {
    const r = train(make() as GradientTransformation<unknown>);
    expect(r.clippedSteps).toBeGreaterThan(0);
    expect(r.losses.every(Number.isFinite)).toBe(true);
    expect(r.losses.at(-1)!).toBeLessThan(0.1 * r.losses[0]);
    // per-step temporaries are freed: the live-buffer count is flat after the first steps
    expect(r.buffers.at(-1)).toBe(r.buffers[5]);
  });
});
