import type { Backend, BackendBuffer, View } from '../backend/backend.js';
import { type DType, type TypedArray, isFloat } from '../core/dtype.js';
import { DTypeError, DisposedError, ShapeError, fmtShape } from '../core/errors.js';
import { contiguousStrides, numel } from '../core/shape.js';
import { formatTensor } from './format.js';
import { type Disposable, track } from './scope.js';
import { Storage } from './storage.js';

/** What autograd attaches to a tensor that an operation produced. */
export interface GradFn {
  /** The operation's name, e.g. `MulBackward`. */
  readonly name: string;
  /** @internal The output that `retainGrad()` asked to receive its gradient in `.grad`. */
  retainTarget: Tensor | null;
}

// Frees the storage of tensors that were garbage collected without `dispose()`.
const finalizer = new FinalizationRegistry<Storage>((s) => s.release());

let nextId = 0;

/**
 * An n-dimensional array on a backend, with autograd. A tensor is a strided view of a shared
 * {@link Storage}: reshapes, transposes, expands and slices make new tensors over the same memory.
 */
export class Tensor implements View, Disposable {
  /** A process-unique id, handy in logs and maps. */
  readonly id = nextId++;
  /** Exempt from `tidy` (parameters, gradients held by leaves). */
  kept = false;
  /** Gradient accumulated by `backward()` (leaves, and non-leaves that called `retainGrad()`). */
  grad: Tensor | null = null;
  /** The operation that produced this tensor, when it needs a gradient; null for leaves. */
  gradFn: GradFn | null = null;
  /** Whether `backward()` stores this non-leaf's gradient in `.grad`. */
  retainsGrad = false;
  private requires = false;
  private disposedFlag = false;

  /** @internal Use the creation functions (`tensor`, `zeros`, ...) instead. */
  constructor(
    /** @internal */ readonly storage: Storage,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
    readonly offset: number,
    readonly dtype: DType,
  ) {
    finalizer.register(this, storage, this);
    track(this);
  }

  /**
   * @internal A new contiguous tensor over a fresh buffer: zero-filled, or with `zero` false
   * left as it is, for outputs that a kernel overwrites entirely.
   */
  static empty(backend: Backend, shape: readonly number[], dtype: DType, zero = true): Tensor {
    const storage = new Storage(backend, backend.alloc(dtype, numel(shape), zero));
    return new Tensor(storage, shape, contiguousStrides(shape), 0, dtype);
  }

  /** @internal A view of this tensor's storage with another shape/strides/offset. */
  view(shape: readonly number[], strides: readonly number[], offset: number): Tensor {
    this.assertLive('view');
    return new Tensor(this.storage.retain(), shape, strides, offset, this.dtype);
  }

  /**
   * A tensor over the same memory with no autograd history, as PyTorch's `detach()`: changes to
   * one are seen by the other, and no gradient flows through it.
   */
  detach(): Tensor {
    return this.view(this.shape, this.strides, this.offset);
  }

  /** @internal The backend buffer; throws if the tensor was disposed. */
  get buf(): BackendBuffer {
    const b = this.storage.buf;
    if (b === null || this.disposedFlag) throw new DisposedError('Tensor: this tensor was disposed (by dispose() or tidy()) and cannot be used');
    return b;
  }

  /** The backend holding this tensor's memory. */
  get backend(): Backend {
    return this.storage.backend;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }

  /** Same as `size`, named as in PyTorch. */
  numel(): number {
    return numel(this.shape);
  }

  /** Whether this tensor was made by the user (not by a differentiable operation). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** Whether operations on this tensor are recorded for `backward()`. */
  get requiresGrad(): boolean {
    return this.requires;
  }

  set requiresGrad(value: boolean) {
    if (value && !isFloat(this.dtype))
      throw new DTypeError(`requiresGrad: only floating-point tensors can require gradients (this one is ${this.dtype})`);
    if (!value && this.gradFn !== null)
      throw new DTypeError(
        'requiresGrad: cannot turn off gradients of a non-leaf tensor (use detach() to get a tensor without history)',
      );
    this.requires = value;
  }

  /** Sets `requiresGrad` and returns this tensor, as PyTorch's `requires_grad_()`. */
  requiresGrad_(value = true): this {
    this.requiresGrad = value;
    return this;
  }

  /** Keeps this non-leaf tensor's gradient in `.grad` after `backward()`. */
  retainGrad(): this {
    if (!this.requires) throw new DTypeError('retainGrad: this tensor does not require gradients');
    if (this.gradFn !== null) {
      this.retainsGrad = true;
      this.gradFn.retainTarget = this; // backward() fills `.grad` of its node's target
    }
    return this;
  }

  /**
   * @internal Whether this tensor is the whole of its buffer, laid out contiguously from element 0,
   * so that whole-buffer kernels (clipping's scale, fused optimizer steps) can take it.
   */
  ownsBuffer(): boolean {
    return this.offset === 0 && this.size === this.storage.size && this.isContiguous();
  }

  /**
   * @internal `Σ x²` of this tensor in float64 when the kernel that wrote its buffer recorded it
   * (see {@link Storage.noteSumSquares}) and the tensor is the whole buffer; otherwise undefined.
   */
  knownSumSquares(): number | undefined {
    return !this.disposedFlag && this.ownsBuffer() ? this.storage.knownSumSquares() : undefined;
  }

  /** Whether the elements are laid out row-major with no gaps. */
  isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== expected) return false;
      expected *= this.shape[i];
    }
    return true;
  }

  /** Whether the tensor's memory was released. */
  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  /** Releases this tensor's hold on its memory. Using the tensor afterwards throws. Idempotent. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    finalizer.unregister(this);
    this.storage.release();
  }

  /** @internal Throws a clear error if the tensor was disposed. */
  assertLive(op: string): void {
    if (this.disposedFlag || this.storage.isFreed)
      throw new DisposedError(`${op}: the tensor was disposed (by dispose() or tidy()) and cannot be used`);
  }

  /** The elements in row-major order, as a new typed array of this tensor's dtype. */
  toTypedArray(): TypedArray {
    this.assertLive('toTypedArray');
    const n = this.size;
    if (this.isContiguous()) return this.backend.read(this.buf, this.offset, n);
    const tmp = Tensor.empty(this.backend, this.shape, this.dtype, false);
    this.backend.copy(this, tmp);
    const out = this.backend.read(tmp.buf, 0, n);
    tmp.dispose();
    return out;
  }

  /** The value of a one-element tensor, as a number. */
  item(): number {
    if (this.size !== 1)
      throw new ShapeError(`item: only one-element tensors can be converted to a number (shape is ${fmtShape(this.shape)})`);
    return this.toTypedArray()[0];
  }

  /** The elements as nested arrays (a number for a 0-d tensor), as PyTorch's `tolist()`. */
  toArray(): NestedArray {
    const flat = this.toTypedArray();
    const build = (dim: number, start: number): NestedArray => {
      if (dim === this.shape.length) return flat[start];
      const stride = numel(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[dim]; i++) out.push(build(dim + 1, start + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /** Prints like PyTorch: `tensor([[1., 2.], [3., 4.]], requiresGrad=true)`. */
  toString(): string {
    if (this.isDisposed) return 'tensor(<disposed>)';
    return formatTensor(this.toTypedArray(), this.shape, {
      dtype: this.dtype,
      requiresGrad: this.requires,
      gradFn: this.gradFn?.name ?? null,
    });
  }

  /** Node's `console.log` uses this. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** A number or arbitrarily nested arrays of numbers. */
export type NestedArray = number | NestedArray[];
