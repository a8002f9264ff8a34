/**
 * Method sugar: `x.add(y).relu().sum()` for the functional API. Installed on `Tensor.prototype`
 * when this module is imported (the package entry point does it).
 */
import { type BackwardOptions, backward } from '../autograd/backward.js';
import { registerHook } from '../autograd/hooks.js';
import type { GradHook } from '../autograd/node.js';
import type { DType } from '../core/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import * as E from './elementwise.js';
import * as I from './inplace.js';
import { matmul } from './linalg.js';
import * as R from './reduce.js';
import type { TensorLike } from './scalar.js';
import * as S from './shape.js';
import { logSoftmax, softmax } from './softmax.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** Gradients of this tensor with respect to the leaves; see {@link backward}. */
    backward(gradient?: Tensor, options?: BackwardOptions): void;
    /** Calls `hook` with this tensor's gradient during backward; returns its remover. */
    registerHook(hook: GradHook): () => void;
    add(other: TensorLike): Tensor;
    sub(other: TensorLike): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    pow(exponent: TensorLike): Tensor;
    maximum(other: TensorLike): Tensor;
    minimum(other: TensorLike): Tensor;
    gt(other: TensorLike): Tensor;
    ge(other: TensorLike): Tensor;
    lt(other: TensorLike): Tensor;
    le(other: TensorLike): Tensor;
    eq(other: TensorLike): Tensor;
    ne(other: TensorLike): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    square(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    sum(options?: R.ReduceOptions): Tensor;
    mean(options?: R.ReduceOptions): Tensor;
    max(options?: R.ReduceOptions): Tensor;
    min(options?: R.ReduceOptions): Tensor;
    var(options?: R.VarOptions): Tensor;
    std(options?: R.VarOptions): Tensor;
    argmax(options?: R.ArgOptions): Tensor;
    argmin(options?: R.ArgOptions): Tensor;
    matmul(other: Tensor): Tensor;
    reshape(shape: readonly number[]): Tensor;
    flatten(startAxis?: number, endAxis?: number): Tensor;
    permute(dims: readonly number[]): Tensor;
    transpose(axis0?: number, axis1?: number): Tensor;
    /** The matrix transpose (last two axes swapped), a view. */
    readonly T: Tensor;
    expand(shape: readonly number[]): Tensor;
    unsqueeze(axis: number): Tensor;
    squeeze(axis?: number | readonly number[]): Tensor;
    slice(specs: readonly S.SliceSpec[]): Tensor;
    contiguous(): Tensor;
    clone(): Tensor;
    cast(dtype: DType): Tensor;
    softmax(axis?: number): Tensor;
    /** In place: copies `src` into this tensor. */
    copy_(src: TensorLike): this;
    /** In place: sets every element to `value`. */
    fill_(value: number): this;
    /** In place: sets every element to 0. */
    zero_(): this;
    /** In place: `this += alpha·other`. */
    add_(other: TensorLike, alpha?: number): this;
    /** In place: `this −= alpha·other`. */
    sub_(other: TensorLike, alpha?: number): this;
    /** In place: `this *= other`. */
    mul_(other: TensorLike): this;
    /** In place: `this /= other`. */
    div_(other: TensorLike): this;
    /** In place: clamps into `[min, max]`. */
    clamp_(min?: number | null, max?: number | null): this;
    logSoftmax(axis?: number): Tensor;
  }
}

const P = Tensor.prototype;
P.backward = function (this: Tensor, gradient?: Tensor, options?: BackwardOptions) {
  backward(this, gradient, options);
};
P.registerHook = function (this: Tensor, hook: GradHook) {
  return registerHook(this, hook);
};
P.add = function (this: Tensor, o: TensorLike) { return E.add(this, o); };
P.sub = function (this: Tensor, o: TensorLike) { return E.sub(this, o); };
P.mul = function (this: Tensor, o: TensorLike) { return E.mul(this, o); };
P.div = function (this: Tensor, o: TensorLike) { return E.div(this, o); };
P.pow = function (this: Tensor, o: TensorLike) { return E.pow(this, o); };
P.maximum = function (this: Tensor, o: TensorLike) { return E.maximum(this, o); };
P.minimum = function (this: Tensor, o: TensorLike) { return E.minimum(this, o); };
P.gt = function (this: Tensor, o: TensorLike) { return E.gt(this, o); };
P.ge = function (this: Tensor, o: TensorLike) { return E.ge(this, o); };
P.lt = function (this: Tensor, o: TensorLike) { return E.lt(this, o); };
P.le = function (this: Tensor, o: TensorLike) { return E.le(this, o); };
P.eq = function (this: Tensor, o: TensorLike) { return E.eq(this, o); };
P.ne = function (this: Tensor, o: TensorLike) { return E.ne(this, o); };
P.neg = function (this: Tensor) { return E.neg(this); };
P.exp = function (this: Tensor) { return E.exp(this); };
P.log = function (this: Tensor) { return E.log(this); };
P.sqrt = function (this: Tensor) { return E.sqrt(this); };
P.abs = function (this: Tensor) { return E.abs(this); };
P.sign = function (this: Tensor) { return E.sign(this); };
P.square = function (this: Tensor) { return E.square(this); };
P.tanh = function (this: Tensor) { return E.tanh(this); };
P.sigmoid = function (this: Tensor) { return E.sigmoid(this); };
P.relu = function (this: Tensor) { return E.relu(this); };
P.clamp = function (this: Tensor, lo?: number | null, hi?: number | null) { return E.clamp(this, lo, hi); };
P.sum = function (this: Tensor, o?: R.ReduceOptions) { return R.sum(this, o); };
P.mean = function (this: Tensor, o?: R.ReduceOptions) { return R.mean(this, o); };
P.max = function (this: Tensor, o?: R.ReduceOptions) { return R.max(this, o); };
P.min = function (this: Tensor, o?: R.ReduceOptions) { return R.min(this, o); };
P.var = function (this: Tensor, o?: R.VarOptions) { return R.variance(this, o); };
P.std = function (this: Tensor, o?: R.VarOptions) { return R.std(this, o); };
P.argmax = function (this: Tensor, o?: R.ArgOptions) { return R.argmax(this, o); };
P.argmin = function (this: Tensor, o?: R.ArgOptions) { return R.argmin(this, o); };
P.matmul = function (this: Tensor, o: Tensor) { return matmul(this, o); };
P.reshape = function (this: Tensor, s: readonly number[]) { return S.reshape(this, s); };
P.flatten = function (this: Tensor, a?: number, b?: number) { return S.flatten(this, a, b); };
P.permute = function (this: Tensor, d: readonly number[]) { return S.permute(this, d); };
P.transpose = function (this: Tensor, a?: number, b?: number) { return S.transpose(this, a, b); };
Object.defineProperty(P, 'T', {
  get(this: Tensor) { return S.transpose(this); },
  configurable: true,
});
P.expand = function (this: Tensor, s: readonly number[]) { return S.expand(this, s); };
P.unsqueeze = function (this: Tensor, a: number) { return S.unsqueeze(this, a); };
P.squeeze = function (this: Tensor, a?: number | readonly number[]) { return S.squeeze(this, a); };
P.slice = function (this: Tensor, s: readonly S.SliceSpec[]) { return S.slice(this, s); };
P.contiguous = function (this: Tensor) { return S.contiguous(this); };
P.clone = function (this: Tensor) { return S.clone(this); };
P.cast = function (this: Tensor, d: DType) { return S.cast(this, d); };
P.softmax = function (this: Tensor, a?: number) { return softmax(this, a); };
P.logSoftmax = function (this: Tensor, a?: number) { return logSoftmax(this, a); };
P.copy_ = function (this: Tensor, s: TensorLike) { I.copy_(this, s); return this; };
P.fill_ = function (this: Tensor, v: number) { I.fill_(this, v); return this; };
P.zero_ = function (this: Tensor) { I.zero_(this); return this; };
P.add_ = function (this: Tensor, o: TensorLike, alpha?: number) { I.add_(this, o, alpha); return this; };
P.sub_ = function (this: Tensor, o: TensorLike, alpha?: number) { I.sub_(this, o, alpha); return this; };
P.mul_ = function (this: Tensor, o: TensorLike) { I.mul_(this, o); return this; };
P.div_ = function (this: Tensor, o: TensorLike) { I.div_(this, o); return this; };
P.clamp_ = function (this: Tensor, lo?: number | null, hi?: number | null) { I.clamp_(this, lo, hi); return this; };
