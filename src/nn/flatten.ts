import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import { flatten } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/**
 * Flattens dimensions `startDim..endDim` (inclusive) into one, as PyTorch's
 * `nn.Flatten(start_dim=1, end_dim=-1)`: by default `[N, C, H, W]` → `[N, C·H·W]`, keeping the
 * batch dimension (Keras `Flatten`). A view when the input is contiguous.
 */
export class Flatten extends Module {
  constructor(
    /** First dimension to flatten (default 1: keep the batch dimension). */
    readonly startDim = 1,
    /** Last dimension to flatten, inclusive (default −1). */
    readonly endDim = -1,
  ) {
    super();
    if (!Number.isInteger(startDim)) throw new ConfigError(`Flatten: startDim must be an integer (got ${String(startDim)})`);
    if (!Number.isInteger(endDim)) throw new ConfigError(`Flatten: endDim must be an integer (got ${String(endDim)})`);
    if ((startDim >= 0) === (endDim >= 0) && startDim > endDim)
      throw new ConfigError(`Flatten: startDim ${startDim} comes after endDim ${endDim}`);
  }

  /** `[..., d_start, ..., d_end, ...]` → `[..., d_start·…·d_end, ...]`. */
  forward(x: Tensor): Tensor {
    const rank = Math.max(x.ndim, 1);
    const norm = (d: number): number => (d < 0 ? d + rank : d);
    for (const [arg, d] of [
      ['startDim', this.startDim],
      ['endDim', this.endDim],
    ] as const)
      if (d < -rank || d >= rank)
        throw new ShapeError(
          `${this.label()}: ${arg} ${d} is out of range for input of shape ${fmtShape(x.shape)} (rank ${x.ndim}; expected a dimension in [${-rank}, ${rank - 1}])`,
        );
    if (norm(this.startDim) > norm(this.endDim))
      throw new ShapeError(
        `${this.label()}: for input of shape ${fmtShape(x.shape)}, startDim ${this.startDim} (= ${norm(this.startDim)}) comes after endDim ${this.endDim} (= ${norm(this.endDim)})`,
      );
    return flatten(x, this.startDim, this.endDim);
  }

  protected override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }

  private label(): string {
    return `${this.name}(${this.extraRepr()})`;
  }
}
