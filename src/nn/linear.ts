import { type DType, isFloat } from '../core/dtype.js';
import { ConfigError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import type { Generator } from '../core/random.js';
import { zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { linear } from './functional.js';
import { uniform_ } from './init/basic.js';
import { Module, parameter } from './module.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** The generator for the initial weights (default: the seeded global one, see `manualSeed`). */
  generator?: Generator;
  /** Parameter dtype, `'float32'` (default) or `'float64'`. */
  dtype?: DType;
}

/** @internal Checks a layer size argument: a positive integer. */
export function checkSize(layer: string, arg: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${layer}: ${arg} must be a positive integer (got ${String(value)})`);
}

/** @internal Checks a parameter dtype argument: float32 or float64. */
export function checkParamDType(layer: string, dtype: DType): void {
  if (!isFloat(dtype)) throw new ConfigError(`${layer}: dtype must be 'float32' or 'float64' for trainable parameters (got '${dtype}')`);
}

/** @internal Checks that a layer's input has its parameters' dtype (PyTorch refuses mixed dtypes too). */
export function checkInputDType(label: string, x: Tensor, dtype: DType): void {
  if (x.dtype !== dtype)
    throw new DTypeError(
      `${label}: input dtype ${x.dtype} does not match the layer's ${dtype} (cast the input, or build the layer with { dtype: '${x.dtype}' })`,
    );
}

/**
 * A fully connected layer `y = x·Wᵀ + b`, as PyTorch's `nn.Linear` (Keras `Dense` without an
 * activation). Input `[..., inFeatures]`, output `[..., outFeatures]`.
 *
 * Parameters: `weight` `[outFeatures, inFeatures]` (PyTorch's layout) and `bias` `[outFeatures]`
 * (or null with `{ bias: false }`). Default initialization is PyTorch's: the weight is
 * `kaiming_uniform_(a=√5)`, which is U(−1/√in, 1/√in), then the bias U(−1/√in, 1/√in), drawn in
 * that order from the generator.
 *
 * @example const fc = new Linear(784, 128); const y = fc.call(x); // x [32, 784] → y [32, 128]
 */
export class Linear extends Module {
  /** Size of the last input dimension. */
  readonly inFeatures: number;
  /** Size of the last output dimension. */
  readonly outFeatures: number;
  /** `[outFeatures, inFeatures]`. */
  weight: Tensor;
  /** `[outFeatures]`, or null when built with `{ bias: false }`. */
  bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, options?: LinearOptions) {
    super();
    checkSize('Linear', 'inFeatures', inFeatures);
    checkSize('Linear', 'outFeatures', outFeatures);
    const dtype = options?.dtype ?? 'float32';
    checkParamDType('Linear', dtype);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    // kaiming_uniform_(a=√5): gain √(2/(1+5)), bound √3·gain/√fanIn = 1/√fanIn.
    const bound = 1 / Math.sqrt(inFeatures);
    const init = { generator: options?.generator };
    this.weight = parameter(uniform_(zeros([outFeatures, inFeatures], { dtype }), -bound, bound, init));
    this.bias = (options?.bias ?? true) ? parameter(uniform_(zeros([outFeatures], { dtype }), -bound, bound, init)) : null;
  }

  /** `x` `[..., inFeatures]` → `[..., outFeatures]`. */
  forward(x: Tensor): Tensor {
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== this.inFeatures)
      throw new ShapeError(
        x.ndim === 0
          ? `${this.label()}: input is a scalar (shape []); expected at least 1 dimension ending in ${this.inFeatures} features`
          : `${this.label()}: input has ${x.shape[x.ndim - 1]} features in its last dimension (shape ${fmtShape(x.shape)}); expected ${this.inFeatures}`,
      );
    checkInputDType(this.label(), x, this.weight.dtype);
    return linear(x, this.weight, this.bias);
  }

  protected override extraRepr(): string {
    return `in=${this.inFeatures}, out=${this.outFeatures}${this.bias === null ? ', bias=false' : ''}`;
  }

  private label(): string {
    return `${this.name}(${this.extraRepr()})`;
  }
}
