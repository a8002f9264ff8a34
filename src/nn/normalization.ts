import { noGrad } from '../autograd/grad-mode.js';
import type { DType } from '../core/dtype.js';
import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import { add_ } from '../ops/inplace.js';
import { full, ones, zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { batchNorm, layerNorm } from './functional.js';
import { checkInputDType, checkParamDType, checkSize } from './linear.js';
import { Module, parameter } from './module.js';

function checkEps(layer: string, eps: number): void {
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps))
    throw new ConfigError(`${layer}: eps must be a finite number ≥ 0 (got ${String(eps)})`);
}

/** Options of {@link LayerNorm}. */
export interface LayerNormLayerOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Learn a per-element scale `weight` (ones) and shift `bias` (zeros) (default true). */
  elementwiseAffine?: boolean;
  /** Parameter dtype, `'float32'` (default) or `'float64'`. */
  dtype?: DType;
}

/**
 * Layer normalization (Ba et al., 2016), as PyTorch's `nn.LayerNorm(normalized_shape, eps=1e-5,
 * elementwise_affine=True)`: each sample is normalized over its trailing dimensions
 * `normalizedShape`, `y = (x − mean)/√(var + eps)·weight + bias`, with the biased variance. The
 * same computation in training and evaluation. Input `[..., *normalizedShape]`, same shape out.
 * Keras `LayerNormalization(axis=-1, epsilon=1e-3)` is the 1-D case with another epsilon.
 *
 * Parameters (with `elementwiseAffine`): `weight` (ones) and `bias` (zeros), both of shape
 * `normalizedShape`.
 */
export class LayerNorm extends Module {
  /** The trailing dimensions normalized over. */
  readonly normalizedShape: readonly number[];
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** Whether the layer has `weight` and `bias`. */
  readonly elementwiseAffine: boolean;
  /** Scale of shape `normalizedShape` (ones at first), or null without `elementwiseAffine`. */
  weight: Tensor | null;
  /** Shift of shape `normalizedShape` (zeros at first), or null without `elementwiseAffine`. */
  bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], options?: LayerNormLayerOptions) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0) throw new ConfigError('LayerNorm: normalizedShape must have at least one dimension (got [])');
    for (const d of shape)
      if (!Number.isInteger(d) || d < 1)
        throw new ConfigError(`LayerNorm: normalizedShape ${fmtShape(shape)} must hold positive integers`);
    const dtype = options?.dtype ?? 'float32';
    checkParamDType('LayerNorm', dtype);
    this.normalizedShape = shape;
    this.eps = options?.eps ?? 1e-5;
    checkEps('LayerNorm', this.eps);
    this.elementwiseAffine = options?.elementwiseAffine ?? true;
    this.weight = this.elementwiseAffine ? parameter(ones(shape, { dtype })) : null;
    this.bias = this.elementwiseAffine ? parameter(zeros(shape, { dtype })) : null;
  }

  /** `x` `[..., *normalizedShape]` → same shape. */
  forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    const tail = x.shape.slice(Math.max(0, x.ndim - k));
    if (x.ndim < k || tail.some((d, i) => d !== this.normalizedShape[i]))
      throw new ShapeError(
        `${this.label()}: input of shape ${fmtShape(x.shape)} must end with the normalized shape ${fmtShape(this.normalizedShape)}` +
          (x.ndim < k ? ` (it has rank ${x.ndim}; expected at least ${k})` : ` (its last ${k} dimension${k > 1 ? 's are' : ' is'} ${fmtShape(tail)})`),
      );
    if (this.weight !== null) checkInputDType(this.label(), x, this.weight.dtype);
    return layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  protected override extraRepr(): string {
    return `${fmtShape(this.normalizedShape)}, eps=${this.eps}${this.elementwiseAffine ? '' : ', elementwiseAffine=false'}`;
  }

  private label(): string {
    return `${this.name}(${this.extraRepr()})`;
  }
}

/** Options of {@link BatchNorm1d} and {@link BatchNorm2d}. */
export interface BatchNormLayerOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /**
   * Weight of each new batch in the running statistics (default 0.1; Keras' `momentum=0.99` is
   * 1 − this). `null` means a cumulative average over all batches seen, as PyTorch's `None`.
   */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` (ones) and shift `bias` (zeros) (default true). */
  affine?: boolean;
  /**
   * Keep running mean/variance for evaluation (default true). Without them the layer uses batch
   * statistics in evaluation mode too, and its buffers are null.
   */
  trackRunningStats?: boolean;
  /** Parameter and buffer dtype, `'float32'` (default) or `'float64'`. */
  dtype?: DType;
}

/**
 * Batch normalization (Ioffe & Szegedy, 2015) over the channel dimension 1, shared by
 * {@link BatchNorm1d} and {@link BatchNorm2d}. Buffers have PyTorch's names, so `stateDict()` keys
 * match a PyTorch model's: `running_mean` (zeros), `running_var` (ones), `num_batches_tracked`
 * (int32 0-d, int64 in PyTorch).
 */
export abstract class BatchNorm extends Module {
  /** The number of channels `C` (dimension 1 of the input). */
  readonly numFeatures: number;
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** Weight of each new batch in the running statistics; null for a cumulative average. */
  readonly momentum: number | null;
  /** Whether the layer has `weight` and `bias`. */
  readonly affine: boolean;
  /** Whether the layer keeps running statistics (and uses them in evaluation mode). */
  readonly trackRunningStats: boolean;
  /** The dtype of the parameters and running statistics. */
  readonly dtype: DType;
  /** Per-channel scale `[numFeatures]` (ones at first), or null without `affine`. */
  weight: Tensor | null;
  /** Per-channel shift `[numFeatures]` (zeros at first), or null without `affine`. */
  bias: Tensor | null;
  /** Running mean `[numFeatures]`, or null without `trackRunningStats` (a buffer). */
  declare readonly running_mean: Tensor | null;
  /** Running unbiased variance `[numFeatures]`, or null without `trackRunningStats` (a buffer). */
  declare readonly running_var: Tensor | null;
  /** Number of training batches seen (0-d int32), or null without `trackRunningStats` (a buffer). */
  declare readonly num_batches_tracked: Tensor | null;

  /** The input ranks accepted, for the error message (e.g. `[2, 3]`). */
  protected abstract readonly ranks: readonly number[];

  constructor(numFeatures: number, options?: BatchNormLayerOptions) {
    super();
    checkSize(new.target.name, 'numFeatures', numFeatures);
    const dtype = options?.dtype ?? 'float32';
    checkParamDType(new.target.name, dtype);
    this.numFeatures = numFeatures;
    this.dtype = dtype;
    this.eps = options?.eps ?? 1e-5;
    checkEps(new.target.name, this.eps);
    const momentum = options?.momentum === undefined ? 0.1 : options.momentum;
    if (momentum !== null && (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)))
      throw new ConfigError(`${new.target.name}: momentum must be in [0, 1], or null for a cumulative average (got ${String(momentum)})`);
    this.momentum = momentum;
    this.affine = options?.affine ?? true;
    this.trackRunningStats = options?.trackRunningStats ?? true;
    this.weight = this.affine ? parameter(ones([numFeatures], { dtype })) : null;
    this.bias = this.affine ? parameter(zeros([numFeatures], { dtype })) : null;
    const track = this.trackRunningStats;
    this.registerBuffer('running_mean', track ? zeros([numFeatures], { dtype }) : null);
    this.registerBuffer('running_var', track ? full([numFeatures], 1, { dtype }) : null);
    this.registerBuffer('num_batches_tracked', track ? zeros([], { dtype: 'int32' }) : null);
  }

  /** `x` `[N, C, ...]` with `C = numFeatures` → same shape. */
  forward(x: Tensor): Tensor {
    if (!this.ranks.includes(x.ndim))
      throw new ShapeError(
        `${this.label()}: expected a ${this.ranks.join('-D or ')}-D input ${this.layout()} (got ${x.ndim}-D input of shape ${fmtShape(x.shape)})`,
      );
    if (x.shape[1] !== this.numFeatures)
      throw new ShapeError(
        `${this.label()}: input has ${x.shape[1]} channels in dimension 1 (shape ${fmtShape(x.shape)}); expected ${this.numFeatures}`,
      );
    if (this.weight !== null || this.running_mean !== null) checkInputDType(this.label(), x, this.dtype);
    const n = x.size / this.numFeatures;
    if (this.training && n <= 1)
      throw new ShapeError(
        `${this.label()}: expected more than 1 value per channel when training (got input of shape ${fmtShape(x.shape)}); use a larger batch or eval()`,
      );
    // As PyTorch: count the batch, then the update factor is momentum, or 1/count when cumulative.
    let factor = this.momentum ?? 0;
    if (this.training && this.num_batches_tracked !== null) {
      const count = this.num_batches_tracked;
      noGrad(() => void add_(count, 1));
      if (this.momentum === null) factor = 1 / count.item();
    }
    // Evaluation without running statistics normalizes with the batch's own (and updates nothing).
    const useRunning = !this.training && this.running_mean !== null && this.running_var !== null;
    // The running statistics are read (evaluation) or updated (training), or left out.
    const withStats = useRunning || this.training;
    return batchNorm(x, withStats ? this.running_mean : null, withStats ? this.running_var : null, {
      weight: this.weight,
      bias: this.bias,
      training: !useRunning,
      momentum: factor,
      eps: this.eps,
    });
  }

  protected override extraRepr(): string {
    return (
      `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}` +
      (this.affine ? '' : ', affine=false') +
      (this.trackRunningStats ? '' : ', trackRunningStats=false')
    );
  }

  /** How the accepted input shapes are spelled in errors. */
  protected abstract layout(): string;

  private label(): string {
    return `${this.name}(${this.extraRepr()})`;
  }
}

/**
 * Batch normalization of `[N, C]` or `[N, C, L]` inputs over the batch (and length) dimensions,
 * per channel `C = numFeatures`, as PyTorch's `nn.BatchNorm1d(num_features, eps=1e-5,
 * momentum=0.1, affine=True, track_running_stats=True)` (Keras `BatchNormalization(axis=1)`,
 * whose `momentum` is 1 − PyTorch's).
 *
 * Training mode normalizes with the batch mean and biased variance and updates the running
 * statistics, `running ← (1 − momentum)·running + momentum·batch` with the unbiased variance
 * for `running_var`; evaluation mode (`eval()`) normalizes with the running statistics.
 */
export class BatchNorm1d extends BatchNorm {
  protected readonly ranks = [2, 3] as const;

  protected layout(): string {
    return '[N, C] or [N, C, L]';
  }
}

/**
 * Batch normalization of `[N, C, H, W]` inputs per channel `C = numFeatures`, over the batch and
 * spatial dimensions, as PyTorch's `nn.BatchNorm2d` (same options and semantics as
 * {@link BatchNorm1d}).
 */
export class BatchNorm2d extends BatchNorm {
  protected readonly ranks = [4] as const;

  protected layout(): string {
    return '[N, C, H, W]';
  }
}
