import { GraphError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { type GradHook, Node } from './node.js';

const leafHooks = new WeakMap<Tensor, Map<number, GradHook>>();
let nextId = 0;

/**
 * Calls `hook` with the gradient of `t` each time backward computes it, as PyTorch's
 * `tensor.register_hook`; the hook may return a replacement gradient. On a leaf it runs before
 * the gradient is added to `.grad`. Returns a function that removes the hook.
 */
export function registerHook(t: Tensor, hook: GradHook): () => void {
  if (!t.requiresGrad) throw new GraphError('registerHook: the tensor does not require grad, so no gradient will reach the hook');
  const id = nextId++;
  let hooks: Map<number, GradHook>;
  if (t.gradFn instanceof Node) hooks = t.gradFn.hooks ??= new Map();
  else {
    hooks = leafHooks.get(t) ?? new Map();
    leafHooks.set(t, hooks);
  }
  hooks.set(id, hook);
  return () => void hooks.delete(id);
}

/** Runs the hooks on `g` in registration order. */
export function runHooks(hooks: Map<number, GradHook> | null | undefined, g: Tensor): Tensor {
  if (hooks === null || hooks === undefined) return g;
  for (const hook of hooks.values()) g = hook(g) ?? g;
  return g;
}

/** The hooks registered on a leaf. */
export function hooksOfLeaf(t: Tensor): Map<number, GradHook> | undefined {
  return leafHooks.get(t);
}
