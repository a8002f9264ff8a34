import { scalarLike } from '../autograd/primitives.js';
import { Tensor } from '../tensor/tensor.js';

/** A tensor, or a number that broadcasts as a 0-d tensor. */
export type TensorLike = Tensor | number;

/**
 * A number becomes a 0-d tensor with the other operand's dtype and backend (float32 when the
 * other operand is int32 and the number is fractional, as PyTorch promotes).
 */
export function toTensor(x: TensorLike, like: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  const dtype = like.dtype === 'int32' && !Number.isInteger(x) ? 'float32' : like.dtype;
  return scalarLike(x, like, dtype);
}

/** Both operands as tensors; at least one must already be a tensor. */
export function pair(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (a instanceof Tensor) return [a, toTensor(b, a)];
  if (b instanceof Tensor) return [toTensor(a, b), b];
  throw new TypeError(`${op}: at least one operand must be a Tensor (got two numbers)`);
}
