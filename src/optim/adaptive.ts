/**
 * The adaptive scalings: Adam (with AMSGrad), RMSprop (centered, with momentum) and Adagrad, as
 * Optax-style transforms. Each has PyTorch 1.13's arithmetic by default (operation by operation)
 * and Keras 3's where Keel's Keras-style optimizers need it (`formula: 'keras'`, `epsInSqrt`).
 * Follow them with `scaleByLearningRate(lr)`.
 */
import { ConfigError } from '../core/errors.js';
import { add, div, maximum, mul, sqrt, sub } from '../ops/elementwise.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkNumber, mapUpdates } from './transforms.js';
import type { GradientTransformation } from './transform.js';

/** @internal A kept tensor of `p`'s shape, dtype and backend, filled with `value`. */
export function stateLike(p: Tensor, value = 0): Tensor {
  const t = Tensor.empty(p.backend, p.shape, p.dtype);
  if (value !== 0 && t.size > 0) p.backend.fill(t.buf, value);
  return keep(t);
}

function checkBeta(who: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1))
    throw new ConfigError(`${who}: ${name} must be in [0, 1) (got ${String(value)})`);
  return value;
}

/** Options of {@link scaleByAdam}. */
export interface ScaleByAdamOptions {
  /** Decay of the first moment, β1 (default 0.9). */
  b1?: number;
  /** Decay of the second moment, β2 (default 0.999). */
  b2?: number;
  /** ε added to the denominator (default 1e-8, PyTorch's). */
  eps?: number;
  /** AMSGrad: normalize by the running maximum of the second moment (default false). */
  amsgrad?: boolean;
  /**
   * `'pytorch'` (default): `m̂ / (√v̂ + ε)` with `√v̂ = √v / √(1 − β2ᵗ)`, as `torch.optim.Adam`.
   * `'keras'`: `√(1 − β2ᵗ)/(1 − β1ᵗ) · m / (√v + ε)` ("epsilon hat", on the uncorrected v) with
   * Keras' moment updates `m ← m + (g − m)(1 − β1)`, as `keras.optimizers.Adam`.
   */
  formula?: 'pytorch' | 'keras';
}

/**
 * State of {@link scaleByAdam}, per parameter: the number of updates it received (`step`, as
 * PyTorch counts per parameter), the moments, and AMSGrad's running maximum (null without AMSGrad).
 */
export interface ScaleByAdamState {
  step: number[];
  expAvg: Tensor[];
  expAvgSq: Tensor[];
  maxExpAvgSq: Tensor[] | null;
}

/**
 * Adam's scaling (Kingma & Ba, 2015), without the learning rate: per parameter
 * `m ← β1·m + (1 − β1)·g`, `v ← β2·v + (1 − β2)·g²`, and the update
 * `(m / (√v/√(1 − β2ᵗ) + ε)) / (1 − β1ᵗ)` — PyTorch's order of operations. With `amsgrad`, v is
 * replaced by its running maximum in the denominator. `t` counts the updates each parameter got.
 *
 * @example chain(scaleByAdam(), scaleByLearningRate(1e-3)) // torch.optim.Adam(lr=1e-3)
 */
export function scaleByAdam(options?: ScaleByAdamOptions): GradientTransformation<ScaleByAdamState> {
  const who = 'scaleByAdam';
  const b1 = checkBeta(who, 'b1', options?.b1 ?? 0.9);
  const b2 = checkBeta(who, 'b2', options?.b2 ?? 0.999);
  const eps = checkNumber(who, 'eps', options?.eps ?? 1e-8, 0);
  const amsgrad = checkBoolean(who, 'amsgrad', options?.amsgrad ?? false);
  const formula = options?.formula ?? 'pytorch';
  if (formula !== 'pytorch' && formula !== 'keras')
    throw new ConfigError(`${who}: formula must be 'pytorch' or 'keras' (got '${String(formula)}')`);
  return {
    name: 'scaleByAdam',
    init: (params) => ({
      step: params.map(() => 0),
      expAvg: params.map((p) => stateLike(p)),
      expAvgSq: params.map((p) => stateLike(p)),
      maxExpAvgSq: amsgrad ? params.map((p) => stateLike(p)) : null,
    }),
    update(updates, state, params) {
      const step = [...state.step];
      const expAvg = [...state.expAvg];
      const expAvgSq = [...state.expAvgSq];
      // AMSGrad switched on after some steps starts its maximum from zeros (as a fresh state).
      const maxExpAvgSq = amsgrad ? [...(state.maxExpAvgSq ?? params.map((p) => stateLike(p)))] : state.maxExpAvgSq;
      const out = mapUpdates(updates, (g, i) => {
        const t = ++step[i];
        let m: Tensor;
        let v: Tensor;
        if (formula === 'pytorch') {
          // exp_avg.mul_(β1).add_(g, alpha=1−β1); exp_avg_sq.mul_(β2).addcmul_(g, g, value=1−β2)
          m = add(mul(expAvg[i], b1), mul(g, 1 - b1));
          v = add(mul(expAvgSq[i], b2), mul(mul(g, 1 - b2), g));
        } else {
          // Keras: m += (g − m)(1 − β1); v += (g² − v)(1 − β2)
          m = add(expAvg[i], mul(sub(g, expAvg[i]), 1 - b1));
          v = add(expAvgSq[i], mul(sub(mul(g, g), expAvgSq[i]), 1 - b2));
        }
        expAvg[i] = keep(m);
        expAvgSq[i] = keep(v);
        let vDen = v;
        if (maxExpAvgSq !== null) {
          vDen = keep(maximum(maxExpAvgSq[i], v));
          maxExpAvgSq[i] = vDen;
        }
        if (formula === 'pytorch') {
          // Bias corrections in double precision (Python floats), as PyTorch.
          const bc1 = 1 - b1 ** t;
          const bc2 = 1 - b2 ** t;
          // denom = (√v / √bc2).add_(ε); the update is (m / denom)·(1/bc1) (PyTorch folds 1/bc1 into lr).
          const denom = add(div(sqrt(vDen), Math.sqrt(bc2)), eps);
          return mul(div(m, denom), 1 / bc1);
        }
        // Keras: m·α / (√v + ε) with α = lr·√(1 − β2ᵗ)/(1 − β1ᵗ), the powers computed in the
        // variable's dtype (float32(0.999) makes 1 − β2 off by 1.3e-5 relative: Keras has that too).
        // lr is applied by scaleByLearningRate.
        const r = g.dtype === 'float32' ? Math.fround : (x: number) => x;
        const bc1 = r(1 - r(r(b1) ** t));
        const bc2 = r(1 - r(r(b2) ** t));
        return div(mul(m, r(r(Math.sqrt(bc2)) / bc1)), add(sqrt(vDen), eps));
      });
      return [out, { step, expAvg, expAvgSq, maxExpAvgSq }];
    },
  };
}

/** Options of {@link scaleByRmsprop}. */
export interface ScaleByRmspropOptions {
  /** Smoothing constant of the squared-gradient average (PyTorch's `alpha`, Keras' `rho`; default 0.99). */
  decay?: number;
  /** ε (default 1e-8). */
  eps?: number;
  /** Normalize by the estimated variance (v − ḡ²) instead of the second moment (default false). */
  centered?: boolean;
  /** Momentum μ on the normalized gradient: `buf ← μ·buf + g/avg`, the update is buf (default 0). */
  momentum?: number;
  /**
   * ε inside the square root, `g / √(v + ε)`, with Keras' arithmetic (default false: PyTorch's
   * `g / (√v + ε)`).
   */
  epsInSqrt?: boolean;
}

/** State of {@link scaleByRmsprop}, per parameter (gradAvg only when centered, momentumBuffer only with momentum). */
export interface ScaleByRmspropState {
  step: number[];
  squareAvg: Tensor[];
  gradAvg: Tensor[] | null;
  momentumBuffer: Tensor[] | null;
}

/**
 * RMSprop's scaling (Hinton, 2012), without the learning rate, as `torch.optim.RMSprop`:
 * `v ← α·v + (1 − α)·g²`; centered: `ḡ ← α·ḡ + (1 − α)·g`, `avg = √(v − ḡ²) + ε`, else
 * `avg = √v + ε`; the update is `g / avg`, or with momentum `buf ← μ·buf + g/avg` (buffer from
 * zeros). With `epsInSqrt` the denominator is `√(v + ε)` (centered `√(v − ḡ² + ε)`), as Keras.
 */
export function scaleByRmsprop(options?: ScaleByRmspropOptions): GradientTransformation<ScaleByRmspropState> {
  const who = 'scaleByRmsprop';
  const decay = checkNumber(who, 'decay', options?.decay ?? 0.99, 0);
  const eps = checkNumber(who, 'eps', options?.eps ?? 1e-8, 0);
  const centered = checkBoolean(who, 'centered', options?.centered ?? false);
  const momentum = checkNumber(who, 'momentum', options?.momentum ?? 0, 0);
  const epsInSqrt = checkBoolean(who, 'epsInSqrt', options?.epsInSqrt ?? false);
  return {
    name: 'scaleByRmsprop',
    init: (params) => ({
      step: params.map(() => 0),
      squareAvg: params.map((p) => stateLike(p)),
      gradAvg: centered ? params.map((p) => stateLike(p)) : null,
      momentumBuffer: momentum > 0 ? params.map((p) => stateLike(p)) : null,
    }),
    update(updates, state, params) {
      const step = [...state.step];
      const squareAvg = [...state.squareAvg];
      const gradAvg = centered ? [...(state.gradAvg ?? params.map((p) => stateLike(p)))] : state.gradAvg;
      const momentumBuffer = momentum > 0 ? [...(state.momentumBuffer ?? params.map((p) => stateLike(p)))] : state.momentumBuffer;
      const out = mapUpdates(updates, (g, i) => {
        step[i]++;
        // PyTorch: square_avg.mul_(α).addcmul_(g, g, value=1−α); Keras: ρ·v + (1−ρ)·g².
        const v = keep(epsInSqrt ? add(mul(squareAvg[i], decay), mul(mul(g, g), 1 - decay)) : add(mul(squareAvg[i], decay), mul(mul(g, 1 - decay), g)));
        squareAvg[i] = v;
        let variance = v;
        if (gradAvg !== null) {
          const ga = keep(add(mul(gradAvg[i], decay), mul(g, 1 - decay)));
          gradAvg[i] = ga;
          variance = sub(v, mul(ga, ga));
        }
        const avg = epsInSqrt ? sqrt(add(variance, eps)) : add(sqrt(variance), eps);
        const scaled = div(g, avg);
        if (momentumBuffer === null) return scaled;
        const buf = keep(add(mul(momentumBuffer[i], momentum), scaled));
        momentumBuffer[i] = buf;
        return buf;
      });
      return [out, { step, squareAvg, gradAvg, momentumBuffer }];
    },
  };
}

/** Options of {@link scaleByAdagrad}. */
export interface ScaleByAdagradOptions {
  /** ε (default 1e-10, PyTorch's). */
  eps?: number;
  /** Starting value of the accumulated squares (default 0; Keras uses 0.1). */
  initialAccumulatorValue?: number;
  /** PyTorch's `lr_decay`: step t is scaled by 1/(1 + (t − 1)·lrDecay) (default 0). */
  lrDecay?: number;
  /** ε inside the square root, `g / √(Σg² + ε)`, as Keras (default false: `g / (√Σg² + ε)`). */
  epsInSqrt?: boolean;
}

/** State of {@link scaleByAdagrad}, per parameter. */
export interface ScaleByAdagradState {
  step: number[];
  sum: Tensor[];
}

/**
 * Adagrad's scaling (Duchi et al., 2011), without the learning rate, as `torch.optim.Adagrad`:
 * `s ← s + g²`, the update `(g / (√s + ε)) / (1 + (t − 1)·lrDecay)`.
 */
export function scaleByAdagrad(options?: ScaleByAdagradOptions): GradientTransformation<ScaleByAdagradState> {
  const who = 'scaleByAdagrad';
  const eps = checkNumber(who, 'eps', options?.eps ?? 1e-10, 0);
  const initial = checkNumber(who, 'initialAccumulatorValue', options?.initialAccumulatorValue ?? 0, 0);
  const lrDecay = checkNumber(who, 'lrDecay', options?.lrDecay ?? 0, 0);
  const epsInSqrt = checkBoolean(who, 'epsInSqrt', options?.epsInSqrt ?? false);
  return {
    name: 'scaleByAdagrad',
    init: (params) => ({ step: params.map(() => 0), sum: params.map((p) => stateLike(p, initial)) }),
    update(updates, state) {
      const step = [...state.step];
      const sums = [...state.sum];
      const out = mapUpdates(updates, (g, i) => {
        const t = ++step[i];
        // state_sum.addcmul_(g, g, value=1)
        const s = keep(add(sums[i], mul(g, g)));
        sums[i] = s;
        const scaled = epsInSqrt ? div(g, sqrt(add(s, eps))) : div(g, add(sqrt(s), eps));
        return lrDecay === 0 ? scaled : mul(scaled, 1 / (1 + (t - 1) * lrDecay));
      });
      return [out, { step, sum: sums }];
    },
  };
}
