/**
 * Losses as modules, as PyTorch's `nn.CrossEntropyLoss` & co. and Keras' loss classes. Each one
 * validates its options in the constructor (so a typo fails where it is made, not at the first
 * batch) and calls the functional form in `losses.ts` from `forward`.
 *
 * PyTorch-named classes take `(input, target)`; Keras-named ones take `(yTrue, yPred)`, in each
 * library's own order. Per-class weights are buffers named as in PyTorch (`weight`,
 * `pos_weight`), so they appear in `stateDict()`.
 */
import type { Tensor } from '../tensor/tensor.js';
import {
  type BCEOptions,
  type BCEWithLogitsOptions,
  type CrossEntropyOptions,
  type HuberOptions,
  type KerasCrossentropyOptions,
  type NLLLossOptions,
  type Reduction,
  type ReductionOptions,
  type SmoothL1Options,
  type SparseCategoricalCrossentropyOptions,
  bce,
  bceWithLogits,
  binaryCrossentropy,
  categoricalCrossentropy,
  checkBeta,
  checkClassWeight,
  checkDelta,
  checkFloatWeight,
  checkIgnoreIndex,
  checkLabelSmoothing,
  checkReduction,
  crossEntropy,
  huber,
  l1,
  mse,
  nllLoss,
  smoothL1,
  sparseCategoricalCrossentropy,
} from './losses.js';
import { Module } from './module.js';

/** The base of the loss modules: holds the reduction; `forward(a, b)` returns the loss. */
export abstract class Loss extends Module {
  /** `'mean'`, `'sum'` or `'none'`. */
  readonly reduction: Reduction;

  constructor(options: ReductionOptions | undefined) {
    super();
    this.reduction = checkReduction(new.target.name, options?.reduction);
  }

  /** The loss of a batch. */
  abstract override forward(a: Tensor, b: Tensor): Tensor;

  protected override extraRepr(): string {
    return `reduction=${this.reduction}`;
  }
}

/**
 * Cross-entropy of logits against class indices or probabilities, as PyTorch's
 * `nn.CrossEntropyLoss` (`weight`, `ignoreIndex` = −100, `reduction` = 'mean',
 * `labelSmoothing` = 0). See {@link crossEntropy} for shapes and the exact formula.
 *
 * @example const loss = new CrossEntropyLoss({ labelSmoothing: 0.1 }).call(logits, labels);
 */
export class CrossEntropyLoss extends Loss {
  /** Per-class weight `[C]` or null (a buffer). */
  declare readonly weight: Tensor | null;
  /** Targets equal to this index are ignored (default −100). */
  readonly ignoreIndex: number;
  /** Label smoothing ε in [0, 1] (default 0). */
  readonly labelSmoothing: number;

  constructor(options?: CrossEntropyOptions) {
    super(options);
    this.registerBuffer('weight', checkClassWeight(this.name, options?.weight));
    this.ignoreIndex = checkIgnoreIndex(this.name, options?.ignoreIndex);
    this.labelSmoothing = checkLabelSmoothing(this.name, options?.labelSmoothing);
  }

  /** `input` logits `[N, C, ...]`, `target` int32 `[N, ...]` or float `[N, C, ...]`. */
  forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }

  protected override extraRepr(): string {
    return `${super.extraRepr()}, ignoreIndex=${this.ignoreIndex}, labelSmoothing=${this.labelSmoothing}${this.weight === null ? '' : ', weight'}`;
  }
}

/**
 * Negative log-likelihood of class indices on log-probabilities, as PyTorch's `nn.NLLLoss`
 * (`weight`, `ignoreIndex` = −100, `reduction`). See {@link nllLoss}.
 */
export class NLLLoss extends Loss {
  /** Per-class weight `[C]` or null (a buffer). */
  declare readonly weight: Tensor | null;
  /** Targets equal to this index are ignored (default −100). */
  readonly ignoreIndex: number;

  constructor(options?: NLLLossOptions) {
    super(options);
    this.registerBuffer('weight', checkClassWeight(this.name, options?.weight));
    this.ignoreIndex = checkIgnoreIndex(this.name, options?.ignoreIndex);
  }

  /** `input` log-probabilities `[N, C, ...]`, `target` int32 `[N, ...]`. */
  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }

  protected override extraRepr(): string {
    return `${super.extraRepr()}, ignoreIndex=${this.ignoreIndex}${this.weight === null ? '' : ', weight'}`;
  }
}

/** Mean squared error, as PyTorch's `nn.MSELoss`. See {@link mse}. */
export class MSELoss extends Loss {
  constructor(options?: ReductionOptions) {
    super(options);
  }

  /** `input` and `target` of the same shape. */
  forward(input: Tensor, target: Tensor): Tensor {
    return mse(input, target, { reduction: this.reduction });
  }
}

/** Mean absolute error, as PyTorch's `nn.L1Loss`. See {@link l1}. */
export class L1Loss extends Loss {
  constructor(options?: ReductionOptions) {
    super(options);
  }

  /** `input` and `target` of the same shape. */
  forward(input: Tensor, target: Tensor): Tensor {
    return l1(input, target, { reduction: this.reduction });
  }
}

/** Huber loss, as PyTorch's `nn.HuberLoss` (`delta` = 1). See {@link huber}. */
export class HuberLoss extends Loss {
  /** Where the loss turns from quadratic to linear (default 1). */
  readonly delta: number;

  constructor(options?: HuberOptions) {
    super(options);
    this.delta = checkDelta(this.name, options?.delta);
  }

  /** `input` and `target` of the same shape. */
  forward(input: Tensor, target: Tensor): Tensor {
    return huber(input, target, { reduction: this.reduction, delta: this.delta });
  }

  protected override extraRepr(): string {
    return `${super.extraRepr()}, delta=${this.delta}`;
  }
}

/** Smooth L1 loss, as PyTorch's `nn.SmoothL1Loss` (`beta` = 1). See {@link smoothL1}. */
export class SmoothL1Loss extends Loss {
  /** Where the loss turns from quadratic to linear (default 1; 0 is L1). */
  readonly beta: number;

  constructor(options?: SmoothL1Options) {
    super(options);
    this.beta = checkBeta(this.name, options?.beta);
  }

  /** `input` and `target` of the same shape. */
  forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1(input, target, { reduction: this.reduction, beta: this.beta });
  }

  protected override extraRepr(): string {
    return `${super.extraRepr()}, beta=${this.beta}`;
  }
}

/**
 * Binary cross-entropy on probabilities, as PyTorch's `nn.BCELoss` (`weight`). See {@link bce};
 * prefer {@link BCEWithLogitsLoss} on logits.
 */
export class BCELoss extends Loss {
  /** Elementwise rescaling weight, broadcast against the input, or null (a buffer). */
  declare readonly weight: Tensor | null;

  constructor(options?: BCEOptions) {
    super(options);
    this.registerBuffer('weight', checkFloatWeight(this.name, 'weight', options?.weight));
  }

  /** `input` probabilities and `target` of the same shape. */
  forward(input: Tensor, target: Tensor): Tensor {
    return bce(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

/**
 * Binary cross-entropy on logits, as PyTorch's `nn.BCEWithLogitsLoss` (`weight`, `posWeight`).
 * See {@link bceWithLogits}. The positive weight is stored as the buffer `pos_weight`, PyTorch's
 * name.
 */
export class BCEWithLogitsLoss extends Loss {
  /** Elementwise rescaling weight, broadcast against the input, or null (a buffer). */
  declare readonly weight: Tensor | null;
  /** Weight of the positive term (usually `[C]`), or null (the buffer `pos_weight`). */
  declare readonly pos_weight: Tensor | null;

  constructor(options?: BCEWithLogitsOptions) {
    super(options);
    this.registerBuffer('weight', checkFloatWeight(this.name, 'weight', options?.weight));
    this.registerBuffer('pos_weight', checkFloatWeight(this.name, 'posWeight', options?.posWeight));
  }

  /** The positive-class weight (the buffer `pos_weight`). */
  get posWeight(): Tensor | null {
    return this.pos_weight;
  }

  /** `input` logits and `target` of the same shape. */
  forward(input: Tensor, target: Tensor): Tensor {
    return bceWithLogits(input, target, { weight: this.weight, posWeight: this.pos_weight, reduction: this.reduction });
  }
}

/**
 * Keras' `SparseCategoricalCrossentropy(from_logits=False)`: int32 labels against probabilities
 * (or logits) with classes on the last axis. Called as Keras calls a loss: `call(yTrue, yPred)`.
 * See {@link sparseCategoricalCrossentropy}.
 */
export class SparseCategoricalCrossentropy extends Loss {
  /** `yPred` holds logits (default false: probabilities). */
  readonly fromLogits: boolean;

  constructor(options?: SparseCategoricalCrossentropyOptions) {
    super(options);
    this.fromLogits = options?.fromLogits ?? false;
  }

  /** `yTrue` int32 `[N, ...]` (or `[N, ..., 1]`), `yPred` `[N, ..., C]`. */
  forward(yTrue: Tensor, yPred: Tensor): Tensor {
    return sparseCategoricalCrossentropy(yTrue, yPred, { fromLogits: this.fromLogits, reduction: this.reduction });
  }

  protected override extraRepr(): string {
    return `${super.extraRepr()}, fromLogits=${this.fromLogits}`;
  }
}

/** The options and printing shared by Keras' categorical and binary cross-entropy modules. */
abstract class KerasCrossentropyLoss extends Loss {
  /** `yPred` holds logits (default false: probabilities). */
  readonly fromLogits: boolean;
  /** Label smoothing ε in [0, 1] (default 0). */
  readonly labelSmoothing: number;

  constructor(
    private readonly fn: (yTrue: Tensor, yPred: Tensor, options: KerasCrossentropyOptions) => Tensor,
    options?: KerasCrossentropyOptions,
  ) {
    super(options);
    this.fromLogits = options?.fromLogits ?? false;
    this.labelSmoothing = checkLabelSmoothing(this.name, options?.labelSmoothing);
  }

  forward(yTrue: Tensor, yPred: Tensor): Tensor {
    return this.fn(yTrue, yPred, { fromLogits: this.fromLogits, labelSmoothing: this.labelSmoothing, reduction: this.reduction });
  }

  protected override extraRepr(): string {
    return `${super.extraRepr()}, fromLogits=${this.fromLogits}, labelSmoothing=${this.labelSmoothing}`;
  }
}

/**
 * Keras' `CategoricalCrossentropy(from_logits=False, label_smoothing=0)`: one-hot or probability
 * targets of the same shape `[N, ..., C]` as `yPred`. Called as `call(yTrue, yPred)`. See
 * {@link categoricalCrossentropy}.
 */
export class CategoricalCrossentropy extends KerasCrossentropyLoss {
  constructor(options?: KerasCrossentropyOptions) {
    super(categoricalCrossentropy, options);
  }
}

/**
 * Keras' `BinaryCrossentropy(from_logits=False, label_smoothing=0)` (epsilon clipping, mean over
 * the last axis; PyTorch's is {@link BCELoss}). Called as `call(yTrue, yPred)` with both of the
 * same shape. See {@link binaryCrossentropy}.
 */
export class BinaryCrossentropy extends KerasCrossentropyLoss {
  constructor(options?: KerasCrossentropyOptions) {
    super(binaryCrossentropy, options);
  }
}
