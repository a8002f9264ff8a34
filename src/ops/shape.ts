import { run } from '../autograd/run.js';
import type { DType } from '../core/dtype.js';
import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import { broadcastShapes, normalizeAxis, numel } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';

const none = {} as Record<string, never>;

/**
 * The same elements with another shape; one dimension may be −1 (inferred). A view when the
 * tensor is contiguous, a copy otherwise.
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const inferred = shape.filter((d) => d === -1).length;
  if (inferred > 1) throw new ShapeError(`reshape: only one dimension can be -1 (got ${fmtShape(shape)})`);
  let target = [...shape];
  if (inferred === 1) {
    const known = numel(shape.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0)
      throw new ShapeError(`reshape: cannot view shape ${fmtShape(x.shape)} (${x.size} elements) as ${fmtShape(shape)}`);
    target = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  for (const d of target)
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`reshape: invalid dimension ${d} in ${fmtShape(shape)}`);
  return run('reshape', [x], { shape: target });
}

/** Flattens dimensions `startAxis..endAxis` (default: all) into one, as `torch.flatten`. */
export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeAxis('flatten', startAxis, x.ndim);
  const e = normalizeAxis('flatten', endAxis, x.ndim);
  if (s > e) throw new ConfigError(`flatten: startAxis ${startAxis} comes after endAxis ${endAxis}`);
  return reshape(x, [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

/** Reorders the dimensions (a view, no copy). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const d = dims.map((a) => normalizeAxis('permute', a, x.ndim));
  if (d.length !== x.ndim || new Set(d).size !== d.length)
    throw new ShapeError(`permute: dims ${fmtShape(dims)} must be a permutation of the ${x.ndim} axes of ${fmtShape(x.shape)}`);
  return run('permute', [x], { dims: d });
}

/** Swaps two dimensions (a view); by default the last two, as a matrix transpose. */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  if (x.ndim < 2 && axis0 === -2 && axis1 === -1) return x;
  const a = normalizeAxis('transpose', axis0, x.ndim);
  const b = normalizeAxis('transpose', axis1, x.ndim);
  const dims = x.shape.map((_, i) => i);
  [dims[a], dims[b]] = [dims[b], dims[a]];
  return run('permute', [x], { dims });
}

/** Broadcasts to `shape` without copying (stride 0); −1 keeps a dimension. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.ndim;
  if (lead < 0) throw new ShapeError(`expand: target ${fmtShape(shape)} has fewer dimensions than the tensor ${fmtShape(x.shape)}`);
  const target = shape.map((d, i) => (d === -1 ? (i < lead ? -1 : x.shape[i - lead]) : d));
  for (let i = 0; i < target.length; i++) {
    const src = i < lead ? 1 : x.shape[i - lead];
    if (target[i] < 0 || (src !== 1 && src !== target[i]))
      throw new ShapeError(
        `expand: cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)} (dimension ${i}: size ${src} can only expand when it is 1)`,
      );
  }
  return run('expand', [x], { shape: target });
}

/** Broadcasts to `shape` (NumPy rules), as `torch.broadcast_to`. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  broadcastShapes('broadcastTo', x.shape, shape);
  return expand(x, shape);
}

/** Inserts a size-1 dimension at `axis`. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis('unsqueeze', axis, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Removes size-1 dimensions: all of them, or the given ones (which must be size 1... or are kept, as PyTorch). */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  const axes =
    axis === undefined
      ? x.shape.map((_, i) => i)
      : (typeof axis === 'number' ? [axis] : axis).map((a) => normalizeAxis('squeeze', a, x.ndim));
  return reshape(
    x,
    x.shape.filter((d, i) => !(d === 1 && axes.includes(i))),
  );
}

/** One axis's selection in {@link slice}: an index, `null` (everything), or `[start, end?, step?]`. */
export type SliceSpec = number | null | readonly [number?, number?, number?];

/**
 * Basic indexing like `x[1, :, 2:5]` in PyTorch: one spec per leading axis (missing trailing
 * axes are kept whole). Ranges take negative starts/ends from the end and a positive step;
 * a number selects one index and removes the axis. Always a view.
 *
 * @example slice(x, [1, null, [2, 5]])
 */
export function slice(x: Tensor, specs: readonly SliceSpec[]): Tensor {
  if (specs.length > x.ndim)
    throw new ShapeError(`slice: ${specs.length} indices given for a tensor of rank ${x.ndim} ${fmtShape(x.shape)}`);
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  const dropped: number[] = [];
  x.shape.forEach((size, i) => {
    const spec = i < specs.length ? specs[i] : null;
    if (spec === null) {
      starts.push(0);
      ends.push(size);
      steps.push(1);
    } else if (typeof spec === 'number') {
      if (!Number.isInteger(spec) || spec < -size || spec >= size)
        throw new ShapeError(`slice: index ${spec} is out of range for axis ${i} of size ${size}`);
      const k = spec < 0 ? spec + size : spec;
      starts.push(k);
      ends.push(k + 1);
      steps.push(1);
      dropped.push(i);
    } else {
      const step = spec[2] ?? 1;
      if (!Number.isInteger(step) || step <= 0) throw new ConfigError(`slice: step must be a positive integer (got ${step} on axis ${i})`);
      const clampIdx = (v: number): number => Math.min(size, Math.max(0, v < 0 ? v + size : v));
      const s = clampIdx(spec[0] ?? 0);
      starts.push(s);
      ends.push(Math.max(s, clampIdx(spec[1] ?? size)));
      steps.push(step);
    }
  });
  const v = run('slice', [x], { starts, ends, steps });
  if (dropped.length === 0) return v;
  return reshape(v, v.shape.filter((_, i) => !dropped.includes(i)));
}

/** `length` elements of `axis` from `start`, as `torch.narrow` (a view). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normalizeAxis('narrow', axis, x.ndim);
  if (start < 0 || length < 0 || start + length > x.shape[a])
    throw new ShapeError(`narrow: range [${start}, ${start + length}) is outside axis ${a} of size ${x.shape[a]}`);
  const specs: SliceSpec[] = x.shape.map(() => null);
  specs[a] = [start, start + length];
  return slice(x, specs);
}

/** The sub-tensor at `index` along `axis`, with that axis removed (a view), as `torch.select`. */
export function select(x: Tensor, axis: number, index: number): Tensor {
  const a = normalizeAxis('select', axis, x.ndim);
  const specs: SliceSpec[] = x.shape.map(() => null);
  specs[a] = index;
  return slice(x, specs);
}

/** Joins tensors along an existing axis. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ConfigError('concat: expected at least one tensor');
  return run('concat', tensors, { axis: normalizeAxis('concat', axis, tensors[0].ndim) });
}

/** Joins tensors along a new axis; all must have the same shape. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ConfigError('stack: expected at least one tensor');
  const a = normalizeAxis('stack', axis, tensors[0].ndim + 1);
  for (const t of tensors)
    if (t.shape.join() !== tensors[0].shape.join())
      throw new ShapeError(`stack: all tensors must have the same shape (got ${tensors.map((u) => fmtShape(u.shape)).join(', ')})`);
  return run('concat', tensors.map((t) => unsqueeze(t, a)), { axis: a });
}

/** `out[...i...] = x[...index[...i...]...]` along `axis`, as `torch.gather`. */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  return run('gather', [x, index], { axis: normalizeAxis('gather', axis, x.ndim) });
}

/** Picks the entries `indices` (1-D int32) along `axis`, as `torch.index_select`. */
export function indexSelect(x: Tensor, axis: number, indices: Tensor): Tensor {
  const a = normalizeAxis('indexSelect', axis, x.ndim);
  if (indices.ndim !== 1) throw new ShapeError(`indexSelect: indices must be 1-D (got ${fmtShape(indices.shape)})`);
  // A gather whose index is the 1-D list broadcast (stride 0) over the other axes: no copy.
  const shape = x.shape.map((d, i) => (i === a ? indices.shape[0] : d));
  const idx = expand(
    reshape(
      indices,
      x.shape.map((_, i) => (i === a ? indices.shape[0] : 1)),
    ),
    shape,
  );
  return run('gather', [x, idx], { axis: a });
}

/** A contiguous copy (or `x` itself when already contiguous), as `.contiguous()`. */
export function contiguous(x: Tensor): Tensor {
  return x.isContiguous() ? x : run('contiguous', [x], none);
}

/** A copy of the data with its own memory, as `.clone()`; gradients flow through it. */
export function clone(x: Tensor): Tensor {
  return run('contiguous', [x], none);
}

/** The tensor converted to `dtype` (itself when it already has it). */
export function cast(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : run('cast', [x], { dtype });
}
