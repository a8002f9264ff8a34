import { ConfigError, ShapeError, fmtShape } from '../../core/errors.js';
import type { Generator } from '../../core/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { fillWith_, normal_, uniform_ } from './basic.js';
import { type FanMode, type Nonlinearity, calculateGain, fanForMode, fansOf } from './fans.js';
import {
  type RandomInitOptions,
  checkFloat,
  orthogonalFromGaussian,
  resolveGenerator,
  truncatedStandardNormal,
  warnIfEmpty,
  writeValues_,
} from './sampling.js';

// PyTorch-style initializers (torch.nn.init): in place, under no-grad, each returns its tensor.
// Random ones take `{ generator }` or `{ seed }` (see RandomInitOptions) and draw from the seeded
// global generator otherwise. Weights are in Keel's layout, which is PyTorch's ([out, in, ...k]).

/** Options of {@link truncNormal_}. */
export interface TruncNormalOptions extends RandomInitOptions {
  /** Mean of the untruncated normal (default 0). */
  mean?: number;
  /** Standard deviation of the untruncated normal (default 1); must be > 0. */
  std?: number;
  /** Lower cutoff, an absolute value (default −2); may be −Infinity. */
  a?: number;
  /** Upper cutoff, an absolute value (default 2); may be Infinity. */
  b?: number;
}

/**
 * Fills `t` in place with N(mean, std²) restricted to [a, b], as `torch.nn.init.trunc_normal_`.
 * As in PyTorch, `a` and `b` are absolute values, not multiples of `std`: `{ std: 0.02 }` with the
 * default bounds ±2 truncates nothing in practice; use `{ std: 0.02, a: -0.04, b: 0.04 }` for ±2σ.
 *
 * Sampling is exact rejection sampling (see `truncatedStandardNormal`), so the values have the
 * truncated distribution even when [a, b] lies far in a tail, where PyTorch's inverse-CDF method
 * loses accuracy (and warns when the mean is more than 2 std outside [a, b]). Results are clamped
 * to [a, b] against rounding. Requires std > 0 and a < b (PyTorch does not check).
 */
export function truncNormal_(t: Tensor, options?: TruncNormalOptions): Tensor {
  const op = 'truncNormal_';
  const mean = options?.mean ?? 0;
  const std = options?.std ?? 1;
  const a = options?.a ?? -2;
  const b = options?.b ?? 2;
  if (!Number.isFinite(mean)) throw new ConfigError(`${op}: mean must be finite (got ${mean})`);
  if (!(std > 0) || !Number.isFinite(std)) throw new ConfigError(`${op}: std must be a finite number > 0 (got ${std})`);
  if (!(a < b)) throw new ConfigError(`${op}: expected a < b (got a=${a}, b=${b}); a and b are absolute bounds, not multiples of std`);
  checkFloat(op, t);
  const g = resolveGenerator(op, options);
  if (warnIfEmpty(op, t)) return t;
  const z = truncatedStandardNormal((a - mean) / std, (b - mean) / std);
  return fillWith_(t, (gen) => Math.min(b, Math.max(a, mean + std * z(gen))), { generator: g });
}

/**
 * Fills the 2-D `t` with the identity matrix (ones on the main diagonal, zeros elsewhere), as
 * `torch.nn.init.eye_`: a Linear layer initialised this way passes through as many inputs as it can.
 */
export function eye_(t: Tensor): Tensor {
  if (t.ndim !== 2) throw new ShapeError(`eye_: only tensors with 2 dimensions are supported (got shape ${fmtShape(t.shape)})`);
  const [rows, cols] = t.shape;
  const values = new Float64Array(rows * cols);
  for (let i = 0; i < Math.min(rows, cols); i++) values[i * cols + i] = 1;
  return writeValues_(t, values);
}

/**
 * Fills the 3-, 4- or 5-D convolution weight `t` (`[out, in/groups, ...kernel]`) with the Dirac
 * delta, as `torch.nn.init.dirac_`: zeros, then `t[g·opg + d, d, k1//2, ...] = 1` for each group g
 * and d < min(opg, in/groups), with opg = out/groups, so the convolution copies as many input
 * channels of each group as possible to its outputs. `out` must be divisible by `groups`.
 */
export function dirac_(t: Tensor, groups = 1): Tensor {
  const shape = t.shape;
  if (shape.length < 3 || shape.length > 5)
    throw new ShapeError(`dirac_: only tensors with 3, 4, or 5 dimensions are supported (got shape ${fmtShape(shape)})`);
  if (!Number.isInteger(groups) || groups < 1) throw new ConfigError(`dirac_: groups must be a positive integer (got ${groups})`);
  if (shape[0] % groups !== 0)
    throw new ConfigError(`dirac_: dim 0 (${shape[0]}, shape ${fmtShape(shape)}) must be divisible by groups=${groups}`);
  const outPerGroup = shape[0] / groups;
  const minDim = Math.min(outPerGroup, shape[1]);
  const strides: number[] = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  let centre = 0; // offset of the kernel's centre element
  for (let i = 2; i < shape.length; i++) centre += Math.floor(shape[i] / 2) * strides[i];
  const values = new Float64Array(t.size);
  for (let g = 0; g < groups; g++)
    for (let d = 0; d < minDim; d++) values[(g * outPerGroup + d) * strides[0] + d * strides[1] + centre] = 1;
  return writeValues_(t, values);
}

/** Options of {@link xavierUniform_} and {@link xavierNormal_}. */
export interface XavierOptions extends RandomInitOptions {
  /** Scaling factor (default 1), e.g. `calculateGain('tanh')`. */
  gain?: number;
}

/**
 * Glorot & Bengio (2010) uniform initialization, as `torch.nn.init.xavier_uniform_`: U(−bound,
 * bound) with bound = gain·√(6/(fanIn + fanOut)) (fans from `computeFans`).
 * Keras: `glorotUniform()` (same bound for a Keel weight).
 */
export function xavierUniform_(t: Tensor, options?: XavierOptions): Tensor {
  const op = 'xavierUniform_';
  const { fanIn, fanOut } = fansOf(op, t.shape);
  const std = (options?.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
  const bound = Math.sqrt(3) * std;
  return randomFill(op, t, options, (g) => uniform_(t, -bound, bound, { generator: g }));
}

/**
 * Glorot & Bengio (2010) normal initialization, as `torch.nn.init.xavier_normal_`: N(0, std²)
 * with std = gain·√(2/(fanIn + fanOut)), **not truncated** (Keras' `glorotNormal` is truncated).
 */
export function xavierNormal_(t: Tensor, options?: XavierOptions): Tensor {
  const op = 'xavierNormal_';
  const { fanIn, fanOut } = fansOf(op, t.shape);
  const std = (options?.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
  return randomFill(op, t, options, (g) => normal_(t, 0, std, { generator: g }));
}

/** Options of {@link kaimingUniform_} and {@link kaimingNormal_}. */
export interface KaimingOptions extends RandomInitOptions {
  /** Negative slope of the rectifier after this layer, read for `leaky_relu` only (default 0). */
  a?: number;
  /** `fanIn` (default: preserves the forward variance) or `fanOut` (the backward one). */
  mode?: FanMode;
  /** The nonlinearity after this layer (default `leaky_relu`, which with a = 0 gives √2). */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(op: string, t: Tensor, options: KaimingOptions | undefined): number {
  const fan = fanForMode(op, t.shape, options?.mode ?? 'fanIn');
  const gain = calculateGain(options?.nonlinearity ?? 'leaky_relu', options?.a ?? 0);
  return gain / Math.sqrt(fan);
}

/**
 * He et al. (2015) uniform initialization, as `torch.nn.init.kaiming_uniform_`: U(−bound, bound)
 * with bound = √3·gain/√fan, gain = calculateGain(nonlinearity, a), fan chosen by `mode`.
 * PyTorch's default Linear/Conv weight init is `kaimingUniform_(w, { a: √5 })` = U(±1/√fanIn).
 */
export function kaimingUniform_(t: Tensor, options?: KaimingOptions): Tensor {
  const op = 'kaimingUniform_';
  if (warnIfEmpty(op, t)) return t; // before the fans, as PyTorch
  const bound = Math.sqrt(3) * kaimingStd(op, t, options);
  return randomFill(op, t, options, (g) => uniform_(t, -bound, bound, { generator: g }));
}

/**
 * He et al. (2015) normal initialization, as `torch.nn.init.kaiming_normal_`: N(0, std²) with
 * std = gain/√fan, **not truncated** (Keras' `heNormal` is truncated).
 */
export function kaimingNormal_(t: Tensor, options?: KaimingOptions): Tensor {
  const op = 'kaimingNormal_';
  if (warnIfEmpty(op, t)) return t;
  const std = kaimingStd(op, t, options);
  return randomFill(op, t, options, (g) => normal_(t, 0, std, { generator: g }));
}

/** Options of {@link orthogonal_}. */
export interface OrthogonalOptions extends RandomInitOptions {
  /** Scaling factor (default 1). */
  gain?: number;
}

/**
 * Saxe et al. (2013) (semi-)orthogonal initialization, as `torch.nn.init.orthogonal_`: the weight
 * is flattened to rows = shape[0] by cols = numel/rows, filled with N(0, 1) (row-major), transposed
 * when rows < cols, factorised as QR (Householder, in float64), Q multiplied by sign(diag(R)),
 * transposed back and scaled by `gain`. Then W·Wᵀ = gain²·I when rows ≤ cols, and
 * Wᵀ·W = gain²·I otherwise. Keras' `orthogonal` flattens its own layout the other way round; on
 * Keel's layout Keel uses PyTorch's flattening, which gives the same matrices up to a transpose.
 */
export function orthogonal_(t: Tensor, options?: OrthogonalOptions): Tensor {
  const op = 'orthogonal_';
  if (t.ndim < 2) throw new ShapeError(`${op}: only tensors with 2 or more dimensions are supported (got shape ${fmtShape(t.shape)})`);
  const gain = options?.gain ?? 1;
  return randomFill(op, t, options, (g) => {
    const rows = t.shape[0];
    const cols = t.size / rows;
    const values = new Float64Array(rows * cols);
    for (let i = 0; i < values.length; i++) values[i] = g.nextNormal();
    const q = orthogonalFromGaussian(values, rows, cols);
    for (let i = 0; i < q.length; i++) q[i] *= gain;
    writeValues_(t, q);
  });
}

/** Options of {@link sparse_}. */
export interface SparseOptions extends RandomInitOptions {
  /** Standard deviation of the non-zero entries (default 0.01). */
  std?: number;
}

/**
 * Martens (2010) sparse initialization, as `torch.nn.init.sparse_`: fills the 2-D `t` with
 * N(0, std²), then in every column sets ceil(sparsity·rows) entries, chosen uniformly at random,
 * to zero. `sparsity` must lie in [0, 1] and `std` be ≥ 0 (PyTorch does not check).
 */
export function sparse_(t: Tensor, sparsity: number, options?: SparseOptions): Tensor {
  const op = 'sparse_';
  if (t.ndim !== 2) throw new ShapeError(`${op}: only tensors with 2 dimensions are supported (got shape ${fmtShape(t.shape)})`);
  if (!(sparsity >= 0 && sparsity <= 1)) throw new ConfigError(`${op}: sparsity must be in [0, 1] (got ${sparsity})`);
  const std = options?.std ?? 0.01;
  if (!(std >= 0) || !Number.isFinite(std)) throw new ConfigError(`${op}: std must be a finite number ≥ 0 (got ${std})`);
  const [rows, cols] = t.shape;
  const numZeros = Math.ceil(sparsity * rows);
  return randomFill(op, t, options, (g) => {
    const values = new Float64Array(rows * cols);
    for (let i = 0; i < values.length; i++) values[i] = std * g.nextNormal();
    const perm = new Int32Array(rows);
    for (let c = 0; c < cols; c++) {
      // The first numZeros entries of a uniform random permutation (Fisher–Yates, stopped early).
      for (let i = 0; i < rows; i++) perm[i] = i;
      for (let i = 0; i < numZeros; i++) {
        const j = i + g.nextBelow(rows - i);
        const tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
        values[perm[i] * cols + c] = 0;
      }
    }
    writeValues_(t, values);
  });
}

/** Shared tail of the random initializers: dtype check, generator, zero-element no-op. */
function randomFill(op: string, t: Tensor, options: RandomInitOptions | undefined, fill: (g: Generator) => void): Tensor {
  checkFloat(op, t);
  const g = resolveGenerator(op, options);
  if (warnIfEmpty(op, t)) return t;
  fill(g);
  return t;
}
