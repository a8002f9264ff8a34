import { ConfigError } from '../core/errors.js';
import { type Generator, defaultGenerator } from '../core/random.js';
import { stack } from '../ops/shape.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Dataset } from './dataset.js';
import { randomPermutation } from './sampler.js';

/** Options of {@link DataLoader}; the names and defaults are PyTorch's. */
export interface DataLoaderOptions {
  /** Samples per batch (a positive integer). Default 1. */
  batchSize?: number;
  /** Visit the samples in a new random order every epoch. Default false. */
  shuffle?: boolean;
  /** Drop the last batch when it has fewer than `batchSize` samples. Default false. */
  dropLast?: boolean;
  /**
   * The generator that draws the permutations when `shuffle` is on. Each epoch (each new
   * iteration) draws a new permutation from it, so `new Generator(seed)` gives the same sequence
   * of epoch orders on every run. Default: the global generator (`manualSeed`), read when each
   * epoch starts.
   */
  generator?: Generator;
}

/**
 * Batches of a {@link Dataset}, as `torch.utils.data.DataLoader` (single process, default
 * collate): iterate it with `for...of` to get each batch as a list of tensors, component `k`
 * stacked along a new first axis (`[x, y]` with `x: [batchSize, ...]`).
 *
 * Batches are gathered with one `indexSelect` per tensor when the dataset has `getBatch` (as
 * {@link TensorDataset} does), never one tensor per row. `length` is the number of batches:
 * `ceil(n / batchSize)`, or `floor(n / batchSize)` with `dropLast`.
 *
 * **Memory.** A batch is created when the iteration advances, so it belongs to the `tidy` scope
 * open at that moment, not to a `tidy` inside the loop body. To keep the number of live buffers
 * flat, either use {@link DataLoader.forEach}, which fetches each batch inside a `tidy` that also
 * runs the body (everything the step creates is freed; update parameters in place); or wrap each
 * epoch in `tidy` (its batches are freed when the epoch ends); or dispose the batch tensors at the
 * end of the body. The loader keeps no reference to a batch it has handed out.
 *
 * @example
 * const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 64, shuffle: true, generator: new Generator(0) });
 * for (let epoch = 0; epoch < 5; epoch++)
 *   loader.forEach(([xb, yb]) => {
 *     const loss = crossEntropy(model.forward(xb), yb); // freed after this step
 *     loss.backward();
 *   });
 */
export class DataLoader implements Iterable<Tensor[]> {
  /** The dataset batches are drawn from. */
  readonly dataset: Dataset;
  /** Samples per batch. */
  readonly batchSize: number;
  /** Whether each epoch visits the samples in a new random order. */
  readonly shuffle: boolean;
  /** Whether a last, smaller batch is dropped. */
  readonly dropLast: boolean;
  /** The generator given in the options, if any. */
  readonly generator: Generator | undefined;

  /** Validates the options; nothing is read from the dataset until iteration. */
  constructor(dataset: Dataset, options?: DataLoaderOptions) {
    const batchSize = options?.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new ConfigError(`DataLoader: batchSize must be a positive integer (got ${batchSize})`);
    if (!Number.isInteger(dataset.length) || dataset.length < 0)
      throw new ConfigError(`DataLoader: dataset.length must be a non-negative integer (got ${dataset.length})`);
    this.shuffle = options?.shuffle ?? false;
    if (this.shuffle && dataset.length === 0)
      throw new ConfigError('DataLoader: cannot shuffle an empty dataset (dataset.length is 0), as PyTorch\'s RandomSampler refuses too');
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.dropLast = options?.dropLast ?? false;
    this.generator = options?.generator;
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /**
   * One epoch of batches. With `shuffle`, the permutation is drawn from the generator when the
   * first batch is requested, so every `for...of` over the loader is a new epoch in a new order.
   */
  *[Symbol.iterator](): Iterator<Tensor[]> {
    const n = this.dataset.length;
    const order = this.shuffle ? randomPermutation(n, this.generator ?? defaultGenerator()) : identity(n);
    const batches = this.length;
    for (let b = 0; b < batches; b++) {
      const indices = order.subarray(b * this.batchSize, Math.min(n, (b + 1) * this.batchSize));
      yield this.fetch(indices);
    }
  }

  /**
   * Runs `fn` on every batch of one epoch, each step inside its own `tidy`: the batch and every
   * tensor `fn` creates are freed when `fn` returns (unless `keep()`-ed), so a training loop's
   * live-buffer count stays flat. `fn` must be synchronous.
   */
  forEach(fn: (batch: Tensor[], index: number) => void): void {
    const it = this[Symbol.iterator]();
    for (let i = 0; ; i++) {
      const done = tidy(() => {
        const r = it.next();
        if (r.done === true) return true;
        fn(r.value, i);
        return false;
      });
      if (done) return;
    }
  }

  private fetch(indices: Int32Array): Tensor[] {
    const ds = this.dataset;
    if (ds.getBatch !== undefined) return ds.getBatch(indices);
    // Default collate: stack each component across the samples (the rows are freed here).
    return tidy(() => {
      const samples = Array.from(indices, (i) => ds.get(i));
      const width = samples[0].length;
      samples.forEach((s, k) => {
        if (s.length !== width)
          throw new ConfigError(
            `DataLoader: samples must all have the same number of tensors (sample ${indices[0]} has ${width}, sample ${indices[k]} has ${s.length})`,
          );
      });
      return Array.from({ length: width }, (_, c) => stack(samples.map((s) => s[c])));
    });
  }
}

function identity(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
