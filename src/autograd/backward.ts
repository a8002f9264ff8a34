import { GraphError, ShapeError, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { tidy } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { setGradEnabled } from './grad-mode.js';
import { hooksOfLeaf, runHooks } from './hooks.js';
import { Node } from './node.js';
import { RULES, type InputInfo, type Primitive, type PrimitiveParams, sliceView } from './primitives.js';
import { run } from './run.js';

/** Options of {@link backward}. */
export interface BackwardOptions {
  /** Keep the graph's saved tensors so that backward can run through it again (default false). */
  retainGraph?: boolean;
}

/**
 * Computes the gradient of `root` with respect to every leaf that requires one and adds it to the
 * leaf's `.grad`, as PyTorch's `tensor.backward()`. `gradient` is required unless `root` has one
 * element. The graph's saved tensors are released afterwards unless `retainGraph` is set.
 */
export function backward(root: Tensor, gradient?: Tensor, options?: BackwardOptions): void {
  root.assertLive('backward');
  if (!root.requiresGrad)
    throw new GraphError(
      'backward: this tensor does not require grad and has no gradFn (set requiresGrad on the inputs or parameters, and do not run the forward pass inside noGrad)',
    );
  if (gradient === undefined && root.size !== 1)
    throw new GraphError(
      `backward: a gradient can be created implicitly only for one-element outputs (shape is ${fmtShape(root.shape)}); pass a gradient of that shape`,
    );
  if (gradient !== undefined && !shapesEqual(gradient.shape, root.shape))
    throw new ShapeError(`backward: gradient has shape ${fmtShape(gradient.shape)} but the tensor has shape ${fmtShape(root.shape)}`);
  const retain = options?.retainGraph ?? false;
  const prev = setGradEnabled(false);
  try {
    tidy(() => {
      // The caller's gradient tensor is never adopted as a .grad: it stays theirs.
      const handedOut = new Set<Tensor>(gradient ? [gradient] : []);
      const seed = gradient ?? onesLike(root);
      if (root.gradFn === null) {
        accumulateLeaf(root, seed, handedOut);
        return;
      }
      const order = topoOrder(root.gradFn as Node);
      const accumulators = new Set<Tensor>();
      const grads = new Map<Node, Tensor>([[root.gradFn as Node, seed]]);
      for (const node of order) {
        const incoming = grads.get(node);
        if (incoming === undefined) continue;
        const g = runHooks(node.hooks, incoming);
        grads.delete(node);
        if (node.released)
          throw new GraphError(
            `backward: trying to backward through the graph a second time (${node.name}'s saved tensors were already freed); ` +
              'pass { retainGraph: true } to the first backward() call if you need to call it twice',
          );
        if (node.retainTarget !== null) setGrad(node.retainTarget, g, handedOut);
        const info: InputInfo = {
          shapes: node.inputShapes,
          dtypes: node.inputDtypes,
          needsGrad: node.edges.map((e) => e !== null),
        };
        const rule = RULES[node.prim as Primitive];
        const target = node.edges[0];
        if (node.prim === 'slice' && target instanceof Node && accumulators.has(grads.get(target)!)) {
          // Another slice of a tensor that already has a full-size gradient of this backward's own
          // making (the time steps of a recurrent layer): add into its region, O(slice), instead
          // of building a full-size gradient per slice and summing them, O(slices × size).
          addIntoSlice(grads.get(target)!, g, node.params as PrimitiveParams['slice']);
          if (!retain) node.release();
          continue;
        }
        const inputGrads = rule.backward!(g, node.saved!, node.params as never, info);
        if (!retain) node.release();
        node.edges.forEach((edge, i) => {
          const gi = inputGrads[i];
          if (edge === null || gi === null || gi === undefined) return;
          const fitted = fitToInput(gi, info.shapes[i], info.dtypes[i]);
          if (edge instanceof Node) {
            const prevG = grads.get(edge);
            const sum = prevG === undefined ? fitted : run('add', [prevG, fitted], {});
            grads.set(edge, sum);
            // Fresh tensors that nothing else holds: a slice's full-size gradient, or a sum.
            if ((node.prim === 'slice' && sum === gi) || sum !== fitted) accumulators.add(sum);
          } else accumulateLeaf(edge, fitted, handedOut);
        });
      }
    });
  } finally {
    setGradEnabled(prev);
  }
}

function onesLike(t: Tensor): Tensor {
  const o = Tensor.empty(t.backend, t.shape, t.dtype, false);
  t.backend.fill(o.buf, 1);
  return o;
}

/** Nodes reachable from `root`, each after every node that feeds it a gradient. */
function topoOrder(root: Node): Node[] {
  const visited = new Set<Node>();
  const post: Node[] = [];
  const stack: [Node, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.edges.length) {
      top[1]++;
      const e = node.edges[i];
      if (e instanceof Node && !visited.has(e)) {
        visited.add(e);
        stack.push([e, 0]);
      }
    } else {
      stack.pop();
      post.push(node);
    }
  }
  return post.reverse();
}

/**
 * Fits a gradient to its input: sums broadcast dimensions down, expands reduced ones back up
 * (a stride-0 view), and casts to the input's dtype.
 */
function fitToInput(g: Tensor, shape: readonly number[], dtype: Tensor['dtype']): Tensor {
  let out = g;
  if (!shapesEqual(out.shape, shape)) {
    const lead = Math.max(0, out.ndim - shape.length);
    const axes: number[] = [];
    const shift = shape.length - out.ndim; // aligns trailing dimensions
    for (let i = 0; i < out.ndim; i++) if (i < lead || (shape[i + shift] === 1 && out.shape[i] !== 1)) axes.push(i);
    if (axes.length > 0) out = run('sum', [out], { axes, keepDims: true });
    if (lead > 0) out = run('reshape', [out], { shape: out.shape.slice(lead) });
    if (!shapesEqual(out.shape, shape)) out = run('expand', [out], { shape });
  }
  if (out.dtype !== dtype) out = run('cast', [out], { dtype });
  return out;
}

/** Whether `g` can become a `.grad` as it is: a contiguous tensor that owns its whole buffer. */
function isOwned(g: Tensor, handedOut: Set<Tensor>): boolean {
  return g.isContiguous() && g.offset === 0 && g.size === g.storage.size && !g.storage.isShared && !handedOut.has(g);
}

function setGrad(t: Tensor, g: Tensor, handedOut: Set<Tensor>): void {
  const acc = t.grad;
  if (acc === null || acc.isDisposed) {
    t.grad = isOwned(g, handedOut) ? g : run('contiguous', [g], {});
    t.grad.kept = true;
    handedOut.add(t.grad);
    return;
  }
  // A .grad adopted earlier in this call may still be on its way to other nodes: never write into it.
  const inFlight = handedOut.has(acc);
  if (!inFlight && acc.isContiguous() && acc.offset === 0 && acc.size === acc.storage.size && !acc.storage.isShared) {
    acc.backend.binary('add', acc, g, acc.buf); // accumulate in place: optimizers may hold acc
    return;
  }
  // The sum is fresh and seen by nothing else, so later contributions may go into it in place.
  t.grad = run('add', [acc, g], {});
  t.grad.kept = true;
  if (inFlight) acc.kept = false; // the backward scope frees it once the nodes that share it have run
  else acc.dispose();
}

/** `acc[slice] += g` in place, where `acc` is a gradient this backward made and holds alone. */
function addIntoSlice(acc: Tensor, g: Tensor, p: PrimitiveParams['slice']): void {
  if (g.size === 0) return;
  const region = sliceView(acc, p);
  const sum = Tensor.empty(acc.backend, region.shape, acc.dtype, false);
  acc.backend.binary('add', region, g.dtype === acc.dtype ? g : run('cast', [g], { dtype: acc.dtype }), sum.buf);
  acc.backend.copy(sum, region);
  sum.dispose();
}

function accumulateLeaf(leaf: Tensor, g: Tensor, handedOut: Set<Tensor>): void {
  setGrad(leaf, runHooks(hooksOfLeaf(leaf), g), handedOut);
}
