import { getBackend } from '../backend/registry.js';
import { type DType, type TypedArray, dtypeOfArray } from '../core/dtype.js';
import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import { type Generator, defaultGenerator } from '../core/random.js';
import { checkShape, numel } from '../core/shape.js';
import { type NestedArray, Tensor } from './tensor.js';

/** Options shared by the creation functions. */
export interface CreateOptions {
  /** Element type; float32 unless the data says otherwise (a typed array keeps its own). */
  dtype?: DType;
  /** Record operations on the new tensor for `backward()`. */
  requiresGrad?: boolean;
}

/** Options of the random creation functions. */
export interface RandomOptions extends CreateOptions {
  /** The generator to draw from; the seeded global one (`manualSeed`) by default. */
  generator?: Generator;
}

function finish(t: Tensor, options: CreateOptions | undefined): Tensor {
  if (options?.requiresGrad) t.requiresGrad = true;
  return t;
}

function fromValues(values: ArrayLike<number>, shape: readonly number[], dtype: DType): Tensor {
  const backend = getBackend();
  const t = Tensor.empty(backend, shape, dtype, values.length === 0);
  if (values.length > 0) backend.write(t.buf, values);
  return t;
}

/** Flattens nested arrays, checking that they are rectangular. */
function flatten(data: NestedArray): { values: number[]; shape: number[] } {
  const shape: number[] = [];
  for (let d: NestedArray = data; Array.isArray(d); d = d[0]) {
    shape.push(d.length);
    if (d.length === 0) break;
  }
  const values: number[] = [];
  const walk = (d: NestedArray, dim: number, path: number[]): void => {
    if (dim === shape.length) {
      if (typeof d !== 'number')
        throw new ShapeError(`tensor: ragged nested array: expected a number at [${path.join(', ')}], got an array`);
      values.push(d);
      return;
    }
    if (!Array.isArray(d) || d.length !== shape[dim])
      throw new ShapeError(
        `tensor: ragged nested array: expected ${shape[dim]} elements at [${path.join(', ')}] (shape ${fmtShape(shape)}), got ${Array.isArray(d) ? d.length : 'a number'}`,
      );
    d.forEach((x, i) => walk(x, dim + 1, [...path, i]));
  };
  walk(data, 0, []);
  return { values, shape };
}

/**
 * Makes a tensor from a number, nested arrays, or a typed array (with an optional shape).
 * Nested arrays default to float32 (JavaScript cannot tell 1 from 1.0); a typed array keeps its
 * dtype unless `dtype` says otherwise.
 *
 * @example tensor([[1, 2], [3, 4]]); tensor(new Float32Array(6), [2, 3]); tensor(3, { dtype: 'float64' })
 */
export function tensor(data: NestedArray | TypedArray, shape?: readonly number[], options?: CreateOptions): Tensor;
export function tensor(data: NestedArray | TypedArray, options?: CreateOptions): Tensor;
export function tensor(
  data: NestedArray | TypedArray,
  shapeOrOptions?: readonly number[] | CreateOptions,
  maybeOptions?: CreateOptions,
): Tensor {
  const shapeArg = Array.isArray(shapeOrOptions) ? (shapeOrOptions as readonly number[]) : undefined;
  const options = Array.isArray(shapeOrOptions) ? maybeOptions : (shapeOrOptions as CreateOptions | undefined);
  let values: ArrayLike<number>;
  let shape: readonly number[];
  let dtype: DType;
  if (ArrayBuffer.isView(data)) {
    values = data;
    shape = shapeArg ?? [data.length];
    dtype = options?.dtype ?? dtypeOfArray(data);
  } else {
    const flat = flatten(data);
    values = flat.values;
    shape = shapeArg ?? flat.shape;
    dtype = options?.dtype ?? 'float32';
  }
  checkShape('tensor', shape);
  if (numel(shape) !== values.length)
    throw new ShapeError(`tensor: shape ${fmtShape(shape)} holds ${numel(shape)} elements but the data has ${values.length}`);
  return finish(fromValues(values, shape, dtype), options);
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, options?: CreateOptions): Tensor {
  checkShape('full', shape);
  const backend = getBackend();
  const t = Tensor.empty(backend, shape, options?.dtype ?? 'float32', Object.is(value, 0));
  if (!Object.is(value, 0) && t.size > 0) backend.fill(t.buf, value); // −0 is written: it is not +0
  return finish(t, options);
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], options?: CreateOptions): Tensor {
  return full(shape, 0, options);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], options?: CreateOptions): Tensor {
  return full(shape, 1, options);
}

/** Zeros with `t`'s shape (and dtype unless given). */
export function zerosLike(t: Tensor, options?: CreateOptions): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, ...options });
}

/** Ones with `t`'s shape (and dtype unless given). */
export function onesLike(t: Tensor, options?: CreateOptions): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, ...options });
}

/** A tensor with `t`'s shape filled with `value`. */
export function fullLike(t: Tensor, value: number, options?: CreateOptions): Tensor {
  return full(t.shape, value, { dtype: t.dtype, ...options });
}

/**
 * Values from `start` to `end` (exclusive) by `step`, as `torch.arange`. With one argument it
 * counts from 0. Integer arguments give int32 unless `dtype` says otherwise.
 */
export function arange(start: number, end?: number, step = 1, options?: CreateOptions): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new ConfigError(`arange: step must be a finite non-zero number (got ${step})`);
  if ((end - start) / step < 0)
    throw new ConfigError(`arange: step ${step} goes the wrong way from start ${start} to end ${end}`);
  const n = Math.ceil((end - start) / step);
  const allInts = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const values = Array.from({ length: n }, (_, i) => start + i * step);
  return finish(fromValues(values, [n], options?.dtype ?? (allInts ? 'int32' : 'float32')), options);
}

/** `steps` evenly spaced values from `start` to `end` inclusive, as `torch.linspace`. */
export function linspace(start: number, end: number, steps: number, options?: CreateOptions): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new ConfigError(`linspace: steps must be a non-negative integer (got ${steps})`);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  // Fill from both ends, as PyTorch does, so the last value is exactly `end`.
  const half = Math.floor(steps / 2);
  const values = Array.from({ length: steps }, (_, i) => (steps === 1 ? start : i < half ? start + step * i : end - step * (steps - 1 - i)));
  return finish(fromValues(values, [steps], options?.dtype ?? 'float32'), options);
}

/** An `n × m` matrix with ones on the diagonal (`m` defaults to `n`). */
export function eye(n: number, m = n, options?: CreateOptions): Tensor {
  checkShape('eye', [n, m]);
  const values = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  return finish(fromValues(values, [n, m], options?.dtype ?? 'float32'), options);
}

function randomFill(op: string, shape: readonly number[], options: RandomOptions | undefined, draw: (g: Generator, dtype: DType) => number): Tensor {
  checkShape(op, shape);
  const dtype = options?.dtype ?? 'float32';
  const g = options?.generator ?? defaultGenerator();
  const values = new Float64Array(numel(shape));
  for (let i = 0; i < values.length; i++) values[i] = draw(g, dtype);
  return finish(fromValues(values, shape, dtype), options);
}

/** Uniform samples in [0, 1). */
export function rand(shape: readonly number[], options?: RandomOptions): Tensor {
  if (options?.dtype === 'int32') throw new ConfigError('rand: dtype int32 is not supported (use randint for integers)');
  return randomFill('rand', shape, options, (g, dtype) => (dtype === 'float64' ? g.nextFloat64() : g.nextFloat32()));
}

/** Standard normal samples N(0, 1). */
export function randn(shape: readonly number[], options?: RandomOptions): Tensor {
  if (options?.dtype === 'int32') throw new ConfigError('randn: dtype int32 is not supported');
  return randomFill('randn', shape, options, (g) => g.nextNormal());
}

/** Uniform integers in [low, high), int32 by default, as `torch.randint`. */
export function randint(low: number, high: number, shape: readonly number[], options?: RandomOptions): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low)
    throw new ConfigError(`randint: expected integers low < high (got low=${low}, high=${high})`);
  return randomFill('randint', shape, { dtype: 'int32', ...options }, (g) => low + g.nextBelow(high - low));
}
