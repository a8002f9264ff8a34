/**
 * Single-step recurrent cells (RNNCell, LSTMCell, GRUCell) and the step functions that the
 * sequence layers in `recurrent.ts` share with them. Everything is a composition of existing ops
 * (matmul, narrow, sigmoid, tanh, ...), so gradients come from autograd.
 *
 * The step functions follow PyTorch's CPU kernels (aten/src/ATen/native/RNN.cpp) operation by
 * operation, so that float32 results round the same way as closely as possible:
 *   gi = x·W_ihᵀ + b_ih (precomputed for every time step by the layers), gh = h·W_hhᵀ + b_hh
 *   RNN:  h' = act(gh + gi)
 *   LSTM: [i, f, g, o] = chunks of gh + gi; c' = σ(f)·c + σ(i)·tanh(g); h' = σ(o)·tanh(c')
 *   GRU:  r = σ(gh_r + gi_r); z = σ(gh_z + gi_z); n = tanh(gi_n + r·gh_n); h' = (h − n)·z + n
 */
import type { DType } from '../core/dtype.js';
import { ConfigError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import type { Generator } from '../core/random.js';
import { shapesEqual } from '../core/shape.js';
import { add, mul, relu, sigmoid, sub, tanh } from '../ops/elementwise.js';
import { run } from '../autograd/run.js';
import { linear } from './functional.js';
import { narrow, squeeze, unsqueeze } from '../ops/shape.js';
import { zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { uniform_ } from './init/basic.js';
import { Module, parameter } from './module.js';

/** Which recurrence a layer or cell computes. */
export type RecurrentMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

/** The nonlinearity of a plain (Elman) RNN. */
export type RNNNonlinearity = 'tanh' | 'relu';

// The step functions below are shared with recurrent.ts (internal: not for src/index.ts).

/** Rows of `weight_ih`/`weight_hh` per hidden unit: 1 for RNN, 4 for LSTM (i, f, g, o), 3 for GRU (r, z, n). */
export function gateCount(mode: RecurrentMode): number {
  switch (mode) {
    case 'RNN_TANH':
    case 'RNN_RELU':
      return 1;
    case 'LSTM':
      return 4;
    case 'GRU':
      return 3;
    default:
      return mode satisfies never;
  }
}

/** The parameters of one cell (or one layer and direction of a sequence layer). */
export interface CellWeights {
  /** `[gates·hidden, in]`. */
  weightIh: Tensor;
  /** `[gates·hidden, hidden]`. */
  weightHh: Tensor;
  /** `[gates·hidden]`, or null without bias. */
  biasIh: Tensor | null;
  /** `[gates·hidden]`, or null without bias. */
  biasHh: Tensor | null;
}

/** `x·Wᵀ + b` (b may be null): PyTorch's `F.linear`, one linear node. */
export function linearProjection(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  return linear(x, weight, bias);
}

/** The `k`-th of the equal chunks of the last axis of `gates` (width `hidden`), a view. */
function chunk(gates: Tensor, k: number, hidden: number): Tensor {
  return narrow(gates, -1, k * hidden, hidden);
}

/**
 * One step of an Elman RNN from the precomputed input projection `gi = x·W_ihᵀ + b_ih`
 * (`[N, hidden]`) and the previous hidden state `h` (`[N, hidden]`): `act(h·W_hhᵀ + b_hh + gi)`.
 */
export function rnnStep(mode: 'RNN_TANH' | 'RNN_RELU', gi: Tensor, h: Tensor, w: CellWeights): Tensor {
  const pre = add(linearProjection(h, w.weightHh, w.biasHh), gi);
  return mode === 'RNN_RELU' ? relu(pre) : tanh(pre);
}

/**
 * One LSTM step from `gi = x·W_ihᵀ + b_ih` (`[N, 4·hidden]`, gate order i, f, g, o) and the
 * previous states `h`, `c` (`[N, hidden]`). Returns `[h', c']`.
 */
export function lstmStep(gi: Tensor, h: Tensor, c: Tensor, w: CellWeights): [Tensor, Tensor] {
  const hidden = h.shape[h.ndim - 1];
  const gates = add(linearProjection(h, w.weightHh, w.biasHh), gi);
  if (gates.ndim === 2 && c.ndim === 2 && c.dtype === gates.dtype && gates.dtype !== 'int32') {
    // All four gates in one fused pass (forward and backward); the composition below is its definition.
    const hc = run('lstmCell', [gates, c], {});
    return [narrow(hc, -1, 0, hidden), narrow(hc, -1, hidden, hidden)];
  }
  return lstmCellComposed(gates, c, hidden);
}

/**
 * The LSTM cell as a composition of primitives, from the gates' pre-activations `[N, 4·hidden]`
 * and the previous cell state: what the fused `lstmCell` primitive computes. Returns `[h', c']`.
 */
export function lstmCellComposed(gates: Tensor, c: Tensor, hidden: number): [Tensor, Tensor] {
  const inGate = sigmoid(chunk(gates, 0, hidden));
  const forgetGate = sigmoid(chunk(gates, 1, hidden));
  const cellGate = tanh(chunk(gates, 2, hidden));
  const outGate = sigmoid(chunk(gates, 3, hidden));
  const c2 = add(mul(forgetGate, c), mul(inGate, cellGate));
  const h2 = mul(outGate, tanh(c2));
  return [h2, c2];
}

/**
 * One GRU step from `gi = x·W_ihᵀ + b_ih` (`[N, 3·hidden]`, gate order r, z, n) and the previous
 * state `h` (`[N, hidden]`): `n = tanh(gi_n + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`
 * (computed as `(h − n) ⊙ z + n`, as PyTorch does).
 */
export function gruStep(gi: Tensor, h: Tensor, w: CellWeights): Tensor {
  const hidden = h.shape[h.ndim - 1];
  const gh = linearProjection(h, w.weightHh, w.biasHh);
  const resetGate = sigmoid(add(chunk(gh, 0, hidden), chunk(gi, 0, hidden)));
  const updateGate = sigmoid(add(chunk(gh, 1, hidden), chunk(gi, 1, hidden)));
  const newGate = tanh(add(chunk(gi, 2, hidden), mul(chunk(gh, 2, hidden), resetGate)));
  return add(mul(sub(h, newGate), updateGate), newGate);
}

/** Options shared by the recurrent cells and layers. */
export interface RecurrentBaseOptions {
  /** Whether to learn the biases `b_ih` and `b_hh` (default true). */
  bias?: boolean;
  /** Element type of the parameters: 'float32' (default) or 'float64'. Inputs must match it. */
  dtype?: 'float32' | 'float64';
  /** The generator for the initialization (default: the seeded global one, see `manualSeed`). */
  generator?: Generator;
}

/** Options of {@link RNNCell}. */
export interface RNNCellOptions extends RecurrentBaseOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: RNNNonlinearity;
}

/** Options of {@link LSTMCell} and {@link GRUCell}. */
export type CellOptions = RecurrentBaseOptions;

// Validation helpers shared with recurrent.ts (internal: not for src/index.ts).

/** Throws unless `n` is a positive integer; `what` names the layer and argument. */
export function checkPositiveInt(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${what} must be a positive integer (got ${n})`);
}

/** Validates the shared options; returns the parameter dtype. */
export function checkBaseOptions(layer: string, options: RecurrentBaseOptions | undefined): 'float32' | 'float64' {
  const dtype = options?.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64')
    throw new ConfigError(`${layer}: dtype must be 'float32' or 'float64' (got '${String(dtype)}')`);
  const bias = options?.bias ?? true;
  if (typeof bias !== 'boolean') throw new ConfigError(`${layer}: bias must be true or false (got ${String(bias)})`);
  return dtype;
}

/** Validates `nonlinearity` for RNN and RNNCell. */
export function checkNonlinearity(layer: string, nonlinearity: string): asserts nonlinearity is RNNNonlinearity {
  if (nonlinearity !== 'tanh' && nonlinearity !== 'relu')
    throw new ConfigError(`${layer}: unknown nonlinearity '${nonlinearity}'; choose 'tanh' or 'relu'`);
}

/** A new parameter of `shape` drawn from U(−bound, bound). */
export function uniformParameter(shape: readonly number[], bound: number, dtype: DType, generator: Generator | undefined): Tensor {
  const t = zeros(shape, { dtype });
  uniform_(t, -bound, bound, { generator });
  return parameter(t);
}

/** Throws a DTypeError unless `t` has the parameters' dtype. */
export function checkDType(layer: string, what: string, t: Tensor, dtype: DType): void {
  if (t.dtype !== dtype)
    throw new DTypeError(
      `${layer}: ${what} has dtype ${t.dtype}; expected ${dtype}, the dtype of the parameters (cast it, or build the layer with { dtype: '${t.dtype}' })`,
    );
}

/**
 * The shared machinery of the cells, as PyTorch's `RNNCellBase`: parameters `weight_ih`
 * `[gates·hidden, inputSize]`, `weight_hh` `[gates·hidden, hiddenSize]`, `bias_ih`, `bias_hh`
 * `[gates·hidden]` (null without bias), all drawn from U(±1/√hiddenSize).
 */
export abstract class RNNCellBase extends Module {
  /** Features of the input. */
  readonly inputSize: number;
  /** Features of the hidden state. */
  readonly hiddenSize: number;
  /** Whether the cell has biases. */
  readonly bias: boolean;
  /** Parameter dtype. */
  readonly dtype: 'float32' | 'float64';
  /** Input-to-hidden weights `[gates·hidden, inputSize]` (PyTorch `weight_ih`). */
  readonly weight_ih: Tensor;
  /** Hidden-to-hidden weights `[gates·hidden, hiddenSize]` (PyTorch `weight_hh`). */
  readonly weight_hh: Tensor;
  /** Input-to-hidden bias `[gates·hidden]`, or null (PyTorch `bias_ih`). */
  readonly bias_ih: Tensor | null;
  /** Hidden-to-hidden bias `[gates·hidden]`, or null (PyTorch `bias_hh`). */
  readonly bias_hh: Tensor | null;

  protected constructor(mode: RecurrentMode, inputSize: number, hiddenSize: number, options: RecurrentBaseOptions | undefined) {
    super();
    const label = `${new.target.name}(inputSize=${inputSize}, hiddenSize=${hiddenSize})`;
    checkPositiveInt(`${label}: inputSize`, inputSize);
    checkPositiveInt(`${label}: hiddenSize`, hiddenSize);
    this.dtype = checkBaseOptions(label, options);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.bias = options?.bias ?? true;
    const rows = gateCount(mode) * hiddenSize;
    const bound = 1 / Math.sqrt(hiddenSize);
    const g = options?.generator;
    // Drawn in parameter order, as PyTorch's reset_parameters loops over self.parameters().
    this.weight_ih = uniformParameter([rows, inputSize], bound, this.dtype, g);
    this.weight_hh = uniformParameter([rows, hiddenSize], bound, this.dtype, g);
    this.bias_ih = this.bias ? uniformParameter([rows], bound, this.dtype, g) : null;
    this.bias_hh = this.bias ? uniformParameter([rows], bound, this.dtype, g) : null;
  }

  /** The parameters as the step functions take them. */
  protected get weights(): CellWeights {
    return { weightIh: this.weight_ih, weightHh: this.weight_hh, biasIh: this.bias_ih, biasHh: this.bias_hh };
  }

  protected override extraRepr(): string {
    return `inputSize=${this.inputSize}, hiddenSize=${this.hiddenSize}${this.bias ? '' : ', bias=false'}`;
  }

  /** `Name(inputSize=…, hiddenSize=…)`, the prefix of error messages. */
  protected get label(): string {
    return `${this.name}(${this.extraRepr()})`;
  }

  /**
   * Checks the input (`[N, inputSize]` or unbatched `[inputSize]`) and returns it as 2-D, with
   * whether it was batched.
   */
  protected prepareInput(input: Tensor): { x: Tensor; batched: boolean } {
    if (input.ndim !== 1 && input.ndim !== 2)
      throw new ShapeError(
        `${this.label}: expected input of rank 2 ([batch, ${this.inputSize}]) or 1 (unbatched [${this.inputSize}]); got shape ${fmtShape(input.shape)}`,
      );
    if (input.shape[input.ndim - 1] !== this.inputSize)
      throw new ShapeError(
        `${this.label}: input has ${input.shape[input.ndim - 1]} features in its last dimension (shape ${fmtShape(input.shape)}); expected ${this.inputSize}`,
      );
    checkDType(this.label, 'input', input, this.dtype);
    const batched = input.ndim === 2;
    return { x: batched ? input : unsqueeze(input, 0), batched };
  }

  /** Checks a state (`what`, e.g. 'h') against `[N, hidden]` (or `[hidden]`); zeros when absent. 2-D. */
  protected prepareState(what: string, state: Tensor | null | undefined, batchSize: number, batched: boolean): Tensor {
    const expected = batched ? [batchSize, this.hiddenSize] : [this.hiddenSize];
    if (state === null || state === undefined) return zeros([batchSize, this.hiddenSize], { dtype: this.dtype });
    if (!shapesEqual(state.shape, expected))
      throw new ShapeError(
        `${this.label}: state ${what} has shape ${fmtShape(state.shape)}; expected ${fmtShape(expected)} ` +
          (batched ? '([batch, hiddenSize], the batch of the input)' : '([hiddenSize] for an unbatched input)'),
      );
    checkDType(this.label, `state ${what}`, state, this.dtype);
    return batched ? state : unsqueeze(state, 0);
  }

  /** Removes the batch axis added for an unbatched input. */
  protected finish(t: Tensor, batched: boolean): Tensor {
    return batched ? t : squeeze(t, 0);
  }
}

/**
 * One step of an Elman RNN, as PyTorch's `nn.RNNCell`: `h' = act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)`
 * with act = tanh (default) or relu. Input `[N, inputSize]` (or `[inputSize]`), state and result
 * `[N, hiddenSize]` (or `[hiddenSize]`); the state defaults to zeros. Keras: `SimpleRNNCell`.
 *
 * @example
 * const cell = new RNNCell(10, 20);
 * let h = cell.call(x0);      // [N, 20]
 * h = cell.call(x1, h);
 */
export class RNNCell extends RNNCellBase {
  /** 'tanh' or 'relu'. */
  readonly nonlinearity: RNNNonlinearity;

  constructor(inputSize: number, hiddenSize: number, options?: RNNCellOptions) {
    const nonlinearity = options?.nonlinearity ?? 'tanh';
    checkNonlinearity(`RNNCell(inputSize=${inputSize}, hiddenSize=${hiddenSize})`, nonlinearity);
    super(nonlinearity === 'relu' ? 'RNN_RELU' : 'RNN_TANH', inputSize, hiddenSize, options);
    this.nonlinearity = nonlinearity;
  }

  /** The next hidden state from `input` and the previous state `hx` (zeros when omitted). */
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    const { x, batched } = this.prepareInput(input);
    const h = this.prepareState('hx', hx, x.shape[0], batched);
    const w = this.weights;
    const mode = this.nonlinearity === 'relu' ? 'RNN_RELU' : 'RNN_TANH';
    return this.finish(rnnStep(mode, linearProjection(x, w.weightIh, w.biasIh), h, w), batched);
  }

  protected override extraRepr(): string {
    return super.extraRepr() + (this.nonlinearity === 'tanh' ? '' : `, nonlinearity='${this.nonlinearity}'`);
  }
}

/**
 * One LSTM step, as PyTorch's `nn.LSTMCell`: gates `[i, f, g, o] = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh`,
 * `c' = σ(f)·c + σ(i)·tanh(g)`, `h' = σ(o)·tanh(c')`. Input `[N, inputSize]` (or `[inputSize]`);
 * `hx = [h, c]`, each `[N, hiddenSize]` (or `[hiddenSize]`), zeros when omitted; returns `[h', c']`.
 * No forget-gate bias (Keras' `unit_forget_bias` is not PyTorch's default). Keras: `LSTMCell`.
 */
export class LSTMCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options?: CellOptions) {
    super('LSTM', inputSize, hiddenSize, options);
  }

  /** `[h', c']` from `input` and the previous states `hx = [h, c]` (zeros when omitted). */
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, Tensor] {
    if (hx !== null && hx !== undefined && (!Array.isArray(hx) || hx.length !== 2))
      throw new ConfigError(`${this.label}: hx must be a pair [h, c] (got ${Array.isArray(hx) ? `${hx.length} tensors` : typeof hx})`);
    const { x, batched } = this.prepareInput(input);
    const h = this.prepareState('h', hx?.[0], x.shape[0], batched);
    const c = this.prepareState('c', hx?.[1], x.shape[0], batched);
    const w = this.weights;
    const [h2, c2] = lstmStep(linearProjection(x, w.weightIh, w.biasIh), h, c, w);
    return [this.finish(h2, batched), this.finish(c2, batched)];
  }
}

/**
 * One GRU step, as PyTorch's `nn.GRUCell` (gate order r, z, n):
 * `r = σ(W_ir x + b_ir + W_hr h + b_hr)`, `z = σ(W_iz x + b_iz + W_hz h + b_hz)`,
 * `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`. Shapes as
 * {@link RNNCell}. Keras: `GRUCell(resetAfter: true)`, with gates stored in another order.
 */
export class GRUCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options?: CellOptions) {
    super('GRU', inputSize, hiddenSize, options);
  }

  /** The next hidden state from `input` and the previous state `hx` (zeros when omitted). */
  forward(input: Tensor, hx?: Tensor | null): Tensor {
    const { x, batched } = this.prepareInput(input);
    const h = this.prepareState('hx', hx, x.shape[0], batched);
    const w = this.weights;
    return this.finish(gruStep(linearProjection(x, w.weightIh, w.biasIh), h, w), batched);
  }
}
