/**
 * The text form of a tensor, character for character as PyTorch prints it (`repr(tensor)`, from
 * `torch/_tensor_str.py`: `_Formatter`, `_vector_str`, `_tensor_str_with_formatter`,
 * `get_summarized_data`, `_add_suffixes`), with Keel's names in the suffixes:
 *
 *   tensor([[1., 2.],
 *           [3., 4.]], dtype=float64, requiresGrad=true)
 *
 * Differences from PyTorch, all in the suffixes: dtypes print without `torch.`; only float32 is the
 * default dtype, so int32 prints `dtype=int32` (PyTorch's default integer type is int64);
 * `requires_grad=True` is `requiresGrad=true` and `grad_fn=<...>` is `gradFn=<...>`, with the name
 * exactly as the caller gives it.
 */
import type { DType } from '../core/dtype.js';
import { isFloat } from '../core/dtype.js';
import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import { checkShape, contiguousStrides, numel } from '../core/shape.js';

/** PyTorch's print options (`torch.set_printoptions`), camelCased. */
export interface FormatOptions {
  /** Digits after the decimal point, and of the mantissa in scientific notation. Default 4. */
  precision?: number;
  /** A tensor with more elements than this is summarized with `...`. Default 1000. */
  threshold?: number;
  /** Items shown at each end of every summarized dimension. Default 3. */
  edgeItems?: number;
  /** Characters per line: long rows wrap and suffixes move to a new line past it. Default 80. */
  lineWidth?: number;
  /** `true` or `false` forces scientific notation on or off; `undefined` lets the values decide. */
  sciMode?: boolean | undefined;
}

/** What follows the values: the dtype (unless float32) and the autograd state. */
export interface TensorSuffix {
  dtype: DType;
  /** Prints `requiresGrad=true` when set and there is no `gradFn`. */
  requiresGrad?: boolean;
  /** The name of the op that made the tensor; prints `gradFn=<name>`. */
  gradFn?: string | null;
}

type Resolved = Required<Omit<FormatOptions, 'sciMode'>> & { sciMode: boolean | undefined };

const PREFIX = 'tensor(';
const DEFAULT_DTYPE: DType = 'float32';

/**
 * Formats a tensor as PyTorch's `repr` does. `values` are the elements in row-major order; they
 * are read as the dtype stores them (float32 values are rounded to float32 first, int32 values
 * truncated as an `Int32Array` would).
 */
export function formatTensor(
  values: ArrayLike<number>,
  shape: readonly number[],
  suffix: TensorSuffix,
  options: FormatOptions = {},
): string {
  const opts = resolveOptions(options);
  checkShape('formatTensor', shape);
  const size = numel(shape);
  if (values.length !== size)
    throw new ShapeError(
      `formatTensor: values has ${values.length} elements but shape ${fmtShape(shape)} needs ${size}; ` +
        'pass every element of the tensor in row-major order',
    );

  const suffixes: string[] = [];
  let body: string;
  if (size === 0) {
    // As NumPy does, an empty tensor shows its shape unless it is plainly `(0,)`.
    if (shape.length !== 1) suffixes.push(`size=${pyTuple(shape)}`);
    body = '[]';
  } else {
    body = formatValues(values, shape, suffix.dtype, opts);
  }
  if (suffix.dtype !== DEFAULT_DTYPE) suffixes.push(`dtype=${suffix.dtype}`);
  if (suffix.gradFn != null) suffixes.push(`gradFn=<${suffix.gradFn}>`);
  else if (suffix.requiresGrad === true) suffixes.push('requiresGrad=true');
  return addSuffixes(PREFIX + body, suffixes, PREFIX.length, opts.lineWidth);
}

function resolveOptions(options: FormatOptions): Resolved {
  const opts: Resolved = {
    precision: options.precision ?? 4,
    threshold: options.threshold ?? 1000,
    edgeItems: options.edgeItems ?? 3,
    lineWidth: options.lineWidth ?? 80,
    sciMode: options.sciMode,
  };
  const wholeAtLeast = (name: keyof Resolved, min: number): void => {
    const v = opts[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      throw new ConfigError(`formatTensor: options.${name} is ${String(v)}; expected an integer >= ${min}`);
  };
  wholeAtLeast('precision', 0);
  wholeAtLeast('edgeItems', 0);
  wholeAtLeast('lineWidth', 1);
  if (typeof opts.threshold !== 'number' || Number.isNaN(opts.threshold))
    throw new ConfigError(
      `formatTensor: options.threshold is ${String(opts.threshold)}; expected a number (Infinity never summarizes)`,
    );
  return opts;
}

/** The bracketed values of a non-empty tensor (PyTorch `_tensor_str`). */
function formatValues(values: ArrayLike<number>, shape: readonly number[], dtype: DType, opts: Resolved): string {
  const { edgeItems, lineWidth } = opts;
  const summarize = numel(shape) > opts.threshold;
  // With no edge items a summary has nothing to show but the ellipsis (PyTorch >= 2.1); a scalar
  // still prints its value.
  if (summarize && edgeItems === 0 && shape.length > 0) return '[...]';

  const rank = shape.length;
  const strides = contiguousStrides(shape);
  const read = storedAs(dtype, values);
  // The indices shown along a dimension of this size; `null` marks the ellipsis.
  const shown = (n: number): (number | null)[] => {
    const all = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
    if (summarize && n > 2 * edgeItems) return [...all(0, edgeItems), null, ...all(n - edgeItems, n)];
    return all(0, n);
  };

  // One formatter for the whole tensor, fitted to the values that will be shown, so every column
  // has the same width (PyTorch `get_summarized_data`).
  const visible: number[] = [];
  const collect = (dim: number, base: number): void => {
    if (dim === rank) {
      visible.push(read(base));
      return;
    }
    for (const i of shown(shape[dim])) if (i !== null) collect(dim + 1, base + i * strides[dim]);
  };
  collect(0, 0);
  const fmt = makeFormatter(visible, isFloat(dtype), opts);

  // `indent` is the column of this dimension's `[`; wrapped rows and inner slices align after it.
  const render = (dim: number, base: number, indent: number): string => {
    if (dim === rank) return fmt.format(read(base));
    const items = shown(shape[dim]);
    const newline = ' '.repeat(indent + 1);
    if (dim === rank - 1) {
      const cells = items.map((i) => (i === null ? ' ...' : fmt.format(read(base + i))));
      // Each cell takes its width plus ", ".
      const perLine = Math.max(1, Math.floor((lineWidth - indent) / (fmt.width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < cells.length; i += perLine) lines.push(cells.slice(i, i + perLine).join(', '));
      return '[' + lines.join(',\n' + newline) + ']';
    }
    const slices = items.map((i) => (i === null ? '...' : render(dim + 1, base + i * strides[dim], indent + 1)));
    // Blank lines between slices grow with depth: none between rows, one between matrices, ...
    return '[' + slices.join(',' + '\n'.repeat(rank - dim - 1) + newline) + ']';
  };
  return render(0, 0, PREFIX.length);
}

/** Reads element `i` as the dtype stores it. */
function storedAs(dtype: DType, values: ArrayLike<number>): (i: number) => number {
  switch (dtype) {
    case 'float32':
      return (i) => Math.fround(values[i]);
    case 'float64':
      return (i) => +values[i];
    case 'int32':
      return (i) => values[i] | 0;
    default:
      return dtype satisfies never;
  }
}

interface Formatter {
  /** The common width every value is right-aligned to. */
  readonly width: number;
  format(value: number): string;
}

/**
 * PyTorch's `_Formatter`. Float tensors whose finite nonzero values are all integers print as
 * `1.`; otherwise with `precision` decimals; scientific notation when the finite nonzero
 * magnitudes span more than 1000x, exceed 1e8 or (non-integer values only) fall below 1e-4.
 * Widths come from the finite nonzero values only, so zeros, nan and inf never widen a column.
 */
function makeFormatter(visible: readonly number[], floating: boolean, opts: Resolved): Formatter {
  const pad = (text: string, width: number): string => ' '.repeat(Math.max(0, width - text.length)) + text;
  if (!floating) {
    let width = 1;
    for (const v of visible) width = Math.max(width, String(v).length);
    return { width, format: (v) => pad(String(v), width) };
  }

  const { precision } = opts;
  let intMode = true;
  let sci = false;
  let width = 1;
  const finite = visible.filter((v) => Number.isFinite(v) && v !== 0);
  // PyTorch returns before applying `sciMode` when there is no finite nonzero value.
  if (finite.length > 0) {
    let min = Infinity;
    let max = 0;
    for (const v of finite) {
      min = Math.min(min, Math.abs(v));
      max = Math.max(max, Math.abs(v));
    }
    intMode = finite.every((v) => Number.isInteger(v));
    sci = max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4);
    for (const v of finite) {
      const len = sci
        ? pyExponential(v, precision).length
        : intMode
          ? pyFixed(v, 0).length + 1 // the trailing "."
          : pyFixed(v, precision).length;
      width = Math.max(width, len);
    }
    if (opts.sciMode !== undefined) sci = opts.sciMode;
  }

  const format = (v: number): string => {
    if (sci) return pyExponential(v, precision);
    if (intMode) return pyFixed(v, 0) + (Number.isFinite(v) ? '.' : '');
    return pyFixed(v, precision);
  };
  return { width, format: (v) => pad(format(v), width) };
}

/** Python's `str(tuple(shape))`: `(0, 3)`, `(0,)`. */
function pyTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * PyTorch `_add_suffixes`: each suffix follows `, ` on the last line, or starts a new line
 * indented under the first value when it would pass `lineWidth`.
 */
function addSuffixes(text: string, suffixes: readonly string[], indent: number, lineWidth: number): string {
  let out = text;
  // PyTorch's count: one more than the last line's length (two more when there is no newline).
  let lastLineLen = text.length - text.lastIndexOf('\n') + 1;
  for (const suffix of suffixes) {
    if (lastLineLen + suffix.length + 2 > lineWidth) {
      out += ',\n' + ' '.repeat(indent) + suffix;
      lastLineLen = indent + suffix.length;
    } else {
      out += ', ' + suffix;
      lastLineLen += suffix.length + 2;
    }
  }
  return out + ')';
}

// Python's float formatting. JavaScript's toFixed/toExponential round ties away from zero and
// toFixed switches to exponent form at 1e21; Python rounds the exact binary value half to even
// (`'%.1f' % 0.25` is `0.2`). These work on the exact value with BigInt, so they match Python for
// every double.

/** Python `format(x, '.{p}f')`. */
function pyFixed(x: number, p: number): string {
  if (Number.isNaN(x)) return 'nan';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (!Number.isFinite(x)) return sign + 'inf';
  const [num, den] = exactFraction(x);
  const digits = roundHalfEven(num * 10n ** BigInt(p), den)
    .toString()
    .padStart(p + 1, '0');
  const point = digits.length - p;
  return sign + digits.slice(0, point) + (p > 0 ? '.' + digits.slice(point) : '');
}

/** Python `format(x, '.{p}e')`: `1.0000e+05`, at least two exponent digits. */
function pyExponential(x: number, p: number): string {
  if (Number.isNaN(x)) return 'nan';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (!Number.isFinite(x)) return sign + 'inf';
  let exp = 0;
  let mantissa = 0n;
  if (x !== 0) {
    const [num, den] = exactFraction(x);
    // |x| / 10^k as an exact fraction.
    const scaled = (k: number): [bigint, bigint] =>
      k >= 0 ? [num, den * 10n ** BigInt(k)] : [num * 10n ** BigInt(-k), den];
    exp = Math.floor(Math.log10(Math.abs(x)));
    let [n, d] = scaled(exp);
    // log10 is approximate; settle on 10^exp <= |x| < 10^(exp + 1) exactly.
    while (n < d) [n, d] = scaled(--exp);
    while (n >= 10n * d) [n, d] = scaled(++exp);
    mantissa = roundHalfEven(n * 10n ** BigInt(p), d);
    if (mantissa === 10n ** BigInt(p + 1)) {
      // 9.99995 rounded up to 10.0000: renormalize.
      mantissa /= 10n;
      exp += 1;
    }
  }
  const digits = mantissa.toString().padStart(p + 1, '0');
  const expText = (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(2, '0');
  return sign + digits[0] + (p > 0 ? '.' + digits.slice(1) : '') + 'e' + expText;
}

/** |x| exactly, as numerator / denominator with the denominator a power of two. */
function exactFraction(x: number): [bigint, bigint] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const fraction = bits & ((1n << 52n) - 1n);
  // Subnormals have no implicit leading bit and the exponent of the smallest normal.
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const exp = Math.max(biased, 1) - 1075;
  return exp >= 0 ? [mantissa << BigInt(exp), 1n] : [mantissa, 1n << BigInt(-exp)];
}

/** num / den rounded to the nearest integer, ties to even. */
function roundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const twice = 2n * (num % den);
  return twice > den || (twice === den && (q & 1n) === 1n) ? q + 1n : q;
}
