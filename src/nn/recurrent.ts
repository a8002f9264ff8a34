/**
 * Sequence layers RNN, LSTM and GRU with PyTorch's parameters, shapes and semantics. Per layer and
 * direction, the input projections of all time steps are one matmul; then a loop over time runs
 * the recurrent step (the same step functions as the cells, in `recurrent-cell.ts`). Everything is
 * a composition of existing ops, so autograd provides the backward pass through time.
 */
import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import type { Generator } from '../core/random.js';
import { shapesEqual } from '../core/shape.js';
import { add, ge, mul } from '../ops/elementwise.js';
import { concat, contiguous, select, squeeze, stack, transpose, unsqueeze } from '../ops/shape.js';
import { rand, zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import {
  type CellWeights,
  type RNNNonlinearity,
  type RecurrentBaseOptions,
  type RecurrentMode,
  checkBaseOptions,
  checkDType,
  checkNonlinearity,
  checkPositiveInt,
  gateCount,
  gruStep,
  linearProjection,
  lstmStep,
  rnnStep,
  uniformParameter,
} from './recurrent-cell.js';

/** Options of {@link LSTM} and {@link GRU} (and, with `nonlinearity`, of {@link RNN}). */
export interface RecurrentOptions extends RecurrentBaseOptions {
  /** Stacked recurrent layers; layer k > 0 reads the output of layer k − 1 (default 1). */
  numLayers?: number;
  /** Input and output are `[N, T, features]` instead of `[T, N, features]` (default false). States are not affected. */
  batchFirst?: boolean;
  /**
   * Dropout probability on the outputs of every layer except the last, in training mode only
   * (default 0). Masks are drawn from `generator` (default: the global one).
   */
  dropout?: number;
  /** Run a second recurrence backwards in time and concatenate both outputs (default false). */
  bidirectional?: boolean;
}

/** Options of {@link RNN}. */
export interface RNNOptions extends RecurrentOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: RNNNonlinearity;
}

/**
 * The shared machinery of {@link RNN}, {@link LSTM} and {@link GRU}, as PyTorch's `RNNBase`.
 * Parameters are fields named exactly as PyTorch's (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`,
 * `bias_hh_l0`, then `..._l0_reverse` when bidirectional, then layer 1, ...), so `namedParameters()`
 * and `stateDict()` have PyTorch's keys in PyTorch's order and a PyTorch state dict loads as is.
 * Every parameter is drawn from U(±1/√hiddenSize).
 */
export abstract class RNNBase extends Module {
  /** Which recurrence this layer computes. */
  readonly mode: RecurrentMode;
  /** Features of the input. */
  readonly inputSize: number;
  /** Features of the hidden state (per direction). */
  readonly hiddenSize: number;
  /** Stacked layers. */
  readonly numLayers: number;
  /** Whether the layer has biases. */
  readonly bias: boolean;
  /** Whether input and output are batch-major. */
  readonly batchFirst: boolean;
  /** Dropout probability between layers (training mode only). */
  readonly dropout: number;
  /** Whether the layer runs in both directions. */
  readonly bidirectional: boolean;
  /** Parameter dtype. */
  readonly dtype: 'float32' | 'float64';
  private readonly generator: Generator | undefined;
  /**
   * The parameter-name suffix of each layer and direction (`_l0`, `_l0_reverse`, `_l1`, ...), in
   * that order. Forward reads the fields by name, so a parameter replaced by assignment is used.
   */
  private readonly suffixes: string[];

  protected constructor(mode: RecurrentMode, inputSize: number, hiddenSize: number, options: RecurrentOptions | undefined) {
    super();
    const name = new.target.name;
    const label = `${name}(inputSize=${inputSize}, hiddenSize=${hiddenSize})`;
    checkPositiveInt(`${label}: inputSize`, inputSize);
    checkPositiveInt(`${label}: hiddenSize`, hiddenSize);
    const numLayers = options?.numLayers ?? 1;
    checkPositiveInt(`${label}: numLayers`, numLayers);
    const dropout = options?.dropout ?? 0;
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout <= 1))
      throw new ConfigError(`${label}: dropout must be a probability in [0, 1] (got ${dropout})`);
    this.dtype = checkBaseOptions(label, options);
    this.mode = mode;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.bias = options?.bias ?? true;
    this.batchFirst = options?.batchFirst ?? false;
    this.dropout = dropout;
    this.bidirectional = options?.bidirectional ?? false;
    this.generator = options?.generator;
    if (dropout > 0 && numLayers === 1)
      console.warn(
        `${label}: dropout=${dropout} has no effect with numLayers=1: dropout is applied after every recurrent layer but the last`,
      );

    const rows = gateCount(mode) * hiddenSize;
    const bound = 1 / Math.sqrt(hiddenSize);
    const directions = this.bidirectional ? 2 : 1;
    this.suffixes = [];
    // The parameters become fields in PyTorch's order; Module finds them by walking the fields.
    // They are drawn in that order too, as PyTorch's reset_parameters loops over parameters().
    const fields = this as unknown as Record<string, Tensor>;
    for (let layer = 0; layer < numLayers; layer++) {
      const layerInput = layer === 0 ? inputSize : hiddenSize * directions;
      for (let dir = 0; dir < directions; dir++) {
        const suffix = `_l${layer}${dir === 1 ? '_reverse' : ''}`;
        this.suffixes.push(suffix);
        fields[`weight_ih${suffix}`] = uniformParameter([rows, layerInput], bound, this.dtype, this.generator);
        fields[`weight_hh${suffix}`] = uniformParameter([rows, hiddenSize], bound, this.dtype, this.generator);
        if (this.bias) {
          fields[`bias_ih${suffix}`] = uniformParameter([rows], bound, this.dtype, this.generator);
          fields[`bias_hh${suffix}`] = uniformParameter([rows], bound, this.dtype, this.generator);
        }
      }
    }
  }

  /** The parameters of layer and direction `index` (layer·numDirections + direction), read from the fields. */
  private weightsAt(index: number): CellWeights {
    const suffix = this.suffixes[index];
    const fields = this as unknown as Record<string, Tensor>;
    return {
      weightIh: fields[`weight_ih${suffix}`],
      weightHh: fields[`weight_hh${suffix}`],
      biasIh: this.bias ? fields[`bias_ih${suffix}`] : null,
      biasHh: this.bias ? fields[`bias_hh${suffix}`] : null,
    };
  }

  /** 2 when bidirectional, else 1. */
  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  /**
   * The parameters per layer and direction, as PyTorch's `all_weights`: `[weight_ih, weight_hh,
   * bias_ih, bias_hh]` (the biases only when `bias`), layer 0 forward first, then layer 0 reverse.
   */
  get allWeights(): Tensor[][] {
    return this.suffixes.map((_, k) => {
      const w = this.weightsAt(k);
      return w.biasIh !== null && w.biasHh !== null ? [w.weightIh, w.weightHh, w.biasIh, w.biasHh] : [w.weightIh, w.weightHh];
    });
  }

  protected override extraRepr(): string {
    const parts = [`inputSize=${this.inputSize}`, `hiddenSize=${this.hiddenSize}`];
    if (this.numLayers !== 1) parts.push(`numLayers=${this.numLayers}`);
    if (this.mode === 'RNN_RELU') parts.push(`nonlinearity='relu'`);
    if (!this.bias) parts.push('bias=false');
    if (this.batchFirst) parts.push('batchFirst=true');
    if (this.dropout !== 0) parts.push(`dropout=${this.dropout}`);
    if (this.bidirectional) parts.push('bidirectional=true');
    return parts.join(', ');
  }

  /** `Name(inputSize=…, hiddenSize=…, …)`, the prefix of error messages. */
  protected get label(): string {
    return `${this.name}(${this.extraRepr()})`;
  }

  /**
   * Runs the stacked recurrence. `states` holds the initial states (h_0, and c_0 for LSTM), each
   * `[numLayers·numDirections, N, hidden]` (or without N for an unbatched input), null or
   * undefined for zeros. Returns the output and the final states in the same layout.
   */
  protected runSequence(input: Tensor, states: readonly (Tensor | null | undefined)[], stateNames: readonly string[]): [Tensor, Tensor[]] {
    const label = this.label;
    if (input.ndim !== 2 && input.ndim !== 3)
      throw new ShapeError(
        `${label}: expected input of rank 3 (${this.batchFirst ? '[batch, seq, inputSize]' : '[seq, batch, inputSize]'}) ` +
          `or 2 (unbatched [seq, inputSize]); got shape ${fmtShape(input.shape)}`,
      );
    if (input.shape[input.ndim - 1] !== this.inputSize)
      throw new ShapeError(
        `${label}: input has ${input.shape[input.ndim - 1]} features in its last dimension (shape ${fmtShape(input.shape)}); expected ${this.inputSize}`,
      );
    checkDType(label, 'input', input, this.dtype);
    const batched = input.ndim === 3;
    // Time-major [T, N, in] from here on.
    const x = batched ? (this.batchFirst ? transpose(input, 0, 1) : input) : unsqueeze(input, 1);
    const [steps, batch] = x.shape;
    if (steps === 0)
      throw new ShapeError(`${label}: the input sequence is empty (shape ${fmtShape(input.shape)}); expected at least one time step`);

    const count = this.numLayers * this.numDirections;
    const initial = states.map((s, k) => {
      const expected = batched ? [count, batch, this.hiddenSize] : [count, this.hiddenSize];
      if (s === null || s === undefined) return null;
      if (!shapesEqual(s.shape, expected))
        throw new ShapeError(
          `${label}: initial state ${stateNames[k]} has shape ${fmtShape(s.shape)}; expected ${fmtShape(expected)} ` +
            (batched
              ? `([numLayers·numDirections, batch, hiddenSize] for an input of shape ${fmtShape(input.shape)})`
              : `([numLayers·numDirections, hiddenSize] for an unbatched input of shape ${fmtShape(input.shape)})`),
        );
      checkDType(label, `initial state ${stateNames[k]}`, s, this.dtype);
      return batched ? s : unsqueeze(s, 1);
    });

    const finals: Tensor[][] = states.map(() => []);
    let layerInput = contiguous(x);
    for (let layer = 0; layer < this.numLayers; layer++) {
      const outputs: Tensor[] = [];
      for (let dir = 0; dir < this.numDirections; dir++) {
        const idx = layer * this.numDirections + dir;
        const start = initial.map((s) => (s === null ? zeros([batch, this.hiddenSize], { dtype: this.dtype }) : select(s, 0, idx)));
        const [out, last] = this.runDirection(layerInput, start, this.weightsAt(idx), dir === 1);
        outputs.push(out);
        last.forEach((t, k) => finals[k].push(t));
      }
      let out = outputs.length === 1 ? outputs[0] : concat(outputs, 2);
      if (this.training && this.dropout > 0 && layer < this.numLayers - 1) out = this.applyDropout(out);
      layerInput = out;
    }
    const output = batched ? (this.batchFirst ? transpose(layerInput, 0, 1) : layerInput) : squeeze(layerInput, 1);
    const last = finals.map((f) => {
      const s = stack(f, 0);
      return batched ? s : squeeze(s, 1);
    });
    return [output, last];
  }

  /** One layer in one direction over `x` `[T, N, in]`: the output `[T, N, hidden]` and the final states. */
  private runDirection(x: Tensor, start: Tensor[], w: CellWeights, reverse: boolean): [Tensor, Tensor[]] {
    const steps = x.shape[0];
    // x·W_ihᵀ + b_ih for all time steps at once: one [T·N, in] × [in, gates·hidden] product.
    // RNN and LSTM add b_hh to the same sum, so it joins this projection (one add, and one
    // bias-gradient reduction in backward, per layer instead of per step); GRU cannot, since b_hn
    // sits inside r ⊙ (W_hn h + b_hn).
    const fold = this.mode !== 'GRU' && w.biasIh !== null && w.biasHh !== null;
    const gi = linearProjection(x, w.weightIh, fold ? add(w.biasIh!, w.biasHh!) : w.biasIh);
    const stepWeights: CellWeights = fold ? { ...w, biasHh: null } : w;
    const outs = new Array<Tensor>(steps);
    let state = start;
    for (let k = 0; k < steps; k++) {
      const t = reverse ? steps - 1 - k : k;
      const git = select(gi, 0, t);
      switch (this.mode) {
        case 'RNN_TANH':
        case 'RNN_RELU':
          state = [rnnStep(this.mode, git, state[0], stepWeights)];
          break;
        case 'LSTM':
          state = lstmStep(git, state[0], state[1], stepWeights);
          break;
        case 'GRU':
          state = [gruStep(git, state[0], stepWeights)];
          break;
        default:
          return this.mode satisfies never;
      }
      outs[t] = state[0];
    }
    return [stack(outs, 0), state];
  }

  /** Inverted dropout: zero with probability p, scale the rest by 1/(1 − p), as `F.dropout`. */
  private applyDropout(x: Tensor): Tensor {
    const p = this.dropout;
    if (p === 1) return mul(x, 0);
    const keep = ge(rand(x.shape, { dtype: x.dtype, generator: this.generator }), p);
    return mul(x, mul(keep, 1 / (1 - p)));
  }
}

/**
 * A multi-layer Elman RNN, as PyTorch's `nn.RNN`: per layer and time step
 * `h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh)`, act = tanh (default) or relu.
 *
 * Shapes (T time steps, N batch, D = 2 if bidirectional else 1, L = numLayers):
 * - input `[T, N, inputSize]` (`[N, T, inputSize]` with batchFirst), or unbatched `[T, inputSize]`;
 * - optional h_0 `[L·D, N, hiddenSize]` (`[L·D, hiddenSize]` unbatched), zeros by default;
 * - returns `[output, h_n]`: output `[T, N, D·hiddenSize]` (batchFirst: `[N, T, D·hiddenSize]`)
 *   holding the last layer's states at every step (forward and reverse concatenated), and h_n
 *   `[L·D, N, hiddenSize]` holding every layer's and direction's final state.
 *
 * Parameters `weight_ih_l{k}` `[hiddenSize, in_k]`, `weight_hh_l{k}` `[hiddenSize, hiddenSize]`,
 * `bias_ih_l{k}`, `bias_hh_l{k}` `[hiddenSize]` (`_reverse` for the backward direction), all
 * U(±1/√hiddenSize). Keras: `SimpleRNN` (one layer, one bias, other initializers).
 *
 * @example
 * const rnn = new RNN(10, 20, { numLayers: 2 });
 * const [output, hn] = rnn.call(randn([5, 3, 10])); // [5, 3, 20], [2, 3, 20]
 */
export class RNN extends RNNBase {
  /** 'tanh' or 'relu'. */
  readonly nonlinearity: RNNNonlinearity;

  constructor(inputSize: number, hiddenSize: number, options?: RNNOptions) {
    const nonlinearity = options?.nonlinearity ?? 'tanh';
    checkNonlinearity(`RNN(inputSize=${inputSize}, hiddenSize=${hiddenSize})`, nonlinearity);
    super(nonlinearity === 'relu' ? 'RNN_RELU' : 'RNN_TANH', inputSize, hiddenSize, options);
    this.nonlinearity = nonlinearity;
  }

  /** `[output, h_n]` for `input` and the optional initial state `hx` (h_0); see the class. */
  forward(input: Tensor, hx?: Tensor | null): [Tensor, Tensor] {
    const [output, [hn]] = this.runSequence(input, [hx], ['h_0']);
    return [output, hn];
  }
}

/**
 * A multi-layer LSTM, as PyTorch's `nn.LSTM`: per layer and time step, gates
 * `[i, f, g, o] = x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh`, `c_t = σ(f)·c_{t−1} + σ(i)·tanh(g)`,
 * `h_t = σ(o)·tanh(c_t)`.
 *
 * Shapes as {@link RNN}, with a cell state beside the hidden state: the optional initial state is
 * `hx = [h_0, c_0]`, each `[L·D, N, hiddenSize]` (`[L·D, hiddenSize]` unbatched); returns
 * `[output, [h_n, c_n]]`. Parameters as {@link RNN} with 4·hiddenSize rows in gate order
 * (i, f, g, o), all U(±1/√hiddenSize) and no forget-gate bias. PyTorch's `proj_size` is not
 * supported. Keras: `LSTM` (gate order i, f, c, o; other initializers; one bias).
 *
 * @example
 * const lstm = new LSTM(10, 20, { numLayers: 2, batchFirst: true });
 * const [output, [hn, cn]] = lstm.call(randn([3, 5, 10])); // [3, 5, 20], [2, 3, 20], [2, 3, 20]
 */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options?: RecurrentOptions) {
    super('LSTM', inputSize, hiddenSize, options);
  }

  /** `[output, [h_n, c_n]]` for `input` and the optional initial states `hx = [h_0, c_0]`; see the class. */
  forward(input: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]] {
    if (hx !== null && hx !== undefined && (!Array.isArray(hx) || hx.length !== 2))
      throw new ConfigError(`${this.label}: hx must be a pair [h_0, c_0] (got ${Array.isArray(hx) ? `${hx.length} tensors` : typeof hx})`);
    const [output, [hn, cn]] = this.runSequence(input, [hx?.[0], hx?.[1]], ['h_0', 'c_0']);
    return [output, [hn, cn]];
  }
}

/**
 * A multi-layer GRU, as PyTorch's `nn.GRU` (gate order r, z, n): per layer and time step
 * `r = σ(W_ir x + b_ir + W_hr h + b_hr)`, `z = σ(W_iz x + b_iz + W_hz h + b_hz)`,
 * `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`.
 *
 * Shapes and the optional h_0 as {@link RNN}; returns `[output, h_n]`. Parameters have
 * 3·hiddenSize rows, all U(±1/√hiddenSize). Keras: `GRU(resetAfter: true)` (gate order z, r, h).
 *
 * @example
 * const gru = new GRU(10, 20, { bidirectional: true });
 * const [output, hn] = gru.call(randn([5, 3, 10])); // [5, 3, 40], [2, 3, 20]
 */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options?: RecurrentOptions) {
    super('GRU', inputSize, hiddenSize, options);
  }

  /** `[output, h_n]` for `input` and the optional initial state `hx` (h_0); see the class. */
  forward(input: Tensor, hx?: Tensor | null): [Tensor, Tensor] {
    const [output, [hn]] = this.runSequence(input, [hx], ['h_0']);
    return [output, hn];
  }
}
