import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  type GeluOptions,
  type SoftplusOptions,
  elu,
  gelu,
  leakyRelu,
  logSoftmax,
  relu,
  selu,
  sigmoid,
  softmax,
  softplus,
  tanh,
} from './functional.js';
import { Module } from './module.js';

/*
 * Activation layers: thin modules over the functional ops, for use in Sequential and in models
 * that hold their activations as fields. They have no parameters and accept any shape.
 */

function checkFinite(layer: string, arg: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ConfigError(`${layer}: ${arg} must be a finite number (got ${String(value)})`);
}

/** `max(x, 0)` elementwise, as PyTorch's `nn.ReLU` (Keras `ReLU`). Any shape. */
export class ReLU extends Module {
  /** Same shape as `x`. */
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/**
 * `x` where positive, `negativeSlope·x` elsewhere, as PyTorch's `nn.LeakyReLU(negative_slope=0.01)`
 * (Keras `LeakyReLU` defaults to 0.3). Any shape.
 */
export class LeakyReLU extends Module {
  /** @param negativeSlope the slope for negative inputs (default 0.01). */
  constructor(readonly negativeSlope = 0.01) {
    super();
    checkFinite('LeakyReLU', 'negativeSlope', negativeSlope);
  }

  /** Same shape as `x`. */
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }

  protected override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** `x` where positive, `α(eˣ − 1)` elsewhere, as PyTorch's `nn.ELU(alpha=1.0)` (Keras `ELU`). Any shape. */
export class ELU extends Module {
  /** @param alpha the saturation value for negative inputs is −alpha (default 1). */
  constructor(readonly alpha = 1) {
    super();
    checkFinite('ELU', 'alpha', alpha);
  }

  /** Same shape as `x`. */
  forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }

  protected override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/**
 * Scaled ELU `λ·(x if x > 0 else α(eˣ − 1))` with Klambauer et al.'s constants λ ≈ 1.0507,
 * α ≈ 1.6733, as PyTorch's `nn.SELU` (Keras `activation='selu'`). Any shape.
 */
export class SELU extends Module {
  /** Same shape as `x`. */
  forward(x: Tensor): Tensor {
    return selu(x);
  }
}

/**
 * Gaussian error linear unit `x·Φ(x)`, as PyTorch's `nn.GELU(approximate='none')`; with
 * `{ approximate: 'tanh' }` the tanh approximation `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`
 * (Keras `gelu(approximate=True)`). Any shape.
 */
export class GELU extends Module {
  /** `'none'` (exact, the default) or `'tanh'`. */
  readonly approximate: 'none' | 'tanh';

  constructor(options?: GeluOptions) {
    super();
    const approximate = options?.approximate ?? 'none';
    if (approximate !== 'none' && approximate !== 'tanh')
      throw new ConfigError(`GELU: approximate must be 'none' or 'tanh' (got '${String(approximate)}')`);
    this.approximate = approximate;
  }

  /** Same shape as `x`. */
  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }

  protected override extraRepr(): string {
    return this.approximate === 'none' ? '' : `approximate='${this.approximate}'`;
  }
}

/** Hyperbolic tangent elementwise, as PyTorch's `nn.Tanh`. Any shape. */
export class Tanh extends Module {
  /** Same shape as `x`. */
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** Logistic sigmoid `1/(1 + e⁻ˣ)` elementwise, as PyTorch's `nn.Sigmoid`. Any shape. */
export class Sigmoid extends Module {
  /** Same shape as `x`. */
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/**
 * `log(1 + e^{βx})/β`, and `x` itself where `βx > threshold`, as PyTorch's
 * `nn.Softplus(beta=1, threshold=20)`. Any shape.
 */
export class Softplus extends Module {
  /** Sharpness β (default 1). */
  readonly beta: number;
  /** Above `βx > threshold` the output is `x` (default 20). */
  readonly threshold: number;

  constructor(options?: SoftplusOptions) {
    super();
    this.beta = options?.beta ?? 1;
    this.threshold = options?.threshold ?? 20;
    checkFinite('Softplus', 'beta', this.beta);
    if (this.beta === 0) throw new ConfigError('Softplus: beta must be nonzero (the function divides by it)');
    if (typeof this.threshold !== 'number' || Number.isNaN(this.threshold))
      throw new ConfigError(`Softplus: threshold must be a number (got ${String(this.threshold)})`);
  }

  /** Same shape as `x`. */
  forward(x: Tensor): Tensor {
    return softplus(x, { beta: this.beta, threshold: this.threshold });
  }

  protected override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/** Shared by Softmax and LogSoftmax: the dimension argument and its check against the input. */
abstract class AlongDim extends Module {
  constructor(readonly dim: number) {
    super();
    if (!Number.isInteger(dim)) throw new ConfigError(`${this.name}: dim must be an integer (got ${String(dim)})`);
  }

  protected checkInput(x: Tensor): void {
    const rank = Math.max(x.ndim, 1);
    if (this.dim < -rank || this.dim >= rank)
      throw new ShapeError(
        `${this.name}(dim=${this.dim}): input of shape ${fmtShape(x.shape)} has rank ${x.ndim}; dim must be in [${-rank}, ${rank - 1}]`,
      );
  }

  protected override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * `exp(x)/Σ exp(x)` along `dim`, as PyTorch's `nn.Softmax(dim)` (Keras `Softmax(axis=-1)`).
 * Any shape with that dimension; same shape out.
 *
 * `dim` defaults to −1 (the last dimension), as Keras; PyTorch's `dim=None` picks a legacy
 * implicit dimension with a deprecation warning, which Keel does not reproduce.
 */
export class Softmax extends AlongDim {
  constructor(dim = -1) {
    super(dim);
  }

  /** Same shape as `x`. */
  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return softmax(x, this.dim);
  }
}

/**
 * `x − log Σ exp(x)` along `dim`, as PyTorch's `nn.LogSoftmax(dim)`: stable for any magnitude.
 * `dim` defaults to −1 (see {@link Softmax}).
 */
export class LogSoftmax extends AlongDim {
  constructor(dim = -1) {
    super(dim);
  }

  /** Same shape as `x`. */
  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return logSoftmax(x, this.dim);
  }
}

/** Returns its input unchanged, as PyTorch's `nn.Identity` (a placeholder layer). */
export class Identity extends Module {
  /** `x` itself. */
  forward(x: Tensor): Tensor {
    return x;
  }
}
