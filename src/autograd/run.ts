import type { View } from '../backend/backend.js';
import { ConfigError } from '../core/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { isGradEnabled, setGradEnabled } from './grad-mode.js';
import { type Edge, Node } from './node.js';
import { type Primitive, type PrimitiveParams, RULES } from './primitives.js';

/**
 * Runs a primitive: its forward kernel, and, when gradients are being recorded and an input
 * needs one, a graph node with what its backward rule asked to save.
 */
export function run<P extends Primitive>(prim: P, inputs: readonly Tensor[], params: PrimitiveParams[P]): Tensor {
  const backend = inputs[0].backend;
  for (const t of inputs) {
    t.assertLive(prim);
    if (t.backend !== backend)
      throw new ConfigError(
        `${prim}: inputs live on different backends ('${backend.name}' and '${t.backend.name}'); create them after the same setBackend()`,
      );
  }
  const rule = RULES[prim];
  const record = isGradEnabled();
  // Forward rules may call other primitives; only this call is recorded.
  setGradEnabled(false);
  let out: Tensor;
  try {
    out = rule.forward(inputs, params);
  } finally {
    setGradEnabled(record);
  }
  if (rule.backward === null || !record || out.dtype === 'int32' || !inputs.some((t) => t.requiresGrad)) return out;
  const edges: Edge[] = inputs.map((t) => (t.requiresGrad ? (t.gradFn as Node | null) ?? t : null));
  const saved = rule.save ? rule.save(inputs, out, params).map((t) => t.view(t.shape, t.strides, t.offset)) : [];
  // Saved views belong to the graph, not to any tidy scope; they are released after backward.
  for (const t of saved) t.kept = true;
  out.gradFn = new Node(
    rule.name,
    prim,
    params,
    edges,
    inputs.map((t) => t.shape),
    inputs.map((t) => t.dtype),
    saved,
  );
  out.requiresGrad = true;
  return out;
}

/** A view of `t` broadcast to `shape` (broadcast dimensions get stride 0). No copy. */
export function broadcastView(t: Tensor, shape: readonly number[]): View {
  const r = shape.length;
  const lead = r - t.ndim;
  const strides = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    if (i < lead) strides[i] = 0;
    else strides[i] = t.shape[i - lead] === shape[i] ? t.strides[i - lead] : 0;
  }
  return { buf: t.buf, shape, strides, offset: t.offset };
}
