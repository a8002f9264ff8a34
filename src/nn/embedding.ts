import { noGrad } from '../autograd/grad-mode.js';
import type { DType } from '../core/dtype.js';
import { ConfigError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import type { Generator } from '../core/random.js';
import { select } from '../ops/shape.js';
import { zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { embedding } from './functional.js';
import { normal_, zeros_ } from './init/basic.js';
import { checkParamDType, checkSize } from './linear.js';
import { Module, parameter } from './module.js';

/** Options of {@link Embedding}. */
export interface EmbeddingLayerOptions {
  /**
   * An index whose row starts at zero and never receives a gradient (for padding tokens), as
   * PyTorch's `padding_idx`; negative values count from the end. Default: none.
   */
  paddingIdx?: number | null;
  /** The generator for the initial weights (default: the seeded global one, see `manualSeed`). */
  generator?: Generator;
  /** Parameter dtype, `'float32'` (default) or `'float64'`. */
  dtype?: DType;
}

/**
 * A lookup table of `numEmbeddings` vectors of size `embeddingDim`, as PyTorch's
 * `nn.Embedding(num_embeddings, embedding_dim, padding_idx=None)` (Keras `Embedding(input_dim,
 * output_dim)`). Input: int32 indices of any shape, each in `[0, numEmbeddings)`; output
 * `[...input.shape, embeddingDim]`.
 *
 * Parameter `weight` `[numEmbeddings, embeddingDim]`, initialized N(0, 1) as PyTorch (Keras uses
 * U(−0.05, 0.05)); the `paddingIdx` row is zeroed and gets no gradient.
 */
export class Embedding extends Module {
  /** Number of rows (the vocabulary size). */
  readonly numEmbeddings: number;
  /** Size of each vector. */
  readonly embeddingDim: number;
  /** The padding index, normalized to `[0, numEmbeddings)`, or null. */
  readonly paddingIdx: number | null;
  /** `[numEmbeddings, embeddingDim]`. */
  weight: Tensor;

  constructor(numEmbeddings: number, embeddingDim: number, options?: EmbeddingLayerOptions) {
    super();
    checkSize('Embedding', 'numEmbeddings', numEmbeddings);
    checkSize('Embedding', 'embeddingDim', embeddingDim);
    const dtype = options?.dtype ?? 'float32';
    checkParamDType('Embedding', dtype);
    const pad = options?.paddingIdx ?? null;
    if (pad !== null && (!Number.isInteger(pad) || pad < -numEmbeddings || pad >= numEmbeddings))
      throw new ConfigError(
        `Embedding: paddingIdx must be an integer in [${-numEmbeddings}, ${numEmbeddings - 1}] for ${numEmbeddings} embeddings (got ${String(pad)})`,
      );
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.paddingIdx = pad === null ? null : pad < 0 ? pad + numEmbeddings : pad;
    const w = normal_(zeros([numEmbeddings, embeddingDim], { dtype }), 0, 1, { generator: options?.generator });
    if (this.paddingIdx !== null) {
      const row = this.paddingIdx;
      noGrad(() => void zeros_(select(w, 0, row)));
    }
    this.weight = parameter(w);
  }

  /** int32 `indices` of any shape → `[...indices.shape, embeddingDim]`. */
  forward(indices: Tensor): Tensor {
    if (indices.dtype !== 'int32')
      throw new DTypeError(
        `${this.label()}: indices must be an int32 tensor (got ${indices.dtype}); build them with { dtype: 'int32' } or cast(x, 'int32')`,
      );
    const values = indices.toTypedArray();
    for (let i = 0; i < values.length; i++)
      if (values[i] < 0 || values[i] >= this.numEmbeddings)
        throw new ShapeError(
          `${this.label()}: index ${values[i]} (at flat position ${i} of indices ${fmtShape(indices.shape)}) is out of range; expected 0 ≤ index < ${this.numEmbeddings}`,
        );
    return embedding(indices, this.weight, { paddingIdx: this.paddingIdx });
  }

  protected override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? '' : `, paddingIdx=${this.paddingIdx}`}`;
  }

  private label(): string {
    return `${this.name}(${this.extraRepr()})`;
  }
}
