import { ConfigError, fmtShape } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { type PoolArgs, type Size2, avgPoolWith, maxPoolWith, poolArgs } from './functional-conv.js';
import { Module } from './module.js';

/** Options of {@link MaxPool2d}. */
export interface MaxPool2dLayerOptions {
  /** Step between windows, one number or `[h, w]` (default: the kernel size). */
  stride?: Size2;
  /** Implicit −∞ padding on both sides, at most half the kernel size (default 0). */
  padding?: Size2;
  /** Spacing between window elements (default 1). */
  dilation?: Size2;
  /** Round the output size up instead of down, keeping a last partial window (default false). */
  ceilMode?: boolean;
}

/** Options of {@link AvgPool2d}. */
export interface AvgPool2dLayerOptions {
  /** Step between windows, one number or `[h, w]` (default: the kernel size). */
  stride?: Size2;
  /** Implicit zero padding on both sides, at most half the kernel size (default 0). */
  padding?: Size2;
  /** Round the output size up instead of down, keeping a last partial window (default false). */
  ceilMode?: boolean;
  /** Count the zero padding in each window's divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window sum by this number instead of the window size. */
  divisorOverride?: number;
}

function checkBool(layer: string, arg: string, v: unknown): boolean {
  if (v !== undefined && typeof v !== 'boolean') throw new ConfigError(`${layer}: ${arg} must be true or false (got ${String(v)})`);
  return v ?? false;
}

/**
 * 2-D max pooling over `[N, C, H, W]` (or unbatched `[C, H, W]`), as PyTorch's `nn.MaxPool2d`
 * (Keras `MaxPooling2D`, channels first): each output is the maximum of a `kernelSize` window,
 * windows `stride` apart (default: `kernelSize`, i.e. non-overlapping), the input padded with −∞.
 * Output size per dimension: ⌊(H + 2·padding − dilation·(k − 1) − 1)/stride⌋ + 1 (rounded up with
 * `ceilMode`, as PyTorch). No parameters.
 *
 * Gradient: PyTorch sends each window's gradient to the first position of its maximum; Keel's
 * `max` reduction shares it equally among tied maxima. They agree whenever the maximum is unique
 * (continuous inputs); they differ on exact ties. `return_indices` is not offered.
 *
 * @example const pool = new MaxPool2d(2); pool.call(x); // [8, 32, 28, 28] → [8, 32, 14, 14]
 */
export class MaxPool2d extends Module {
  /** Window size `[h, w]`. */
  readonly kernelSize: readonly number[];
  /** Step between windows `[h, w]`. */
  readonly stride: readonly number[];
  /** Padding `[h, w]`. */
  readonly padding: readonly number[];
  /** Dilation `[h, w]`. */
  readonly dilation: readonly number[];
  /** Whether the output size is rounded up. */
  readonly ceilMode: boolean;
  private readonly args: PoolArgs;

  constructor(kernelSize: Size2, options?: MaxPool2dLayerOptions) {
    super();
    this.args = poolArgs('MaxPool2d', kernelSize, options ?? {});
    this.kernelSize = this.args.kernel;
    this.stride = this.args.stride;
    this.padding = this.args.padding.map(([p]) => p);
    this.dilation = this.args.dilation;
    this.ceilMode = checkBool('MaxPool2d', 'ceilMode', options?.ceilMode);
  }

  /** `[N, C, H, W]` → `[N, C, Hout, Wout]` (or `[C, H, W]` → `[C, Hout, Wout]`). */
  forward(input: Tensor): Tensor {
    return maxPoolWith(`${this.name}(${this.extraRepr()})`, input, this.args, this.ceilMode);
  }

  protected override extraRepr(): string {
    const parts = [`kernel=${fmtShape(this.kernelSize)}`, `stride=${fmtShape(this.stride)}`];
    if (this.padding.some((p) => p !== 0)) parts.push(`padding=${fmtShape(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${fmtShape(this.dilation)}`);
    if (this.ceilMode) parts.push('ceilMode=true');
    return parts.join(', ');
  }
}

/**
 * 2-D average pooling over `[N, C, H, W]` (or unbatched `[C, H, W]`), as PyTorch's
 * `nn.AvgPool2d` (Keras `AveragePooling2D`, channels first): each output is the mean of a
 * `kernelSize` window, windows `stride` apart (default: `kernelSize`), the input zero-padded.
 * With `countIncludePad` (default true) the padding counts in the divisor; with `ceilMode` a
 * last partial window divides by its size up to the padded edge (as PyTorch); `divisorOverride`
 * replaces the divisor. No parameters.
 *
 * @example const pool = new AvgPool2d(3, { stride: 2, padding: 1 }); pool.call(x); // [8, 16, 32, 32] → [8, 16, 16, 16]
 */
export class AvgPool2d extends Module {
  /** Window size `[h, w]`. */
  readonly kernelSize: readonly number[];
  /** Step between windows `[h, w]`. */
  readonly stride: readonly number[];
  /** Padding `[h, w]`. */
  readonly padding: readonly number[];
  /** Whether the output size is rounded up. */
  readonly ceilMode: boolean;
  /** Whether the zero padding counts in the divisor. */
  readonly countIncludePad: boolean;
  /** The fixed divisor, when given. */
  readonly divisorOverride: number | undefined;
  private readonly args: PoolArgs;

  constructor(kernelSize: Size2, options?: AvgPool2dLayerOptions) {
    super();
    this.args = poolArgs('AvgPool2d', kernelSize, options ?? {});
    this.kernelSize = this.args.kernel;
    this.stride = this.args.stride;
    this.padding = this.args.padding.map(([p]) => p);
    this.ceilMode = checkBool('AvgPool2d', 'ceilMode', options?.ceilMode);
    this.countIncludePad = options?.countIncludePad === undefined ? true : checkBool('AvgPool2d', 'countIncludePad', options.countIncludePad);
    const d = options?.divisorOverride;
    if (d !== undefined && !(Number.isFinite(d) && d !== 0))
      throw new ConfigError(`AvgPool2d: divisorOverride must be a finite nonzero number (got ${d})`);
    this.divisorOverride = d;
  }

  /** `[N, C, H, W]` → `[N, C, Hout, Wout]` (or `[C, H, W]` → `[C, Hout, Wout]`). */
  forward(input: Tensor): Tensor {
    return avgPoolWith(`${this.name}(${this.extraRepr()})`, input, this.args, this.ceilMode, this.countIncludePad, this.divisorOverride);
  }

  protected override extraRepr(): string {
    const parts = [`kernel=${fmtShape(this.kernelSize)}`, `stride=${fmtShape(this.stride)}`];
    if (this.padding.some((p) => p !== 0)) parts.push(`padding=${fmtShape(this.padding)}`);
    if (this.ceilMode) parts.push('ceilMode=true');
    if (!this.countIncludePad) parts.push('countIncludePad=false');
    if (this.divisorOverride !== undefined) parts.push(`divisorOverride=${this.divisorOverride}`);
    return parts.join(', ');
  }
}
