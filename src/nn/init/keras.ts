import { noGrad } from '../../autograd/grad-mode.js';
import type { DType } from '../../core/dtype.js';
import { ConfigError, ShapeError, fmtShape } from '../../core/errors.js';
import { Generator, defaultGenerator } from '../../core/random.js';
import { checkShape } from '../../core/shape.js';
import { copy_ } from '../../ops/inplace.js';
import { zeros as zerosTensor } from '../../tensor/create.js';
import { tidy } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import { fillWith_, normal_, uniform_ } from './basic.js';
import { layerFans } from './fans.js';
import { orthogonal_ } from './pytorch.js';
import { checkFloat, truncatedStandardNormal, writeValues_ } from './sampling.js';

// Keras-style initializers: objects that make a new tensor for a shape, chosen by name
// (`kernelInitializer: 'heNormal'`) or built with options (`varianceScaling({ scale: 2 })`).
// They follow Keras 3 (keras/src/initializers) except for the layout: shapes are Keel's
// ([out, in, ...kernel], PyTorch's), and fans are read from that layout (see `layerFans`), so
// `glorotUniform` on a Keel Linear(32, 64) weight [64, 32] uses fanIn 32 and fanOut 64, as Keras
// does for the Dense(64) kernel (32, 64) it would build for 32 inputs.

/** The options an initializer was built with (its Keras `get_config()`), e.g. `{ seed: 3 }`. */
export type InitializerConfig = Readonly<Record<string, number | string | null>>;

/**
 * A Keras-style initializer: call it with a shape (Keel's layout), a dtype (default float32) and
 * optionally a generator to get a new tensor. `name` is its camelCase name and `config` its
 * options, so `getInitializer({ name, config })` rebuilds it.
 *
 * Seeds: an initializer built with `seed` draws from a fresh `Generator(seed)` on every call, so
 * it returns the same values every time (as in Keras 3) and ignores the `generator` argument.
 * Without a seed it draws from `generator`, else from the seeded global generator (`manualSeed`),
 * so successive calls differ. (Keras 3 instead fixes a random seed when an unseeded initializer
 * is built, and warns that reusing it repeats its values.)
 */
export interface Initializer {
  (shape: readonly number[], dtype?: DType, generator?: Generator): Tensor;
  /** The camelCase name, e.g. `heNormal`. */
  readonly name: string;
  /** The options, e.g. `{ seed: null }` or `{ scale: 2, mode: 'fanIn', ... }`. */
  readonly config: InitializerConfig;
}

/** Options shared by the random Keras-style initializers. */
export interface SeedOptions {
  /**
   * Every call draws from a new `Generator(seed)` and returns the same values (an integer in
   * [0, 2^53); 0 is a seed like any other). Omitted: draw from the call's generator or the global one.
   */
  seed?: number;
}

function checkSeed(op: string, seed: number | undefined): void {
  if (seed !== undefined && (!Number.isSafeInteger(seed) || seed < 0))
    throw new ConfigError(`${op}: seed ${String(seed)} is invalid (expected an integer in [0, 2^53), or omit it)`);
}

function checkNumber(op: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ConfigError(`${op}: ${name} must be a finite number (got ${String(value)})`);
}

/**
 * Builds an initializer. `fill` writes the values into a zero tensor of the requested shape;
 * `random` initializers need a floating-point dtype and a generator.
 */
function makeInitializer(
  name: string,
  config: InitializerConfig,
  fill: ((t: Tensor, g: Generator) => void) | null,
  seed?: number,
): Initializer {
  const init = (shape: readonly number[], dtype: DType = 'float32', generator?: Generator): Tensor => {
    checkShape(name, shape);
    const t = zerosTensor(shape, { dtype });
    if (fill === null) return t;
    checkFloat(name, t);
    if (t.size === 0) return t;
    fill(t, seed !== undefined ? new Generator(seed) : (generator ?? defaultGenerator()));
    return t;
  };
  Object.defineProperty(init, 'name', { value: name });
  Object.defineProperty(init, 'config', { value: Object.freeze({ ...config }), enumerable: true });
  return init as Initializer;
}

/** All zeros. Keras: `Zeros` / `'zeros'`. Works for every dtype. */
export function zeros(): Initializer {
  return makeInitializer('zeros', {}, null);
}

/** All ones. Keras: `Ones` / `'ones'`. Works for every dtype. */
export function ones(): Initializer {
  const init = makeInitializer('ones', {}, null);
  return withValues(init, (t) => writeValues_(t, new Float64Array(t.size).fill(1)));
}

/** Options of {@link constant}. */
export interface ConstantOptions {
  /** The value of every entry (default 0, as Keras). */
  value?: number;
}

/** Every entry `value` (default 0). Keras: `Constant(value)`. Works for every dtype. */
export function constant(options?: ConstantOptions): Initializer {
  const value = options?.value ?? 0;
  checkNumber('constant', 'value', value);
  const init = makeInitializer('constant', { value }, null);
  return withValues(init, (t) => writeValues_(t, new Float64Array(t.size).fill(value)));
}

/** Wraps a deterministic initializer so that it fills its zero tensor with `fill`. */
function withValues(base: Initializer, fill: (t: Tensor) => void): Initializer {
  const init = (shape: readonly number[], dtype: DType = 'float32'): Tensor => {
    const t = base(shape, dtype);
    if (t.size > 0) fill(t);
    return t;
  };
  Object.defineProperty(init, 'name', { value: base.name });
  Object.defineProperty(init, 'config', { value: base.config, enumerable: true });
  return init as Initializer;
}

/** Options of {@link randomNormal} and {@link truncatedNormal}. */
export interface RandomNormalOptions extends SeedOptions {
  /** Mean (default 0). */
  mean?: number;
  /** Standard deviation (default 0.05). */
  stddev?: number;
}

/** N(mean, stddev²), default N(0, 0.05²). Keras: `RandomNormal`. */
export function randomNormal(options?: RandomNormalOptions): Initializer {
  const op = 'randomNormal';
  const mean = options?.mean ?? 0;
  const stddev = options?.stddev ?? 0.05;
  checkNumber(op, 'mean', mean);
  checkNumber(op, 'stddev', stddev);
  if (stddev < 0) throw new ConfigError(`${op}: stddev must be ≥ 0 (got ${stddev})`);
  checkSeed(op, options?.seed);
  const fill = (t: Tensor, g: Generator): void => void normal_(t, mean, stddev, { generator: g });
  return makeInitializer(op, { mean, stddev, seed: options?.seed ?? null }, fill, options?.seed);
}

/** Options of {@link randomUniform}. */
export interface RandomUniformOptions extends SeedOptions {
  /** Lower bound, inclusive (default −0.05; 0 stays 0). */
  minval?: number;
  /** Upper bound (default 0.05). */
  maxval?: number;
}

/** U(minval, maxval), default U(−0.05, 0.05). Keras: `RandomUniform`. */
export function randomUniform(options?: RandomUniformOptions): Initializer {
  const op = 'randomUniform';
  const minval = options?.minval ?? -0.05;
  const maxval = options?.maxval ?? 0.05;
  checkNumber(op, 'minval', minval);
  checkNumber(op, 'maxval', maxval);
  if (!(minval <= maxval)) throw new ConfigError(`${op}: expected minval ≤ maxval (got minval=${minval}, maxval=${maxval})`);
  checkSeed(op, options?.seed);
  return makeInitializer(
    op,
    { minval, maxval, seed: options?.seed ?? null },
    (t, g) => void uniform_(t, minval, maxval, { generator: g }),
    options?.seed,
  );
}

/** Writes mean + stddev·z, z standard normal restricted to [−2, 2] (Keras' redraw rule). */
function fillTruncated(t: Tensor, g: Generator, mean: number, stddev: number): void {
  const z = truncatedStandardNormal(-2, 2);
  fillWith_(t, (gen) => mean + stddev * z(gen), { generator: g });
}

/**
 * N(mean, stddev²) with values more than 2·stddev from the mean redrawn (a relative cutoff, unlike
 * PyTorch's `truncNormal_`), default stddev 0.05. The result's standard deviation is
 * 0.8796·stddev. Sampled by exact rejection, which is the same distribution as Keras' redraw.
 * Keras: `TruncatedNormal`.
 */
export function truncatedNormal(options?: RandomNormalOptions): Initializer {
  const op = 'truncatedNormal';
  const mean = options?.mean ?? 0;
  const stddev = options?.stddev ?? 0.05;
  checkNumber(op, 'mean', mean);
  checkNumber(op, 'stddev', stddev);
  if (!(stddev > 0)) throw new ConfigError(`${op}: stddev must be > 0 (got ${stddev})`);
  checkSeed(op, options?.seed);
  const fill = (t: Tensor, g: Generator): void => fillTruncated(t, g, mean, stddev);
  return makeInitializer(op, { mean, stddev, seed: options?.seed ?? null }, fill, options?.seed);
}

/**
 * Which fans {@link varianceScaling} divides the scale by: fanIn, fanOut, their mean (fanAvg) or
 * their geometric mean √(fanIn·fanOut) (fanGeoAvg, from JAX). Keras' snake_case names work too.
 */
export type VarianceScalingMode =
  | 'fanIn'
  | 'fanOut'
  | 'fanAvg'
  | 'fanGeoAvg'
  | 'fan_in'
  | 'fan_out'
  | 'fan_avg'
  | 'fan_geo_avg';

/**
 * The distribution of {@link varianceScaling}: `truncatedNormal` (cut at ±2 std, corrected so the
 * variance is exact), `untruncatedNormal`, `uniform`; `normal` means truncatedNormal, as in Keras.
 * Keras' snake_case names work too.
 */
export type VarianceScalingDistribution =
  | 'truncatedNormal'
  | 'untruncatedNormal'
  | 'uniform'
  | 'normal'
  | 'truncated_normal'
  | 'untruncated_normal';

/** Options of {@link varianceScaling}. */
export interface VarianceScalingOptions extends SeedOptions {
  /** Target variance times the chosen fan (default 1); must be > 0. */
  scale?: number;
  /** Which fan to divide by (default fanIn). */
  mode?: VarianceScalingMode;
  /** The distribution (default truncatedNormal). */
  distribution?: VarianceScalingDistribution;
}

const MODES: Record<string, 'fanIn' | 'fanOut' | 'fanAvg' | 'fanGeoAvg'> = {
  fanin: 'fanIn',
  fanout: 'fanOut',
  fanavg: 'fanAvg',
  fangeoavg: 'fanGeoAvg',
};
const DISTRIBUTIONS: Record<string, 'truncatedNormal' | 'untruncatedNormal' | 'uniform'> = {
  truncatednormal: 'truncatedNormal',
  normal: 'truncatedNormal',
  untruncatednormal: 'untruncatedNormal',
  uniform: 'uniform',
};

/** Lower-case, no underscores: `fan_in`, `fanIn` and `FAN_IN` all become `fanin`. */
function normKey(s: unknown): string {
  return typeof s === 'string' ? s.toLowerCase().replace(/_/g, '') : '';
}

/** Keras' constant: the standard deviation of N(0, 1) truncated to [−2, 2]. */
const TRUNCATED_STD = 0.87962566103423978;

function varianceScalingImpl(
  name: string,
  config: InitializerConfig,
  options: VarianceScalingOptions | undefined,
): Initializer {
  const op = name;
  const scale = options?.scale ?? 1;
  checkNumber(op, 'scale', scale);
  if (scale <= 0) throw new ConfigError(`${op}: scale must be a positive number (got ${scale})`);
  const modeArg = options?.mode ?? 'fanIn';
  const mode = MODES[normKey(modeArg)];
  if (mode === undefined)
    throw new ConfigError(`${op}: mode '${String(modeArg)}' is not supported (use 'fanIn', 'fanOut', 'fanAvg' or 'fanGeoAvg')`);
  const distArg = options?.distribution ?? 'truncatedNormal';
  const distribution = DISTRIBUTIONS[normKey(distArg)];
  if (distribution === undefined)
    throw new ConfigError(
      `${op}: distribution '${String(distArg)}' is not supported (use 'truncatedNormal', 'untruncatedNormal' or 'uniform')`,
    );
  checkSeed(op, options?.seed);
  const fill = (t: Tensor, g: Generator): void => {
    const { fanIn, fanOut } = layerFans(t.shape);
    const fan = { fanIn, fanOut, fanAvg: (fanIn + fanOut) / 2, fanGeoAvg: Math.sqrt(fanIn * fanOut) }[mode];
    const variance = scale / Math.max(1, fan);
    if (distribution === 'truncatedNormal') fillTruncated(t, g, 0, Math.sqrt(variance) / TRUNCATED_STD);
    else if (distribution === 'untruncatedNormal') normal_(t, 0, Math.sqrt(variance), { generator: g });
    else {
      const limit = Math.sqrt(3 * variance);
      uniform_(t, -limit, limit, { generator: g });
    }
  };
  const fullConfig = { scale, mode, distribution, seed: options?.seed ?? null };
  return makeInitializer(name, name === 'varianceScaling' ? fullConfig : config, fill, options?.seed);
}

/** A Keras-named variance-scaling initializer: its config is just the seed, as in Keras. */
function named(
  name: string,
  scale: number,
  mode: VarianceScalingMode,
  distribution: VarianceScalingDistribution,
  options: SeedOptions | undefined,
): Initializer {
  return varianceScalingImpl(name, { seed: options?.seed ?? null }, { scale, mode, distribution, seed: options?.seed });
}

/**
 * Variance scaling, as Keras' `VarianceScaling`: with n = max(1, fan) (fan chosen by `mode`, read
 * from Keel's layout by `layerFans`), draws
 * - truncatedNormal: N(0, σ²) cut at ±2σ with σ = √(scale/n)/0.87962566103423978, so that the
 *   variance after truncation is scale/n;
 * - untruncatedNormal: N(0, scale/n);
 * - uniform: U(−l, l), l = √(3·scale/n).
 * Defaults: scale 1, fanIn, truncatedNormal.
 */
export function varianceScaling(options?: VarianceScalingOptions): Initializer {
  return varianceScalingImpl('varianceScaling', {}, options);
}

/** Glorot uniform: U(±√(6/(fanIn+fanOut))). Keras `GlorotUniform`; PyTorch `xavierUniform_`. */
export function glorotUniform(options?: SeedOptions): Initializer {
  return named('glorotUniform', 1, 'fanAvg', 'uniform', options);
}

/**
 * Glorot normal, **truncated** as in Keras: std √(2/(fanIn+fanOut)) after truncation at ±2σ.
 * Keras `GlorotNormal`. (PyTorch's `xavierNormal_` is not truncated.)
 */
export function glorotNormal(options?: SeedOptions): Initializer {
  return named('glorotNormal', 1, 'fanAvg', 'truncatedNormal', options);
}

/** He uniform: U(±√(6/fanIn)). Keras `HeUniform`; PyTorch `kaimingUniform_(w, { nonlinearity: 'relu' })`. */
export function heUniform(options?: SeedOptions): Initializer {
  return named('heUniform', 2, 'fanIn', 'uniform', options);
}

/**
 * He normal, **truncated** as in Keras: std √(2/fanIn) after truncation at ±2σ. Keras `HeNormal`.
 * (PyTorch's `kaimingNormal_` is not truncated.)
 */
export function heNormal(options?: SeedOptions): Initializer {
  return named('heNormal', 2, 'fanIn', 'truncatedNormal', options);
}

/** LeCun uniform: U(±√(3/fanIn)). Keras `LecunUniform`. */
export function lecunUniform(options?: SeedOptions): Initializer {
  return named('lecunUniform', 1, 'fanIn', 'uniform', options);
}

/** LeCun normal, truncated: std √(1/fanIn) after truncation at ±2σ. Keras `LecunNormal`. */
export function lecunNormal(options?: SeedOptions): Initializer {
  return named('lecunNormal', 1, 'fanIn', 'truncatedNormal', options);
}

/** Options of {@link orthogonal}. */
export interface OrthogonalInitOptions extends SeedOptions {
  /** Scaling factor (default 1). */
  gain?: number;
}

/**
 * A (semi-)orthogonal matrix times `gain`, as Keras' `Orthogonal`, for 2 or more dimensions.
 * Keel flattens its own layout as PyTorch's `orthogonal_` does (rows = shape[0]); Keras flattens
 * its transposed layout to rows = prod(shape[:-1]): both give orthonormal rows or columns, the
 * same matrices up to a transpose. Same values as `orthogonal_` with the same generator.
 */
export function orthogonal(options?: OrthogonalInitOptions): Initializer {
  const op = 'orthogonal';
  const gain = options?.gain ?? 1;
  checkNumber(op, 'gain', gain);
  checkSeed(op, options?.seed);
  const fill = (t: Tensor, g: Generator): void => void orthogonal_(t, { gain, generator: g });
  const init = makeInitializer(op, { gain, seed: options?.seed ?? null }, fill, options?.seed);
  return withShapeCheck(init, (shape) => {
    if (shape.length < 2)
      throw new ShapeError(`orthogonal: the tensor to initialize must be at least two-dimensional (got shape ${fmtShape(shape)})`);
  });
}

/** Options of {@link identity}. */
export interface IdentityOptions {
  /** The value on the diagonal (default 1). */
  gain?: number;
}

/** `gain` times the identity matrix (2-D only; ones on the main diagonal of a non-square one). Keras `Identity`. */
export function identity(options?: IdentityOptions): Initializer {
  const op = 'identity';
  const gain = options?.gain ?? 1;
  checkNumber(op, 'gain', gain);
  const base = makeInitializer(op, { gain }, null);
  const init = withValues(base, (t) => {
    const [rows, cols] = t.shape;
    const values = new Float64Array(rows * cols);
    for (let i = 0; i < Math.min(rows, cols); i++) values[i * cols + i] = gain;
    writeValues_(t, values);
  });
  return withShapeCheck(init, (shape) => {
    if (shape.length !== 2)
      throw new ShapeError(`identity: the identity initializer can only be used for 2-D matrices (got shape ${fmtShape(shape)})`);
  });
}

function withShapeCheck(base: Initializer, check: (shape: readonly number[]) => void): Initializer {
  const init = (shape: readonly number[], dtype?: DType, generator?: Generator): Tensor => {
    check(shape);
    return base(shape, dtype, generator);
  };
  Object.defineProperty(init, 'name', { value: base.name });
  Object.defineProperty(init, 'config', { value: base.config, enumerable: true });
  return init as Initializer;
}

/**
 * Names {@link getInitializer} accepts: Keel's camelCase names, Keras' snake_case function names
 * and PascalCase class names. Matching ignores case and underscores.
 */
export type InitializerName =
  | 'zeros'
  | 'ones'
  | 'constant'
  | 'randomNormal'
  | 'randomUniform'
  | 'truncatedNormal'
  | 'varianceScaling'
  | 'glorotUniform'
  | 'glorotNormal'
  | 'heUniform'
  | 'heNormal'
  | 'lecunUniform'
  | 'lecunNormal'
  | 'orthogonal'
  | 'identity'
  | 'random_normal'
  | 'random_uniform'
  | 'truncated_normal'
  | 'variance_scaling'
  | 'glorot_uniform'
  | 'glorot_normal'
  | 'he_uniform'
  | 'he_normal'
  | 'lecun_uniform'
  | 'lecun_normal'
  | 'Zeros'
  | 'Ones'
  | 'Constant'
  | 'RandomNormal'
  | 'RandomUniform'
  | 'TruncatedNormal'
  | 'VarianceScaling'
  | 'GlorotUniform'
  | 'GlorotNormal'
  | 'HeUniform'
  | 'HeNormal'
  | 'LecunUniform'
  | 'LecunNormal'
  | 'Orthogonal'
  | 'OrthogonalInitializer'
  | 'Identity'
  | 'IdentityInitializer';

/**
 * What {@link getInitializer} accepts: a name, an initializer, or a `{ name, config }` pair (what
 * an initializer reports, e.g. read back from JSON; the name is then checked at run time).
 */
export type InitializerSpec = InitializerName | Initializer | { name: string; config?: InitializerConfig };

type Factory = (config: Record<string, unknown>) => Initializer;

/** Each factory takes the config keys its initializer reports (unknown keys are rejected first). */
const REGISTRY: Record<string, { keys: readonly string[]; make: Factory }> = {
  zeros: { keys: [], make: () => zeros() },
  ones: { keys: [], make: () => ones() },
  constant: { keys: ['value'], make: (c) => constant(c as ConstantOptions) },
  randomnormal: { keys: ['mean', 'stddev', 'seed'], make: (c) => randomNormal(c as RandomNormalOptions) },
  randomuniform: { keys: ['minval', 'maxval', 'seed'], make: (c) => randomUniform(c as RandomUniformOptions) },
  truncatednormal: { keys: ['mean', 'stddev', 'seed'], make: (c) => truncatedNormal(c as RandomNormalOptions) },
  variancescaling: { keys: ['scale', 'mode', 'distribution', 'seed'], make: (c) => varianceScaling(c as VarianceScalingOptions) },
  glorotuniform: { keys: ['seed'], make: (c) => glorotUniform(c as SeedOptions) },
  glorotnormal: { keys: ['seed'], make: (c) => glorotNormal(c as SeedOptions) },
  heuniform: { keys: ['seed'], make: (c) => heUniform(c as SeedOptions) },
  henormal: { keys: ['seed'], make: (c) => heNormal(c as SeedOptions) },
  lecununiform: { keys: ['seed'], make: (c) => lecunUniform(c as SeedOptions) },
  lecunnormal: { keys: ['seed'], make: (c) => lecunNormal(c as SeedOptions) },
  orthogonal: { keys: ['gain', 'seed'], make: (c) => orthogonal(c as OrthogonalInitOptions) },
  orthogonalinitializer: { keys: ['gain', 'seed'], make: (c) => orthogonal(c as OrthogonalInitOptions) },
  identity: { keys: ['gain'], make: (c) => identity(c as IdentityOptions) },
  identityinitializer: { keys: ['gain'], make: (c) => identity(c as IdentityOptions) },
};

/**
 * Resolves an initializer the way Keras' `initializers.get` does: a name (`'heNormal'`,
 * `'he_normal'`, `'HeNormal'`) gives that initializer with its defaults; an initializer is
 * returned as is; `{ name, config }` (what an initializer reports) rebuilds it with those options.
 * An unknown name or config key is a ConfigError that lists the valid ones.
 */
export function getInitializer(spec: InitializerSpec): Initializer {
  if (typeof spec === 'function') return spec;
  const name: unknown = typeof spec === 'string' ? spec : spec?.name;
  const entry = typeof name === 'string' ? REGISTRY[normKey(name)] : undefined;
  if (entry === undefined)
    throw new ConfigError(
      `getInitializer: unknown initializer ${typeof name === 'string' ? `'${name}'` : String(spec)} ` +
        `(known: zeros, ones, constant, randomNormal, randomUniform, truncatedNormal, varianceScaling, glorotUniform, ` +
        `glorotNormal, heUniform, heNormal, lecunUniform, lecunNormal, orthogonal, identity; snake_case and PascalCase work too)`,
    );
  const config: Record<string, unknown> = {};
  if (typeof spec === 'object' && spec.config !== undefined) {
    for (const [key, value] of Object.entries(spec.config)) {
      if (!entry.keys.includes(key)) {
        const known = entry.keys.length > 0 ? entry.keys.join(', ') : 'none';
        throw new ConfigError(`getInitializer: '${String(name)}' has no option '${key}' (its options: ${known})`);
      }
      if (value !== null) config[key] = value; // a null seed means unseeded
    }
  }
  return entry.make(config);
}

/** Options of {@link initialize_}. */
export interface InitializeOptions {
  /** The generator an unseeded initializer draws from (default: the global one). */
  generator?: Generator;
}

/**
 * Fills the existing tensor `t` in place (under no-grad) with what the initializer `spec` makes for
 * its shape and dtype, e.g. `initialize_(layer.weight, 'heNormal')`. Returns `t`.
 */
export function initialize_(t: Tensor, spec: InitializerSpec, options?: InitializeOptions): Tensor {
  const init = getInitializer(spec);
  noGrad(() => tidy(() => void copy_(t, init(t.shape, t.dtype, options?.generator))));
  return t;
}
