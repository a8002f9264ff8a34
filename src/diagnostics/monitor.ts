import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { registerHook } from '../autograd/hooks.js';
import type { TypedArray } from '../core/dtype.js';
import { ConfigError } from '../core/errors.js';
import { ReLU, Sigmoid, Tanh } from '../nn/activation.js';
import { isWeightLayer, layerLabel } from '../nn/init/lsuv.js';
import { type HookRemover, type Module, isParameter } from '../nn/module.js';
import { RNNCellBase } from '../nn/recurrent-cell.js';
import { RNNBase } from '../nn/recurrent.js';
import type { UpdateInfo } from '../optim/transform.js';
import { clone } from '../ops/shape.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { fileLineSink } from './log-file.js';
import { type DetectorOptions, type Finding, type Histogram, type MonitorRecord, detect, formatSummary } from './report.js';
import { type EpochRecord, RUN_LOG_FORMAT, type RunHeader, toLogLine } from './run-log.js';

/**
 * A training-health monitor in the spirit of `init.check`, but over a whole run: gradient,
 * parameter and activation statistics sampled every N steps through hooks, detectors for
 * exploding/vanishing gradients, dead ReLUs and saturated tanh/sigmoid units, and a locator for
 * the first NaN/Inf.
 */

/** What the monitor reads of an optimizer (every Keel optimizer has both). */
export interface MonitoredOptimizer {
  /** What the transforms reported on the last step: clipping norms, skips. */
  lastUpdateInfo?: readonly UpdateInfo[];
  /** The optimizer's counters (unused by the monitor, listed so that any Keel optimizer fits). */
  stats?: { steps: number };
}

/** Options of {@link GradientMonitor} and {@link GradientMonitor.attach}. */
export interface MonitorOptions extends DetectorOptions {
  /** Sample every this many steps (default 10); step 0 is always sampled. */
  every?: number;
  /** The optimizer whose `lastUpdateInfo` gives the global norm before/after clipping. */
  optimizer?: MonitoredOptimizer;
  /**
   * Stream the run log (JSON Lines, read by `keel report`) to this file as training goes: the
   * file is created or emptied on `attach`, then a header line, one line per sampled step, the
   * lines given to `logEpoch`, and the findings on `detach` are appended (Node only).
   */
  logFile?: string;
  /** Receives the run log's lines (without newline) instead of a file: works in browsers too. */
  logSink?: (line: string) => void;
  /** Bins of the per-layer output histograms recorded on sampled steps (default 30; 0 records none). */
  histogramBins?: number;
  /** The run's global-norm clipping threshold, written in the log's header for reports to draw. */
  clipThreshold?: number;
  /** A description of the run (dataset, optimizer, learning rate, ...), written in the log's header. */
  runInfo?: Record<string, string | number | boolean>;
}

/** The activation a watched module applies, for saturation and dead-unit statistics. */
type ActKind = 'relu' | 'tanh' | 'sigmoid';

interface Watched {
  name: string;
  module: Module;
  /** 'layer': Linear/Conv/recurrent; 'act': an activation module. */
  role: 'layer' | 'act' | 'other';
  act: ActKind | null;
  params: [string, Tensor][];
}

/** One parameter of the model, listed once (under the first module that owns it). */
interface ParamSlot {
  /** Its path in the record (`0.weight`). */
  name: string;
  param: Tensor;
  /** The module it is counted under for the layer's gradient norm. */
  owner: Watched;
  /**
   * A copy of the parameter taken before the forward pass of a sampled step, for the update
   * ratio: made on the first sampled step, then overwritten in place on each later one (no
   * allocation per sample), kept out of `tidy`, freed on `detach`. After the optimizer's step it
   * holds `p − copy` (the update), computed in place. Null for int32 parameters.
   */
  snapshot: Tensor | null;
}

/** What the forward and backward hooks saw on the sampled step being recorded. */
interface StepScratch {
  layers: Map<string, Record<string, number | string | null | Histogram>>;
  forwardNaN: string | null;
  backwardNaN: string | null;
  removers: HookRemover[];
  /** Which layer produced a tensor (to name the layer an activation module follows). */
  producer: WeakMap<Tensor, string>;
  /**
   * Whether a forward tensor is finite, as already found: a container's output is the output of
   * its last child (the same tensor), which is then not read a second time.
   */
  finite: Map<Tensor, boolean>;
  /**
   * The last gradient checked by a backward hook and whether it was finite: the hooks on one
   * tensor (the output of one module, the input of the next) run one after the other with the
   * same gradient, which is then checked once.
   */
  lastGrad: Tensor | null;
  lastGradFinite: boolean;
}

function isFiniteTensor(t: Tensor): boolean {
  if (t.dtype === 'int32' || t.size === 0) return true;
  return Number.isFinite(t.backend.sumSquares(t)); // accumulated in float64: no overflow for finite float32
}

function tensorsIn(v: unknown, out: Tensor[] = []): Tensor[] {
  if (v instanceof Tensor) out.push(v);
  else if (Array.isArray(v)) for (const x of v) tensorsIn(x, out);
  return out;
}

function activationOf(m: Module): ActKind | null {
  if (m instanceof ReLU) return 'relu';
  if (m instanceof Tanh) return 'tanh';
  if (m instanceof Sigmoid) return 'sigmoid';
  const named = (m as unknown as { activation?: unknown }).activation; // Keras Dense/Activation
  if (typeof named === 'string') {
    const k = named.toLowerCase();
    if (k === 'relu' || k === 'tanh' || k === 'sigmoid') return k;
  }
  return null;
}

/**
 * Counts of the values of `v` in `bins` equal bins over [lo, hi] (the min and max of its finite
 * values; NaN and ±Inf are counted apart). `finite`: every value is known to be finite, so the
 * range check can be left out.
 */
function histogram(v: TypedArray, lo: number, hi: number, bins: number, finite: boolean): Histogram {
  const scale = hi > lo ? bins / (hi - lo) : 0;
  const last = bins - 1;
  const n = v.length;
  let nonfinite = 0;
  let counts: number[];
  if (finite) {
    // Four tallies, one per lane of four consecutive values, added at the end: runs of values in
    // one bin (the zeros of a ReLU) then do not wait on the previous increment of that bin.
    const tally = new Int32Array(4 * bins);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const b0 = ((v[i] - lo) * scale) | 0; // floor: the argument is in [0, bins]
      const b1 = ((v[i + 1] - lo) * scale) | 0;
      const b2 = ((v[i + 2] - lo) * scale) | 0;
      const b3 = ((v[i + 3] - lo) * scale) | 0;
      tally[b0 > last ? last : b0]++;
      tally[bins + (b1 > last ? last : b1)]++;
      tally[2 * bins + (b2 > last ? last : b2)]++;
      tally[3 * bins + (b3 > last ? last : b3)]++;
    }
    for (; i < n; i++) {
      const b = ((v[i] - lo) * scale) | 0;
      tally[b > last ? last : b]++;
    }
    counts = new Array<number>(bins);
    for (let b = 0; b < bins; b++) counts[b] = tally[b] + tally[bins + b] + tally[2 * bins + b] + tally[3 * bins + b];
  } else {
    counts = new Array<number>(bins).fill(0);
    for (let i = 0; i < n; i++) {
      const x = v[i];
      if (x >= lo && x <= hi) {
        const b = ((x - lo) * scale) | 0;
        counts[b > last ? last : b]++;
      } else nonfinite++; // only NaN/±Inf fall outside [min, max] of the finite values
    }
  }
  return nonfinite > 0 ? { lo, hi, counts, nonfinite } : { lo, hi, counts };
}

/**
 * Mean, std, the histogram, and (for an activation) saturated or never-active fractions of the
 * values `v` of an output of shape `shape` (read to the host once, then walked in JavaScript:
 * one pass for the moments and the range, one for the histogram, which needs the range, and a
 * short one for the activation's fraction); also whether every value is finite.
 */
function outputStats(
  v: TypedArray,
  shape: readonly number[],
  act: ActKind | null,
  bins: number,
): { stats: Record<string, number | Histogram>; finite: boolean } {
  const n = v.length;
  let s = 0;
  let s2 = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    s += x;
    s2 += x * x;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  // A finite sum of squares (accumulated in float64) means every value is finite; otherwise find
  // the range of the finite values and whether any value is NaN/±Inf (rare: a second pass).
  let finite = Number.isFinite(s2);
  if (!finite) {
    lo = Number.POSITIVE_INFINITY;
    hi = Number.NEGATIVE_INFINITY;
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const x = v[i];
      if (x - x !== 0) bad++; // NaN, ±Inf
      else {
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
    finite = bad === 0; // a float64 sum of squares can overflow with finite values
  }
  const mean = n > 0 ? s / n : 0;
  const stats: Record<string, number | Histogram> = { mean, std: n > 1 ? Math.sqrt(Math.max(0, (s2 - n * mean * mean) / (n - 1))) : 0 };
  if (bins > 0 && lo <= hi) stats.hist = histogram(v, lo, hi, bins, finite);
  if (act === 'tanh') {
    let sat = 0;
    for (let i = 0; i < n; i++) if (Math.abs(v[i]) > 0.99) sat++;
    stats.saturated = n > 0 ? sat / n : 0;
  } else if (act === 'sigmoid') {
    let sat = 0;
    for (let i = 0; i < n; i++) if (v[i] < 0.01 || v[i] > 0.99) sat++;
    stats.saturated = n > 0 ? sat / n : 0;
  } else if (act === 'relu' && shape.length >= 2) {
    // A unit is a feature (axis 1; a channel for convolutions): dead when zero for every sample
    // and position. Unit by unit, stopping at its first positive value (usually in sample 0).
    const batch = shape[0];
    const units = shape[1];
    const inner = n / (batch * units);
    let dead = 0;
    for (let u = 0; u < units; u++) {
      let on = false;
      for (let b = 0; b < batch && !on; b++)
        for (let k = 0, at = (b * units + u) * inner; k < inner; k++)
          if (v[at + k] > 0) {
            on = true;
            break;
          }
      if (!on) dead++;
    }
    stats.dead = units > 0 ? dead / units : 0;
  }
  return { stats, finite };
}

/**
 * Watches a model's training through hooks only (no layer is patched). Every `every` steps
 * (step 0 included) it records, per parameter: gradient norm, parameter norm and the
 * update/parameter ratio ‖Δp‖/‖p‖ (Δp measured between the forward pass and `step()`, so it is
 * the update the optimizer really applied); the global gradient norm before and after clipping
 * (from the optimizer's `lastUpdateInfo` when given, else the global norm of the `.grad`s); per
 * layer (Linear, Conv, recurrent modules found by `namedModules`): output mean and std, gradient
 * norm (of its parameters), and a histogram of the output (`histogramBins` equal bins between
 * its min and max); per activation module (ReLU, Tanh, Sigmoid, or a layer with that
 * string `activation`): the saturated fraction (|tanh| > 0.99, sigmoid < 0.01 or > 0.99) and
 * the dead fraction (units zero for every sample of the batch); and the first NaN/Inf, located
 * forward (the first module whose output is non-finite from finite inputs) and backward (the
 * first module whose input gradient is non-finite while its output gradient was finite, from
 * tensor gradient hooks on module inputs and outputs).
 *
 * Forwards run under `noGrad` (evaluation, validation) are not training steps and are ignored.
 * On the other steps the hooks return at once. When `step(loss)` sees a non-finite loss, or the
 * optimizer reports a non-finite norm or a skipped step, the next step is sampled too, so a NaN
 * is located even between samples.
 *
 * Call `step(loss?)` once per training step, after `optimizer.step()` (`fit({ monitor })` does).
 *
 * With `logFile` (or `logSink`) the monitor streams a JSON Lines run log as it goes (see
 * `parseRunLog`): a header, each sampled step as soon as it is recorded, the epochs given to
 * `logEpoch`, and the findings on `detach`. `keel report run.jsonl -o report.html` draws it.
 *
 * @example
 * const monitor = new GradientMonitor({ logFile: 'run.jsonl' });
 * const detach = monitor.attach(model, { every: 10, optimizer: opt });
 * for (...) { loss.backward(); opt.step(); monitor.step(loss.item()); opt.zeroGrad(); }
 * detach(); console.log(monitor.summary()); // then: keel report run.jsonl -o report.html
 */
export class GradientMonitor {
  /** The sampled steps, in order. */
  readonly records: MonitorRecord[] = [];
  /** The training steps counted so far by `step()`. */
  stepCount = 0;
  private options: MonitorOptions;
  private every: number;
  private watched: Watched[] = [];
  /** The model's parameters, each once, in the order of the records' `params`. */
  private slots: ParamSlot[] = [];
  private removers: HookRemover[] = [];
  private scratch: StepScratch | null = null;
  private forceNext = false;
  private attachedTo: Module | null = null;
  private findingsCache: Finding[] | null = null;
  /** Where the run log goes, once opened (on the first attach with `logFile` or `logSink`). */
  private sink: ((line: string) => void) | null = null;
  private sinkTarget: string | ((line: string) => void) | null = null;
  /** The epochs given to `logEpoch`. */
  readonly epochs: EpochRecord[] = [];

  /** Makes a monitor; `options` are the defaults for `attach`. */
  constructor(options?: MonitorOptions) {
    this.options = { ...options };
    this.every = GradientMonitor.checkEvery(options?.every ?? 10);
    GradientMonitor.checkLogOptions(this.options);
  }

  private static checkEvery(every: number): number {
    if (!Number.isInteger(every) || every < 1) throw new ConfigError(`GradientMonitor: every must be a positive integer (got ${every}); use 1 to sample every step`);
    return every;
  }

  private static checkLogOptions(o: MonitorOptions): void {
    const bins = o.histogramBins ?? 30;
    if (!Number.isInteger(bins) || bins < 0) throw new ConfigError(`GradientMonitor: histogramBins must be an integer ≥ 0 (got ${bins}); 0 records no histograms`);
    if (o.logFile !== undefined && o.logSink !== undefined) throw new ConfigError('GradientMonitor: give logFile or logSink, not both');
    if (o.logFile !== undefined && (typeof o.logFile !== 'string' || o.logFile === ''))
      throw new ConfigError(`GradientMonitor: logFile must be a non-empty path (got ${JSON.stringify(o.logFile)})`);
    if (o.clipThreshold !== undefined && !(o.clipThreshold > 0)) throw new ConfigError(`GradientMonitor: clipThreshold must be > 0 (got ${o.clipThreshold})`);
  }

  /** Opens the run log (once per target) and writes its header. */
  private openLog(): void {
    const target = this.options.logFile ?? this.options.logSink ?? null;
    if (target === null || target === this.sinkTarget) return;
    this.sink = typeof target === 'string' ? fileLineSink(target, 'GradientMonitor') : target;
    this.sinkTarget = target;
    const o = this.options;
    const detector: DetectorOptions = {};
    for (const k of ['window', 'growthFactor', 'clipRateThreshold', 'vanishingRatio', 'deadThreshold', 'saturationThreshold'] as const) if (o[k] !== undefined) detector[k] = o[k];
    const header: RunHeader = { type: 'run', format: RUN_LOG_FORMAT, every: this.every, detector };
    if (o.clipThreshold !== undefined) header.clipThreshold = o.clipThreshold;
    if (o.runInfo !== undefined) header.info = o.runInfo;
    this.sink(toLogLine(header));
  }

  /**
   * Records end-of-epoch metrics (as `fit` gives them to callbacks: `loss`, `accuracy`, ...) with
   * the steps done so far, and appends them to the run log.
   */
  logEpoch(epoch: number, logs: Readonly<Record<string, number>>): void {
    const rec: EpochRecord = { epoch, step: this.stepCount, logs: { ...logs } };
    this.epochs.push(rec);
    this.openLog();
    this.sink?.(toLogLine({ type: 'epoch', epoch, step: rec.step, ...rec.logs }));
  }

  /** The model the monitor is attached to, or null. */
  get model(): Module | null {
    return this.attachedTo;
  }

  /** Whether the current step is sampled. */
  get sampling(): boolean {
    return this.forceNext || this.stepCount % this.every === 0;
  }

  /**
   * Registers the hooks on `model` and every submodule; returns the remover (the same as
   * `detach()`). Options given here override the constructor's.
   */
  attach(model: Module, options?: MonitorOptions): HookRemover {
    if (this.attachedTo !== null)
      throw new ConfigError(`GradientMonitor.attach: already attached to ${this.attachedTo.name}; call detach() first`);
    const merged = { ...this.options, ...options };
    GradientMonitor.checkLogOptions(merged);
    this.options = merged;
    this.every = GradientMonitor.checkEvery(this.options.every ?? 10);
    this.openLog();
    this.attachedTo = model;
    const seen = new Set<Tensor>();
    for (const [path, m] of model.namedModules()) {
      const recurrent = m instanceof RNNBase || m instanceof RNNCellBase;
      const role = isWeightLayer(m) || recurrent ? 'layer' : activationOf(m) !== null ? 'act' : 'other';
      const own = Object.entries(m).filter((e): e is [string, Tensor] => isParameter(e[1]));
      const w: Watched = { name: layerLabel(path), module: m, role, act: activationOf(m), params: own };
      this.watched.push(w);
      for (const [key, p] of own)
        if (!seen.has(p)) {
          seen.add(p);
          this.slots.push({ name: w.name === 'model' ? key : `${w.name}.${key}`, param: p, owner: w, snapshot: null });
        }
      if (m === model) this.removers.push(m.registerForwardPreHook(() => this.beginForward()));
      this.removers.push(m.registerForwardHook((_m, inputs, out) => this.afterForward(w, inputs, out, m === model)));
    }
    return () => this.detach();
  }

  /** Removes every hook the monitor registered and appends the findings to the run log. The records stay. */
  detach(): void {
    if (this.attachedTo !== null) this.sink?.(toLogLine({ type: 'findings', step: this.stepCount, findings: this.findings() }));
    for (const r of this.removers) r();
    this.removers = [];
    this.clearScratch();
    for (const slot of this.slots) slot.snapshot?.dispose();
    this.slots = [];
    this.watched = [];
    this.attachedTo = null;
  }

  private clearScratch(): void {
    if (this.scratch !== null) for (const r of this.scratch.removers) r();
    this.scratch = null;
  }

  /** Root pre-hook: on a sampled step, snapshot the parameters (for the update ratio). */
  private beginForward(): void {
    // A forward under noGrad (evaluate, predict, validation inside fit) is not a training step.
    if (!this.sampling || !isGradEnabled()) return;
    if (this.scratch !== null) return; // a second forward on the same step (e.g. gradient accumulation)
    // One copy per parameter on its backend (a memcpy there), into the same buffers every sampled
    // step; the difference is taken in place by the backend's kernels in record().
    for (const slot of this.slots) {
      const p = slot.param;
      if (p.dtype === 'int32') continue;
      const snap = slot.snapshot;
      if (snap === null || snap.isDisposed || snap.backend !== p.backend || snap.dtype !== p.dtype || snap.size !== p.size) {
        snap?.dispose();
        slot.snapshot = keep(noGrad(() => clone(p)));
      } else p.backend.copy(p, snap);
    }
    this.scratch = {
      layers: new Map(),
      forwardNaN: null,
      backwardNaN: null,
      removers: [],
      producer: new WeakMap(),
      finite: new Map(),
      lastGrad: null,
      lastGradFinite: true,
    };
  }

  /** Whether every element of the forward tensor `t` is finite (each tensor read once per step). */
  private forwardFinite(sc: StepScratch, t: Tensor): boolean {
    let f = sc.finite.get(t);
    if (f === undefined) sc.finite.set(t, (f = isFiniteTensor(t)));
    return f;
  }

  /** Whether every element of the gradient `g` is finite (checked once for consecutive hooks on one tensor). */
  private gradFinite(sc: StepScratch, g: Tensor): boolean {
    if (sc.lastGrad !== g) {
      sc.lastGrad = g;
      sc.lastGradFinite = isFiniteTensor(g);
    }
    return sc.lastGradFinite;
  }

  private afterForward(w: Watched, inputs: readonly unknown[], output: unknown, isRoot: boolean): void {
    const sc = this.scratch;
    if (sc === null) return; // not a sampled step: nothing to do
    const outs = tensorsIn(output);
    const ins = tensorsIn(inputs);
    const where = `${w.name} (${w.module.name})`;
    const y = outs[0];
    let stats: Record<string, number | string | null | Histogram> | null = null;
    if (y !== undefined && (w.role === 'layer' || w.role === 'act') && y.dtype !== 'int32') {
      // The output is read to the host once: statistics, histogram and finiteness from that copy.
      const o = outputStats(y.toTypedArray(), y.shape, w.act, this.options.histogramBins ?? 30);
      if (!sc.finite.has(y)) sc.finite.set(y, o.finite);
      stats = { type: w.module.name, ...o.stats };
    }
    // Forward locator: children's hooks run before their parent's, so the innermost module comes first.
    if (sc.forwardNaN === null && outs.some((t) => !this.forwardFinite(sc, t)) && ins.every((t) => this.forwardFinite(sc, t))) sc.forwardNaN = where;
    if (stats !== null && y !== undefined) {
      if (w.role === 'act') {
        const from = ins[0] === undefined ? undefined : sc.producer.get(ins[0]);
        stats.after = from ?? null;
      }
      if (w.act !== null) stats.activation = w.act;
      if (!sc.layers.has(w.name)) sc.layers.set(w.name, stats);
      if (w.role === 'layer') sc.producer.set(y, w.name);
    }
    // Backward locator: a hook on each output records whether its gradient was finite; a hook on
    // each input fires once the input's gradient is complete, i.e. after this module's backward.
    let outSeen = false;
    let outFinite = true;
    for (const t of outs)
      if (t.requiresGrad)
        sc.removers.push(
          registerHook(t, (g) => {
            outSeen = true;
            if (!this.gradFinite(sc, g)) {
              outFinite = false;
              if (isRoot && sc.backwardNaN === null) sc.backwardNaN = 'the loss (outside the model)';
            }
          }),
        );
    for (const x of ins)
      if (x.requiresGrad)
        sc.removers.push(
          registerHook(x, (g) => {
            if (sc.backwardNaN === null && outSeen && outFinite && !this.gradFinite(sc, g)) sc.backwardNaN = where;
          }),
        );
  }

  /**
   * Ends a training step (call it after `optimizer.step()`): on a sampled step, records the
   * statistics; then advances the step counter. `loss` (a number or a one-element tensor) is
   * stored with the record.
   */
  step(loss?: number | Tensor): void {
    const lossValue = loss instanceof Tensor ? loss.item() : loss;
    const info = this.options.optimizer?.lastUpdateInfo ?? [];
    const clipInfo = info.find((i) => i.normBefore !== undefined);
    const sc = this.scratch;
    this.forceNext = false;
    if (sc !== null) {
      this.record(sc, lossValue, clipInfo, info);
      this.clearScratch();
    }
    if ((lossValue !== undefined && !Number.isFinite(lossValue)) || info.some((i) => i.skipped === true) || (clipInfo !== undefined && !Number.isFinite(clipInfo.normBefore)))
      this.forceNext = true;
    this.stepCount++;
  }

  private record(sc: StepScratch, loss: number | undefined, clipInfo: UpdateInfo | undefined, info: readonly UpdateInfo[]): void {
    const params: MonitorRecord['params'] = {};
    const layerSq = new Map<Watched, number>();
    let total = 0;
    for (const slot of this.slots) {
      const p = slot.param;
      const gsq = p.grad === null ? null : p.grad.backend.sumSquares(p.grad);
      const psq = p.backend.sumSquares(p);
      let ratio: number | null = null;
      const snap = slot.snapshot;
      if (snap !== null && !snap.isDisposed) {
        // snapshot ← p − snapshot, in place: the update the optimizer applied (as sub(p, snapshot) would give it).
        p.backend.binary('sub', p, snap, snap.buf);
        const d = p.backend.sumSquares(snap);
        ratio = psq > 0 ? Math.sqrt(d / psq) : null;
      }
      params[slot.name] = { gradNorm: gsq === null ? null : Math.sqrt(gsq), paramNorm: Math.sqrt(psq), updateRatio: ratio };
      if (gsq !== null) {
        total += gsq;
        layerSq.set(slot.owner, (layerSq.get(slot.owner) ?? 0) + gsq);
      }
    }
    const layerGrad = new Map<string, number>();
    for (const w of this.watched) {
      const sq = layerSq.get(w);
      if (w.role === 'layer' && sq !== undefined) layerGrad.set(w.name, Math.sqrt(sq));
    }
    const layers: MonitorRecord['layers'] = {};
    for (const [name, s] of sc.layers) {
      s.gradNorm = layerGrad.get(name) ?? null; // the record's own object: the statistics are not kept elsewhere
      layers[name] = s as unknown as MonitorRecord['layers'][string];
    }
    const rec: MonitorRecord = {
      step: this.stepCount,
      ...(loss !== undefined ? { loss } : {}),
      gradNorm: clipInfo?.normBefore ?? Math.sqrt(total),
      gradNormAfter: clipInfo?.normAfter ?? null,
      clipped: clipInfo === undefined ? null : info.some((i) => i.clipped === true),
      skipped: info.some((i) => i.skipped === true),
      nonfinite: { forward: sc.forwardNaN, backward: sc.backwardNaN },
      layers,
      params,
    };
    this.records.push(rec);
    this.findingsCache = null;
    this.sink?.(toLogLine({ type: 'step', ...rec }));
  }

  /** The problems found so far, each once (by kind and layer) with the sampled step it was first seen at. */
  findings(): Finding[] {
    this.findingsCache ??= detect(this.records, this.options);
    return this.findingsCache;
  }

  /**
   * One JSON line per sampled step (`type: 'step'`, as in the run log): step, loss (when given),
   * global norms, clip info, per-layer and per-parameter statistics.
   */
  toJSONL(): string {
    return this.records.map((r) => toLogLine({ type: 'step', ...r })).join('\n') + (this.records.length > 0 ? '\n' : '');
  }

  /** A compact terminal summary: global norms, one line per layer with a log-scale sparkline of its gradient norm, then the findings. */
  summary(): string {
    return formatSummary(this.records, this.findings(), this.every, this.stepCount);
  }
}
