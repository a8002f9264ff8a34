import { ConfigError, ShapeError, fmtShape } from '../../core/errors.js';
import { Tensor } from '../../tensor/tensor.js';

/** The number of inputs and outputs a weight connects, as used by variance-scaling initializers. */
export interface Fans {
  /** Inputs per output unit: `shape[1] · prod(shape[2:])` in Keel's (PyTorch's) layout. */
  fanIn: number;
  /** Outputs per input unit: `shape[0] · prod(shape[2:])`. */
  fanOut: number;
}

function shapeOf(shapeOrTensor: Tensor | readonly number[]): readonly number[] {
  return shapeOrTensor instanceof Tensor ? shapeOrTensor.shape : shapeOrTensor;
}

/**
 * Fan-in and fan-out of a weight in Keel's layout, which is PyTorch's: Linear `[out, in]`,
 * Conv `[out, in/groups, ...kernel]`. With `rf = prod(shape[2:])` (the receptive field),
 * `fanIn = shape[1]·rf` and `fanOut = shape[0]·rf`; e.g. `[32, 16, 3, 5]` gives 240 and 480.
 * Fewer than 2 dimensions is a ShapeError, as in PyTorch.
 *
 * PyTorch: `torch.nn.init._calculate_fan_in_and_fan_out`.
 */
export function computeFans(shapeOrTensor: Tensor | readonly number[]): Fans {
  return fansOf('computeFans', shapeOf(shapeOrTensor));
}

/** @internal {@link computeFans} with the calling function's name in the error. */
export function fansOf(op: string, shape: readonly number[]): Fans {
  if (shape.length < 2)
    throw new ShapeError(
      `${op}: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape ${fmtShape(shape)}); ` +
        'fans need a weight laid out as [out, in, ...kernel]',
    );
  let rf = 1;
  for (let i = 2; i < shape.length; i++) rf *= shape[i];
  return { fanIn: shape[1] * rf, fanOut: shape[0] * rf };
}

/**
 * The fans that Keel's Keras-named initializers (`glorotUniform`, `heNormal`, `varianceScaling`,
 * ...) use: {@link computeFans} on Keel's own layout for 2 or more dimensions, so that a Keel
 * `Linear(32, 64)` weight of shape `[64, 32]` gets fanIn 32 and fanOut 64, exactly the fans Keras
 * computes for the same Dense layer's `(32, 64)` kernel. Like Keras' `compute_fans`, a scalar
 * shape gives (1, 1) and a vector of length n gives (n, n) instead of an error.
 */
export function layerFans(shapeOrTensor: Tensor | readonly number[]): Fans {
  const shape = shapeOf(shapeOrTensor);
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  return fansOf('layerFans', shape);
}

/**
 * Names accepted by {@link calculateGain}: PyTorch's `nn.functional` names, plus camelCase
 * spellings of the two-word ones (`convTranspose2d`, `leakyRelu`).
 */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'convTranspose1d'
  | 'convTranspose2d'
  | 'convTranspose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'leakyRelu'
  | 'selu';

const LINEAR_LIKE = new Set([
  'linear',
  'conv1d',
  'conv2d',
  'conv3d',
  'conv_transpose1d',
  'conv_transpose2d',
  'conv_transpose3d',
  'convTranspose1d',
  'convTranspose2d',
  'convTranspose3d',
  'sigmoid',
]);

/**
 * The recommended gain for a nonlinearity, as `torch.nn.init.calculate_gain`: 1 for linear,
 * conv and transposed conv (any dimension) and sigmoid; 5/3 for tanh; √2 for relu;
 * √(2/(1+s²)) for leaky_relu with negative slope `param` (0.01 when omitted); 3/4 for selu.
 * Any other name is a ConfigError. `param` is only read for leaky_relu, where a value that is not
 * a number (or NaN) is a ConfigError.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  const name = nonlinearity as string;
  if (LINEAR_LIKE.has(name)) return 1;
  switch (name) {
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu':
    case 'leakyRelu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || Number.isNaN(slope))
        throw new ConfigError(`calculateGain: negative slope ${String(slope)} for '${name}' is not a valid number`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4; // found empirically, https://github.com/pytorch/pytorch/pull/50664
    default:
      throw new ConfigError(
        `calculateGain: unsupported nonlinearity '${name}' (supported: linear, conv1d/2d/3d, convTranspose1d/2d/3d, ` +
          'sigmoid, tanh, relu, leaky_relu, selu; use linear for a gain of 1)',
      );
  }
}

/** Which fan a variance-scaling initializer divides by: PyTorch's spellings are accepted too. */
export type FanMode = 'fanIn' | 'fanOut' | 'fan_in' | 'fan_out';

/**
 * @internal Picks fanIn or fanOut from `mode`, compared case-insensitively and with or without the
 * underscore (`fanIn`, `fan_in`, `FAN_IN`), as PyTorch's `_calculate_correct_fan`.
 */
export function fanForMode(op: string, shape: readonly number[], mode: FanMode): number {
  const key = typeof mode === 'string' ? mode.toLowerCase().replace('_', '') : '';
  if (key !== 'fanin' && key !== 'fanout')
    throw new ConfigError(`${op}: mode '${String(mode)}' is not supported (use 'fanIn' or 'fanOut')`);
  const { fanIn, fanOut } = fansOf(op, shape);
  return key === 'fanin' ? fanIn : fanOut;
}
