import type { DType } from '../core/dtype.js';
import type { GradFn, Tensor } from '../tensor/tensor.js';

/** Sees (and may replace) a gradient as backward computes it. */
export type GradHook = (grad: Tensor) => Tensor | void;

/** Where an input's gradient goes: the node that made it, or the leaf that accumulates it. */
export type Edge = Node | Tensor | null;

/**
 * One recorded operation: what backward needs to compute the gradients of its inputs. The saved
 * tensors are views that hold their memory until backward has used them (or the node is garbage).
 */
export class Node implements GradFn {
  /** Tensors the backward rule asked to keep; null once released. */
  saved: Tensor[] | null;
  /** A non-leaf output that called `retainGrad()` receives its gradient here. */
  retainTarget: Tensor | null = null;
  /** Hooks on the gradient of this node's output (registered on the non-leaf tensor). */
  hooks: Map<number, GradHook> | null = null;
  /** Set once backward has run without `retainGraph`. */
  released = false;

  constructor(
    readonly name: string,
    readonly prim: string,
    readonly params: unknown,
    readonly edges: Edge[],
    readonly inputShapes: (readonly number[])[],
    readonly inputDtypes: DType[],
    saved: Tensor[],
  ) {
    this.saved = saved;
  }

  /** Drops the saved tensors so their memory can be reused. */
  release(): void {
    if (this.saved !== null) for (const t of this.saved) t.dispose();
    this.saved = null;
    this.released = true;
  }
}
