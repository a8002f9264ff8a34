import { ConfigError, ShapeError, fmtShape } from './errors.js';

/** A tensor's shape: one non-negative integer per dimension; `[]` is a scalar. */
export type Shape = readonly number[];

/** Number of elements of a shape. */
export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-order) strides of a contiguous tensor of this shape. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * NumPy broadcasting: align trailing dimensions; each pair must be equal or contain a 1.
 * `op` names the calling function in the error.
 */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else
        throw new ShapeError(
          `${op}: shapes ${shapes.map(fmtShape).join(' and ')} cannot be broadcast together ` +
            `(dimension ${i - s.length} is ${d} in one and ${out[o]} in another; each pair must be equal or 1)`,
        );
    }
  }
  return out;
}

/** Resolves a possibly negative axis against a rank, with a clear error when out of range. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -Math.max(rank, 1) || axis >= Math.max(rank, 1))
    throw new ConfigError(
      `${op}: axis ${axis} is out of range for a tensor of rank ${rank} (expected an integer in [${-Math.max(rank, 1)}, ${Math.max(rank, 1) - 1}])`,
    );
  return axis < 0 ? axis + Math.max(rank, 1) : axis;
}

/** Resolves `axis` (one, several, or all when undefined) to sorted unique non-negative axes. */
export function normalizeAxes(op: string, axis: number | readonly number[] | undefined, rank: number): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : axis;
  const out = [...new Set(list.map((a) => normalizeAxis(op, a, rank)))].sort((a, b) => a - b);
  if (out.length !== list.length) throw new ConfigError(`${op}: axis ${JSON.stringify(axis)} repeats an axis`);
  return out;
}

/** Checks that every entry is a non-negative integer. */
export function checkShape(op: string, shape: Shape): void {
  for (const d of shape)
    if (!Number.isInteger(d) || d < 0)
      throw new ShapeError(`${op}: shape ${fmtShape(shape)} is invalid (every dimension must be a non-negative integer)`);
}

/**
 * Strides that let a tensor with `shape`/`strides` be seen as `newShape` without copying, or
 * null when no such strides exist (as PyTorch's `computeStride`): each run of dimensions that is
 * contiguous in memory may be split or merged freely.
 */
export function viewStrides(shape: Shape, strides: readonly number[], newShape: Shape): number[] | null {
  if (shape.length === 0 || numel(shape) === 0) return contiguousStrides(newShape);
  const out = new Array<number>(newShape.length);
  let viewD = newShape.length - 1;
  let chunkBase = strides[strides.length - 1];
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    tensorNumel *= shape[d];
    // End of a contiguous chunk: the next dimension up does not continue it.
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = strides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? out : null;
}
