/**
 * Functional convolution, pooling and padding, as `torch.nn.functional.conv1d`, `conv2d`,
 * `max_pool2d`, `avg_pool2d` and `pad`. The layers in `conv.ts` and `pooling.ts` call these.
 *
 * Everything is a composition of existing ops, so gradients come from autograd with no backward
 * of its own. A convolution is an im2col: the input is padded (a `concat` with a broadcast
 * constant), each kernel offset becomes a strided `slice` view of it (step = stride, start =
 * offset·dilation), the views are `stack`ed into columns `[N, groups, C/groups·k, L]` (one copy)
 * and one batched `matmul` with the weight `[groups, out/groups, C/groups·k]` gives the output.
 * Pooling stacks the same window views and reduces them with `max` or `sum`.
 */
import { noGrad } from '../autograd/grad-mode.js';
import { ConfigError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { add, div } from '../ops/elementwise.js';
import { matmul } from '../ops/linalg.js';
import { max, sum } from '../ops/reduce.js';
import { toTensor } from '../ops/scalar.js';
import { concat, expand, indexSelect, narrow, reshape, type SliceSpec, slice, stack } from '../ops/shape.js';
import { Tensor } from '../tensor/tensor.js';

// --- option types ---------------------------------------------------------------------------

/** A size for each spatial dimension, or one number for all of them (PyTorch's `_pair`). */
export type Size2 = number | readonly [number, number];
/** A size for the one spatial dimension of a 1-D op (a number, or a one-element tuple). */
export type Size1 = number | readonly [number];

/** Padding of a convolution: explicit sizes, `'valid'` (none) or `'same'` (output size = input size, stride 1 only). */
export type ConvPadding<S> = S | 'valid' | 'same';

/** How a convolution pads its input, as PyTorch's `padding_mode`. */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

/** Options of {@link conv1d}. */
export interface Conv1dOptions {
  /** Step between output positions (default 1). */
  stride?: Size1;
  /** Zero padding on both sides, or `'valid'` / `'same'` (default 0). */
  padding?: ConvPadding<Size1>;
  /** Spacing between kernel taps (default 1). */
  dilation?: Size1;
  /** Number of blocked connections from input to output channels (default 1). */
  groups?: number;
}

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** Step between output positions, `[h, w]` or one number (default 1). */
  stride?: Size2;
  /** Zero padding on both sides of each spatial dimension, or `'valid'` / `'same'` (default 0). */
  padding?: ConvPadding<Size2>;
  /** Spacing between kernel taps (default 1). */
  dilation?: Size2;
  /** Number of blocked connections from input to output channels (default 1). */
  groups?: number;
}

/** Options of {@link maxPool2d}. */
export interface MaxPool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Size2;
  /** Implicit −∞ padding on both sides; at most half the kernel size (default 0). */
  padding?: Size2;
  /** Spacing between window elements (default 1). */
  dilation?: Size2;
  /** Round the output size up instead of down, so a last partial window is kept (default false). */
  ceilMode?: boolean;
}

/** Options of {@link avgPool2d}. */
export interface AvgPool2dOptions {
  /** Step between windows (default: the kernel size). */
  stride?: Size2;
  /** Implicit zero padding on both sides; at most half the kernel size (default 0). */
  padding?: Size2;
  /** Round the output size up instead of down, so a last partial window is kept (default false). */
  ceilMode?: boolean;
  /** Count the zero padding in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window sum by this number instead of the window size. */
  divisorOverride?: number;
}

/** How {@link pad} fills the new border. */
export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/** Options of {@link pad}. */
export interface PadOptions {
  /**
   * `'constant'` (default) fills with `value`; `'reflect'` mirrors without repeating the edge
   * (`[a b c]` → `c b | a b c | b a`); `'replicate'` repeats the edge; `'circular'` wraps around.
   */
  mode?: PadMode;
  /** The fill value of `'constant'` mode (default 0). */
  value?: number;
}

// --- argument checks --------------------------------------------------------------------------

/** The value for each of `n` spatial dimensions, checked to be integers ≥ `min`. */
function tuple(op: string, arg: string, value: number | readonly number[], n: number, min: number): number[] {
  const v = typeof value === 'number' ? new Array<number>(n).fill(value) : [...value];
  if (v.length !== n)
    throw new ConfigError(`${op}: ${arg} must be a number or ${n} numbers, one per spatial dimension (got ${fmtShape(v)})`);
  for (const x of v)
    if (!Number.isInteger(x) || x < min)
      throw new ConfigError(
        `${op}: ${arg} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer${n > 1 ? ' in each dimension' : ''} (got ${typeof value === 'number' ? value : fmtShape(v)})`,
      );
  return v;
}

/** Checks and expands conv arguments shared by the functional form and the layers. */
export function convArgs(
  op: string,
  n: number,
  kernel: readonly number[],
  options: { stride?: number | readonly number[]; padding?: ConvPadding<number | readonly number[]>; dilation?: number | readonly number[]; groups?: number },
): { stride: number[]; padding: [number, number][]; dilation: number[]; groups: number; paddingArg: 'valid' | 'same' | number[] } {
  const stride = tuple(op, 'stride', options.stride ?? 1, n, 1);
  const dilation = tuple(op, 'dilation', options.dilation ?? 1, n, 1);
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ConfigError(`${op}: groups must be a positive integer (got ${groups})`);
  const p = options.padding ?? 0;
  let padding: [number, number][];
  let paddingArg: 'valid' | 'same' | number[];
  if (p === 'valid') {
    padding = kernel.map(() => [0, 0]);
    paddingArg = 'valid';
  } else if (p === 'same') {
    if (stride.some((s) => s !== 1))
      throw new ConfigError(`${op}: padding='same' is not supported for strided convolutions (stride ${fmtShape(stride)}); use stride 1 or explicit padding`);
    // The total padding is dilation·(k − 1); an odd total puts the extra element on the right (as PyTorch).
    padding = kernel.map((k, i) => {
      const total = dilation[i] * (k - 1);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
    paddingArg = 'same';
  } else if (typeof p === 'string') {
    throw new ConfigError(`${op}: padding must be a number, a tuple, 'valid' or 'same' (got '${String(p)}')`);
  } else {
    const v = tuple(op, 'padding', p, n, 0);
    padding = v.map((x) => [x, x]);
    paddingArg = v;
  }
  return { stride, padding, dilation, groups, paddingArg };
}

// --- padding ----------------------------------------------------------------------------------

/** Pads (or, with negative sizes in constant mode, crops) `x` along `axis`. */
function padAxis(x: Tensor, axis: number, before: number, after: number, mode: PadMode, value: number): Tensor {
  if (before === 0 && after === 0) return x;
  const size = x.shape[axis];
  if (mode === 'constant') {
    // Negative sizes crop (as PyTorch); positive ones concat a broadcast constant (no copy of it).
    let y = x;
    if (before < 0 || after < 0) {
      const start = Math.max(0, -before);
      const len = size - start - Math.max(0, -after);
      if (len < 0) throw new ShapeError(`pad: padding (${before}, ${after}) removes more than the ${size} elements of axis ${axis}`);
      y = narrow(x, axis, start, len);
    }
    const parts: Tensor[] = [];
    const block = (n: number): Tensor =>
      expand(
        toTensor(value, y),
        y.shape.map((d, i) => (i === axis ? n : d)),
      );
    if (before > 0) parts.push(block(before));
    parts.push(y);
    if (after > 0) parts.push(block(after));
    return parts.length === 1 ? y : concat(parts, axis);
  }
  if (before < 0 || after < 0) throw new ConfigError(`pad: negative padding (${before}, ${after}) is only allowed in 'constant' mode (got '${mode}')`);
  if (size === 0) throw new ShapeError(`pad: cannot pad axis ${axis} of size 0 in '${mode}' mode`);
  if (mode === 'reflect' && (before >= size || after >= size))
    throw new ShapeError(`pad: 'reflect' padding (${before}, ${after}) must be smaller than the size ${size} of axis ${axis}`);
  if (mode === 'circular' && (before > size || after > size))
    throw new ShapeError(`pad: 'circular' padding (${before}, ${after}) must be at most the size ${size} of axis ${axis}`);
  // The source index of every output position along the axis, then one gather (indexSelect).
  const idx = new Int32Array(before + size + after);
  for (let o = 0; o < idx.length; o++) {
    const i = o - before;
    if (mode === 'replicate') idx[o] = Math.min(size - 1, Math.max(0, i));
    else if (mode === 'circular') idx[o] = ((i % size) + size) % size;
    else idx[o] = i < 0 ? -i : i >= size ? 2 * (size - 1) - i : i;
  }
  return indexSelect(x, axis, indexOn(x, idx));
}

/** A 1-D int32 tensor holding `values`, on `like`'s backend (which need not be the current one). */
function indexOn(like: Tensor, values: Int32Array): Tensor {
  const t = Tensor.empty(like.backend, [values.length], 'int32', false);
  if (values.length > 0) like.backend.write(t.buf, values);
  return t;
}

/**
 * Pads `x` as `torch.nn.functional.pad`: `padding` lists (before, after) pairs starting from the
 * **last** dimension, `[left, right]` pads the last one, `[left, right, top, bottom]` the last
 * two, and so on. In `'constant'` mode negative sizes crop. The non-constant modes
 * (`'reflect'`, `'replicate'`, `'circular'`) work on any dimensions here (PyTorch limits them to
 * the last 1–3 dimensions of a 2–5-D input); reflect padding must be smaller than the size and
 * circular padding at most the size. Differentiable in `x`.
 *
 * @example pad(x, [1, 1, 2, 2]) // x [N, C, H, W] → [N, C, H + 4, W + 2]
 */
export function pad(x: Tensor, padding: readonly number[], options?: PadOptions): Tensor {
  const mode = options?.mode ?? 'constant';
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'replicate' && mode !== 'circular')
    throw new ConfigError(`pad: mode must be 'constant', 'reflect', 'replicate' or 'circular' (got '${String(mode)}')`);
  if (mode !== 'constant' && options?.value !== undefined && options.value !== 0)
    throw new ConfigError(`pad: value ${options.value} is only used in 'constant' mode (got mode '${mode}')`);
  if (padding.length % 2 !== 0 || padding.length / 2 > x.ndim)
    throw new ShapeError(
      `pad: padding must have an even length of at most 2·rank = ${2 * x.ndim} for input ${fmtShape(x.shape)} (got ${padding.length} values)`,
    );
  for (const p of padding) if (!Number.isInteger(p)) throw new ConfigError(`pad: padding sizes must be integers (got ${fmtShape(padding)})`);
  let y = x;
  for (let k = 0; k < padding.length / 2; k++) y = padAxis(y, x.ndim - 1 - k, padding[2 * k], padding[2 * k + 1], mode, options?.value ?? 0);
  return y;
}

// --- windows (the heart of conv and pooling) ----------------------------------------------------

/**
 * The size of each spatial output dimension of a sliding window, as PyTorch computes it:
 * ⌊(in + padL + padR − dilation·(k − 1) − 1) / stride⌋ + 1, or with `ceilMode` rounded up and
 * then reduced by one when the last window would start in the right padding.
 */
function outputSizes(
  spatial: readonly number[],
  kernel: readonly number[],
  stride: readonly number[],
  padding: readonly (readonly [number, number])[],
  dilation: readonly number[],
  ceilMode: boolean,
): number[] {
  return spatial.map((n, i) => {
    const span = n + padding[i][0] + padding[i][1] - dilation[i] * (kernel[i] - 1) - 1;
    if (span < 0) return 0;
    let o = Math.floor((span + (ceilMode ? stride[i] - 1 : 0)) / stride[i]) + 1;
    if (ceilMode && (o - 1) * stride[i] >= n + padding[i][0]) o--;
    return o;
  });
}

/**
 * The windows of `x` `[N, C, ...spatial]` (already padded, large enough for `out` windows), as
 * `[N, C, prod(kernel), ...out]`: one strided view per kernel offset (last axis fastest), stacked.
 */
function windows(x: Tensor, kernel: readonly number[], stride: readonly number[], dilation: readonly number[], out: readonly number[]): Tensor {
  const n = kernel.length;
  const views: Tensor[] = [];
  const offset = new Array<number>(n).fill(0);
  for (;;) {
    const specs: SliceSpec[] = [null, null];
    for (let i = 0; i < n; i++) {
      const start = offset[i] * dilation[i];
      specs.push([start, start + (out[i] - 1) * stride[i] + 1, stride[i]]);
    }
    views.push(slice(x, specs));
    let i = n - 1;
    while (i >= 0 && ++offset[i] === kernel[i]) offset[i--] = 0;
    if (i < 0) break;
  }
  return stack(views, 2);
}

/** Pads the spatial dims of `x` `[N, C, ...spatial]` by `padding`, plus `extra` on the right (ceil mode). */
function padSpatial(x: Tensor, padding: readonly (readonly [number, number])[], extra: readonly number[], value: number, mode: PadMode = 'constant'): Tensor {
  const flat: number[] = [];
  for (let i = padding.length - 1; i >= 0; i--) flat.push(padding[i][0], padding[i][1] + extra[i]);
  if (extra.some((e) => e > 0) && mode !== 'constant') throw new ConfigError(`pad: internal: ceil-mode extra padding needs 'constant' mode`);
  return flat.every((p) => p === 0) ? x : pad(x, flat, mode === 'constant' ? { value } : { mode });
}

/** How far past the padded input the last window reaches (ceil mode), per spatial dim. */
function overhang(
  spatial: readonly number[],
  kernel: readonly number[],
  stride: readonly number[],
  padding: readonly (readonly [number, number])[],
  dilation: readonly number[],
  out: readonly number[],
): number[] {
  return spatial.map((n, i) => Math.max(0, (out[i] - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 - (n + padding[i][0] + padding[i][1])));
}

/** `x` with a leading batch axis of 1 when it has rank `batched − 1` (PyTorch's unbatched input). */
function batchify(op: string, x: Tensor, n: number, layout: string, unbatchedLayout: string): { x4: Tensor; unbatched: boolean } {
  if (x.ndim === n + 2) return { x4: x, unbatched: false };
  if (x.ndim === n + 1) return { x4: reshape(x, [1, ...x.shape]), unbatched: true };
  throw new ShapeError(
    `${op}: expected a ${n + 2}-D input ${layout} or an unbatched ${n + 1}-D input ${unbatchedLayout} (got shape ${fmtShape(x.shape)})`,
  );
}

function unbatch(y: Tensor, unbatched: boolean): Tensor {
  return unbatched ? reshape(y, y.shape.slice(1)) : y;
}

// --- convolution ------------------------------------------------------------------------------

/** Layouts for messages, by number of spatial dims. */
const LAYOUT: Record<number, [string, string]> = { 1: ['[N, C, L]', '[C, L]'], 2: ['[N, C, H, W]', '[C, H, W]'] };

/** The options of the shared N-d convolution. */
export interface ConvNdOptions {
  stride?: number | readonly number[];
  padding?: ConvPadding<number | readonly number[]>;
  dilation?: number | readonly number[];
  groups?: number;
  /** How padding is filled (default zeros). */
  paddingMode?: PaddingMode;
}

/**
 * The convolution behind {@link conv1d}, {@link conv2d} and the layers: `n` spatial dims, `op`
 * names the caller in error messages (the function, or the layer with its sizes).
 * @internal
 */
export function convNd(op: string, n: number, input: Tensor, weight: Tensor, bias: Tensor | null, options: ConvNdOptions): Tensor {
  const [layout, unbatchedLayout] = LAYOUT[n];
  if (weight.ndim !== n + 2)
    throw new ShapeError(`${op}: weight must be ${n + 2}-D [out, in/groups, ${n === 1 ? 'k' : 'kh, kw'}] (got ${fmtShape(weight.shape)})`);
  const kernel = weight.shape.slice(2);
  const { stride, padding, dilation, groups } = convArgs(op, n, kernel, options);
  const { x4: x, unbatched } = batchify(op, input, n, layout, unbatchedLayout);
  const [N, C] = x.shape;
  const [O, Cg] = weight.shape;
  if (O % groups !== 0) throw new ShapeError(`${op}: weight ${fmtShape(weight.shape)} has ${O} output channels, not divisible by groups=${groups}`);
  if (C !== Cg * groups)
    throw new ShapeError(
      `${op}: input has ${C} channels in dimension ${unbatched ? 0 : 1} (shape ${fmtShape(input.shape)}); expected ${Cg * groups}` +
        ` (weight ${fmtShape(weight.shape)}${groups > 1 ? ` with groups=${groups}` : ''})`,
    );
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== O))
    throw new ShapeError(`${op}: bias ${fmtShape(bias.shape)} must be [${O}] to match weight ${fmtShape(weight.shape)}`);
  if (x.dtype !== weight.dtype || (bias !== null && bias.dtype !== weight.dtype))
    throw new DTypeError(
      `${op}: input (${x.dtype}), weight (${weight.dtype})${bias === null ? '' : ` and bias (${bias.dtype})`} must have the same dtype`,
    );
  const spatial = x.shape.slice(2);
  const out = outputSizes(spatial, kernel, stride, padding, dilation, false);
  if (out.some((o) => o < 1))
    throw new ShapeError(
      `${op}: the padded input ${fmtShape(spatial.map((s, i) => s + padding[i][0] + padding[i][1]))} is smaller than the dilated kernel ` +
        `${fmtShape(kernel.map((k, i) => dilation[i] * (k - 1) + 1))} (input ${fmtShape(input.shape)}); the output would be empty`,
    );
  const mode = options.paddingMode ?? 'zeros';
  const xp = padSpatial(x, padding, kernel.map(() => 0), 0, mode === 'zeros' ? 'constant' : mode);
  const L = out.reduce((a, b) => a * b, 1);
  const K = kernel.reduce((a, b) => a * b, 1);
  // Columns [N, C, K, ...out] → [N, G, Cg·K, L]; a 1×1 kernel needs no stack.
  const cols = reshape(K === 1 ? windowsSingle(xp, stride, out) : windows(xp, kernel, stride, dilation, out), [N, groups, Cg * K, L]);
  const w = reshape(weight, groups === 1 ? [O, Cg * K] : [groups, O / groups, Cg * K]);
  let y = matmul(w, cols); // [N, G, O/G, L] (or [N, O, L] with one group)
  if (bias !== null) y = add(y, reshape(bias, groups === 1 ? [O, 1] : [groups, O / groups, 1]));
  return unbatch(reshape(y, [N, O, ...out]), unbatched);
}

/** The one window view of a 1×1 kernel: `[N, C, ...out]`. */
function windowsSingle(x: Tensor, stride: readonly number[], out: readonly number[]): Tensor {
  const specs: SliceSpec[] = [null, null, ...out.map((o, i): SliceSpec => [0, (o - 1) * stride[i] + 1, stride[i]])];
  return slice(x, specs);
}

/**
 * 1-D convolution (cross-correlation), as `torch.nn.functional.conv1d`: `input` `[N, C, L]` (or
 * unbatched `[C, L]`), `weight` `[out, C/groups, k]`, `bias` `[out]` or null → `[N, out, Lout]`
 * with Lout = ⌊(L + 2·padding − dilation·(k − 1) − 1)/stride⌋ + 1.
 */
export function conv1d(input: Tensor, weight: Tensor, bias: Tensor | null = null, options?: Conv1dOptions): Tensor {
  return convNd('conv1d', 1, input, weight, bias, options ?? {});
}

/**
 * 2-D convolution (cross-correlation), as `torch.nn.functional.conv2d`: `input` `[N, C, H, W]`
 * (or unbatched `[C, H, W]`), `weight` `[out, C/groups, kh, kw]`, `bias` `[out]` or null →
 * `[N, out, Hout, Wout]`, each Hout = ⌊(H + 2·padding − dilation·(kh − 1) − 1)/stride⌋ + 1.
 * `padding: 'same'` pads dilation·(k − 1) in total, the odd element on the right (stride 1 only).
 *
 * @example conv2d(x, w, b, { stride: 2, padding: 1 }) // x [8, 3, 32, 32], w [16, 3, 3, 3] → [8, 16, 16, 16]
 */
export function conv2d(input: Tensor, weight: Tensor, bias: Tensor | null = null, options?: Conv2dOptions): Tensor {
  return convNd('conv2d', 2, input, weight, bias, options ?? {});
}

// --- pooling ----------------------------------------------------------------------------------

/** Checked pooling geometry. */
export interface PoolArgs {
  kernel: number[];
  stride: number[];
  padding: [number, number][];
  dilation: number[];
}

/** Checks pooling arguments (shared with the layers): pad at most half the kernel, as PyTorch. */
export function poolArgs(op: string, kernelSize: Size2, options: { stride?: Size2 | null; padding?: Size2; dilation?: Size2 }): PoolArgs {
  const kernel = tuple(op, 'kernelSize', kernelSize, 2, 1);
  const stride = tuple(op, 'stride', options.stride ?? kernel, 2, 1);
  const pads = tuple(op, 'padding', options.padding ?? 0, 2, 0);
  const dilation = tuple(op, 'dilation', options.dilation ?? 1, 2, 1);
  pads.forEach((p, i) => {
    if (p > Math.floor(kernel[i] / 2))
      throw new ConfigError(`${op}: padding must be at most half of the kernel size (got padding ${fmtShape(pads)} for kernelSize ${fmtShape(kernel)})`);
  });
  return { kernel, stride, padding: pads.map((p) => [p, p]), dilation };
}

/** Batches, sizes and pads `input` for pooling; returns the windows `[N, C, K, Ho, Wo]`. */
function poolWindows(op: string, input: Tensor, a: PoolArgs, ceilMode: boolean, fill: number): { win: Tensor; out: number[]; unbatched: boolean } {
  const { x4: x, unbatched } = batchify(op, input, 2, '[N, C, H, W]', '[C, H, W]');
  const spatial = x.shape.slice(2);
  const out = outputSizes(spatial, a.kernel, a.stride, a.padding, a.dilation, ceilMode);
  if (out.some((o) => o < 1))
    throw new ShapeError(
      `${op}: input ${fmtShape(input.shape)} is too small for kernelSize ${fmtShape(a.kernel)} with padding ${fmtShape(a.padding.map((p) => p[0]))} ` +
        `and dilation ${fmtShape(a.dilation)}: the output size would be ${fmtShape(out)}`,
    );
  const extra = overhang(spatial, a.kernel, a.stride, a.padding, a.dilation, out);
  const xp = padSpatial(x, a.padding, extra, fill);
  return { win: windows(xp, a.kernel, a.stride, a.dilation, out), out, unbatched };
}

/**
 * 2-D max pooling, as `torch.nn.functional.max_pool2d`: `input` `[N, C, H, W]` (or `[C, H, W]`)
 * → `[N, C, Hout, Wout]`, the maximum of each `kernelSize` window (padding counts as −∞).
 *
 * Gradient: PyTorch sends each window's gradient to the first position holding the maximum;
 * Keel's `max` reduction shares it equally among tied maxima. The two agree whenever a window's
 * maximum is unique (always, for continuous inputs); they differ on exact ties (e.g. windows
 * of zeros after a ReLU, where ReLU's own zero gradient usually hides it). No `returnIndices`.
 */
export function maxPool2d(input: Tensor, kernelSize: Size2, options?: MaxPool2dOptions): Tensor {
  return maxPoolWith('maxPool2d', input, poolArgs('maxPool2d', kernelSize, options ?? {}), options?.ceilMode ?? false);
}

/** @internal {@link maxPool2d} with checked arguments and a name for errors. */
export function maxPoolWith(op: string, input: Tensor, a: PoolArgs, ceilMode: boolean): Tensor {
  const { win, unbatched } = poolWindows(op, input, a, ceilMode, -Infinity);
  return unbatch(max(win, { axis: 2 }), unbatched);
}

/**
 * 2-D average pooling, as `torch.nn.functional.avg_pool2d`: `input` `[N, C, H, W]` (or
 * `[C, H, W]`) → `[N, C, Hout, Wout]`, each window's sum divided by the window size. With
 * `countIncludePad` (default) the zero padding counts in the size; without it only input
 * elements count. With `ceilMode` the last partial window's size stops at the padded edge (as
 * PyTorch); `divisorOverride` replaces the size.
 */
export function avgPool2d(input: Tensor, kernelSize: Size2, options?: AvgPool2dOptions): Tensor {
  const o = options ?? {};
  return avgPoolWith('avgPool2d', input, poolArgs('avgPool2d', kernelSize, o), o.ceilMode ?? false, o.countIncludePad ?? true, o.divisorOverride);
}

/** @internal {@link avgPool2d} with checked arguments and a name for errors. */
export function avgPoolWith(op: string, input: Tensor, a: PoolArgs, ceilMode: boolean, countIncludePad: boolean, divisorOverride?: number): Tensor {
  if (divisorOverride !== undefined && !(Number.isFinite(divisorOverride) && divisorOverride !== 0))
    throw new ConfigError(`${op}: divisorOverride must be a finite nonzero number (got ${divisorOverride})`);
  const { win, out, unbatched } = poolWindows(op, input, a, ceilMode, 0);
  const s = sum(win, { axis: 2 });
  let divisor: Tensor | number;
  if (divisorOverride !== undefined) divisor = divisorOverride;
  else {
    // The count of each window: pool a plane of ones (over the padding too when it counts),
    // zero-padded like the input. A constant for autograd.
    const [H, W] = input.shape.slice(-2);
    divisor = noGrad(() => {
      let ones = expand(toTensor(1, s), [1, 1, H, W]);
      if (countIncludePad) ones = padSpatial(ones, a.padding, [0, 0], 1);
      const inner: PoolArgs = countIncludePad ? { ...a, padding: [[0, 0], [0, 0]] } : a;
      const shape = ones.shape.slice(2);
      const extra = overhang(shape, inner.kernel, inner.stride, inner.padding, inner.dilation, out);
      const counts = sum(windows(padSpatial(ones, inner.padding, extra, 0), inner.kernel, inner.stride, inner.dilation, out), { axis: 2 });
      return reshape(counts, out);
    });
  }
  return unbatch(div(s, divisor), unbatched);
}
