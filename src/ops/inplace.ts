import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { broadcastView } from '../autograd/run.js';
import { GraphError, ShapeError, fmtShape } from '../core/errors.js';
import { broadcastShapes, shapesEqual } from '../core/shape.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import * as E from './elementwise.js';
import { type TensorLike, toTensor } from './scalar.js';

/**
 * In-place updates, named with a trailing `_` as in PyTorch. They write into the tensor's own
 * memory (so views and optimizers holding it see the change) and are not recorded by autograd:
 * use them on parameters inside `noGrad`, or on tensors that do not require gradients.
 */

/** Runs an update without recording it and frees its temporaries (scalars, intermediates). */
function update(fn: () => void): void {
  noGrad(() => tidy(fn));
}

function checkWritable(op: string, t: Tensor): void {
  t.assertLive(op);
  if (t.requiresGrad && isGradEnabled())
    throw new GraphError(
      `${op}: a tensor that requires grad cannot be modified in place while gradients are recorded; wrap the update in noGrad(() => ...) (as optimizers do)`,
    );
}

/** Writes `src` (broadcast to `dst`'s shape) into `dst`. */
function assign(op: string, dst: Tensor, src: Tensor): Tensor {
  const shape = broadcastShapes(op, dst.shape, src.shape);
  if (!shapesEqual(shape, dst.shape))
    throw new ShapeError(`${op}: a value of shape ${fmtShape(src.shape)} does not broadcast to the tensor's shape ${fmtShape(dst.shape)}`);
  if (dst.size > 0) dst.backend.copy(broadcastView(src, dst.shape), dst);
  return dst;
}

/** Copies `src` (broadcasting) into `dst`, converting dtype. Returns `dst`. */
export function copy_(dst: Tensor, src: TensorLike): Tensor {
  checkWritable('copy_', dst);
  update(() => void assign('copy_', dst, toTensor(src, dst)));
  return dst;
}

/** Sets every element to `value`. Returns `t`. */
export function fill_(t: Tensor, value: number): Tensor {
  checkWritable('fill_', t);
  if (t.ownsBuffer()) t.backend.fill(t.buf, value);
  else copy_(t, value);
  return t;
}

/** Sets every element to 0. Returns `t`. */
export function zero_(t: Tensor): Tensor {
  return fill_(t, 0);
}

function binaryInPlace(op: 'add' | 'sub' | 'mul' | 'div', name: string, t: Tensor, other: TensorLike): Tensor {
  checkWritable(name, t);
  update(() => {
    const o = toTensor(other, t);
    const shape = broadcastShapes(name, t.shape, o.shape);
    if (!shapesEqual(shape, t.shape))
      throw new ShapeError(`${name}: the operand's shape ${fmtShape(o.shape)} does not broadcast to the tensor's shape ${fmtShape(t.shape)}`);
    if (t.ownsBuffer()) {
      // Elementwise kernels read element i before writing it, so the output may alias `t`.
      if (t.size > 0) t.backend.binary(op, t, broadcastView(o, t.shape), t.buf);
    } else {
      assign(name, t, E[op](t, o));
    }
  });
  return t;
}

/** `t += alpha·other` in place (alpha defaults to 1), as PyTorch's `add_(other, alpha=...)`. */
export function add_(t: Tensor, other: TensorLike, alpha = 1): Tensor {
  if (alpha === 1 || typeof other === 'number') return binaryInPlace('add', 'add_', t, typeof other === 'number' ? other * alpha : other);
  update(() => void binaryInPlace('add', 'add_', t, E.mul(other, alpha)));
  return t;
}

/** `t −= alpha·other` in place. */
export function sub_(t: Tensor, other: TensorLike, alpha = 1): Tensor {
  if (typeof other === 'number') return binaryInPlace('sub', 'sub_', t, other * alpha);
  return alpha === 1 ? binaryInPlace('sub', 'sub_', t, other) : add_(t, other, -alpha);
}

/** `t *= other` in place. */
export function mul_(t: Tensor, other: TensorLike): Tensor {
  return binaryInPlace('mul', 'mul_', t, other);
}

/** `t /= other` in place. */
export function div_(t: Tensor, other: TensorLike): Tensor {
  return binaryInPlace('div', 'div_', t, other);
}

/** Clamps each element into `[min, max]` in place. */
export function clamp_(t: Tensor, min?: number | null, max?: number | null): Tensor {
  checkWritable('clamp_', t);
  update(() => void assign('clamp_', t, E.clamp(t, min, max)));
  return t;
}
