import type { Generator } from '../core/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkProbability, dropout } from './functional.js';
import { Module } from './module.js';

/** Options of {@link Dropout}. */
export interface DropoutLayerOptions {
  /** The generator for the masks (default: the seeded global one at each call, see `manualSeed`). */
  generator?: Generator;
}

/**
 * Inverted dropout, as PyTorch's `nn.Dropout(p=0.5)` (Keras `Dropout(rate)`): in training mode
 * each element is zeroed with probability `p` and the kept ones are scaled by `1/(1 − p)`, a new
 * mask per call; in evaluation mode (`eval()`) it returns its input unchanged. Any shape.
 */
export class Dropout extends Module {
  /** Probability of zeroing an element, in [0, 1]. */
  readonly p: number;
  private readonly generator: Generator | undefined;

  constructor(p = 0.5, options?: DropoutLayerOptions) {
    super();
    checkProbability('Dropout', p);
    this.p = p;
    this.generator = options?.generator;
  }

  /** Same shape as `x`. */
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, generator: this.generator });
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
