/**
 * Loss functions, functional forms (the classes in `loss-modules.ts` call these).
 *
 * Two families, kept apart by name because PyTorch and Keras define some of them differently:
 *
 * - PyTorch's `torch.nn.functional` losses, in PyTorch's argument order `(input, target)`:
 *   {@link crossEntropy}, {@link nllLoss}, {@link mse}, {@link l1}, {@link huber}, {@link smoothL1},
 *   {@link bce} (`binary_cross_entropy`: probabilities, logs clamped at −100) and
 *   {@link bceWithLogits} (`binary_cross_entropy_with_logits`).
 * - Keras' losses, in Keras' argument order `(yTrue, yPred)` and with Keras' formulas
 *   (probabilities renormalized and clipped to `[1e-7, 1 − 1e-7]`):
 *   {@link sparseCategoricalCrossentropy}, {@link categoricalCrossentropy},
 *   {@link binaryCrossentropy}. Mind the name: Keras' `binaryCrossentropy` (epsilon clipping, mean
 *   over the last axis) is not PyTorch's {@link bce}.
 *
 * Every loss is a composition of existing ops, so its gradient comes from the primitives. The one
 * exception is the input gradient of {@link bce}, which is PyTorch's formula rather than the
 * derivative of the clamped forward (see there why).
 */
import { scalarLike } from '../autograd/primitives.js';
import { run } from '../autograd/run.js';
import { isFloat } from '../core/dtype.js';
import { ConfigError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { broadcastShapes, shapesEqual } from '../core/shape.js';
import { add, abs, clamp, div, log, lt, maximum, mul, ne, neg, softplus, sub, where } from '../ops/elementwise.js';
import { mean, sum } from '../ops/reduce.js';
import { cast, gather, indexSelect, reshape, squeeze, unsqueeze } from '../ops/shape.js';
import { logSoftmax } from '../ops/softmax.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * How the per-element losses become the result: `'mean'` (the default) averages them, `'sum'`
 * adds them, `'none'` returns them unreduced. For the Keras-style losses `'mean'` is Keras'
 * `"sum_over_batch_size"`.
 */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options shared by every loss: the {@link Reduction}. */
export interface ReductionOptions {
  /** `'mean'` (default), `'sum'` or `'none'`. */
  reduction?: Reduction;
}

/** Options of {@link nllLoss}. */
export interface NLLLossOptions extends ReductionOptions {
  /** A rescaling weight per class, 1-D of length C (PyTorch's `weight`). Not differentiated. */
  weight?: Tensor | null;
  /** Targets equal to this class index count for nothing, in the loss or the mean (default −100). */
  ignoreIndex?: number;
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions extends NLLLossOptions {
  /**
   * ε in [0, 1] (default 0): the target becomes `(1 − ε)·onehot + ε/C`, as PyTorch's
   * `label_smoothing`. With class-index targets and weights, the uniform part is weighted per
   * class too (see {@link crossEntropy}).
   */
  labelSmoothing?: number;
}

/** Options of {@link huber}. */
export interface HuberOptions extends ReductionOptions {
  /** Where the loss turns from quadratic to linear (default 1; must be > 0). */
  delta?: number;
}

/** Options of {@link smoothL1}. */
export interface SmoothL1Options extends ReductionOptions {
  /** Where the loss turns from quadratic to linear (default 1; must be ≥ 0; 0 gives {@link l1}). */
  beta?: number;
}

/** Options of {@link bce}. */
export interface BCEOptions extends ReductionOptions {
  /** A rescaling weight broadcast against the input (PyTorch's `weight`). Not differentiated. */
  weight?: Tensor | null;
}

/** Options of {@link bceWithLogits}. */
export interface BCEWithLogitsOptions extends BCEOptions {
  /**
   * Weight of the positive term, broadcast against the input; usually `[C]` for the last axis
   * (PyTorch's `pos_weight`: `#negatives / #positives` balances a rare class). Not differentiated.
   */
  posWeight?: Tensor | null;
}

/** Options of {@link sparseCategoricalCrossentropy}. */
export interface SparseCategoricalCrossentropyOptions extends ReductionOptions {
  /** `yPred` holds logits rather than probabilities (default false). */
  fromLogits?: boolean;
}

/** Options of {@link categoricalCrossentropy} and {@link binaryCrossentropy}. */
export interface KerasCrossentropyOptions extends ReductionOptions {
  /** `yPred` holds logits rather than probabilities (default false). */
  fromLogits?: boolean;
  /** ε in [0, 1] (default 0), Keras' `label_smoothing`. */
  labelSmoothing?: number;
}

/** Keras' `backend.epsilon()`: probabilities are clipped to `[EPSILON, 1 − EPSILON]`. */
export const KERAS_EPSILON = 1e-7;

// ---------------------------------------------------------------------------------------------
// Argument checks, shared with loss-modules.ts (which validates in its constructors).

/** @internal Checks a reduction argument and returns it (default `'mean'`). */
export function checkReduction(fn: string, reduction: unknown): Reduction {
  const r = reduction ?? 'mean';
  if (r !== 'mean' && r !== 'sum' && r !== 'none')
    throw new ConfigError(`${fn}: reduction must be 'mean', 'sum' or 'none' (got ${JSON.stringify(r)})`);
  return r;
}

/** @internal Checks a label-smoothing argument: a number in [0, 1] (default 0). */
export function checkLabelSmoothing(fn: string, value: number | undefined): number {
  const e = value ?? 0;
  if (typeof e !== 'number' || !(e >= 0 && e <= 1)) throw new ConfigError(`${fn}: labelSmoothing must be in [0, 1] (got ${String(e)})`);
  return e;
}

/** @internal Checks an ignoreIndex argument: an integer (default −100). */
export function checkIgnoreIndex(fn: string, value: number | undefined): number {
  const i = value ?? -100;
  if (!Number.isInteger(i)) throw new ConfigError(`${fn}: ignoreIndex must be an integer (got ${String(i)})`);
  return i;
}

/** @internal Checks Huber's delta: a finite number > 0 (default 1), as PyTorch requires. */
export function checkDelta(fn: string, value: number | undefined): number {
  const d = value ?? 1;
  if (typeof d !== 'number' || !(d > 0) || !Number.isFinite(d))
    throw new ConfigError(`${fn}: delta must be a positive number (got ${String(d)})`);
  return d;
}

/** @internal Checks smooth L1's beta: a finite number ≥ 0 (default 1), as PyTorch requires. */
export function checkBeta(fn: string, value: number | undefined): number {
  const b = value ?? 1;
  if (typeof b !== 'number' || !(b >= 0) || !Number.isFinite(b))
    throw new ConfigError(`${fn}: beta must be a non-negative number (got ${String(b)}); beta 0 is the L1 loss`);
  return b;
}

/** @internal Checks a per-class weight: a 1-D float tensor (its length is checked against C later). */
export function checkClassWeight(fn: string, weight: Tensor | null | undefined): Tensor | null {
  if (weight == null) return null;
  if (!isFloat(weight.dtype)) throw new DTypeError(`${fn}: weight must be a float tensor (got ${weight.dtype})`);
  if (weight.ndim !== 1) throw new ShapeError(`${fn}: weight must be 1-D with one entry per class (got shape ${fmtShape(weight.shape)})`);
  return weight;
}

/** @internal Checks an elementwise weight (bce's `weight`, `posWeight`): a float tensor. */
export function checkFloatWeight(fn: string, arg: string, weight: Tensor | null | undefined): Tensor | null {
  if (weight == null) return null;
  if (!isFloat(weight.dtype)) throw new DTypeError(`${fn}: ${arg} must be a float tensor (got ${weight.dtype})`);
  return weight;
}

/** Weights are constants of the loss: no gradient reaches them (as PyTorch's `weight`). */
function constant(t: Tensor | null): Tensor | null {
  return t === null ? null : t.detach();
}

function checkFloatInput(fn: string, what: string, x: Tensor): void {
  if (!isFloat(x.dtype)) throw new DTypeError(`${fn}: ${what} must be a float tensor (got ${x.dtype})`);
}

/** Same shape required: PyTorch broadcasts with a warning here, which is almost always a bug. */
function checkSameShape(fn: string, input: Tensor, target: Tensor, names: [string, string] = ['input', 'target']): void {
  if (!shapesEqual(input.shape, target.shape))
    throw new ShapeError(
      `${fn}: ${names[1]} shape ${fmtShape(target.shape)} differs from ${names[0]} shape ${fmtShape(input.shape)}; they must match ` +
        `(a [N] target against [N, 1] predictions would broadcast to [N, N]: reshape one of them)`,
    );
}

function checkBroadcastsTo(fn: string, arg: string, w: Tensor, shape: readonly number[]): void {
  const out = broadcastShapes(`${fn}: ${arg}`, w.shape, shape);
  if (!shapesEqual(out, shape))
    throw new ShapeError(`${fn}: ${arg} of shape ${fmtShape(w.shape)} must broadcast to the input shape ${fmtShape(shape)}`);
}

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? sum(loss) : mean(loss);
}

/** `[i, j, ...]` of the flat (row-major) position `k` in `shape`, for error messages. */
function position(k: number, shape: readonly number[]): string {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = k % shape[d];
    k = Math.floor(k / shape[d]);
  }
  return `[${idx.join(', ')}]`;
}

/**
 * Reads the int32 class indices on the host (labels are small) and checks each one lies in
 * [0, C−1] or equals `ignoreIndex`, naming the first offender.
 */
function checkClassRange(
  fn: string,
  target: Tensor,
  classes: number,
  inputShape: readonly number[],
  ignoreIndex: number | null,
  names: [string, string] = ['input', 'target'],
): boolean {
  const values = target.toTypedArray();
  let ignored = false;
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (v === ignoreIndex) {
      ignored = true;
      continue;
    }
    if (v >= 0 && v < classes) continue;
    const where = target.ndim === 0 ? '' : ` at index ${position(k, target.shape)}`;
    const ignore = ignoreIndex === null ? '' : `; only ignoreIndex (${ignoreIndex}) may lie outside it`;
    throw new ConfigError(
      `${fn}: ${names[1]} holds class ${v}${where}, outside the valid range [0, ${classes - 1}] ` +
        `for C = ${classes} classes (${names[0]} shape ${fmtShape(inputShape)})${ignore}`,
    );
  }
  return ignored;
}

/**
 * Checks class-index targets against `input` `[N, C, d1, ...]` (or `[C]`): int32, shape `[N, d1,
 * ...]` (or `[]`), values in range.
 */
function checkClassTargets(fn: string, input: Tensor, target: Tensor, ignoreIndex: number): boolean {
  if (target.dtype !== 'int32')
    throw new DTypeError(`${fn}: target must be int32 class indices (got ${target.dtype}) (convert with target.cast('int32'))`);
  const expected = input.ndim === 1 ? [] : input.shape.filter((_, i) => i !== 1);
  if (!shapesEqual(target.shape, expected)) {
    if (input.ndim >= 2 && target.ndim >= 1 && target.shape[0] !== input.shape[0])
      throw new ShapeError(
        `${fn}: batch sizes differ: input ${fmtShape(input.shape)} has ${input.shape[0]} samples but target ${fmtShape(target.shape)} has ${target.shape[0]}`,
      );
    throw new ShapeError(
      `${fn}: target shape ${fmtShape(target.shape)} does not fit input shape ${fmtShape(input.shape)}: class indices must have shape ` +
        `${fmtShape(expected)} (the input's shape without its class dimension ${input.ndim === 1 ? 0 : 1})`,
    );
  }
  return checkClassRange(fn, target, input.ndim === 1 ? input.shape[0] : input.shape[1], input.shape, ignoreIndex);
}

/** `[1, C, 1, ...]`: a per-class weight broadcast along axis 1 of a rank-`ndim` tensor. */
function classView(weight: Tensor, ndim: number): Tensor {
  return reshape(
    weight,
    Array.from({ length: ndim }, (_, i) => (i === 1 ? weight.shape[0] : 1)),
  );
}

function checkWeightLength(fn: string, weight: Tensor | null, classes: number): void {
  if (weight !== null && weight.shape[0] !== classes)
    throw new ShapeError(`${fn}: weight has ${weight.shape[0]} entries (shape ${fmtShape(weight.shape)}) but the input has C = ${classes} classes`);
}

/** What NLL over class indices needs: the per-element losses and the mean's denominator. */
interface NllParts {
  /** `−w[t]·logp[n, t]` per element, 0 where the target is ignored (target's shape). */
  elements: Tensor;
  /** 1 (or w[t]) where counted, 0 where ignored. */
  counted: Tensor;
  /** Which elements are counted (int32 1/0), for masking; null when every one is. */
  valid: Tensor | null;
}

/**
 * NLL on batched log-probabilities `[N, C, ...]` and validated targets `[N, ...]`. Ignored
 * elements are selected away with `where` (not multiplied by 0), so an infinite log-probability
 * or a 0/0 mean over no counted element never leaks NaN into the gradient.
 */
function nllParts(logp: Tensor, target: Tensor, weight: Tensor | null, ignoreIndex: number, anyIgnored = true): NllParts {
  if (!anyIgnored && weight === null) {
    // Every element counts with weight 1 (the common case): no masks, the mean divides by N.
    const picked = squeeze(gather(logp, 1, unsqueeze(target, 1)), 1);
    return { elements: neg(picked), counted: scalarLike(target.size, logp), valid: null };
  }
  const valid = ne(target, ignoreIndex);
  // Ignored targets may lie outside [0, C−1] (−100): gather a valid class there, then mask it out.
  const safe = where(valid, target, 0);
  const picked = squeeze(gather(logp, 1, unsqueeze(safe, 1)), 1);
  let counted = cast(valid, logp.dtype);
  let loss = neg(picked);
  if (weight !== null) {
    const w = reshape(indexSelect(cast(weight, logp.dtype), 0, reshape(safe, [-1])), target.shape);
    counted = where(valid, w, 0);
    loss = mul(loss, w);
  }
  return { elements: where(valid, loss, 0), counted, valid };
}

// ---------------------------------------------------------------------------------------------
// PyTorch-style losses

/**
 * Negative log-likelihood of class indices, as `torch.nn.functional.nll_loss`: `input` holds
 * log-probabilities `[N, C]`, `[N, C, d1, ...]` or `[C]`; `target` int32 class indices `[N]`,
 * `[N, d1, ...]` or `[]`. Each element's loss is `−weight[t]·input[n, t]` (weight 1 by default);
 * elements whose target is `ignoreIndex` count for nothing. `'mean'` divides by the sum of the
 * weights of the counted elements (the count without weights), so it is NaN when nothing is
 * counted, as in PyTorch (whose gradient is then 0, as Keel's is). `'none'` returns target's shape.
 *
 * Targets are read on the host to check their range: an index outside [0, C−1] that is not
 * `ignoreIndex` is a ConfigError naming it.
 */
export function nllLoss(input: Tensor, target: Tensor, options?: NLLLossOptions): Tensor {
  const fn = 'nllLoss';
  const reduction = checkReduction(fn, options?.reduction);
  const ignoreIndex = checkIgnoreIndex(fn, options?.ignoreIndex);
  const weight = constant(checkClassWeight(fn, options?.weight));
  checkFloatInput(fn, 'input (log-probabilities)', input);
  if (input.ndim === 0) throw new ShapeError(`${fn}: input must have a class dimension: [C], [N, C] or [N, C, d1, ...] (got a scalar)`);
  const anyIgnored = checkClassTargets(fn, input, target, ignoreIndex);
  const classes = input.ndim === 1 ? input.shape[0] : input.shape[1];
  checkWeightLength(fn, weight, classes);
  const unbatched = input.ndim === 1;
  const x = unbatched ? unsqueeze(input, 0) : input;
  const t = unbatched ? unsqueeze(target, 0) : target;
  const parts = nllParts(x, t, weight, ignoreIndex, anyIgnored);
  if (reduction === 'none') return unbatched ? reshape(parts.elements, []) : parts.elements;
  if (reduction === 'sum') return sum(parts.elements);
  return div(sum(parts.elements), parts.valid === null ? parts.counted : sum(parts.counted));
}

/**
 * Cross-entropy of logits, as `torch.nn.functional.cross_entropy` (PyTorch 1.13 semantics).
 * `input`: unnormalized logits `[N, C]`, `[N, C, d1, ...]` or `[C]` (classes on axis 1, or 0 when
 * 1-D). `target`: either
 *
 * - int32 class indices of the input's shape without the class axis: the loss is
 *   `nllLoss(logSoftmax(input, 1), target, { weight, ignoreIndex, reduction })`; or
 * - float class probabilities of the input's own shape (PyTorch's rule: a target of the same shape
 *   as the input means probabilities): `−Σ_c weight[c]·target[c]·logSoftmax(input)[c]` per
 *   element; `'mean'` divides by the number of elements N·d1·…, **not** by a weight sum, and
 *   `ignoreIndex` must be left negative (PyTorch: "ignore_index is not supported for floating
 *   point target").
 *
 * Label smoothing ε, exactly as PyTorch: with probabilities the target becomes
 * `(1 − ε)·target + ε/C`. With class indices the result is `(1 − ε)·nll + (ε/C)·smooth`, where
 * `smooth = −Σ_c weight[c]·logp[c]` per element (0 where ignored) reduced like the NLL: summed, or
 * for `'mean'` divided by the same denominator as the NLL (the sum of `weight[target]` over the
 * counted elements).
 *
 * Errors: float class labels, a batch-size mismatch, or a label outside [0, C−1] (checked on the
 * host) raise a ShapeError/DTypeError/ConfigError that names the shapes or the offending value.
 *
 * @example crossEntropy(logits, labels) // logits [32, 10] float32, labels [32] int32 → scalar
 */
export function crossEntropy(input: Tensor, target: Tensor, options?: CrossEntropyOptions): Tensor {
  const fn = 'crossEntropy';
  const reduction = checkReduction(fn, options?.reduction);
  const ignoreIndex = checkIgnoreIndex(fn, options?.ignoreIndex);
  const weight = constant(checkClassWeight(fn, options?.weight));
  const eps = checkLabelSmoothing(fn, options?.labelSmoothing);
  checkFloatInput(fn, 'input (logits)', input);
  if (input.ndim === 0) throw new ShapeError(`${fn}: input must have a class dimension: [C], [N, C] or [N, C, d1, ...] (got a scalar)`);
  const classAxis = input.ndim === 1 ? 0 : 1;
  const classes = input.shape[classAxis];
  checkWeightLength(fn, weight, classes);

  if (isFloat(target.dtype) && shapesEqual(target.shape, input.shape)) {
    if (ignoreIndex >= 0)
      throw new ConfigError(`${fn}: ignoreIndex (${ignoreIndex}) is not supported with probability targets; leave it at its default`);
    return crossEntropyProbabilities(input, cast(target, input.dtype), weight, eps, reduction, classAxis);
  }
  if (target.dtype !== 'int32')
    throw new DTypeError(
      `${fn}: target must be int32 class indices (got ${target.dtype}); for probabilities pass a float tensor of shape ${fmtShape(input.shape)}`,
    );
  const anyIgnored = checkClassTargets(fn, input, target, ignoreIndex);

  const unbatched = input.ndim === 1;
  const x = unbatched ? unsqueeze(input, 0) : input;
  const t = unbatched ? unsqueeze(target, 0) : target;
  if (x.ndim === 2 && !anyIgnored && weight === null && eps === 0) {
    // The common case in one fused primitive per row (log-softmax and the pick, forward and
    // backward); the composition below is its definition and handles everything else.
    const rows = run('crossEntropyRows', [x, t], {});
    if (reduction === 'none') return unbatched ? reshape(rows, []) : rows;
    return reduction === 'sum' ? sum(rows) : div(sum(rows), scalarLike(rows.size, rows));
  }
  const logp = logSoftmax(x, 1);
  const parts = nllParts(logp, t, weight, ignoreIndex, anyIgnored);
  const denominator = reduction !== 'mean' ? null : parts.valid === null ? parts.counted : sum(parts.counted);
  const finish = (elements: Tensor): Tensor => {
    if (reduction === 'none') return unbatched ? reshape(elements, []) : elements;
    return denominator === null ? sum(elements) : div(sum(elements), denominator);
  };
  const nll = finish(parts.elements);
  if (eps === 0) return nll;
  const weighted = weight === null ? logp : mul(logp, classView(cast(weight, x.dtype), x.ndim));
  const smoothAll = neg(sum(weighted, { axis: 1 }));
  const smooth = parts.valid === null ? smoothAll : where(parts.valid, smoothAll, 0);
  return add(mul(nll, 1 - eps), mul(finish(smooth), eps / classes));
}

function crossEntropyProbabilities(
  input: Tensor,
  target: Tensor,
  weight: Tensor | null,
  eps: number,
  reduction: Reduction,
  classAxis: number,
): Tensor {
  const classes = input.shape[classAxis];
  const logp = logSoftmax(input, classAxis);
  const q = eps > 0 ? add(mul(target, 1 - eps), eps / classes) : target;
  let terms = mul(logp, q);
  if (weight !== null) {
    const w = cast(weight, input.dtype);
    terms = mul(terms, input.ndim === 1 ? w : classView(w, input.ndim));
  }
  if (reduction === 'none') return neg(sum(terms, { axis: classAxis }));
  const total = neg(sum(terms));
  return reduction === 'sum' ? total : div(total, input.size / classes);
}

/**
 * Mean squared error `(input − target)²`, as `torch.nn.functional.mse_loss` (Keras
 * `MeanSquaredError` with `'mean'`). `input` and `target` must have the same shape (PyTorch
 * would broadcast them with a warning; Keel raises a ShapeError, since a `[N]` target against
 * `[N, 1]` predictions silently becomes an `[N, N]` loss). The target is converted to the input's
 * dtype; both get gradients.
 */
export function mse(input: Tensor, target: Tensor, options?: ReductionOptions): Tensor {
  const fn = 'mse';
  const reduction = checkReduction(fn, options?.reduction);
  checkFloatInput(fn, 'input', input);
  checkSameShape(fn, input, target);
  const d = sub(input, cast(target, input.dtype));
  return reduce(mul(d, d), reduction);
}

/** Mean absolute error `|input − target|`, as `torch.nn.functional.l1_loss`; shapes as {@link mse}. */
export function l1(input: Tensor, target: Tensor, options?: ReductionOptions): Tensor {
  const fn = 'l1';
  const reduction = checkReduction(fn, options?.reduction);
  checkFloatInput(fn, 'input', input);
  checkSameShape(fn, input, target);
  return reduce(abs(sub(input, cast(target, input.dtype))), reduction);
}

/** `where(|d| < c, quadratic, linear)`; `where` keeps the unused branch's gradient out. */
function piecewise(d: Tensor, c: number, quadratic: (d: Tensor) => Tensor, linear: (ad: Tensor) => Tensor): Tensor {
  const ad = abs(d);
  return where(lt(ad, c), quadratic(d), linear(ad));
}

/**
 * Huber loss, as `torch.nn.functional.huber_loss` (and Keras `Huber`): with `d = input − target`,
 * `½d²` where `|d| < delta`, else `delta·(|d| − ½delta)`. `delta` (default 1) must be > 0.
 * Shapes as {@link mse}.
 */
export function huber(input: Tensor, target: Tensor, options?: HuberOptions): Tensor {
  const fn = 'huber';
  const reduction = checkReduction(fn, options?.reduction);
  const delta = checkDelta(fn, options?.delta);
  checkFloatInput(fn, 'input', input);
  checkSameShape(fn, input, target);
  const d = sub(input, cast(target, input.dtype));
  const loss = piecewise(
    d,
    delta,
    (x) => mul(mul(x, x), 0.5),
    (ax) => mul(sub(ax, 0.5 * delta), delta),
  );
  return reduce(loss, reduction);
}

/**
 * Smooth L1 loss, as `torch.nn.functional.smooth_l1_loss`: with `d = input − target`,
 * `½d²/beta` where `|d| < beta`, else `|d| − ½beta`; `beta` (default 1) must be ≥ 0, and 0 gives
 * {@link l1} (as PyTorch). Equal to `huber(delta = beta) / beta`. Shapes as {@link mse}.
 */
export function smoothL1(input: Tensor, target: Tensor, options?: SmoothL1Options): Tensor {
  const fn = 'smoothL1';
  const reduction = checkReduction(fn, options?.reduction);
  const beta = checkBeta(fn, options?.beta);
  checkFloatInput(fn, 'input', input);
  checkSameShape(fn, input, target);
  const d = sub(input, cast(target, input.dtype));
  if (beta === 0) return reduce(abs(d), reduction);
  const loss = piecewise(
    d,
    beta,
    (x) => mul(mul(x, x), 0.5 / beta),
    (ax) => sub(ax, 0.5 * beta),
  );
  return reduce(loss, reduction);
}

/**
 * Reads the probabilities on the host and checks each is in [0, 1], as PyTorch does on the CPU
 * ("all elements of input should be between 0 and 1"); NaN fails too.
 */
function checkProbabilities(fn: string, x: Tensor): void {
  const values = x.toTypedArray();
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (v >= 0 && v <= 1) continue;
    throw new ConfigError(
      `${fn}: input must hold probabilities in [0, 1] (found ${v}${x.ndim === 0 ? '' : ` at index ${position(k, x.shape)}`}); ` +
        `for logits use bceWithLogits, or put a sigmoid before the loss`,
    );
  }
}

/**
 * Binary cross-entropy on probabilities, as `torch.nn.functional.binary_cross_entropy` (PyTorch
 * style; Keras' version is {@link binaryCrossentropy}): per element
 * `−weight·(y·max(log x, −100) + (1 − y)·max(log(1 − x), −100))`, with `input` x in [0, 1]
 * (checked on the host, as PyTorch does on the CPU) and `target` y of the same shape. The logs
 * are clamped at −100 so that x = 0 or 1 gives a finite loss (at most 100).
 *
 * The gradient with respect to x is PyTorch's formula `weight·(x − y) / max(x·(1 − x), 1e-12)`,
 * not the derivative of the clamped forward: the latter is 0 where a log is clamped (a confidently
 * wrong x = 0 for y = 1 would get no gradient) and overflows float32 for x below about 3e-39, where
 * PyTorch's stays finite (at most 1e12·weight). The gradient with respect to y is the derivative of
 * the forward above, `−weight·(max(log x, −100) − max(log(1 − x), −100))`, which equals PyTorch's
 * wherever no log is clamped (PyTorch's is infinite at x = 0 or 1). Prefer {@link bceWithLogits}
 * after a sigmoid: it is exact and stable for any logit.
 */
export function bce(input: Tensor, target: Tensor, options?: BCEOptions): Tensor {
  const fn = 'bce';
  const reduction = checkReduction(fn, options?.reduction);
  const weight = constant(checkFloatWeight(fn, 'weight', options?.weight));
  checkFloatInput(fn, 'input', input);
  checkSameShape(fn, input, target);
  if (weight !== null) checkBroadcastsTo(fn, 'weight', weight, input.shape);
  checkProbabilities(fn, input);
  const x = input;
  const y = cast(target, x.dtype);
  // Forward value: the clamped logs are constants for the input's gradient (see above).
  const xc = x.detach();
  const logX = maximum(log(xc), -100);
  const log1mX = maximum(log(sub(1, xc)), -100);
  const value = sub(mul(sub(y, 1), log1mX), mul(y, logX));
  // PyTorch's input gradient, joined on as (x − x̄)·coef: exactly 0 in the forward, coef in the
  // backward. coef is finite (its denominator is at least 1e-12), so 0·coef never makes a NaN.
  const coef = div(sub(xc, y.detach()), maximum(mul(xc, sub(1, xc)), 1e-12));
  let loss = add(value, mul(sub(x, xc), coef));
  if (weight !== null) loss = mul(loss, cast(weight, x.dtype));
  return reduce(loss, reduction);
}

/**
 * Binary cross-entropy on logits, as `torch.nn.functional.binary_cross_entropy_with_logits`:
 * per element `weight·((1 − y)·x + l·softplus(−x))` with `l = 1 + (posWeight − 1)·y`, which is
 * `−weight·(posWeight·y·log σ(x) + (1 − y)·log(1 − σ(x)))` computed without overflow for any x.
 * `target` y has the input's shape; `weight` and `posWeight` broadcast against it (`posWeight` is
 * typically `[C]`, one per class on the last axis). Gradients flow to input and target.
 */
export function bceWithLogits(input: Tensor, target: Tensor, options?: BCEWithLogitsOptions): Tensor {
  const fn = 'bceWithLogits';
  const reduction = checkReduction(fn, options?.reduction);
  const weight = constant(checkFloatWeight(fn, 'weight', options?.weight));
  const posWeight = constant(checkFloatWeight(fn, 'posWeight', options?.posWeight));
  checkFloatInput(fn, 'input (logits)', input);
  checkSameShape(fn, input, target);
  if (weight !== null) checkBroadcastsTo(fn, 'weight', weight, input.shape);
  if (posWeight !== null) checkBroadcastsTo(fn, 'posWeight', posWeight, input.shape);
  const x = input;
  const y = cast(target, x.dtype);
  // softplus(−x) = −log σ(x) = log(1 + e^{−x}), linear (no overflow) for −x > 20.
  const negLogSigmoid = softplus(neg(x));
  const l = posWeight === null ? negLogSigmoid : mul(add(mul(sub(cast(posWeight, x.dtype), 1), y), 1), negLogSigmoid);
  let loss = add(mul(sub(1, y), x), l);
  if (weight !== null) loss = mul(loss, cast(weight, x.dtype));
  return reduce(loss, reduction);
}

// ---------------------------------------------------------------------------------------------
// Keras-style losses: (yTrue, yPred), probabilities by default.

/**
 * Keras' log-probabilities along the last axis: log-softmax of logits, or of probabilities first
 * renormalized to sum to 1 and clipped to [1e-7, 1 − 1e-7] (Keras 3's `categorical_crossentropy`
 * and `sparse_categorical_crossentropy` in its JAX, PyTorch and NumPy backends).
 */
function kerasLogProbabilities(yPred: Tensor, fromLogits: boolean): Tensor {
  if (fromLogits) return logSoftmax(yPred, -1);
  const p = div(yPred, sum(yPred, { axis: -1, keepDims: true }));
  return log(clamp(p, KERAS_EPSILON, 1 - KERAS_EPSILON));
}

function checkRank1(fn: string, yPred: Tensor): void {
  if (yPred.ndim === 0) throw new ShapeError(`${fn}: yPred must have a class axis last, e.g. [N, C] (got a scalar)`);
}

/**
 * Keras' `sparse_categorical_crossentropy` (Keras `SparseCategoricalCrossentropy`): `yTrue` int32
 * class indices `[N, ...]` (a trailing size-1 axis, `[N, 1]`, is squeezed as Keras does), `yPred`
 * `[N, ..., C]` with classes on the **last** axis. Per sample `−log p[yTrue]`, where p is
 * `softmax(yPred)` with `fromLogits`, else `yPred` renormalized to sum to 1 over the last axis and
 * clipped to [1e-7, 1 − 1e-7] (so a probability of 0 costs at most −log 1e-7 ≈ 16.1, never
 * infinity). `'mean'` (Keras' `sum_over_batch_size`) averages over all samples.
 *
 * Keras' backends differ slightly on unnormalized probabilities (TensorFlow clips first and
 * normalizes after); on the output of a softmax all agree. Labels outside [0, C−1] are a
 * ConfigError (Keras' JAX backend would silently score them 0).
 */
export function sparseCategoricalCrossentropy(yTrue: Tensor, yPred: Tensor, options?: SparseCategoricalCrossentropyOptions): Tensor {
  const fn = 'sparseCategoricalCrossentropy';
  const reduction = checkReduction(fn, options?.reduction);
  checkFloatInput(fn, 'yPred', yPred);
  checkRank1(fn, yPred);
  if (yTrue.dtype !== 'int32')
    throw new DTypeError(
      `${fn}: yTrue must be int32 class indices (got ${yTrue.dtype}); convert with yTrue.cast('int32'), or use categoricalCrossentropy for one-hot targets`,
    );
  const labels = yTrue.ndim === yPred.ndim && yTrue.shape[yTrue.ndim - 1] === 1 ? squeeze(yTrue, -1) : yTrue;
  const expected = yPred.shape.slice(0, -1);
  if (!shapesEqual(labels.shape, expected)) {
    if (labels.ndim >= 1 && expected.length >= 1 && labels.shape[0] !== expected[0])
      throw new ShapeError(
        `${fn}: batch sizes differ: yPred ${fmtShape(yPred.shape)} has ${expected[0]} samples but yTrue ${fmtShape(yTrue.shape)} has ${labels.shape[0]}`,
      );
    throw new ShapeError(
      `${fn}: yTrue shape ${fmtShape(yTrue.shape)} does not fit yPred shape ${fmtShape(yPred.shape)}: labels must have shape ${fmtShape(expected)} (or ${fmtShape([...expected, 1])})`,
    );
  }
  checkClassRange(fn, labels, yPred.shape[yPred.ndim - 1], yPred.shape, null, ['yPred', 'yTrue']);
  const logp = kerasLogProbabilities(yPred, options?.fromLogits ?? false);
  const perSample = neg(squeeze(gather(logp, -1, unsqueeze(labels, -1)), -1));
  return reduce(perSample, reduction);
}

/**
 * Keras' `categorical_crossentropy` (Keras `CategoricalCrossentropy`): `yTrue` one-hot or
 * probabilities, `yPred` probabilities (or logits with `fromLogits`), both `[N, ..., C]` with
 * classes last. With `labelSmoothing` ε the target becomes `yTrue·(1 − ε) + ε/C`. Per sample
 * `−Σ_c yTrue[c]·log p[c]`, p as in {@link sparseCategoricalCrossentropy} (renormalized, then
 * clipped to [1e-7, 1 − 1e-7]); `'mean'` averages over samples.
 */
export function categoricalCrossentropy(yTrue: Tensor, yPred: Tensor, options?: KerasCrossentropyOptions): Tensor {
  const fn = 'categoricalCrossentropy';
  const reduction = checkReduction(fn, options?.reduction);
  const eps = checkLabelSmoothing(fn, options?.labelSmoothing);
  checkFloatInput(fn, 'yPred', yPred);
  checkRank1(fn, yPred);
  checkSameShape(fn, yPred, yTrue, ['yPred', 'yTrue']);
  let q = cast(yTrue, yPred.dtype);
  if (eps > 0) q = add(mul(q, 1 - eps), eps / yPred.shape[yPred.ndim - 1]);
  const logp = kerasLogProbabilities(yPred, options?.fromLogits ?? false);
  return reduce(neg(sum(mul(q, logp), { axis: -1 })), reduction);
}

/**
 * Keras' `binary_crossentropy` (Keras `BinaryCrossentropy`; PyTorch's is {@link bce}): `yTrue`
 * and `yPred` of the same shape; with `labelSmoothing` ε the target becomes `yTrue·(1 − ε) + ε/2`.
 * On probabilities (the default) p is clipped to [1e-7, 1 − 1e-7] and the elementwise loss is
 * `−(y·log p + (1 − y)·log(1 − p))`; with `fromLogits` it is `−y·log σ(x) − (1 − y)·log σ(−x)`,
 * computed stably. As Keras, each sample's loss is the **mean over the last axis** (a 1-D input is
 * one sample), then `'mean'` averages the samples and `'none'` returns them (shape without the
 * last axis).
 */
export function binaryCrossentropy(yTrue: Tensor, yPred: Tensor, options?: KerasCrossentropyOptions): Tensor {
  const fn = 'binaryCrossentropy';
  const reduction = checkReduction(fn, options?.reduction);
  const eps = checkLabelSmoothing(fn, options?.labelSmoothing);
  checkFloatInput(fn, 'yPred', yPred);
  checkSameShape(fn, yPred, yTrue, ['yPred', 'yTrue']);
  let y = cast(yTrue, yPred.dtype);
  if (eps > 0) y = add(mul(y, 1 - eps), 0.5 * eps);
  let elements: Tensor;
  if (options?.fromLogits ?? false) {
    // −log σ(x) = softplus(−x), −log σ(−x) = softplus(x).
    elements = add(mul(y, softplus(neg(yPred))), mul(sub(1, y), softplus(yPred)));
  } else {
    const p = clamp(yPred, KERAS_EPSILON, 1 - KERAS_EPSILON);
    elements = neg(add(mul(y, log(p)), mul(sub(1, y), log(sub(1, p)))));
  }
  const perSample = elements.ndim === 0 ? elements : mean(elements, { axis: -1 });
  return reduce(perSample, reduction);
}
