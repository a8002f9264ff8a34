import { noGrad } from '../../autograd/grad-mode.js';
import { ConfigError, DTypeError } from '../../core/errors.js';
import { Generator, defaultGenerator } from '../../core/random.js';
import { copy_, fill_ } from '../../ops/inplace.js';
import { tidy } from '../../tensor/scope.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';

/** Options shared by the random initializers. */
export interface InitOptions {
  /** The generator to draw from (default: the seeded global one, see `manualSeed`). */
  generator?: Generator;
  /** Draw from a new `Generator(seed)` instead (0 is a seed like any other). */
  seed?: number;
}

/** Writes `n` values from `draw` into `t` in place, without recording gradients. */
export function fillWith_(t: Tensor, draw: (g: Generator) => number, options?: InitOptions, op = 'fillWith_'): Tensor {
  if (t.dtype === 'int32') throw new DTypeError(`${op}: expected a floating-point tensor (got int32)`);
  if (t.size === 0) {
    console.warn(`${op}: initializing a zero-element tensor is a no-op`);
    return t;
  }
  const g = options?.seed !== undefined ? new Generator(options.seed) : (options?.generator ?? defaultGenerator());
  const values = new Float64Array(t.size);
  for (let i = 0; i < values.length; i++) values[i] = draw(g);
  noGrad(() => tidy(() => void copy_(t, tensor(values, t.shape, { dtype: t.dtype }))));
  return t;
}

/** Fills `t` in place with samples of U(a, b), as `torch.nn.init.uniform_`. */
export function uniform_(t: Tensor, a = 0, b = 1, options?: InitOptions): Tensor {
  if (!(a <= b)) throw new ConfigError(`uniform_: expected a ≤ b (got a=${a}, b=${b})`);
  if (t.dtype === 'int32') throw new DTypeError(`uniform_: expected a floating-point tensor (got int32)`);
  if (t.size === 0) return fillWith_(t, () => 0, options, 'uniform_'); // warns, as every initializer
  // The generator's bulk fill: the same draws as fillWith_ with nextFloat32/nextFloat64, in one loop.
  const g = options?.seed !== undefined ? new Generator(options.seed) : (options?.generator ?? defaultGenerator());
  const backend = t.backend;
  if (t.dtype === 'float32' && t.ownsBuffer() && backend.uniform !== undefined) {
    // The same draws in a backend kernel, straight into the tensor's memory.
    const state = g.getState();
    const words = Uint32Array.from(state.s, (v) => v >>> 0);
    backend.uniform(t.buf, words, a, b - a);
    g.setState({ ...state, s: Array.from(words) });
    return t;
  }
  const values = t.dtype === 'float64' ? new Float64Array(t.size) : new Float32Array(t.size);
  g.fillUniform(values, a, b - a, t.dtype === 'float64');
  noGrad(() => tidy(() => void copy_(t, tensor(values, t.shape, { dtype: t.dtype }))));
  return t;
}

/** Fills `t` in place with samples of N(mean, std²), as `torch.nn.init.normal_`. */
export function normal_(t: Tensor, mean = 0, std = 1, options?: InitOptions): Tensor {
  if (!(std >= 0)) throw new ConfigError(`normal_: std must be ≥ 0 (got ${std})`);
  return fillWith_(t, (g) => mean + std * g.nextNormal(), options, 'normal_');
}

/** Fills `t` with `value` in place. */
export function constant_(t: Tensor, value: number): Tensor {
  noGrad(() => fill_(t, value));
  return t;
}

/** Fills `t` with zeros in place. */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/** Fills `t` with ones in place. */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}
