import type { DType, TypedArray } from '../core/dtype.js';

/**
 * The narrow memory-level interface every backend implements. A backend owns its buffers
 * (typed arrays for `js`, WebAssembly memory for `wasm`) and runs kernels on them; it never sees
 * tensors or autograd. Kernels read strided views and write contiguous outputs, so views
 * (transpose, expand, slice) never copy and broadcasting is a stride of 0.
 */

/** An opaque handle to `size` elements of `dtype`, owned by one backend. */
export interface BackendBuffer {
  readonly dtype: DType;
  readonly size: number;
}

/**
 * A strided view of a buffer: element `[i0, i1, ...]` lives at `offset + Σ ik·strides[k]`.
 * Operands of one kernel call have already been broadcast to a common shape by the caller.
 */
export interface View {
  readonly buf: BackendBuffer;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** Elementwise functions of one argument. */
export type UnaryOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'abs'
  | 'sign'
  | 'tanh'
  | 'sigmoid'
  | 'relu'
  | 'erf'
  | 'leakyRelu' // alpha
  | 'elu' // alpha
  | 'selu'
  | 'gelu'
  | 'geluTanh'
  | 'softplus'; // beta, threshold

/** Parameters of the parametrised unary ops. */
export interface UnaryParams {
  alpha?: number;
  beta?: number;
  threshold?: number;
}

/** Elementwise functions of two arguments; comparisons write 1 or 0. */
export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'gt'
  | 'ge'
  | 'lt'
  | 'le'
  | 'eq'
  | 'ne';

export type ReduceOp = 'sum' | 'max' | 'min';
export type ArgReduceOp = 'argmax' | 'argmin';

/** The kernels and memory management a backend must provide. */
export interface Backend {
  /** `'js'` or `'wasm'`. */
  readonly name: string;

  /**
   * A new buffer, zero-filled unless `zero` is false (for outputs a kernel will overwrite
   * entirely: zeroing them would be wasted memory traffic).
   */
  alloc(dtype: DType, size: number, zero?: boolean): BackendBuffer;
  /** Releases a buffer; using it afterwards (a second free included) is an error. */
  free(buf: BackendBuffer): void;
  /** A copy of `length` elements from `start` (default: all of it). */
  read(buf: BackendBuffer, start?: number, length?: number): TypedArray;
  /** Writes `data` (converted to the buffer's dtype) starting at element `start`. */
  write(buf: BackendBuffer, data: ArrayLike<number>, start?: number): void;

  /** Sets every element of `out` to `value`. */
  fill(out: BackendBuffer, value: number): void;
  /** Copies `src` into `dst` element by element (same shape; dtypes may differ: converts). */
  copy(src: View, dst: View): void;
  /** `out[i] = op(x[i])`; `out` is contiguous with `x`'s shape. */
  unary(op: UnaryOp, x: View, out: BackendBuffer, params?: UnaryParams): void;
  /** `out[i] = op(a[i], b[i])`; `a` and `b` have the same shape (broadcast by the caller). */
  binary(op: BinaryOp, a: View, b: View, out: BackendBuffer): void;
  /** `out[i] = cond[i] != 0 ? a[i] : b[i]`; all three views have the same shape. */
  where(cond: View, a: View, b: View, out: BackendBuffer): void;
  /** Reduces `axes` (sorted, unique) of `x`; `out` is contiguous with those axes removed. */
  reduce(op: ReduceOp, x: View, axes: readonly number[], out: BackendBuffer): void;
  /** Index (int32) of the max/min along `axis` (first one on ties); `axis` removed from the shape. */
  argReduce(op: ArgReduceOp, x: View, axis: number, out: BackendBuffer): void;
  /**
   * Batched matrix product `out[b] = a[b] · b[b]`. `a` is `[B, M, K]`, `b` is `[B, K, N]`, `out` is
   * contiguous `[B, M, N]`. Within a matrix each operand is row-major (column stride 1) or
   * transposed (row stride 1), with any leading stride (views cut from a larger tensor); the
   * batch stride may be anything, 0 included.
   */
  matmul(a: View, b: View, out: BackendBuffer): void;
  /**
   * {@link Backend.matmul}, returning `Σ out²` over the whole of `out` in float64, summed where the
   * product was written (a weight gradient's norm for clipping, without a second trip through
   * memory). The order of the sum may differ from {@link Backend.sumSquares}'s (wasm sums 8-column
   * panels), so the two agree to rounding, ≈1e-7 relative; it never depends on the thread count.
   * Null when measuring would cost more than the separate pass it saves (the product is computed
   * all the same): the caller then records nothing, and clipping sums the gradient itself.
   */
  matmulSquares(a: View, b: View, out: BackendBuffer): number | null;
  /**
   * `out[..., i, ...] = x[..., index[..., i, ...], ...]` along `axis` (as `torch.gather`): `out`
   * is contiguous with `index`'s shape; `index` is int32 and every entry must be in range.
   */
  gather(x: View, axis: number, index: View, out: BackendBuffer): void;
  /**
   * The adjoint of `gather`: `out[..., index[..., i, ...], ...] += src[..., i, ...]` along `axis`.
   * `out` is a contiguous buffer of shape `outShape`; the sums are added to what it holds.
   */
  scatterAdd(out: BackendBuffer, outShape: readonly number[], axis: number, index: View, src: View): void;
  /**
   * `y ← alpha·x + beta·y`, the update step of optimizers: `y` is a contiguous buffer with `x`'s
   * element count, and `x` may be any view of that shape.
   */
  axpby(alpha: number, x: View, beta: number, y: BackendBuffer): void;
  /**
   * Optional: fills the whole float32 buffer `out` with `a + width·u` for uniforms u drawn from
   * the xoshiro128** state `state` (four words, advanced in place), exactly as
   * `Generator.fillUniform` draws them. Initializers use it where a backend has it.
   */
  uniform?(out: BackendBuffer, state: Uint32Array, a: number, width: number): void;
  /** `Σ x²` accumulated in float64, for gradient norms. */
  sumSquares(x: View): number;
  /**
   * What a training monitor measures of one parameter, in one pass over whole buffers of one float
   * dtype and size: `[Σ p², Σ (p − before)², Σ g²]` accumulated in float64, each difference rounded
   * to the dtype as `sub` rounds it; `g` null gives 0 for the last. `before` is a copy of `p` taken
   * before an optimizer step, so the middle sum is the squared norm of the update.
   */
  updateSquares(p: BackendBuffer, before: BackendBuffer, g: BackendBuffer | null): UpdateSquares;
  /**
   * Statistics of the values of a contiguous float view (a layer's output) for a training
   * monitor, read in place: see {@link ValueStats}. `bins` equal-width histogram bins (0: none);
   * `act` also counts that activation's saturated values, or for `'relu'` the dead units of the
   * layout `[shape[0], shape[1], rest]` (rank ≥ 2).
   */
  valueStats(x: View, bins: number, act: StatsActivation): ValueStats;
  /**
   * `y ← alpha·y` in place over the whole buffer, `alpha` first rounded to `y`'s dtype and each
   * product rounded once (as `y.mul_(alpha)`): the scaling of gradient clipping.
   */
  scale(y: BackendBuffer, alpha: number): void;
  /**
   * One PyTorch Adam step (no AMSGrad) over whole buffers of one float dtype and size, in place on
   * `p`, `m` and `v` (`g` is only read), every operation rounded to the dtype in the order of
   * the composition it replaces: `g ← g·gradScale`, `g ← g + wd·p` (when `weightDecay` ≠ 0),
   * `m ← β1·m + (1−β1)·g`, `v ← β2·v + ((1−β2)·g)·g`, `p ← p + ((m / (√v/√bc2 + ε))·(1/bc1))·(−lr)`.
   * With `measure`, the same pass also returns what {@link Backend.updateSquares} would give with
   * a copy of `p` from before the step (Σ g² of `g` as stored, before `gradScale`); else null.
   */
  adamStep(p: BackendBuffer, g: BackendBuffer, m: BackendBuffer, v: BackendBuffer, s: AdamStepScalars, measure?: boolean): UpdateSquares | null;
  /**
   * One LSTM cell step for `rows` samples of `hidden` units: from the gates' pre-activations
   * `gates` `[rows, 4·hidden]` (order i, f, g, o) and the previous cell state `c` `[rows, hidden]`,
   * writes `out` `[rows, 2·hidden]` contiguous = `[h' | c']` with i, f, o = σ(·), g = tanh(·),
   * `c' = f·c + i·g`, `h' = o·tanh(c')` (each operation rounded to the dtype, in that order).
   * Views are row-major (inner stride 1) with any row stride.
   */
  lstmCell(gates: View, c: View, out: BackendBuffer): void;
  /**
   * The backward of {@link Backend.lstmCell}: from its `gates`, `c`, `out` and the gradient `dout`
   * `[rows, 2·hidden]` of `out`, writes the gradients of the gates `dGates` `[rows, 4·hidden]` and of
   * the previous cell state `dC` `[rows, hidden]`, both contiguous.
   */
  lstmCellBackward(gates: View, c: View, out: View, dout: View, dGates: BackendBuffer, dC: BackendBuffer): void;
  /**
   * Softmax cross-entropy of each row of `logits` `[n, c]` against the int32 class indices `target`
   * `[n]`: `loss[r] = log Σ_j exp(x[r, j] − m) − (x[r, t_r] − m)` with m the row's maximum, into
   * the contiguous `loss` `[n]`. A target outside [0, c) is a ConfigError naming its row.
   */
  crossEntropyRows(logits: View, target: View, loss: BackendBuffer): void;
  /**
   * The backward of {@link Backend.crossEntropyRows}: `dx[r, j] = (softmax(x[r])_j − [j = t_r])·g[r]`
   * into the contiguous `dx` `[n, c]`, where `g` `[n]` is the gradient of each row's loss.
   */
  crossEntropyRowsBackward(logits: View, target: View, g: View, dx: BackendBuffer): void;
}

/** `[Σ p², Σ (p − p_before)², Σ g²]` of one parameter: its norm, its update's and its gradient's, squared. */
export type UpdateSquares = [param: number, update: number, grad: number];

/** An activation whose saturated values or dead units {@link Backend.valueStats} counts. */
export type StatsActivation = 'relu' | 'tanh' | 'sigmoid' | null;

/** What {@link Backend.valueStats} measures of a block of values. */
export interface ValueStats {
  /** `Σ x` and `Σ x²` over every value in float64 (a NaN or ±Inf makes them non-finite). */
  sum: number;
  sumSquares: number;
  /** The smallest and largest finite values (+Inf and −Inf when there is none). */
  min: number;
  max: number;
  /** How many values are NaN or ±Inf. */
  nonfinite: number;
  /** Counts of the finite values in equal bins over [min, max] (bin ⌊(x − min)·bins/(max − min)⌋, the top value in the last); empty without bins or finite values. */
  histogram: number[];
  /** `'tanh'`: values with |x| > 0.99; `'sigmoid'`: values below 0.01 or above 0.99; else 0. */
  saturated: number;
  /** `'relu'` on rank ≥ 2: units (axis 1) that are ≤ 0 (or NaN) for every sample and position; else 0. */
  dead: number;
}

/**
 * The scalars of one Adam step ({@link Backend.adamStep}), as the composition uses them; each is
 * rounded to the parameters' dtype by the kernel, as a number operand would be.
 */
export interface AdamStepScalars {
  /** Multiplies the gradient first (a clipping coefficient; 1 for none). */
  gradScale: number;
  /** L2 weight decay added to the gradient (0: none). */
  weightDecay: number;
  beta1: number;
  beta2: number;
  /** `1 − β1ᵗ`. */
  biasCorrection1: number;
  /** `1 − β2ᵗ`. */
  biasCorrection2: number;
  eps: number;
  lr: number;
}
