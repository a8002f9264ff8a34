import { run } from '../autograd/run.js';
import { ConfigError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { type TensorLike, pair, toTensor } from './scalar.js';

const none = {} as Record<string, never>;

/** `a + b`, broadcasting. */
export const add = (a: TensorLike, b: TensorLike): Tensor => run('add', pair('add', a, b), none);
/** `a − b`, broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => run('sub', pair('sub', a, b), none);
/** `a · b` elementwise, broadcasting. */
export const mul = (a: TensorLike, b: TensorLike): Tensor => run('mul', pair('mul', a, b), none);
/** `a / b` (true division: int32 operands give float32), broadcasting. */
export const div = (a: TensorLike, b: TensorLike): Tensor => run('div', pair('div', a, b), none);
/** `a ** b` elementwise, broadcasting. */
export const pow = (a: TensorLike, b: TensorLike): Tensor => run('pow', pair('pow', a, b), none);
/** Elementwise maximum (NaN wins; ties share the gradient). */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => run('maximum', pair('maximum', a, b), none);
/** Elementwise minimum (NaN wins; ties share the gradient). */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => run('minimum', pair('minimum', a, b), none);

/** `a > b` as 1/0 in the operands' dtype. Not differentiable. */
export const gt = (a: TensorLike, b: TensorLike): Tensor => run('gt', pair('gt', a, b), none);
/** `a ≥ b` as 1/0. */
export const ge = (a: TensorLike, b: TensorLike): Tensor => run('ge', pair('ge', a, b), none);
/** `a < b` as 1/0. */
export const lt = (a: TensorLike, b: TensorLike): Tensor => run('lt', pair('lt', a, b), none);
/** `a ≤ b` as 1/0. */
export const le = (a: TensorLike, b: TensorLike): Tensor => run('le', pair('le', a, b), none);
/** `a == b` as 1/0. */
export const eq = (a: TensorLike, b: TensorLike): Tensor => run('eq', pair('eq', a, b), none);
/** `a != b` as 1/0. */
export const ne = (a: TensorLike, b: TensorLike): Tensor => run('ne', pair('ne', a, b), none);

/** `cond ? a : b` elementwise (`cond` nonzero means true), broadcasting all three. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = pair('where', a, b);
  return run('where', [cond, ta, tb], none);
}

/** `−x`. */
export const neg = (x: Tensor): Tensor => run('neg', [x], none);
/** `eˣ`. */
export const exp = (x: Tensor): Tensor => run('exp', [x], none);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => run('log', [x], none);
/** Square root. */
export const sqrt = (x: Tensor): Tensor => run('sqrt', [x], none);
/** `|x|`. */
export const abs = (x: Tensor): Tensor => run('abs', [x], none);
/** −1, 0 or 1 (gradient zero). */
export const sign = (x: Tensor): Tensor => run('sign', [x], none);
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => run('tanh', [x], none);
/** Logistic sigmoid `1 / (1 + e⁻ˣ)`, computed without overflow. */
export const sigmoid = (x: Tensor): Tensor => run('sigmoid', [x], none);
/** `max(x, 0)`. */
export const relu = (x: Tensor): Tensor => run('relu', [x], none);
/** The error function. */
export const erf = (x: Tensor): Tensor => run('erf', [x], none);
/** `x²`. */
export const square = (x: Tensor): Tensor => run('mul', [x, x], none);

/** `x` where positive, `negativeSlope·x` elsewhere (PyTorch default slope 0.01). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return run('leakyRelu', [x], { alpha: negativeSlope });
}

/** `x` where positive, `α(eˣ − 1)` elsewhere (default α = 1). */
export function elu(x: Tensor, alpha = 1): Tensor {
  return run('elu', [x], { alpha });
}

/** Scaled ELU with the self-normalizing constants of Klambauer et al. (2017). */
export const selu = (x: Tensor): Tensor => run('selu', [x], none);

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** `'none'` (exact, with erf; the default) or `'tanh'` (the approximation). */
  approximate?: 'none' | 'tanh';
}

/** Gaussian error linear unit `x·Φ(x)`, exact by default, as `torch.nn.functional.gelu`. */
export function gelu(x: Tensor, options?: GeluOptions): Tensor {
  const approximate = options?.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh')
    throw new ConfigError(`gelu: approximate must be 'none' or 'tanh' (got '${String(approximate)}')`);
  return run('gelu', [x], { approximate });
}

/** Options of {@link softplus}. */
export interface SoftplusOptions {
  /** Sharpness β (default 1). */
  beta?: number;
  /** Above `βx > threshold` the function is the identity (default 20). */
  threshold?: number;
}

/** `log(1 + e^{βx}) / β`, linear above the threshold, as PyTorch. */
export function softplus(x: Tensor, options?: SoftplusOptions): Tensor {
  return run('softplus', [x], { beta: options?.beta ?? 1, threshold: options?.threshold ?? 20 });
}

/** Clamps each element into `[min, max]` (either bound may be omitted with `null`/`undefined`). */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  if (min == null && max == null) throw new ConfigError('clamp: at least one of min and max must be given');
  if (min != null && max != null && min > max) throw new ConfigError(`clamp: min ${min} is greater than max ${max}`);
  return run('clamp', [x], { min: min ?? null, max: max ?? null });
}

/** `1 / x`. */
export const reciprocal = (x: Tensor): Tensor => run('div', [toTensor(1, x), x], none);
