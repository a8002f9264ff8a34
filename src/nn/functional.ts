/**
 * Functional forms of the basic layers, as `torch.nn.functional`: the layers in `linear.ts`,
 * `activation.ts`, `dropout.ts`, `normalization.ts` and `embedding.ts` call these, so each
 * computation is written once. Everything here is a composition of existing ops: gradients come
 * from the primitives, with no backward of its own.
 */
import { noGrad } from '../autograd/grad-mode.js';
import { run } from '../autograd/run.js';
import { DTypeError, ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import { type Generator, defaultGenerator } from '../core/random.js';
import { numel } from '../core/shape.js';
import { add, div, eq, mul, sqrt, sub, where } from '../ops/elementwise.js';
import { add_, mul_ } from '../ops/inplace.js';
import { matmul } from '../ops/linalg.js';
import { mean, sum } from '../ops/reduce.js';
import { indexSelect, reshape, transpose, unsqueeze } from '../ops/shape.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

export {
  relu,
  leakyRelu,
  elu,
  selu,
  gelu,
  tanh,
  sigmoid,
  softplus,
  type GeluOptions,
  type SoftplusOptions,
} from '../ops/elementwise.js';
export { softmax, logSoftmax } from '../ops/softmax.js';

/**
 * `x · weightᵀ + bias`, as `torch.nn.functional.linear`: `x` is `[..., in]`, `weight` is
 * `[out, in]` (PyTorch's layout), `bias` is `[out]` or null; the result is `[..., out]`. The
 * weight is read through a transposed view, never copied.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  if (weight.ndim !== 2) throw new ShapeError(`linear: weight must be 2-D [out, in] (got ${fmtShape(weight.shape)})`);
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== weight.shape[1])
    throw new ShapeError(
      `linear: input ${fmtShape(x.shape)} must end with the weight's in-features ${weight.shape[1]} (weight is ${fmtShape(weight.shape)})`,
    );
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0]))
    throw new ShapeError(`linear: bias ${fmtShape(bias.shape)} must be [${weight.shape[0]}] to match weight ${fmtShape(weight.shape)}`);
  // One primitive when the dtypes agree (the common case); mixed dtypes promote through the composition.
  if (x.ndim >= 2 && x.dtype === weight.dtype && (bias === null || bias.dtype === weight.dtype) && x.dtype !== 'int32')
    return run('linear', bias === null ? [x, weight] : [x, weight, bias], {});
  const out = matmul(x, transpose(weight));
  return bias === null ? out : add(out, bias);
}

/** Options of {@link dropout}. */
export interface DropoutOptions {
  /** Apply dropout (default true, as `F.dropout`); when false the input is returned unchanged. */
  training?: boolean;
  /** The generator to draw the mask from (default: the seeded global one). */
  generator?: Generator;
}

/** @internal Checks that `p` is a probability; `who` names the caller in the error. */
export function checkProbability(who: string, p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1))
    throw new ConfigError(`${who}: p must be a probability in [0, 1] (got ${String(p)})`);
}

/**
 * Inverted dropout, as `torch.nn.functional.dropout`: in training each element is kept with
 * probability `1 − p` and scaled by `1/(1 − p)` (so the expected value is unchanged), or zeroed;
 * `p = 1` zeroes everything (as PyTorch, `x·0`). When not training, returns `x` itself.
 * The gradient is the same mask times the incoming gradient.
 */
export function dropout(x: Tensor, p = 0.5, options?: DropoutOptions): Tensor {
  checkProbability('dropout', p);
  if (!(options?.training ?? true)) return x;
  if (p === 0) return x;
  const g = options?.generator ?? defaultGenerator();
  const n = x.size;
  const mask = new Float64Array(n);
  // A Bernoulli(1 − p) draw per element, as `noise.bernoulli_(1 − p).div_(1 − p)` in PyTorch.
  const keep = 1 - p;
  const scale = p === 1 ? 0 : 1 / keep;
  for (let i = 0; i < n; i++) mask[i] = g.nextFloat32() < keep ? scale : 0;
  return mul(x, tensor(mask, x.shape, { dtype: x.dtype }));
}

/** Options of {@link layerNorm}. */
export interface LayerNormOptions {
  /** Scale of shape `normalizedShape`, or null/omitted for none. */
  weight?: Tensor | null;
  /** Shift of shape `normalizedShape`, or null/omitted for none. */
  bias?: Tensor | null;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

/**
 * Layer normalization, as `torch.nn.functional.layer_norm`: over the trailing dimensions given by
 * `normalizedShape`, `y = (x − mean) / √(var + eps) · weight + bias`, with the biased variance
 * (divided by the count, not count − 1).
 */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], options?: LayerNormOptions): Tensor {
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const eps = options?.eps ?? 1e-5;
  const k = shape.length;
  if (k === 0) throw new ConfigError('layerNorm: normalizedShape must have at least one dimension (got [])');
  if (x.ndim < k || shape.some((d, i) => x.shape[x.ndim - k + i] !== d))
    throw new ShapeError(`layerNorm: input ${fmtShape(x.shape)} must end with the normalized shape ${fmtShape(shape)}`);
  const axes = shape.map((_, i) => x.ndim - k + i);
  const mu = mean(x, { axis: axes, keepDims: true });
  const centered = sub(x, mu);
  const v = mean(mul(centered, centered), { axis: axes, keepDims: true });
  let y = div(centered, sqrt(add(v, eps)));
  if (options?.weight != null) y = mul(y, options.weight);
  if (options?.bias != null) y = add(y, options.bias);
  return y;
}

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  /** Per-channel scale `[C]`, or null/omitted for none. */
  weight?: Tensor | null;
  /** Per-channel shift `[C]`, or null/omitted for none. */
  bias?: Tensor | null;
  /**
   * Use the batch's statistics (and update the running ones, when given); default false, as
   * `F.batch_norm`. When false the running statistics are required.
   */
  training?: boolean;
  /** Weight of the new batch in the running averages (default 0.1). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

/**
 * Batch normalization over the channel dimension 1 of `x` (`[N, C]`, `[N, C, L]`, `[N, C, H, W]`,
 * ...), as `torch.nn.functional.batch_norm`. In training it normalizes with the batch mean and
 * the biased batch variance, and updates the running statistics in place (when given) with
 * `running ← (1 − momentum)·running + momentum·batch`, using the **unbiased** variance for
 * `runningVar`; otherwise it normalizes with the running statistics. Then `· weight + bias`.
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options?: BatchNormOptions): Tensor {
  const training = options?.training ?? false;
  const momentum = options?.momentum ?? 0.1;
  const eps = options?.eps ?? 1e-5;
  if (x.ndim < 2) throw new ShapeError(`batchNorm: input must have a batch and a channel dimension (got ${fmtShape(x.shape)})`);
  const c = x.shape[1];
  for (const [what, t] of [
    ['runningMean', runningMean],
    ['runningVar', runningVar],
    ['weight', options?.weight ?? null],
    ['bias', options?.bias ?? null],
  ] as const)
    if (t !== null && (t.ndim !== 1 || t.shape[0] !== c))
      throw new ShapeError(`batchNorm: ${what} ${fmtShape(t.shape)} must be [${c}] for input ${fmtShape(x.shape)} (channels in dimension 1)`);
  // Broadcast per-channel vectors [C] against x: [C, 1, ..., 1].
  const perChannel = (t: Tensor): Tensor => reshape(t, [c, ...x.shape.slice(2).map(() => 1)]);
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  let y: Tensor;
  if (training) {
    const n = numel(x.shape) / Math.max(c, 1);
    if (n <= 1)
      throw new ShapeError(`batchNorm: expected more than 1 value per channel when training (got input ${fmtShape(x.shape)})`);
    const mu = mean(x, { axis: axes, keepDims: true });
    const centered = sub(x, mu);
    const sq = sum(mul(centered, centered), { axis: axes, keepDims: true });
    const biasedVar = div(sq, n);
    y = div(centered, sqrt(add(biasedVar, eps)));
    if (runningMean !== null || runningVar !== null)
      noGrad(() => {
        if (runningMean !== null) add_(mul_(runningMean, 1 - momentum), reshape(mu, [c]), momentum);
        if (runningVar !== null) add_(mul_(runningVar, 1 - momentum), reshape(div(sq, n - 1), [c]), momentum);
      });
  } else {
    if (runningMean === null || runningVar === null)
      throw new ConfigError('batchNorm: runningMean and runningVar are required when not training');
    y = div(sub(x, perChannel(runningMean)), sqrt(add(perChannel(runningVar), eps)));
  }
  if (options?.weight != null) y = mul(y, perChannel(options.weight));
  if (options?.bias != null) y = add(y, perChannel(options.bias));
  return y;
}

/** Options of {@link embedding}. */
export interface EmbeddingOptions {
  /** Rows at this index get no gradient (their values are still returned), as PyTorch. */
  paddingIdx?: number | null;
}

/**
 * Looks up rows of `weight` (`[num, dim]`) at the int32 `indices` (any shape), as
 * `torch.nn.functional.embedding`: the result is `[...indices.shape, dim]`. Indices must lie in
 * `[0, num)`. With `paddingIdx`, positions holding that index pass no gradient to the weight.
 */
export function embedding(indices: Tensor, weight: Tensor, options?: EmbeddingOptions): Tensor {
  if (weight.ndim !== 2) throw new ShapeError(`embedding: weight must be 2-D [num, dim] (got ${fmtShape(weight.shape)})`);
  if (indices.dtype !== 'int32')
    throw new DTypeError(`embedding: indices must be an int32 tensor (got ${indices.dtype}); build them with { dtype: 'int32' }`);
  const [num, dim] = weight.shape;
  const values = indices.toTypedArray();
  for (let i = 0; i < values.length; i++)
    if (values[i] < 0 || values[i] >= num)
      throw new ShapeError(`embedding: index ${values[i]} is out of range for ${num} embeddings (expected 0 ≤ index < ${num})`);
  const flat = reshape(indices, [indices.size]);
  let rows = indexSelect(weight, 0, flat);
  const pad = options?.paddingIdx ?? null;
  if (pad !== null && values.includes(pad)) {
    // Padding positions read the same row through a detached view: same value, no gradient.
    const isPad = unsqueeze(eq(flat, pad), 1);
    rows = where(isPad, indexSelect(weight.detach(), 0, flat), rows);
  }
  return reshape(rows, [...indices.shape, dim]);
}
