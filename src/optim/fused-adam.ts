import type { UpdateSquares } from '../backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ScaleByAdamState } from './adaptive.js';

/**
 * PyTorch's Adam (no AMSGrad) as one pass over each parameter: the backend's `adamStep` kernel
 * reads the gradient once and updates the parameter and both moments in place, instead of the
 * dozen whole-tensor operations of the chain weightDecay → scaleByAdam → scaleByLearningRate →
 * `p ← p + u`. It computes the same float32 operations in the same order, so the two agree bit
 * for bit (test/optim-fused.test.ts); the chain remains the definition and the fallback.
 */

/** The hyperparameters of one PyTorch-style Adam param group. */
export interface FusedAdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/**
 * Whether every parameter with a gradient can take the fused kernel: no AMSGrad, and the
 * parameter, gradient and moments are whole float buffers of one dtype on one backend (not
 * strided views), so the chain is needed for nothing.
 */
export function canFuseAdam(params: readonly Tensor[], grads: readonly (Tensor | null)[], state: ScaleByAdamState): boolean {
  if (state.maxExpAvgSq !== null) return false;
  for (let j = 0; j < params.length; j++) {
    const g = grads[j];
    if (g === null || g === undefined) continue;
    const p = params[j];
    for (const t of [p, g, state.expAvg[j], state.expAvgSq[j]]) {
      if (t.backend !== p.backend || t.dtype !== p.dtype || t.size !== p.size || !t.ownsBuffer()) return false;
      if (t.dtype !== 'float32' && t.dtype !== 'float64') return false;
    }
  }
  return true;
}

/**
 * Runs one Adam step for every parameter with a gradient, in place, and returns the new state.
 * `gradScale` multiplies each gradient first (a global clipping coefficient folded in, so the
 * clipped gradients are never written out). With `squares`, each parameter's `[Σ p², Σ Δp², Σ g²]`
 * is measured in the same pass, by index. Call only when {@link canFuseAdam} holds.
 */
export function fusedAdamStep(
  params: readonly Tensor[],
  grads: readonly (Tensor | null)[],
  state: ScaleByAdamState,
  hyper: FusedAdamHyper,
  gradScale = 1,
  squares: (UpdateSquares | null)[] | null = null,
): ScaleByAdamState {
  const step = [...state.step];
  for (let j = 0; j < params.length; j++) {
    const g = grads[j];
    if (g === null || g === undefined) continue;
    const p = params[j];
    const t = ++step[j];
    if (p.size === 0) {
      if (squares !== null) squares[j] = [0, 0, 0];
      continue;
    }
    // A clipping factor still pending on the gradient's storage (clipGradNorm_ defers it) is
    // folded in here, when it is the only factor: the kernel multiplies each gradient element by
    // it as it reads, the same rounding as scaling the buffer first. It stays pending on the
    // storage, so the gradient still reads as clipped afterwards.
    g.assertLive('Adam.step');
    const pending = g.storage.unscaled();
    const folded = pending.scale !== 1 && gradScale === 1 ? pending.buf : null;
    const measured = p.backend.adamStep(p.buf, folded ?? g.buf, state.expAvg[j].buf, state.expAvgSq[j].buf, {
      gradScale: folded !== null ? pending.scale : gradScale,
      weightDecay: hyper.weightDecay,
      beta1: hyper.beta1,
      beta2: hyper.beta2,
      // Bias corrections in double precision (Python floats), as the chain and PyTorch.
      biasCorrection1: 1 - hyper.beta1 ** t,
      biasCorrection2: 1 - hyper.beta2 ** t,
      eps: hyper.eps,
      lr: hyper.lr,
    }, squares !== null);
    if (squares !== null) squares[j] = measured;
  }
  return { ...state, step };
}
