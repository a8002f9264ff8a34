import { describe, expect, it, vi } from 'vitest';
import type { DType } from '../src/core/dtype.js';
import { Generator } from '../src/core/random.js';
import { clipByGlobalNorm } from '../src/clip/transforms.js';
import { noGrad } from '../src/autograd/grad-mode.js';
import '../src/ops/methods.js';
import { scaleByAdam } from '../src/optim/adaptive.js';
import { kerasClip } from '../src/optim/keras-clip.js';
import { Adam } from '../src/optim/optimizers.js';
import { applyUpdates_, chain } from '../src/optim/transform.js';
import { addDecayedWeights, disposeStaleState, scaleByLearningRate } from '../src/optim/transforms.js';
import { randn } from '../src/tensor/create.js';
import { keep, tidy } from '../src/tensor/scope.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { getBackend } from '../src/backend/registry.js';

// Adam's fused step (one backend kernel per parameter) against the chain of transforms that
// defines it: the same parameters and moments, bit for bit, step after step.

function bits(t: Tensor): string {
  return Buffer.from(t.toTypedArray().buffer).toString('base64');
}

interface Case {
  dtype: DType;
  weightDecay: number;
  /** Global-norm clipping: none, the Optax-style transform, or the Keras-style option. */
  clip: 'none' | 'clipByGlobalNorm' | 'globalClipnorm';
}

function run(c: Case, fused: boolean): { params: string[]; moments: string[]; calls: number; clipped: number } {
  const gen = new Generator(3);
  const shapes = [[37, 11], [11], [300, 129], [5]];
  const params = shapes.map((s) => keep(randn(s, { generator: gen, dtype: c.dtype }).requiresGrad_()));
  const options = { lr: 3e-3, betas: [0.8, 0.99] as [number, number], eps: 1e-6, weightDecay: c.weightDecay };
  const spy = vi.spyOn(getBackend(), 'adamStep');
  let moments: string[] = [];
  let clipped = 0;
  if (fused) {
    const clip = c.clip === 'clipByGlobalNorm' ? { clip: clipByGlobalNorm(0.5) } : c.clip === 'globalClipnorm' ? { globalClipnorm: 0.5 } : {};
    const opt = new Adam(params, { ...options, ...clip });
    for (let step = 0; step < 6; step++) {
      setGrads(params, gen, c.dtype, step);
      opt.step();
    }
    clipped = opt.stats.stepsClipped;
    const state = opt.stateDict().state;
    moments = Object.values(state).flatMap((s) => [bits(s.exp_avg as Tensor), bits(s.exp_avg_sq as Tensor)]);
  } else {
    const clip = c.clip === 'clipByGlobalNorm' ? [clipByGlobalNorm(0.5)] : c.clip === 'globalClipnorm' ? [kerasClip('Adam', { globalClipnorm: 0.5 })!] : [];
    const t = chain(
      ...clip,
      addDecayedWeights(options.weightDecay),
      scaleByAdam({ b1: options.betas[0], b2: options.betas[1], eps: options.eps }),
      scaleByLearningRate(options.lr),
    );
    let state = t.init(params);
    for (let step = 0; step < 6; step++) {
      setGrads(params, gen, c.dtype, step);
      tidy(() => {
        const [u, s] = t.update(params.map((p) => p.grad), state, params, []);
        applyUpdates_(params, u);
        disposeStaleState(state, s);
        state = s;
      });
    }
    const adam = state[c.clip !== 'none' ? 2 : 1] as { expAvg: Tensor[]; expAvgSq: Tensor[]; step: number[] };
    moments = adam.expAvg.flatMap((m, j) => (adam.step[j] > 0 ? [bits(m), bits(adam.expAvgSq[j])] : []));
  }
  const calls = spy.mock.calls.length;
  spy.mockRestore();
  return { params: params.map(bits), moments, calls, clipped };
}

/** Fresh gradients; parameter 1 gets none on odd steps (skipped, as PyTorch: its step count lags). */
function setGrads(params: Tensor[], gen: Generator, dtype: DType, step: number): void {
  noGrad(() =>
    params.forEach((p, j) => {
      p.grad?.dispose();
      p.grad = j === 1 && step % 2 === 1 ? null : keep(randn(p.shape, { generator: gen, dtype }).mul(step === 4 ? 100 : 1));
    }),
  );
}

describe('Adam: the fused step equals the chain of transforms bit for bit', () => {
  const cases: Case[] = [
    { dtype: 'float32', weightDecay: 0, clip: 'none' },
    { dtype: 'float32', weightDecay: 0.01, clip: 'clipByGlobalNorm' },
    { dtype: 'float32', weightDecay: 0, clip: 'globalClipnorm' },
    { dtype: 'float64', weightDecay: 0.1, clip: 'clipByGlobalNorm' },
  ];
  it.each(cases)('%o', (c) => {
    const fused = run(c, true);
    const reference = run(c, false);
    expect(fused.calls).toBeGreaterThan(0); // the fused kernel did run
    expect(reference.calls).toBe(0);
    expect(fused.params).toEqual(reference.params);
    expect(fused.moments).toEqual(reference.moments);
    // the clipping coefficient folded into the kernel still counts its clipped steps
    if (c.clip !== 'none') expect(fused.clipped).toBeGreaterThan(0);
  });

  it('folds global-norm clipping into the kernel: no scaled copy of the gradients is made', () => {
    const p = keep(randn([300, 129], { generator: new Generator(4) }).requiresGrad_());
    p.grad = keep(randn([300, 129], { generator: new Generator(5) }));
    const before = bits(p.grad);
    const opt = new Adam([p], { lr: 1e-3, clip: clipByGlobalNorm(0.1) });
    const binary = vi.spyOn(getBackend(), 'binary');
    opt.step();
    expect(binary).not.toHaveBeenCalled();
    binary.mockRestore();
    expect(opt.stats.stepsClipped).toBe(1);
    expect(opt.lastUpdateInfo[0].normBefore).toBeGreaterThan(100);
    expect(bits(p.grad)).toBe(before); // optimizer-side clipping leaves .grad as it was
  });

  it('runs the chain when a tensor cannot take the kernel (AMSGrad) and still updates', () => {
    const p = keep(randn([4, 3], { generator: new Generator(1) }).requiresGrad_());
    const before = bits(p);
    const spy = vi.spyOn(getBackend(), 'adamStep');
    const opt = new Adam([p], { lr: 0.1, amsgrad: true });
    p.grad = keep(randn([4, 3], { generator: new Generator(2) }));
    opt.step();
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(bits(p)).not.toBe(before);
  });
});
