import { noGrad } from '../autograd/grad-mode.js';
import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import type { Generator } from '../core/random.js';
import * as E from '../ops/elementwise.js';
import { contiguous, flatten as flattenOp, permute, select, stack } from '../ops/shape.js';
import { logSoftmax, softmax } from '../ops/softmax.js';
import { zeros } from '../tensor/create.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { Conv2d } from './conv.js';
import { Dropout as DropoutLayer } from './dropout.js';
import { type InitializerSpec, getInitializer } from './init/keras.js';
import { Linear } from './linear.js';
import { Module, parameter } from './module.js';
import { type CellWeights, gruStep, linearProjection, lstmStep, rnnStep } from './recurrent-cell.js';

/**
 * Keras-style model building: layer specs (`layers.dense({ units: 64, activation: 'relu',
 * inputShape: [32] })`) that a {@link KerasSequential} builds once it knows their input shape,
 * with Keras' default initializers, Keras' parameter counts and a Keras-like `summary()`.
 * Weights use Keel's (PyTorch's) layout: a Dense kernel is `weight` `[units, in]`.
 */

/** Activation names accepted by Keras-style layers (Keras' names, camelCase or snake_case). */
export type ActivationName =
  | 'linear'
  | 'relu'
  | 'sigmoid'
  | 'tanh'
  | 'softmax'
  | 'logSoftmax'
  | 'log_softmax'
  | 'softplus'
  | 'elu'
  | 'selu'
  | 'gelu'
  | 'leakyRelu'
  | 'leaky_relu'
  | 'exponential';

const ACTIVATIONS: Record<string, (x: Tensor) => Tensor> = {
  linear: (x) => x,
  relu: E.relu,
  sigmoid: E.sigmoid,
  tanh: E.tanh,
  softmax: (x) => softmax(x, -1),
  logsoftmax: (x) => logSoftmax(x, -1),
  softplus: (x) => E.softplus(x),
  elu: (x) => E.elu(x),
  selu: E.selu,
  gelu: (x) => E.gelu(x),
  leakyrelu: (x) => E.leakyRelu(x, 0.2), // Keras' default negative slope is 0.2
  exponential: E.exp,
};

/** The activation function for a Keras name (null/undefined: identity). */
export function activationFn(layer: string, name: ActivationName | null | undefined): (x: Tensor) => Tensor {
  if (name === null || name === undefined) return ACTIVATIONS.linear;
  const fn = ACTIVATIONS[String(name).toLowerCase().replace(/_/g, '')];
  if (fn === undefined)
    throw new ConfigError(`${layer}: unknown activation '${String(name)}' (expected one of ${Object.keys(ACTIVATIONS).join(', ')})`);
  return fn;
}

/** A layer description that a Keras-style Sequential turns into a module. */
export interface LayerSpec {
  /** Keras' class name, e.g. `Dense`. */
  readonly kind: string;
  /** The layer's name in the model (default: Keras-style `dense`, `dense_1`, ...). */
  readonly name?: string;
  /** The input shape without the batch dimension, for the first layer. */
  readonly inputShape?: readonly number[];
  /** Makes the module for inputs of `inputShape` (without the batch dimension). */
  build(inputShape: readonly number[], generator: Generator | undefined): Module;
}

/** Options every Keras-style layer spec takes. */
export interface BaseSpec {
  name?: string;
  inputShape?: readonly number[];
}

/** Options of {@link layers.dense}. */
export interface DenseSpec extends BaseSpec {
  units: number;
  activation?: ActivationName | null;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
}

/**
 * Keras' Dense: a {@link Linear} (weight `[units, in]`) followed by an activation, initialized
 * as Keras does (glorotUniform kernel, zero bias) unless told otherwise.
 */
export class Dense extends Linear {
  readonly activation: string;
  private readonly act: (x: Tensor) => Tensor;

  constructor(inFeatures: number, spec: DenseSpec, generator?: Generator) {
    super(inFeatures, spec.units, { bias: spec.useBias ?? true, generator });
    this.activation = spec.activation ?? 'linear';
    this.act = activationFn('Dense', spec.activation);
    init(this.weight, spec.kernelInitializer ?? 'glorotUniform', generator);
    if (this.bias !== null) init(this.bias, spec.biasInitializer ?? 'zeros', generator);
  }

  override forward(x: Tensor): Tensor {
    return this.act(super.forward(x));
  }
}

function init(t: Tensor, spec: InitializerSpec, generator: Generator | undefined): void {
  const make = getInitializer(spec);
  noGrad(() => tidy(() => void t.copy_(make(t.shape, t.dtype, generator))));
}

/** Options of the Keras-style recurrent layers. */
export interface RecurrentSpec extends BaseSpec {
  units: number;
  activation?: ActivationName;
  /** Return the whole output sequence `[N, T, units]` instead of the last step `[N, units]`. */
  returnSequences?: boolean;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  recurrentInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
}

/** Options of {@link layers.lstm}. */
export interface LstmSpec extends RecurrentSpec {
  recurrentActivation?: ActivationName;
  /** Start the forget-gate bias at 1 (Keras' default true). */
  unitForgetBias?: boolean;
}

type Mode = 'SimpleRNN' | 'LSTM' | 'GRU';
const GATES: Record<Mode, number> = { SimpleRNN: 1, LSTM: 4, GRU: 3 };

/**
 * Keras' SimpleRNN, LSTM and GRU (one layer, batch-first `[N, T, features]`). LSTM and SimpleRNN
 * hold one bias (`4u(in+u+1)` and `u(in+u+1)` parameters, as Keras); GRU keeps two (Keras'
 * `reset_after`, `3u(in+u+2)`). Gates are stored in PyTorch's order (LSTM i,f,g,o = Keras i,f,c,o;
 * GRU r,z,n), and the initializers are Keras': glorotUniform kernel, orthogonal recurrent kernel,
 * zero bias with 1 on the LSTM forget gate.
 */
export class KerasRecurrent extends Module {
  weight_ih: Tensor;
  weight_hh: Tensor;
  bias: Tensor | null;
  /** GRU only: the recurrent bias inside the reset gate's product. */
  bias_hh: Tensor | null = null;
  readonly returnSequences: boolean;

  constructor(
    readonly mode: Mode,
    readonly inputSize: number,
    spec: LstmSpec,
    generator?: Generator,
  ) {
    super();
    const u = spec.units;
    if (!Number.isInteger(u) || u < 1) throw new ConfigError(`${mode}: units must be a positive integer (got ${String(u)})`);
    if (mode === 'LSTM' && spec.activation !== undefined && spec.activation !== 'tanh')
      throw new ConfigError(`${mode}: only activation 'tanh' is supported (got '${spec.activation}')`);
    if (spec.recurrentActivation !== undefined && spec.recurrentActivation !== 'sigmoid')
      throw new ConfigError(`${mode}: only recurrentActivation 'sigmoid' is supported (got '${spec.recurrentActivation}')`);
    const rows = GATES[mode] * u;
    this.returnSequences = spec.returnSequences ?? false;
    this.weight_ih = parameter(zeros([rows, inputSize]));
    this.weight_hh = parameter(zeros([rows, u]));
    init(this.weight_ih, spec.kernelInitializer ?? 'glorotUniform', generator);
    init(this.weight_hh, spec.recurrentInitializer ?? 'orthogonal', generator);
    const useBias = spec.useBias ?? true;
    this.bias = useBias ? parameter(zeros([rows])) : null;
    if (this.bias !== null) {
      init(this.bias, spec.biasInitializer ?? 'zeros', generator);
      if (mode === 'LSTM' && (spec.unitForgetBias ?? true)) noGrad(() => void this.bias!.slice([[u, 2 * u]]).fill_(1));
    }
    if (mode === 'GRU' && useBias) {
      this.bias_hh = parameter(zeros([rows]));
      init(this.bias_hh, spec.biasInitializer ?? 'zeros', generator);
    }
    this.rnnMode = mode === 'SimpleRNN' && spec.activation === 'relu' ? 'RNN_RELU' : 'RNN_TANH';
    if (mode === 'SimpleRNN' && spec.activation !== undefined && spec.activation !== 'tanh' && spec.activation !== 'relu')
      throw new ConfigError(`SimpleRNN: activation must be 'tanh' or 'relu' (got '${spec.activation}')`);
  }

  private readonly rnnMode: 'RNN_TANH' | 'RNN_RELU';

  /** The number of units. */
  get units(): number {
    return this.weight_hh.shape[1];
  }

  /** `x` `[N, T, features]` → `[N, units]`, or `[N, T, units]` with returnSequences. */
  forward(x: Tensor): Tensor {
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize)
      throw new ShapeError(
        `${this.mode}(units=${this.units}): input must be [batch, time, ${this.inputSize}] (got ${fmtShape(x.shape)})`,
      );
    const [n, steps] = x.shape;
    const w: CellWeights = {
      weightIh: this.weight_ih,
      weightHh: this.weight_hh,
      biasIh: this.bias,
      biasHh: this.bias_hh,
    };
    // Input projections of every step in one product; then the recurrence, step by step.
    const gi = linearProjection(x, this.weight_ih, this.bias);
    let h = zeros([n, this.units], { dtype: x.dtype });
    let c = h;
    const outputs: Tensor[] = [];
    for (let t = 0; t < steps; t++) {
      const g = select(gi, 1, t);
      if (this.mode === 'LSTM') [h, c] = lstmStep(g, h, c, w);
      else if (this.mode === 'GRU') h = gruStep(g, h, w);
      else h = rnnStep(this.rnnMode, g, h, w);
      if (this.returnSequences) outputs.push(h);
    }
    return this.returnSequences ? stack(outputs, 1) : h;
  }

  protected override extraRepr(): string {
    return `units=${this.units}${this.returnSequences ? ', returnSequences=true' : ''}`;
  }
}

/** Options of {@link layers.conv2d} (Keras' Conv2D; channels-last input by default, as Keras). */
export interface Conv2dSpec extends BaseSpec {
  filters: number;
  kernelSize: number | readonly [number, number];
  strides?: number | readonly [number, number];
  padding?: 'valid' | 'same';
  activation?: ActivationName | null;
  useBias?: boolean;
  kernelInitializer?: InitializerSpec;
  biasInitializer?: InitializerSpec;
  /** `'channelsLast'` (NHWC, Keras' default) or `'channelsFirst'` (NCHW, Keel's own layout). */
  dataFormat?: 'channelsLast' | 'channelsFirst';
}

/** Keras' Conv2D over a Keel {@link Conv2d}: Keras initializers, activation, data format. */
export class KerasConv2d extends Module {
  readonly conv: Conv2d;
  /** The activation's Keras name (`linear` when none). */
  readonly activation: string;
  private readonly act: (x: Tensor) => Tensor;
  readonly channelsLast: boolean;

  constructor(inChannels: number, spec: Conv2dSpec, generator?: Generator) {
    super();
    this.channelsLast = (spec.dataFormat ?? 'channelsLast') === 'channelsLast';
    this.conv = new Conv2d(inChannels, spec.filters, spec.kernelSize, {
      stride: spec.strides ?? 1,
      padding: spec.padding ?? 'valid',
      bias: spec.useBias ?? true,
      generator,
    });
    init(this.conv.weight, spec.kernelInitializer ?? 'glorotUniform', generator);
    if (this.conv.bias !== null) init(this.conv.bias, spec.biasInitializer ?? 'zeros', generator);
    this.activation = spec.activation ?? 'linear';
    this.act = activationFn('Conv2D', spec.activation);
  }

  forward(x: Tensor): Tensor {
    if (!this.channelsLast) return this.act(this.conv.call(x));
    const y = this.conv.call(contiguous(permute(x, [0, 3, 1, 2])));
    return this.act(permute(y, [0, 2, 3, 1]));
  }
}

/** Keras' Flatten: keeps the batch dimension, flattens the rest. */
export class KerasFlatten extends Module {
  forward(x: Tensor): Tensor {
    return flattenOp(x, 1);
  }
}

function spec(kind: string, options: BaseSpec, build: (inputShape: readonly number[], g: Generator | undefined) => Module): LayerSpec {
  return { kind, name: options.name, inputShape: options.inputShape, build };
}

function lastDim(kind: string, inputShape: readonly number[]): number {
  if (inputShape.length === 0) throw new ShapeError(`${kind}: needs an input with at least one feature dimension (got shape ${fmtShape(inputShape)})`);
  return inputShape[inputShape.length - 1];
}

/** Keras-style layer specs for {@link KerasSequential}. */
export const layers = {
  /** Keras `Dense(units, activation)`: kernel glorotUniform, bias zeros by default. */
  dense: (o: DenseSpec): LayerSpec => spec('Dense', o, (s, g) => new Dense(lastDim('Dense', s), o, g)),
  /** Keras `SimpleRNN(units)`: one bias. */
  simpleRnn: (o: RecurrentSpec): LayerSpec => spec('SimpleRNN', o, (s, g) => new KerasRecurrent('SimpleRNN', lastDim('SimpleRNN', s), o, g)),
  /** Keras `LSTM(units)`: one bias, unit forget bias, orthogonal recurrent kernel. */
  lstm: (o: LstmSpec): LayerSpec => spec('LSTM', o, (s, g) => new KerasRecurrent('LSTM', lastDim('LSTM', s), o, g)),
  /** Keras `GRU(units)` with `reset_after` (two biases). */
  gru: (o: RecurrentSpec): LayerSpec => spec('GRU', o, (s, g) => new KerasRecurrent('GRU', lastDim('GRU', s), o, g)),
  /** Keras `Conv2D(filters, kernelSize)`, channels-last by default. */
  conv2d: (o: Conv2dSpec): LayerSpec =>
    spec('Conv2D', o, (s, g) => {
      if (s.length !== 3) throw new ShapeError(`Conv2D: input must be [height, width, channels] per sample (got ${fmtShape(s)})`);
      return new KerasConv2d((o.dataFormat ?? 'channelsLast') === 'channelsLast' ? s[2] : s[0], o, g);
    }),
  /** Keras `Flatten()`. */
  flatten: (o: BaseSpec = {}): LayerSpec => spec('Flatten', o, () => new KerasFlatten()),
  /** Keras `Dropout(rate)`. */
  dropout: (o: BaseSpec & { rate: number }): LayerSpec => spec('Dropout', o, () => new DropoutLayer(o.rate)),
  /** A layer that only applies an activation. */
  activation: (o: BaseSpec & { activation: ActivationName }): LayerSpec =>
    spec('Activation', o, () => new ActivationLayer(activationFn('Activation', o.activation), o.activation)),
};

/** Keras' Activation layer. */
export class ActivationLayer extends Module {
  constructor(
    private readonly fn: (x: Tensor) => Tensor,
    readonly activation: string,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return this.fn(x);
  }
}

function snake(kind: string): string {
  return kind
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/** Options of {@link KerasSequential}. */
export interface KerasSequentialOptions {
  /** The model's name (default `sequential`). */
  name?: string;
  /** The input shape without the batch dimension, if no layer gives `inputShape`. */
  inputShape?: readonly number[];
  /** Generator for every layer's initial weights (default: the seeded global one). */
  generator?: Generator;
}

/** One row of {@link KerasSequential.summary}. */
export interface SummaryRow {
  name: string;
  type: string;
  outputShape: (number | null)[];
  params: number;
}

/**
 * A Keras-style `Sequential` model: built from layer specs (and/or ready modules) with shapes
 * inferred from the first `inputShape`; layers are named as Keras names them (`dense`, `dense_1`).
 *
 * @example
 * const model = new keras.Sequential([
 *   layers.dense({ units: 64, activation: 'relu', inputShape: [32] }),
 *   layers.dense({ units: 10, activation: 'softmax' }),
 * ]);
 * model.summary(); // Total params: 2,762
 */
export class KerasSequential extends Module {
  readonly modelName: string;
  /** Layer names in order. */
  readonly layerNames: string[] = [];
  private readonly rows: SummaryRow[] = [];
  /** Input shape without the batch dimension. */
  readonly inputShape: readonly number[];

  constructor(specs: readonly (LayerSpec | Module)[], options?: KerasSequentialOptions) {
    super();
    this.modelName = options?.name ?? 'sequential';
    const first = specs[0];
    const declared = options?.inputShape ?? (first !== undefined && !(first instanceof Module) ? first.inputShape : undefined);
    if (declared === undefined)
      throw new ConfigError(`Sequential '${this.modelName}': the first layer needs an inputShape (e.g. layers.dense({ units: 64, inputShape: [32] }))`);
    this.inputShape = [...declared];
    const counts = new Map<string, number>();
    let shape: readonly number[] = this.inputShape;
    specs.forEach((s, i) => {
      if (!(s instanceof Module) && i > 0 && s.inputShape !== undefined)
        throw new ConfigError(`Sequential '${this.modelName}': only the first layer takes an inputShape (layer ${i} '${s.kind}' has one)`);
      const kind = s instanceof Module ? s.name : s.kind;
      const base = s instanceof Module ? snake(kind) : (s.name ?? snake(kind));
      const k = counts.get(base) ?? 0;
      counts.set(base, k + 1);
      const name = s instanceof Module || s.name === undefined ? (k === 0 ? base : `${base}_${k}`) : base;
      if (this.layerNames.includes(name)) throw new ConfigError(`Sequential '${this.modelName}': two layers are named '${name}'`);
      const module = s instanceof Module ? s : s.build(shape, options?.generator);
      (this as unknown as Record<string, Module>)[name] = module;
      this.layerNames.push(name);
      shape = outputShapeOf(module, shape, name);
      const params = [...module.parameters()].reduce((acc, p) => acc + p.size, 0);
      this.rows.push({ name, type: kind, outputShape: [null, ...shape], params });
    });
  }

  /** The layer called `name`, or the `i`-th layer. */
  layer(nameOrIndex: string | number): Module {
    const name = typeof nameOrIndex === 'number' ? this.layerNames[nameOrIndex] : nameOrIndex;
    const m = name === undefined ? undefined : (this as unknown as Record<string, Module | undefined>)[name];
    if (m === undefined) throw new ConfigError(`Sequential '${this.modelName}': no layer ${JSON.stringify(nameOrIndex)} (layers: ${this.layerNames.join(', ')})`);
    return m;
  }

  /** Runs the layers in order on a batch `[N, ...inputShape]`. */
  forward(x: Tensor): Tensor {
    const expected = this.inputShape.length + 1;
    if (x.ndim !== expected || x.shape.slice(1).some((d, i) => d !== this.inputShape[i]))
      throw new ShapeError(
        `Sequential '${this.modelName}': input has shape ${fmtShape(x.shape)}; expected [batch, ${this.inputShape.join(', ')}]`,
      );
    let out = x;
    for (const name of this.layerNames) out = this.layer(name).call(out) as Tensor;
    return out;
  }

  /** One row per layer: name, type, output shape (null for the batch) and parameter count. */
  summaryRows(): SummaryRow[] {
    return this.rows.map((r) => ({ ...r, outputShape: [...r.outputShape] }));
  }

  /** The total number of parameters (trainable and not). */
  countParams(): number {
    return this.parameters().reduce((acc, p) => acc + p.size, 0);
  }

  /** The model as Keras 3 prints it: layers, output shapes, parameter counts, totals. Also printed unless `print` is false. */
  summary(options?: { print?: boolean }): string {
    const widths = [33, 24, 15];
    const cell = (text: string, w: number, right = false): string => ` ${right ? text.padStart(w - 2) : text.padEnd(w - 2)} `;
    const line = (l: string, m: string, r: string, fill: string): string => l + widths.map((w) => fill.repeat(w)).join(m) + r;
    const row = (cols: string[], sep: string, rightLast = true): string =>
      sep + cols.map((c, i) => cell(c, widths[i], rightLast && i === 2)).join(sep) + sep;
    const fmtShapeKeras = (s: (number | null)[]): string => `(${s.map((d) => (d === null ? 'None' : String(d))).join(', ')}${s.length === 1 ? ',' : ''})`;
    const total = this.countParams();
    const trainable = this.parameters().filter((p) => p.requiresGrad).reduce((acc, p) => acc + p.size, 0);
    const lines = [
      `Model: "${this.modelName}"`,
      line('┏', '┳', '┓', '━'),
      row(['Layer (type)', 'Output Shape', 'Param #'], '┃'),
      line('┡', '╇', '┩', '━'),
    ];
    this.rows.forEach((r, i) => {
      lines.push(row([`${r.name} (${r.type})`, fmtShapeKeras(r.outputShape), r.params.toLocaleString('en-US')], '│'));
      if (i < this.rows.length - 1) lines.push(line('├', '┼', '┤', '─'));
    });
    lines.push(line('└', '┴', '┘', '─'));
    lines.push(` Total params: ${total.toLocaleString('en-US')} (${bytes(total * 4)})`);
    lines.push(` Trainable params: ${trainable.toLocaleString('en-US')} (${bytes(trainable * 4)})`);
    lines.push(` Non-trainable params: ${(total - trainable).toLocaleString('en-US')} (${bytes((total - trainable) * 4)})`);
    const text = lines.join('\n');
    if (options?.print ?? true) console.log(text);
    return text;
  }
}

/** Sizes as Keras prints them: `10.79 KB`, `0.00 B`. */
function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(2)} ${units[u]}`;
}

/** The output shape (without batch) of `module` on inputs of `shape`: one dry run on a batch of 1. */
function outputShapeOf(module: Module, shape: readonly number[], name: string): number[] {
  return noGrad(() =>
    tidy(() => {
      const wasTraining = module.training;
      module.eval();
      try {
        const out = module.call(zeros([1, ...shape])) as Tensor;
        return out.shape.slice(1);
      } catch (e) {
        throw new ShapeError(`Sequential: layer '${name}' cannot take inputs of shape ${fmtShape([null as unknown as number, ...shape]).replace('null', 'batch')}: ${(e as Error).message}`);
      } finally {
        module.train(wasTraining);
      }
    }),
  );
}
