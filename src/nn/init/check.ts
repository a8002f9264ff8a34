import { backward } from '../../autograd/backward.js';
import { enableGrad, noGrad } from '../../autograd/grad-mode.js';
import { registerHook } from '../../autograd/hooks.js';
import { isFloat } from '../../core/dtype.js';
import { ConfigError, ShapeError, fmtShape } from '../../core/errors.js';
import { div, mul } from '../../ops/elementwise.js';
import { mean, sum, variance } from '../../ops/reduce.js';
import { tidy } from '../../tensor/scope.js';
import { Tensor } from '../../tensor/tensor.js';
import { ELU, GELU, Identity, LeakyReLU, LogSoftmax, ReLU, SELU, Sigmoid, Softmax, Softplus, Tanh } from '../activation.js';
import { Dropout } from '../dropout.js';
import { Flatten } from '../flatten.js';
import { KerasFlatten } from '../keras.js';
import { crossEntropy } from '../losses.js';
import type { Module } from '../module.js';
import { BatchNorm, LayerNorm } from '../normalization.js';
import { AvgPool2d, MaxPool2d } from '../pooling.js';
import { type WeightLayer, inEvalMode, isWeightLayer, layerLabel, preActivation, weightLayers } from './lsuv.js';

/**
 * The activation that {@link check} found after a layer: `'none'` when the layer's output goes
 * to the next Linear/Conv layer or out of the model unchanged, `'unknown'` when something other
 * than an activation module transforms it (a functional call, a custom module).
 */
export type ActivationKind =
  | 'relu'
  | 'leaky_relu'
  | 'elu'
  | 'gelu'
  | 'softplus'
  | 'selu'
  | 'tanh'
  | 'sigmoid'
  | 'softmax'
  | 'none'
  | 'unknown';

/** An initializer that suits a layer, in PyTorch-style and Keras-style spelling. */
export interface InitSuggestion {
  /** An in-place call for the layer's weight, e.g. `kaimingNormal_(weight, { nonlinearity: 'relu' })`. */
  pytorch: string;
  /** The Keras initializer name for `kernelInitializer`, e.g. `'heNormal'`. */
  keras: string;
}

/** Why {@link check} flagged a layer. */
export type CheckFlag = 'vanishing' | 'exploding' | 'nonfinite';

/** One row of {@link check}'s table: a Linear/Conv layer, in forward order. */
export interface CheckRow {
  /** The layer's dotted path in the model (`'model'` for the root itself). */
  name: string;
  /** The layer's class (`Linear`, `Conv2d`, `Dense`). */
  type: string;
  /** Shape of the layer's output on the batch. */
  shape: readonly number[];
  /**
   * Mean of the layer's output (all elements: batch, features, positions). For a Linear with its
   * own activation (Keras' Dense) the statistics are of its pre-activation `x·Wᵀ + b`.
   */
  mean: number;
  /** Variance of the layer's output (all elements, Bessel-corrected as `torch.var`). */
  variance: number;
  /** `variance` divided by the previous row's variance (the batch's own for the first row). */
  ratio: number;
  /**
   * Variance of the loss gradient with respect to the layer's output (dL/dy, all elements: what
   * its call returned, so after a Keras Dense's own activation), or null when no gradient
   * reached it.
   */
  outputGradVariance: number | null;
  /** Variance of the loss gradient with respect to the layer's weight (dL/dW), or null. */
  weightGradVariance: number | null;
  /** The activation applied to the layer's output (see {@link check} for the heuristic). */
  activation: ActivationKind;
  /** The negative slope, when `activation` is `'leaky_relu'`. */
  negativeSlope?: number;
  /** Set when the layer's variance is off its neighbour's by more than the threshold, or non-finite. */
  flag: CheckFlag | null;
  /** For a flagged layer: an initializer suited to `activation`; null otherwise. */
  suggestion: InitSuggestion | null;
}

/** What {@link check} returns: the rows and a printable table. */
export interface CheckReport {
  /** One row per Linear/Conv layer that the batch reached, in forward order. */
  rows: CheckRow[];
  /** The rows with a flag. */
  flagged: CheckRow[];
  /** Paths of Linear/Conv layers the batch never reached (not in `rows`). */
  unreached: string[];
  /** Variance of the batch itself (NaN for a non-float batch), the first row's neighbour. */
  inputVariance: number;
  /** The loss the gradients are of. */
  loss: number;
  /** How the loss was computed: `'sum(y²)/2'`, `'crossEntropy'` or `'custom'`. */
  lossName: string;
  /** The flag threshold used (a variance ratio). */
  threshold: number;
  /** The table, aligned, with a line per flagged layer and its suggestion. */
  toString(): string;
}

/** Options of {@link check}. */
export interface CheckOptions {
  /** Targets for the loss; with no `loss`, the loss is `crossEntropy(output, target)`. */
  target?: Tensor;
  /**
   * The loss of the model's output (a one-element tensor). Default: `sum(output²)/2` (so dL/dy of
   * the last layer is its output), or cross-entropy when `target` is given.
   */
  loss?: (output: Tensor, target: Tensor | undefined) => Tensor;
  /** Flag a layer whose variance is more than this many times above or below its neighbour's (default 4). */
  threshold?: number;
}

/** A module's call, as seen by a forward hook. */
interface CallEvent {
  module: Module;
  inputs: readonly unknown[];
  output: unknown;
}

/** Statistics of one layer gathered during the pass. */
interface LayerStats {
  name: string;
  layer: WeightLayer;
  event: number;
  shape: readonly number[];
  mean: number;
  variance: number;
  outputGradVariance: number | null;
  weightGradVariance: number | null;
}

/**
 * A per-layer health check of the initialization, from one forward and one backward pass of
 * `batch` through `model`: for every Linear/Conv layer (found by `namedModules`, listed in the
 * order the batch reaches them) the mean and variance of its output, the variance of the
 * gradient of the loss with respect to that output (dL/dy) and with respect to its weight
 * (dL/dW). Statistics come from forward hooks and tensor gradient hooks; no layer is patched. The
 * model runs in evaluation mode (restored afterwards), and the parameters' `.grad` are left as
 * they were.
 *
 * Loss: `options.loss(output, target)` if given; otherwise `crossEntropy(output, target)` when a
 * `target` is given, else `sum(output²)/2`.
 *
 * Flags: a layer is flagged `'vanishing'` (or `'exploding'`) when its output variance is more
 * than `threshold` (4) times below (above) that of its neighbour on the input side — the
 * previous row, or the batch itself for the first row — or is exactly 0; `'nonfinite'` when it
 * is NaN or infinite. Comparing with the input-side neighbour flags the layer whose own scale is
 * wrong, not the healthy layers after it.
 *
 * Activation detection (for the suggestions): modules are watched as they run. After a layer's
 * output, the first module that takes it decides: an activation module (`ReLU`, `LeakyReLU`,
 * `ELU`, `GELU`, `Softplus` — the ReLU family —, `Tanh`, `Sigmoid`, `SELU`, `Softmax`,
 * `LogSoftmax`, or a module with a string `activation` such as Keras' Activation layer) gives
 * that activation; shape and regularization modules (`Dropout`, `Flatten`, `Identity`, pooling,
 * `BatchNorm`, `LayerNorm`) are looked through; the next Linear/Conv layer, or the end of the
 * model, gives `'none'`; any other module, or a container that returns something else than the
 * tensor (a functional `relu(...)` in a custom `forward`), gives `'unknown'`. A Keras Dense with
 * its own activation uses that one; its row describes its pre-activation `x·Wᵀ + b` (recomputed
 * from its input), as for a Linear followed by an activation module.
 *
 * Suggestions (flagged layers only): ReLU family → `kaimingNormal_` / `'heNormal'`; tanh →
 * `xavierUniform_` with gain 5/3 / `'glorotUniform'`; sigmoid, softmax or none →
 * `xavierUniform_` / `'glorotUniform'`; SELU → `kaimingNormal_(…, { nonlinearity: 'linear' })`
 * / `'lecunNormal'`; unknown → `lsuv(model, batch)`, which needs no activation.
 *
 * @example console.log(init.check(model, x).toString());
 */
export function check(model: Module, batch: Tensor, options?: CheckOptions): CheckReport {
  const fn = 'check';
  const threshold = options?.threshold ?? 4;
  if (!(threshold > 1) || !Number.isFinite(threshold)) throw new ConfigError(`${fn}: threshold must be a finite number > 1 (got ${threshold})`);
  if (!(batch instanceof Tensor)) throw new ConfigError(`${fn}: batch must be a Tensor of model inputs (got ${typeof batch})`);
  const target = options?.target;
  if (target !== undefined && !(target instanceof Tensor)) throw new ConfigError(`${fn}: target must be a Tensor (got ${typeof target})`);
  const all = weightLayers(model);
  if (all.length === 0) throw new ConfigError(`${fn}: ${model.name} has no Linear or Conv layers to check`);
  const names = new Map(all.map(([n, l]) => [l, layerLabel(n)]));
  const lossName = options?.loss !== undefined ? 'custom' : target !== undefined ? 'crossEntropy' : 'sum(y²)/2';

  const result = inEvalMode(model, () =>
    tidy(() => {
      const events: CallEvent[] = [];
      const stats = new Map<WeightLayer, LayerStats>();
      const removers: (() => void)[] = [];
      const params = model.parameters();
      const savedGrads = params.map((p) => p.grad);
      let lossValue = Number.NaN;
      let inputVariance = Number.NaN;
      try {
        for (const m of model.modules()) {
          removers.push(
            m.registerForwardHook((module, inputs, output) => {
              events.push({ module, inputs, output });
              if (isWeightLayer(module) && !stats.has(module))
                stats.set(module, layerStats(fn, names.get(module)!, module, events.length - 1, inputs, output, removers));
            }),
          );
        }
        for (const p of params) p.grad = null;
        enableGrad(() => {
          const out = model.call(batch);
          if (!(out instanceof Tensor)) throw new ConfigError(`${fn}: the model's output is not a Tensor (got ${typeof out}); pass options.loss to reduce it`);
          const loss =
            options?.loss !== undefined
              ? options.loss(out, target)
              : target !== undefined
                ? crossEntropy(out, target)
                : div(sum(mul(out, out)), 2);
          if (!(loss instanceof Tensor) || loss.size !== 1)
            throw new ShapeError(`${fn}: the loss must be a one-element Tensor (got ${loss instanceof Tensor ? `shape ${fmtShape(loss.shape)}` : typeof loss})`);
          lossValue = loss.item();
          if (loss.requiresGrad) backward(loss);
        });
        noGrad(() => {
          if (isFloat(batch.dtype) && batch.size > 1) inputVariance = variance(batch).item();
          for (const s of stats.values()) {
            const g = s.layer.weight.grad;
            s.weightGradVariance = g === null ? null : g.size > 1 ? variance(g).item() : 0;
          }
        });
      } finally {
        for (const remove of removers) remove();
        params.forEach((p, i) => {
          if (p.grad !== null && p.grad !== savedGrads[i]) p.grad.dispose();
          p.grad = savedGrads[i];
        });
      }
      const ordered = [...stats.values()].sort((a, b) => a.event - b.event);
      const rows = ordered.map((s, i) => {
        const prev = i === 0 ? inputVariance : ordered[i - 1].variance;
        const ratio = s.variance / prev;
        const flag = flagOf(s.variance, ratio, threshold);
        const act = activationAfter(s.layer, s.event, events);
        const row: CheckRow = {
          name: s.name,
          type: s.layer.name,
          shape: s.shape,
          mean: s.mean,
          variance: s.variance,
          ratio,
          outputGradVariance: s.outputGradVariance,
          weightGradVariance: s.weightGradVariance,
          activation: act.kind,
          ...(act.negativeSlope !== undefined ? { negativeSlope: act.negativeSlope } : {}),
          flag,
          suggestion: flag === null ? null : suggest(act.kind, act.negativeSlope),
        };
        return row;
      });
      const unreached = all.filter(([, l]) => !stats.has(l)).map(([n]) => layerLabel(n));
      return { rows, unreached, inputVariance, loss: lossValue };
    }),
  );
  const report: CheckReport = {
    ...result,
    flagged: result.rows.filter((r) => r.flag !== null),
    lossName,
    threshold,
    toString: () => formatReport(report),
  };
  return report;
}

/** Output statistics of a layer at its first call, and a gradient hook on that output. */
function layerStats(
  fn: string,
  name: string,
  layer: WeightLayer,
  event: number,
  inputs: readonly unknown[],
  output: unknown,
  removers: (() => void)[],
): LayerStats {
  if (!(output instanceof Tensor)) throw new ShapeError(`${fn}: layer '${name}' (${layer.name}) returned ${typeof output}, not a Tensor`);
  const pre = preActivation(layer, inputs, output) as Tensor;
  const s: LayerStats = {
    name,
    layer,
    event,
    shape: [...pre.shape],
    ...noGrad(() => ({ mean: mean(pre).item(), variance: pre.size > 1 ? variance(pre).item() : 0 })),
    outputGradVariance: null,
    weightGradVariance: null,
  };
  if (output.requiresGrad)
    removers.push(
      registerHook(output, (g) => {
        s.outputGradVariance = g.size > 1 ? variance(g).item() : 0;
      }),
    );
  return s;
}

function flagOf(v: number, ratio: number, threshold: number): CheckFlag | null {
  if (!Number.isFinite(v)) return 'nonfinite';
  if (v === 0) return 'vanishing';
  if (!Number.isFinite(ratio)) return null; // the neighbour is 0 or undefined: nothing to compare with
  if (ratio < 1 / threshold) return 'vanishing';
  if (ratio > threshold) return 'exploding';
  return null;
}

/** Modules that reshape, pool, normalize or drop out but do not decide the initializer. */
function looksThrough(m: Module): boolean {
  return (
    m instanceof Dropout ||
    m instanceof Flatten ||
    m instanceof KerasFlatten ||
    m instanceof Identity ||
    m instanceof MaxPool2d ||
    m instanceof AvgPool2d ||
    m instanceof BatchNorm ||
    m instanceof LayerNorm
  );
}

interface Detected {
  kind: ActivationKind;
  negativeSlope?: number;
}

/** The activation of an activation module, or null if `m` is not one. */
function activationOfModule(m: Module): Detected | null {
  if (m instanceof LeakyReLU) return { kind: 'leaky_relu', negativeSlope: m.negativeSlope };
  if (m instanceof ReLU) return { kind: 'relu' };
  if (m instanceof ELU) return { kind: 'elu' };
  if (m instanceof GELU) return { kind: 'gelu' };
  if (m instanceof Softplus) return { kind: 'softplus' };
  if (m instanceof SELU) return { kind: 'selu' };
  if (m instanceof Tanh) return { kind: 'tanh' };
  if (m instanceof Sigmoid) return { kind: 'sigmoid' };
  if (m instanceof Softmax || m instanceof LogSoftmax) return { kind: 'softmax' };
  const named = (m as unknown as { activation?: unknown }).activation;
  return typeof named === 'string' ? activationOfName(named) : null;
}

/** A Keras activation name (`'relu'`, `'leaky_relu'`, `'linear'`, ...). */
function activationOfName(name: string): Detected {
  const key = name.toLowerCase().replace(/_/g, '');
  switch (key) {
    case 'relu':
    case 'elu':
    case 'gelu':
    case 'selu':
    case 'tanh':
    case 'sigmoid':
    case 'softplus':
    case 'softmax':
      return { kind: key };
    case 'leakyrelu':
      return { kind: 'leaky_relu', negativeSlope: 0.2 }; // Keel's Keras-style leakyrelu slope
    case 'logsoftmax':
      return { kind: 'softmax' };
    case 'linear':
      return { kind: 'none' };
    default:
      return { kind: 'unknown' };
  }
}

/** The heuristic described in {@link check}: what is applied to `layer`'s output at `event`. */
function activationAfter(layer: WeightLayer, event: number, events: readonly CallEvent[]): Detected {
  const own = (layer as unknown as { activation?: unknown }).activation;
  if (typeof own === 'string') {
    const d = activationOfName(own);
    if (d.kind !== 'none') return d;
  }
  let current = events[event].output;
  for (let j = event + 1; j < events.length; j++) {
    const e = events[j];
    if (e.inputs.includes(current)) {
      if (isWeightLayer(e.module)) return { kind: 'none' };
      const act = activationOfModule(e.module);
      if (act !== null) return act;
      if (looksThrough(e.module)) {
        current = e.output;
        continue;
      }
      return { kind: 'unknown' };
    }
    if (e.output === current) continue; // a container (Sequential, a block) returning the tensor as it is
    const act = activationOfModule(e.module); // a container applying its own named activation
    return act !== null && act.kind !== 'none' ? act : { kind: 'unknown' };
  }
  return { kind: 'none' };
}

function suggest(kind: ActivationKind, negativeSlope: number | undefined): InitSuggestion {
  switch (kind) {
    case 'relu':
    case 'elu':
    case 'gelu':
    case 'softplus':
      return { pytorch: "kaimingNormal_(weight, { nonlinearity: 'relu' })", keras: 'heNormal' };
    case 'leaky_relu':
      return { pytorch: `kaimingNormal_(weight, { a: ${negativeSlope ?? 0.01}, nonlinearity: 'leaky_relu' })`, keras: 'heNormal' };
    case 'tanh':
      return { pytorch: "xavierUniform_(weight, { gain: calculateGain('tanh') })", keras: 'glorotUniform' };
    case 'selu':
      return { pytorch: "kaimingNormal_(weight, { nonlinearity: 'linear' })", keras: 'lecunNormal' };
    case 'sigmoid':
    case 'softmax':
    case 'none':
      return { pytorch: 'xavierUniform_(weight)', keras: 'glorotUniform' };
    case 'unknown':
      return { pytorch: 'lsuv(model, batch)', keras: 'lsuv(model, batch)' };
    default:
      return kind satisfies never;
  }
}

function fmt(x: number | null): string {
  if (x === null) return '—';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a === 0 ? '0' : a >= 1e-3 && a < 1e4 ? x.toPrecision(3) : x.toExponential(2);
}

function formatReport(r: CheckReport): string {
  const header = ['layer', 'type', 'output shape', 'mean', 'var', 'var ratio', 'grad var dL/dy', 'grad var dL/dW', 'activation', 'flag'];
  const body = r.rows.map((row) => [
    row.name,
    row.type,
    fmtShape(row.shape),
    fmt(row.mean),
    fmt(row.variance),
    fmt(row.ratio),
    fmt(row.outputGradVariance),
    fmt(row.weightGradVariance),
    row.activation === 'leaky_relu' ? `leaky_relu(${row.negativeSlope})` : row.activation,
    row.flag ?? '',
  ]);
  const numeric = new Set([3, 4, 5, 6, 7]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  const lines = [
    `init.check: loss ${r.lossName} = ${fmt(r.loss)}; batch variance ${fmt(r.inputVariance)}; ` +
      `'var ratio' = var / previous layer's var (the batch's for the first); flagged beyond ${r.threshold}× either way`,
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ];
  if (r.unreached.length > 0) lines.push(`not reached by the batch: ${r.unreached.join(', ')}`);
  if (r.flagged.length === 0) lines.push('no layer flagged');
  for (const row of r.flagged) {
    const what =
      row.flag === 'nonfinite'
        ? `output variance is ${row.variance}`
        : row.variance === 0
          ? 'output variance is 0'
          : `output variance ×${fmt(row.ratio)} of its neighbour's`;
    lines.push(`${row.name} (${row.type}): ${row.flag}, ${what}; followed by ${row.activation}: try ${row.suggestion!.pytorch} (Keras '${row.suggestion!.keras}')`);
  }
  return lines.join('\n');
}
