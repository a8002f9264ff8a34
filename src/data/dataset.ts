import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import { indexSelect, select } from '../ops/shape.js';
import { tensor } from '../tensor/create.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * What a {@link DataLoader} reads from, as PyTorch's map-style `Dataset`: a number of samples and
 * random access to each. A sample is a list of tensors (e.g. `[x, y]`).
 *
 * A dataset that can fetch many samples at once implements `getBatch` (PyTorch's `__getitems__`),
 * which must return the samples already stacked along a new first axis, in the order given; the
 * loader then never makes one tensor per row.
 */
export interface Dataset {
  /** Number of samples. */
  readonly length: number;
  /** Sample `index` (0 ≤ index < length) as a list of tensors. */
  get(index: number): Tensor[];
  /** Optional: the samples `indices`, stacked (component k has shape `[indices.length, ...]`). */
  getBatch?(indices: Int32Array): Tensor[];
}

/**
 * A dataset over tensors that share their first dimension, as `torch.utils.data.TensorDataset`:
 * sample `i` is `[t[i] for t in tensors]`.
 *
 * @example
 * const ds = new TensorDataset(x, y); // x: [N, 784], y: [N]
 * const [xi, yi] = ds.get(0);         // xi: [784], yi: []
 */
export class TensorDataset implements Dataset {
  /** The tensors, in the order given. */
  readonly tensors: readonly Tensor[];

  /** Checks that every tensor has at least one dimension and the same first dimension. */
  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) throw new ConfigError('TensorDataset: expected at least one tensor (e.g. new TensorDataset(x, y))');
    tensors.forEach((t, k) => {
      if (t.ndim === 0)
        throw new ShapeError(`TensorDataset: tensor ${k} is a scalar (shape []); every tensor needs a first (sample) dimension`);
    });
    const n = tensors[0].shape[0];
    if (tensors.some((t) => t.shape[0] !== n))
      throw new ShapeError(
        `TensorDataset: size mismatch between tensors: every tensor must have the same first dimension (got shapes ${tensors
          .map((t) => fmtShape(t.shape))
          .join(', ')})`,
      );
    this.tensors = tensors;
  }

  /** Number of samples: the shared first dimension. */
  get length(): number {
    return this.tensors[0].shape[0];
  }

  /**
   * Sample `index` as views `[t[index] for t in tensors]` (no copy). Negative indices count from
   * the end, as in PyTorch.
   */
  get(index: number): Tensor[] {
    const n = this.length;
    if (!Number.isInteger(index) || index < -n || index >= n)
      throw new ConfigError(`TensorDataset.get: index ${index} is out of range for a dataset of ${n} samples (expected an integer in [${-n}, ${n - 1}])`);
    return this.tensors.map((t) => select(t, 0, index));
  }

  /**
   * The samples `indices`, gathered with one `indexSelect` per tensor (a copy, as PyTorch's
   * default collate makes): component k has shape `[indices.length, ...tensors[k].shape.slice(1)]`.
   */
  getBatch(indices: Int32Array): Tensor[] {
    const n = this.length;
    for (const i of indices)
      if (i < 0 || i >= n)
        throw new ConfigError(`TensorDataset.getBatch: index ${i} is out of range for a dataset of ${n} samples (expected [0, ${n - 1}])`);
    // The index tensor and the views indexSelect makes are freed here; only the batch survives.
    return tidy(() => {
      const idx = tensor(indices, [indices.length], { dtype: 'int32' });
      return this.tensors.map((t) => indexSelect(t, 0, idx));
    });
  }
}
