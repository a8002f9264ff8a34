import { type DType, isFloat } from '../core/dtype.js';
import { ConfigError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import type { Generator } from '../core/random.js';
import { zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ConvPadding, type PaddingMode, type Size1, type Size2, convArgs, convNd } from './functional-conv.js';
import { uniform_ } from './init/basic.js';
import { Module, parameter } from './module.js';

/** Options of {@link Conv1d} and {@link Conv2d}; `S` is the per-dimension size type. */
export interface ConvOptions<S> {
  /** Step between output positions (default 1). */
  stride?: S;
  /**
   * Padding on both sides of each spatial dimension (default 0), or `'valid'` (none) or
   * `'same'` (the output keeps the input's size; stride 1 only; an odd total padding puts the
   * extra element on the right, as PyTorch).
   */
  padding?: ConvPadding<S>;
  /** Spacing between kernel taps (default 1). */
  dilation?: S;
  /** Split input and output channels into this many independent groups (default 1). */
  groups?: number;
  /** Learn an additive bias per output channel (default true). */
  bias?: boolean;
  /** How the padding is filled: `'zeros'` (default), `'reflect'`, `'replicate'` or `'circular'`. */
  paddingMode?: PaddingMode;
  /** The generator for the initial weights (default: the seeded global one, see `manualSeed`). */
  generator?: Generator;
  /** Parameter dtype, `'float32'` (default) or `'float64'`. */
  dtype?: DType;
}

/** Options of {@link Conv1d}. */
export type Conv1dLayerOptions = ConvOptions<Size1>;
/** Options of {@link Conv2d}. */
export type Conv2dLayerOptions = ConvOptions<Size2>;

const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular'];

/** The shared machinery of Conv1d and Conv2d: `n` spatial dimensions. */
abstract class ConvNd extends Module {
  /** Channels of the input (dimension 1, or 0 for unbatched input). */
  readonly inChannels: number;
  /** Channels of the output. */
  readonly outChannels: number;
  /** Kernel size per spatial dimension. */
  readonly kernelSize: readonly number[];
  /** Stride per spatial dimension. */
  readonly stride: readonly number[];
  /** Padding per spatial dimension, or `'valid'` / `'same'`. */
  readonly padding: readonly number[] | 'valid' | 'same';
  /** Dilation per spatial dimension. */
  readonly dilation: readonly number[];
  /** Number of channel groups. */
  readonly groups: number;
  /** How padding is filled. */
  readonly paddingMode: PaddingMode;
  /** `[outChannels, inChannels/groups, ...kernelSize]`. */
  weight: Tensor;
  /** `[outChannels]`, or null when built with `{ bias: false }`. */
  bias: Tensor | null;

  constructor(
    private readonly spatialDims: number,
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    options: ConvOptions<Size1 | Size2> | undefined,
  ) {
    super();
    const layer = this.name;
    for (const [arg, v] of [
      ['inChannels', inChannels],
      ['outChannels', outChannels],
    ] as const)
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${layer}: ${arg} must be a positive integer (got ${String(v)})`);
    const n = spatialDims;
    const kernel = typeof kernelSize === 'number' ? new Array<number>(n).fill(kernelSize) : [...kernelSize];
    if (kernel.length !== n || kernel.some((k) => !Number.isInteger(k) || k < 1))
      throw new ConfigError(
        `${layer}: kernelSize must be a positive integer${n > 1 ? ` or ${n} of them` : ''} (got ${typeof kernelSize === 'number' ? kernelSize : fmtShape(kernel)})`,
      );
    const args = convArgs(layer, n, kernel, options ?? {});
    if (inChannels % args.groups !== 0)
      throw new ConfigError(`${layer}: inChannels (${inChannels}) must be divisible by groups (${args.groups})`);
    if (outChannels % args.groups !== 0)
      throw new ConfigError(`${layer}: outChannels (${outChannels}) must be divisible by groups (${args.groups})`);
    const paddingMode = options?.paddingMode ?? 'zeros';
    if (!PADDING_MODES.includes(paddingMode))
      throw new ConfigError(`${layer}: paddingMode must be one of ${PADDING_MODES.map((m) => `'${m}'`).join(', ')} (got '${String(paddingMode)}')`);
    const dtype = options?.dtype ?? 'float32';
    if (!isFloat(dtype)) throw new ConfigError(`${layer}: dtype must be 'float32' or 'float64' for trainable parameters (got '${dtype}')`);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernel;
    this.stride = args.stride;
    this.padding = args.paddingArg;
    this.dilation = args.dilation;
    this.groups = args.groups;
    this.paddingMode = paddingMode;
    // PyTorch's reset_parameters: kaiming_uniform_(a=√5) = U(±1/√fanIn), then the bias U(±1/√fanIn),
    // with fanIn = in/groups·prod(kernel); drawn in that order from the generator.
    const fanIn = (inChannels / args.groups) * kernel.reduce((a, b) => a * b, 1);
    const bound = 1 / Math.sqrt(fanIn);
    const init = { generator: options?.generator };
    this.weight = parameter(uniform_(zeros([outChannels, inChannels / args.groups, ...kernel], { dtype }), -bound, bound, init));
    this.bias = (options?.bias ?? true) ? parameter(uniform_(zeros([outChannels], { dtype }), -bound, bound, init)) : null;
  }

  /** `input` `[N, inChannels, ...spatial]` (or unbatched `[inChannels, ...spatial]`) → `[N, outChannels, ...out]`. */
  forward(input: Tensor): Tensor {
    const n = this.spatialDims;
    const layout = n === 1 ? '[N, C, L]' : '[N, C, H, W]';
    const unbatched = n === 1 ? '[C, L]' : '[C, H, W]';
    if (input.ndim !== n + 2 && input.ndim !== n + 1)
      throw new ShapeError(
        `${this.label()}: expected a ${n + 2}-D input ${layout} or an unbatched ${n + 1}-D input ${unbatched} (got shape ${fmtShape(input.shape)})`,
      );
    const c = input.shape[input.ndim - n - 1];
    if (c !== this.inChannels)
      throw new ShapeError(
        `${this.label()}: input has ${c} channels in dimension ${input.ndim - n - 1} (shape ${fmtShape(input.shape)}); expected ${this.inChannels}`,
      );
    if (input.dtype !== this.weight.dtype)
      throw new DTypeError(
        `${this.label()}: input dtype ${input.dtype} does not match the layer's ${this.weight.dtype} (cast the input, or build the layer with { dtype: '${input.dtype}' })`,
      );
    return convNd(this.label(), n, input, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
      paddingMode: this.paddingMode,
    });
  }

  protected override extraRepr(): string {
    const all = (v: readonly number[], d: number): boolean => v.every((x) => x === d);
    const parts = [`in=${this.inChannels}`, `out=${this.outChannels}`, `kernel=${fmtShape(this.kernelSize)}`];
    if (!all(this.stride, 1)) parts.push(`stride=${fmtShape(this.stride)}`);
    if (typeof this.padding === 'string') parts.push(`padding='${this.padding}'`);
    else if (!all(this.padding, 0)) parts.push(`padding=${fmtShape(this.padding)}`);
    if (!all(this.dilation, 1)) parts.push(`dilation=${fmtShape(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (this.bias === null) parts.push('bias=false');
    if (this.paddingMode !== 'zeros') parts.push(`paddingMode='${this.paddingMode}'`);
    return parts.join(', ');
  }

  private label(): string {
    return `${this.name}(${this.extraRepr()})`;
  }
}

/**
 * A 1-D convolution over `[N, C, L]` signals, as PyTorch's `nn.Conv1d` (Keras `Conv1D`, but
 * channels first). Output `[N, outChannels, Lout]` with
 * Lout = ⌊(L + 2·padding − dilation·(kernelSize − 1) − 1)/stride⌋ + 1; an unbatched `[C, L]`
 * input gives `[outChannels, Lout]`.
 *
 * Parameters: `weight` `[outChannels, inChannels/groups, kernelSize]` (PyTorch's layout) and
 * `bias` `[outChannels]` (or null with `{ bias: false }`). Default initialization is PyTorch's:
 * U(±1/√fanIn) for both, fanIn = inChannels/groups·kernelSize.
 *
 * @example const conv = new Conv1d(16, 32, 3, { padding: 1 }); conv.call(x); // [8, 16, 100] → [8, 32, 100]
 */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Size1, options?: Conv1dLayerOptions) {
    super(1, inChannels, outChannels, typeof kernelSize === 'number' ? kernelSize : [...kernelSize], options);
  }
}

/**
 * A 2-D convolution over `[N, C, H, W]` images, as PyTorch's `nn.Conv2d` (Keras `Conv2D` with
 * `data_format='channels_first'`). `kernelSize`, `stride`, `padding` and `dilation` are one
 * number or `[h, w]`. Output `[N, outChannels, Hout, Wout]`, each
 * Hout = ⌊(H + 2·padding − dilation·(kh − 1) − 1)/stride⌋ + 1; an unbatched `[C, H, W]` input
 * gives `[outChannels, Hout, Wout]`.
 *
 * Parameters: `weight` `[outChannels, inChannels/groups, kh, kw]` (PyTorch's layout) and `bias`
 * `[outChannels]` (or null). Default initialization is PyTorch's: U(±1/√fanIn) for both,
 * fanIn = inChannels/groups·kh·kw.
 *
 * @example const conv = new Conv2d(1, 32, 3, { padding: 'same' }); conv.call(x); // [64, 1, 28, 28] → [64, 32, 28, 28]
 */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Size2, options?: Conv2dLayerOptions) {
    super(2, inChannels, outChannels, typeof kernelSize === 'number' ? kernelSize : [...kernelSize], options);
  }
}
