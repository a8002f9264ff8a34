/**
 * The optimizers: SGD, Adam, AdamW, RMSprop and Adagrad, each a thin wrapper over a chain of
 * transforms, in PyTorch style (`new Adam(model.parameters(), { lr: 1e-3 })`) or Keras style
 * (`new Adam({ learningRate: 1e-3 })`, then `bind(params)`); see {@link Optimizer}.
 */
import type { UpdateSquares } from '../backend/backend.js';
import { ConfigError } from '../core/errors.js';
import { type ScaleByAdamState, scaleByAdagrad, scaleByAdam, scaleByRmsprop } from './adaptive.js';
import { canFuseAdam, fusedAdamStep } from './fused-adam.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  type ClipOptions,
  type Link,
  Optimizer,
  type OptimizerSpec,
  type OptionSpec,
  type ParamGroupBase,
  type ParamsArg,
  type StateFields,
  checks,
} from './optimizer.js';
import { addDecayedWeights, scaleByLearningRate, trace } from './transforms.js';

const lrOptions: Record<string, OptionSpec> = {
  lr: { style: 'pytorch', key: 'lr', check: checks.nonNegative },
  learningRate: { style: 'keras', key: 'lr', check: checks.nonNegative },
};

function finite(who: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(`${who}: invalid ${name} ${String(value)}: it must be a finite number`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// SGD

/** The hyperparameters of an {@link SGD} param group. */
export interface SGDParamGroup extends ParamGroupBase {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/** PyTorch-style options of {@link SGD} (also allowed per param group). */
export interface SGDGroupOptions {
  /** Learning rate (required, as in PyTorch 1.13). */
  lr?: number;
  /** Momentum factor μ (default 0). */
  momentum?: number;
  /** Dampening for momentum (default 0). */
  dampening?: number;
  /** L2 penalty added to the gradient: g + wd·p (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0; default false). */
  nesterov?: boolean;
}

/** Keras-style options of {@link SGD}. */
export interface KerasSGDGroupOptions {
  /** Learning rate (default 0.01). */
  learningRate?: number;
  /** Momentum in [0, 1] (default 0): `v ← μ·v − lr·g`, `p ← p + v`. */
  momentum?: number;
  /** Nesterov momentum: `p ← p + μ·v − lr·g` (default false). */
  nesterov?: boolean;
  /** Decoupled weight decay `p ← p − lr·wd·p`, applied before the update (default none). */
  weightDecay?: number;
}

/** Options of {@link SGD}: one naming style, plus clipping. */
export type SGDOptions = (SGDGroupOptions | KerasSGDGroupOptions) & ClipOptions;

const SGD_SPEC: OptimizerSpec<SGDParamGroup> = {
  options: {
    ...lrOptions,
    momentum: { style: 'both', key: 'momentum', check: checks.nonNegative },
    dampening: { style: 'pytorch', key: 'dampening', check: finite },
    weightDecay: { style: 'both', key: 'weightDecay', check: checks.nonNegative },
    nesterov: { style: 'both', key: 'nesterov', check: checks.boolean },
  },
  defaults: {
    pytorch: { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
    keras: { lr: 0.01, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
  },
  checkGroup(who, g, style) {
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0))
      throw new ConfigError(`${who}: Nesterov momentum requires a momentum and zero dampening (got momentum ${g.momentum}, dampening ${g.dampening})`);
    if (style === 'keras' && g.momentum > 1) throw new ConfigError(`${who}: momentum must be a float between [0, 1] (got ${g.momentum})`);
  },
};

/**
 * Stochastic gradient descent with momentum.
 *
 * PyTorch (`torch.optim.SGD`): `g ← g + wd·p`; with momentum `buf ← g` on the first step, then
 * `buf ← μ·buf + (1 − dampening)·g`; `g ← nesterov ? g + μ·buf : buf`; `p ← p − lr·g`.
 * Keras (`keras.optimizers.SGD`, lr 0.01): `v ← μ·v − lr·g` (lr inside the velocity),
 * `p ← p + v` or, Nesterov, `p ← p + μ·v − lr·g`; weight decay is decoupled.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
 * loss.backward(); opt.step(); opt.zeroGrad();
 */
export class SGD extends Optimizer<SGDParamGroup> {
  /** PyTorch style: parameters (or param groups) and PyTorch option names. */
  constructor(params: ParamsArg<SGDGroupOptions | KerasSGDGroupOptions>, options?: SGDOptions);
  /** Keras style: options only; call `bind(params)` before the first step. */
  constructor(options?: SGDOptions);
  constructor(first?: unknown, second?: unknown) {
    super('SGD', SGD_SPEC, first, second);
  }

  protected links(g: SGDParamGroup): Link[] {
    const t = trace({ decay: g.momentum, dampening: g.dampening, nesterov: g.nesterov });
    if (this.style === 'keras')
      return [
        ['lr', scaleByLearningRate(g.lr)],
        ['trace', t],
        ['weightDecay', addDecayedWeights(-g.lr * g.weightDecay)],
      ];
    return [
      ['weightDecay', addDecayedWeights(g.weightDecay)],
      ['trace', t],
      ['lr', scaleByLearningRate(g.lr)],
    ];
  }

  protected stateFields(): StateFields {
    return { momentum_buffer: ['trace', 'momentumBuffer'] };
  }
}

// ---------------------------------------------------------------------------------------------
// Adam and AdamW

/** The hyperparameters of an {@link Adam} or {@link AdamW} param group. */
export interface AdamParamGroup extends ParamGroupBase {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

/** PyTorch-style options of {@link Adam} and {@link AdamW} (also allowed per param group). */
export interface AdamGroupOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the moments (default [0.9, 0.999]). */
  betas?: [number, number];
  /** ε added to the bias-corrected √v (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0); AdamW: decoupled decay (default 0.01). */
  weightDecay?: number;
  /** AMSGrad variant (default false). */
  amsgrad?: boolean;
}

/** Keras-style options of {@link Adam} and {@link AdamW}. */
export interface KerasAdamGroupOptions {
  /** Learning rate (default 0.001). */
  learningRate?: number;
  /** Decay of the first moment (default 0.9). */
  beta1?: number;
  /** Decay of the second moment (default 0.999). */
  beta2?: number;
  /** "Epsilon hat", added to √v before bias correction (default 1e-7). */
  epsilon?: number;
  /** Decoupled weight decay `p ← p − lr·wd·p` (Adam: none; AdamW: 0.004). */
  weightDecay?: number;
  /** AMSGrad variant (default false). */
  amsgrad?: boolean;
}

/** Options of {@link Adam} and {@link AdamW}: one naming style, plus clipping. */
export type AdamOptions = (AdamGroupOptions | KerasAdamGroupOptions) & ClipOptions;

function adamSpec(weightDecay: { pytorch: number; keras: number }): OptimizerSpec<AdamParamGroup> {
  return {
    options: {
      ...lrOptions,
      betas: { style: 'pytorch', key: 'betas', check: checks.betas },
      beta1: { style: 'keras', key: 'betas', index: 0, check: checks.unitOpen },
      beta2: { style: 'keras', key: 'betas', index: 1, check: checks.unitOpen },
      eps: { style: 'pytorch', key: 'eps', check: checks.nonNegative },
      epsilon: { style: 'keras', key: 'eps', check: checks.nonNegative },
      weightDecay: { style: 'both', key: 'weightDecay', check: checks.nonNegative },
      amsgrad: { style: 'both', key: 'amsgrad', check: checks.boolean },
    },
    defaults: {
      pytorch: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: weightDecay.pytorch, amsgrad: false },
      keras: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-7, weightDecay: weightDecay.keras, amsgrad: false },
    },
  };
}

const ADAM_FIELDS: StateFields = {
  step: ['adam', 'step'],
  exp_avg: ['adam', 'expAvg'],
  exp_avg_sq: ['adam', 'expAvgSq'],
  max_exp_avg_sq: ['adam', 'maxExpAvgSq'],
};

/**
 * Adam (Kingma & Ba, 2015).
 *
 * PyTorch (`torch.optim.Adam`): `g ← g + wd·p` (L2); `m ← β1·m + (1 − β1)·g`,
 * `v ← β2·v + (1 − β2)·g²`; `p ← p − lr/(1 − β1ᵗ) · m / (√v/√(1 − β2ᵗ) + ε)`; AMSGrad uses the
 * running maximum of v.
 * Keras (`keras.optimizers.Adam`, ε = 1e-7): `p ← p − lr·√(1 − β2ᵗ)/(1 − β1ᵗ) · m/(√v + ε)`, and
 * `weightDecay` is decoupled (`p ← p − lr·wd·p` before the update).
 *
 * @example
 * new Adam(model.parameters(), { lr: 1e-3, betas: [0.9, 0.98] });
 * new Adam({ learningRate: 1e-3, clipnorm: 1 }).bind(model.parameters());
 */
export class Adam extends Optimizer<AdamParamGroup> {
  /** PyTorch style: parameters (or param groups) and PyTorch option names. */
  constructor(params: ParamsArg<AdamGroupOptions | KerasAdamGroupOptions>, options?: AdamOptions);
  /** Keras style: options only; call `bind(params)` before the first step. */
  constructor(options?: AdamOptions);
  constructor(first?: unknown, second?: unknown) {
    super('Adam', adamSpec({ pytorch: 0, keras: 0 }), first, second);
  }

  protected links(g: AdamParamGroup): Link[] {
    const adam = scaleByAdam({ b1: g.betas[0], b2: g.betas[1], eps: g.eps, amsgrad: g.amsgrad, formula: this.style });
    if (this.style === 'keras')
      return [
        ['adam', adam],
        ['weightDecay', addDecayedWeights(g.weightDecay)],
        ['lr', scaleByLearningRate(g.lr)],
      ];
    return [
      ['weightDecay', addDecayedWeights(g.weightDecay)],
      ['adam', adam],
      ['lr', scaleByLearningRate(g.lr)],
    ];
  }

  protected stateFields(): StateFields {
    return ADAM_FIELDS;
  }

  protected override canFuse(g: AdamParamGroup, grads: readonly (Tensor | null)[], states: unknown[]): boolean {
    // The PyTorch chain is [weightDecay, adam, lr]; Keras' formula and AMSGrad run the chain.
    return this.style === 'pytorch' && !g.amsgrad && canFuseAdam(g.params, grads, states[1] as ScaleByAdamState);
  }

  protected override fusedStep(
    g: AdamParamGroup,
    grads: readonly (Tensor | null)[],
    states: unknown[],
    gradScale: number,
    squares: (UpdateSquares | null)[] | null,
  ): unknown[] {
    const hyper = { lr: g.lr, beta1: g.betas[0], beta2: g.betas[1], eps: g.eps, weightDecay: g.weightDecay };
    return [states[0], fusedAdamStep(g.params, grads, states[1] as ScaleByAdamState, hyper, gradScale, squares), states[2]];
  }
}

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter, 2019).
 *
 * PyTorch (`torch.optim.AdamW`, weightDecay 0.01): `p ← p·(1 − lr·wd)`, then Adam's update.
 * Keras (`keras.optimizers.AdamW`, weightDecay 0.004, ε 1e-7): `p ← p − lr·wd·p`, then Keras' Adam.
 *
 * @example new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 */
export class AdamW extends Optimizer<AdamParamGroup> {
  /** PyTorch style: parameters (or param groups) and PyTorch option names. */
  constructor(params: ParamsArg<AdamGroupOptions | KerasAdamGroupOptions>, options?: AdamOptions);
  /** Keras style: options only; call `bind(params)` before the first step. */
  constructor(options?: AdamOptions);
  constructor(first?: unknown, second?: unknown) {
    super('AdamW', adamSpec({ pytorch: 1e-2, keras: 0.004 }), first, second);
  }

  protected links(g: AdamParamGroup): Link[] {
    return [
      ['adam', scaleByAdam({ b1: g.betas[0], b2: g.betas[1], eps: g.eps, amsgrad: g.amsgrad, formula: this.style })],
      ['weightDecay', addDecayedWeights(g.weightDecay)],
      ['lr', scaleByLearningRate(g.lr)],
    ];
  }

  protected stateFields(): StateFields {
    return ADAM_FIELDS;
  }
}

// ---------------------------------------------------------------------------------------------
// RMSprop

/** The hyperparameters of an {@link RMSprop} param group. */
export interface RMSpropParamGroup extends ParamGroupBase {
  /** Smoothing constant (Keras' `rho`). */
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}

/** PyTorch-style options of {@link RMSprop} (also allowed per param group). */
export interface RMSpropGroupOptions {
  /** Learning rate (default 0.01). */
  lr?: number;
  /** Smoothing constant (default 0.99). */
  alpha?: number;
  /** ε added to √v (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Momentum on the normalized gradient (default 0). */
  momentum?: number;
  /** Normalize by the estimated variance (default false). */
  centered?: boolean;
}

/** Keras-style options of {@link RMSprop}. */
export interface KerasRMSpropGroupOptions {
  /** Learning rate (default 0.001). */
  learningRate?: number;
  /** Discounting factor of the squared-gradient average (default 0.9). */
  rho?: number;
  /** Momentum on the increments (lr included) (default 0). */
  momentum?: number;
  /** ε inside the square root (default 1e-7). */
  epsilon?: number;
  /** Normalize by the estimated variance (default false). */
  centered?: boolean;
  /** Decoupled weight decay (default none). */
  weightDecay?: number;
}

/** Options of {@link RMSprop}: one naming style, plus clipping. */
export type RMSpropOptions = (RMSpropGroupOptions | KerasRMSpropGroupOptions) & ClipOptions;

const RMSPROP_SPEC: OptimizerSpec<RMSpropParamGroup> = {
  options: {
    ...lrOptions,
    alpha: { style: 'pytorch', key: 'alpha', check: checks.nonNegative },
    rho: { style: 'keras', key: 'alpha', check: checks.unitClosed },
    eps: { style: 'pytorch', key: 'eps', check: checks.nonNegative },
    epsilon: { style: 'keras', key: 'eps', check: checks.nonNegative },
    weightDecay: { style: 'both', key: 'weightDecay', check: checks.nonNegative },
    momentum: { style: 'both', key: 'momentum', check: checks.nonNegative },
    centered: { style: 'both', key: 'centered', check: checks.boolean },
  },
  defaults: {
    pytorch: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false },
    keras: { lr: 1e-3, alpha: 0.9, eps: 1e-7, weightDecay: 0, momentum: 0, centered: false },
  },
};

/**
 * RMSprop (Hinton, 2012).
 *
 * PyTorch (`torch.optim.RMSprop`): `g ← g + wd·p`; `v ← α·v + (1 − α)·g²`; centered
 * `ḡ ← α·ḡ + (1 − α)·g`, `avg = √(v − ḡ²) + ε`, else `avg = √v + ε`; with momentum
 * `buf ← μ·buf + g/avg`, `p ← p − lr·buf`, else `p ← p − lr·g/avg`.
 * Keras (`keras.optimizers.RMSprop`, lr 1e-3, rho 0.9, ε 1e-7): ε inside the square root,
 * `inc = lr·g/√(v + ε)` (centered `√(v − ḡ² + ε)`), momentum on the increments `m ← μ·m + inc`,
 * `p ← p − m`; weight decay decoupled.
 *
 * @example new RMSprop(model.parameters(), { lr: 1e-3, momentum: 0.9, centered: true });
 */
export class RMSprop extends Optimizer<RMSpropParamGroup> {
  /** PyTorch style: parameters (or param groups) and PyTorch option names. */
  constructor(params: ParamsArg<RMSpropGroupOptions | KerasRMSpropGroupOptions>, options?: RMSpropOptions);
  /** Keras style: options only; call `bind(params)` before the first step. */
  constructor(options?: RMSpropOptions);
  constructor(first?: unknown, second?: unknown) {
    super('RMSprop', RMSPROP_SPEC, first, second);
  }

  protected links(g: RMSpropParamGroup): Link[] {
    if (this.style === 'keras')
      return [
        ['rmsprop', scaleByRmsprop({ decay: g.alpha, eps: g.eps, centered: g.centered, epsInSqrt: true })],
        ['lr', scaleByLearningRate(g.lr)],
        ['trace', trace({ decay: g.momentum })],
        ['weightDecay', addDecayedWeights(-g.lr * g.weightDecay)],
      ];
    return [
      ['weightDecay', addDecayedWeights(g.weightDecay)],
      ['rmsprop', scaleByRmsprop({ decay: g.alpha, eps: g.eps, centered: g.centered, momentum: g.momentum })],
      ['lr', scaleByLearningRate(g.lr)],
    ];
  }

  protected stateFields(): StateFields {
    return {
      step: ['rmsprop', 'step'],
      square_avg: ['rmsprop', 'squareAvg'],
      momentum_buffer: this.style === 'keras' ? ['trace', 'momentumBuffer'] : ['rmsprop', 'momentumBuffer'],
      grad_avg: ['rmsprop', 'gradAvg'],
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Adagrad

/** The hyperparameters of an {@link Adagrad} param group. */
export interface AdagradParamGroup extends ParamGroupBase {
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
}

/** PyTorch-style options of {@link Adagrad} (also allowed per param group). */
export interface AdagradGroupOptions {
  /** Learning rate (default 0.01). */
  lr?: number;
  /** Step t uses lr/(1 + (t − 1)·lrDecay) (default 0). */
  lrDecay?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Starting value of the sum of squares (default 0). */
  initialAccumulatorValue?: number;
  /** ε added to √sum (default 1e-10). */
  eps?: number;
}

/** Keras-style options of {@link Adagrad}. */
export interface KerasAdagradGroupOptions {
  /** Learning rate (default 0.001). */
  learningRate?: number;
  /** Starting value of the accumulators (default 0.1). */
  initialAccumulatorValue?: number;
  /** ε inside the square root (default 1e-7). */
  epsilon?: number;
  /** Decoupled weight decay (default none). */
  weightDecay?: number;
}

/** Options of {@link Adagrad}: one naming style, plus clipping. */
export type AdagradOptions = (AdagradGroupOptions | KerasAdagradGroupOptions) & ClipOptions;

const ADAGRAD_SPEC: OptimizerSpec<AdagradParamGroup> = {
  options: {
    ...lrOptions,
    lrDecay: { style: 'pytorch', key: 'lrDecay', check: checks.nonNegative },
    weightDecay: { style: 'both', key: 'weightDecay', check: checks.nonNegative },
    initialAccumulatorValue: { style: 'both', key: 'initialAccumulatorValue', check: checks.nonNegative },
    eps: { style: 'pytorch', key: 'eps', check: checks.nonNegative },
    epsilon: { style: 'keras', key: 'eps', check: checks.nonNegative },
  },
  defaults: {
    pytorch: { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 },
    keras: { lr: 1e-3, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0.1, eps: 1e-7 },
  },
};

/**
 * Adagrad (Duchi et al., 2011).
 *
 * PyTorch (`torch.optim.Adagrad`): `g ← g + wd·p`; `s ← s + g²`;
 * `p ← p − lr/(1 + (t − 1)·lrDecay) · g/(√s + ε)`.
 * Keras (`keras.optimizers.Adagrad`, lr 1e-3, initial accumulator 0.1, ε 1e-7):
 * `p ← p − lr·g/√(s + ε)`; weight decay decoupled.
 *
 * @example new Adagrad(model.parameters(), { lr: 0.1, lrDecay: 1e-3 });
 */
export class Adagrad extends Optimizer<AdagradParamGroup> {
  /** PyTorch style: parameters (or param groups) and PyTorch option names. */
  constructor(params: ParamsArg<AdagradGroupOptions | KerasAdagradGroupOptions>, options?: AdagradOptions);
  /** Keras style: options only; call `bind(params)` before the first step. */
  constructor(options?: AdagradOptions);
  constructor(first?: unknown, second?: unknown) {
    super('Adagrad', ADAGRAD_SPEC, first, second);
  }

  protected links(g: AdagradParamGroup): Link[] {
    if (this.style === 'keras')
      return [
        ['adagrad', scaleByAdagrad({ eps: g.eps, initialAccumulatorValue: g.initialAccumulatorValue, epsInSqrt: true })],
        ['weightDecay', addDecayedWeights(g.weightDecay)],
        ['lr', scaleByLearningRate(g.lr)],
      ];
    return [
      ['weightDecay', addDecayedWeights(g.weightDecay)],
      ['adagrad', scaleByAdagrad({ eps: g.eps, initialAccumulatorValue: g.initialAccumulatorValue, lrDecay: g.lrDecay })],
      ['lr', scaleByLearningRate(g.lr)],
    ];
  }

  protected stateFields(): StateFields {
    return { step: ['adagrad', 'step'], sum: ['adagrad', 'sum'] };
  }
}
