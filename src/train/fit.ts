import { noGrad } from '../autograd/grad-mode.js';
import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import { type Generator, defaultGenerator } from '../core/random.js';
import { binaryCrossentropy, categoricalCrossentropy, l1, mse, sparseCategoricalCrossentropy } from '../nn/losses.js';
import type { Module } from '../nn/module.js';
import * as E from '../ops/elementwise.js';
import { argmax, sum } from '../ops/reduce.js';
import { cast, concat, indexSelect, narrow, reshape } from '../ops/shape.js';
import { tensor } from '../tensor/create.js';
import { keep, tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { GradientMonitor } from '../diagnostics/monitor.js';
import type { Callback, TrainContext } from './callbacks.js';
import { ProgressBar, type ProgressSink, defaultSink } from './progress.js';

/**
 * Keras-style training: `compile`, `fit`, `evaluate`, `predict` for any Module whose `call(x)`
 * maps a batch of inputs to predictions. Every step runs inside `tidy`, so memory stays flat.
 */

/** What `fit` needs of an optimizer (every Keel optimizer has it). */
export interface TrainableOptimizer {
  step(): void;
  zeroGrad(options?: { setToNone?: boolean }): void;
  /** Keras-style optimizers are built without parameters and bound here by `compile`. */
  bind?(params: Tensor[]): void;
  /** Whether the optimizer already has parameters (a PyTorch-style one); `compile` binds it otherwise. */
  readonly isBound?: boolean;
  /** Counters the progress line and the History read. */
  stats?: { steps: number; stepsClipped: number; stepsSkipped: number };
  paramGroups?: { lr: number }[];
}

/** Keras loss names `compile` accepts (camelCase or snake_case). */
export type LossName =
  | 'sparseCategoricalCrossentropy'
  | 'categoricalCrossentropy'
  | 'binaryCrossentropy'
  | 'mse'
  | 'meanSquaredError'
  | 'mae'
  | 'meanAbsoluteError';

/** A loss in Keras' argument order: targets first, predictions second; returns a scalar. */
export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** Options of `compile`. */
export interface CompileOptions {
  optimizer: TrainableOptimizer;
  loss: LossName | LossFn;
  /** `['accuracy']` picks the accuracy that fits the loss, as Keras does. */
  metrics?: ('accuracy' | 'acc')[];
}

type Accuracy = (yTrue: Tensor, yPred: Tensor) => number;

const LOSSES: Record<string, { fn: LossFn; accuracy: Accuracy }> = {
  sparsecategoricalcrossentropy: { fn: (t, p) => sparseCategoricalCrossentropy(t, p), accuracy: sparseAccuracy },
  categoricalcrossentropy: { fn: (t, p) => categoricalCrossentropy(t, p), accuracy: (t, p) => sparseAccuracy(argmax(t, { axis: -1 }), p) },
  binarycrossentropy: { fn: (t, p) => binaryCrossentropy(t, p), accuracy: binaryAccuracy },
  mse: { fn: (t, p) => mse(p, t), accuracy: sparseAccuracy },
  meansquarederror: { fn: (t, p) => mse(p, t), accuracy: sparseAccuracy },
  mae: { fn: (t, p) => l1(p, t), accuracy: sparseAccuracy },
  meanabsoluteerror: { fn: (t, p) => l1(p, t), accuracy: sparseAccuracy },
};

/** Number of correct predictions: argmax of `yPred` equals the integer label. */
function sparseAccuracy(yTrue: Tensor, yPred: Tensor): number {
  const labels = yTrue.ndim === yPred.ndim ? reshape(yTrue, [-1]) : yTrue;
  return sum(E.eq(argmax(yPred, { axis: -1 }), cast(labels, 'int32'))).item();
}

function binaryAccuracy(yTrue: Tensor, yPred: Tensor): number {
  return sum(E.eq(cast(E.gt(yPred, 0.5), yTrue.dtype), yTrue)).item() / (yPred.size / yPred.shape[0]);
}

/** The compiled training configuration of a module. */
interface Compiled {
  optimizer: TrainableOptimizer;
  loss: LossFn;
  accuracy: Accuracy | null;
}

const compiled = new WeakMap<Module, Compiled>();

/** Configures `model` for `fit`/`evaluate`, as Keras' `model.compile`: binds the optimizer to its parameters. */
export function compile(model: Module, options: CompileOptions): void {
  let loss: LossFn;
  let accuracy: Accuracy | null = null;
  if (typeof options.loss === 'string') {
    const entry = LOSSES[options.loss.toLowerCase().replace(/_/g, '')];
    if (entry === undefined)
      throw new ConfigError(`compile: unknown loss '${options.loss}' (expected one of sparseCategoricalCrossentropy, categoricalCrossentropy, binaryCrossentropy, mse, mae, or a function (yTrue, yPred) => loss)`);
    loss = entry.fn;
    accuracy = entry.accuracy;
  } else if (typeof options.loss === 'function') loss = options.loss;
  else throw new ConfigError('compile: loss must be a Keras loss name or a function (yTrue, yPred) => scalar loss');
  for (const m of options.metrics ?? []) {
    if (m !== 'accuracy' && m !== 'acc') throw new ConfigError(`compile: unknown metric '${String(m)}' (supported: 'accuracy')`);
    accuracy ??= sparseAccuracy;
  }
  if (options.metrics === undefined || options.metrics.length === 0) accuracy = null;
  if (typeof options.optimizer?.step !== 'function') throw new ConfigError('compile: optimizer must be a Keel optimizer (e.g. new Adam({ learningRate: 1e-3 }))');
  // A Keras-style optimizer (built without parameters) is bound to the model here.
  if (options.optimizer.isBound !== true) options.optimizer.bind?.(model.parameters());
  compiled.set(model, { optimizer: options.optimizer, loss, accuracy });
}

function configOf(model: Module, fn: string): Compiled {
  const c = compiled.get(model);
  if (c === undefined) throw new ConfigError(`${fn}: call model.compile({ optimizer, loss }) first`);
  return c;
}

/** Options of `fit`. */
export interface FitOptions {
  /** The epoch to stop after (1-based count), as Keras: with `initialEpoch` 3 and `epochs` 5, two epochs run. */
  epochs?: number;
  /** The epoch to start at (0-based), to resume an interrupted run from a checkpoint (default 0). */
  initialEpoch?: number;
  batchSize?: number;
  /** Keep this last fraction of the data for validation (taken before shuffling, as Keras). */
  validationSplit?: number;
  validationData?: [Tensor, Tensor];
  /** Shuffle the training samples every epoch (default true). */
  shuffle?: boolean;
  callbacks?: Callback[];
  /** 0 silent, 1 progress bar (default), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Generator for shuffling (default: the seeded global one). */
  generator?: Generator;
  /** Where progress goes (default: standard output). */
  output?: ProgressSink;
  /**
   * Watch gradients and activations during the run: `true` for a new `GradientMonitor` sampling
   * every 10 steps, or a monitor of your own (attached for the run unless already attached).
   * Its summary is printed at the end unless `verbose` is 0.
   */
  monitor?: boolean | GradientMonitor;
}

/** What `fit` returns: per-epoch logs, as Keras' History. */
export interface History {
  epoch: number[];
  history: Record<string, number[]>;
}

function checkData(fn: string, x: Tensor, y: Tensor): void {
  if (x.ndim === 0 || y.ndim === 0 || x.shape[0] !== y.shape[0])
    throw new ShapeError(`${fn}: x and y must have the same number of samples along axis 0 (x is ${fmtShape(x.shape)}, y is ${fmtShape(y.shape)})`);
}

function positiveInt(fn: string, name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${fn}: ${name} must be a positive integer (got ${v})`);
  return v;
}

/** Fisher–Yates with the Keel generator. */
function permutation(n: number, g: Generator): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = g.nextBelow(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Trains `model` on `(x, y)` as Keras' `model.fit`; returns the History. */
export function fit(model: Module, x: Tensor, y: Tensor, options?: FitOptions): History {
  const cfg = configOf(model, 'fit');
  checkData('fit', x, y);
  const epochs = positiveInt('fit', 'epochs', options?.epochs ?? 1);
  const batchSize = positiveInt('fit', 'batchSize', options?.batchSize ?? 32);
  const verbose = options?.verbose ?? 1;
  const sink = options?.output ?? defaultSink();
  const gen = options?.generator ?? defaultGenerator();
  let [xTrain, yTrain] = [x, y];
  let validation = options?.validationData ?? null;
  const split = options?.validationSplit ?? 0;
  if (!(split >= 0 && split < 1)) throw new ConfigError(`fit: validationSplit must be in [0, 1) (got ${split})`);
  if (split > 0) {
    const nVal = Math.floor(x.shape[0] * split);
    const nTrain = x.shape[0] - nVal;
    if (nVal === 0 || nTrain === 0) throw new ConfigError(`fit: validationSplit ${split} of ${x.shape[0]} samples leaves an empty split`);
    [xTrain, yTrain] = [narrow(x, 0, 0, nTrain), narrow(y, 0, 0, nTrain)];
    validation = [narrow(x, 0, nTrain, nVal), narrow(y, 0, nTrain, nVal)];
  }
  if (validation !== null) checkData('fit (validation)', validation[0], validation[1]);
  const n = xTrain.shape[0];
  const steps = Math.ceil(n / batchSize);
  const context: TrainContext = { model, optimizer: cfg.optimizer, epochs, stepsPerEpoch: steps, stopTraining: false };
  const callbacks = options?.callbacks ?? [];
  for (const cb of callbacks) cb.context = context;
  const history: History = { epoch: [], history: {} };
  for (const cb of callbacks) cb.onTrainBegin();
  let logs: Record<string, number> = {};
  const initialEpoch = options?.initialEpoch ?? 0;
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch > epochs)
    throw new ConfigError(`fit: initialEpoch must be an integer in [0, epochs] (got ${initialEpoch} with epochs ${epochs})`);
  const monitor = options?.monitor === true ? new GradientMonitor() : options?.monitor instanceof GradientMonitor ? options.monitor : null;
  const detach = monitor !== null && monitor.model === null ? monitor.attach(model, { optimizer: cfg.optimizer }) : null;
  model.train();
  // The monitor is detached however training ends (an error in a step included).
  try {
    for (let epoch = initialEpoch; epoch < epochs && !context.stopTraining; epoch++) {
      for (const cb of callbacks) cb.onEpochBegin(epoch);
      // As Keras' progress logger: an epoch header for every epoch, unless there is only one.
      if (verbose !== 0 && epochs > 1) sink.write(`Epoch ${epoch + 1}/${epochs}\n`);
      const order = options?.shuffle ?? true ? permutation(n, gen) : null;
      const bar = new ProgressBar(steps, verbose, sink);
      const before = cfg.optimizer.stats === undefined ? null : { ...cfg.optimizer.stats };
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      for (let s = 0; s < steps; s++) {
        const start = s * batchSize;
        const size = Math.min(batchSize, n - start);
        tidy(() => {
          let xb: Tensor;
          let yb: Tensor;
          if (order === null) [xb, yb] = [narrow(xTrain, 0, start, size), narrow(yTrain, 0, start, size)];
          else {
            const idx = tensor(order.subarray(start, start + size), [size], { dtype: 'int32' });
            [xb, yb] = [indexSelect(xTrain, 0, idx), indexSelect(yTrain, 0, idx)];
          }
          const pred = model.call(xb) as Tensor;
          const loss = cfg.loss(yb, pred);
          // Zeroing in place (not dropping the gradients) reuses their memory step after step.
          cfg.optimizer.zeroGrad({ setToNone: false });
          loss.backward();
          cfg.optimizer.step();
          const lossValue = loss.item();
          monitor?.step(lossValue);
          lossSum += lossValue * size;
          if (cfg.accuracy !== null) correct += noGrad(() => cfg.accuracy!(yb, pred));
        });
        seen += size;
        const stepLogs = epochLogs(cfg, lossSum, correct, seen, before);
        for (const cb of callbacks) cb.onBatchEnd(s, stepLogs);
        bar.update(s + 1, stepLogs);
        if (context.stopTraining) break;
      }
      logs = epochLogs(cfg, lossSum, correct, seen, before);
      if (validation !== null) {
        const v = evaluate(model, validation[0], validation[1], { batchSize });
        model.train();
        logs.val_loss = v.loss;
        if (v.accuracy !== undefined) logs.val_accuracy = v.accuracy;
      }
      bar.finish(logs);
      history.epoch.push(epoch);
      for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
      monitor?.logEpoch(epoch + 1, logs); // the run log's epoch line (loss, accuracy) for reports
      for (const cb of callbacks) cb.onEpochEnd(epoch, logs);
    }
    for (const cb of callbacks) cb.onTrainEnd(logs);
  } finally {
    detach?.();
  }
  if (monitor !== null && verbose !== 0) sink.write(`${monitor.summary()}\n`);
  return history;
}

function epochLogs(
  cfg: Compiled,
  lossSum: number,
  correct: number,
  seen: number,
  before: { steps: number; stepsClipped: number; stepsSkipped: number } | null,
): Record<string, number> {
  const logs: Record<string, number> = {};
  if (cfg.accuracy !== null) logs.accuracy = correct / seen;
  logs.loss = lossSum / seen;
  const now = cfg.optimizer.stats;
  if (before !== null && now !== undefined) {
    const steps = now.steps - before.steps;
    const clipped = now.stepsClipped - before.stepsClipped;
    const skipped = now.stepsSkipped - before.stepsSkipped;
    if (steps > 0 && (clipped > 0 || now.stepsClipped > 0)) logs.clipped = clipped / steps;
    if (skipped > 0) logs.skipped = skipped;
  }
  return logs;
}

/** Options of `evaluate` and `predict`. */
export interface EvaluateOptions {
  batchSize?: number;
}

/** Mean loss (and accuracy when compiled with it) over `(x, y)` in evaluation mode, as Keras' `evaluate`. */
export function evaluate(model: Module, x: Tensor, y: Tensor, options?: EvaluateOptions): { loss: number; accuracy?: number } {
  const cfg = configOf(model, 'evaluate');
  checkData('evaluate', x, y);
  const batchSize = positiveInt('evaluate', 'batchSize', options?.batchSize ?? 32);
  const n = x.shape[0];
  let lossSum = 0;
  let correct = 0;
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => {
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        tidy(() => {
          const xb = narrow(x, 0, start, size);
          const yb = narrow(y, 0, start, size);
          const pred = model.call(xb) as Tensor;
          lossSum += cfg.loss(yb, pred).item() * size;
          if (cfg.accuracy !== null) correct += cfg.accuracy(yb, pred);
        });
      }
    });
  } finally {
    model.train(wasTraining);
  }
  const out: { loss: number; accuracy?: number } = { loss: lossSum / n };
  if (cfg.accuracy !== null) out.accuracy = correct / n;
  return out;
}

/** The model's outputs for every sample of `x`, batch by batch in evaluation mode, as Keras' `predict`. */
export function predict(model: Module, x: Tensor, options?: EvaluateOptions): Tensor {
  const batchSize = positiveInt('predict', 'batchSize', options?.batchSize ?? 32);
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() =>
      tidy(() => {
        const parts: Tensor[] = [];
        for (let start = 0; start < x.shape[0]; start += batchSize)
          parts.push(keep(model.call(narrow(x, 0, start, Math.min(batchSize, x.shape[0] - start))) as Tensor));
        const out = concat(parts, 0);
        for (const p of parts) p.dispose();
        return out;
      }),
    );
  } finally {
    model.train(wasTraining);
  }
}
