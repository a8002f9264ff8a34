import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { registerHook } from '../autograd/hooks.js';
import { ConfigError } from '../core/errors.js';
import { ReLU, Sigmoid, Tanh } from '../nn/activation.js';
import { isWeightLayer, layerLabel } from '../nn/init/lsuv.js';
import { type HookRemover, type Module, isParameter } from '../nn/module.js';
import { RNNCellBase } from '../nn/recurrent-cell.js';
import { RNNBase } from '../nn/recurrent.js';
import type { UpdateInfo } from '../optim/transform.js';
import { updateSquaresOf } from '../optim/update-squares.js';
import { contiguous } from '../ops/shape.js';
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

/** What the monitor reads of an optimizer (every Keel optimizer has all of it). */
export interface MonitoredOptimizer {
  /** What the transforms reported on the last step: clipping norms, skips. */
  lastUpdateInfo?: readonly UpdateInfo[];
  /** The optimizer's counters: `steps` tells whether a step ran since the sampled forward. */
  stats?: { steps: number };
  /** The parameters, in the order of `lastUpdateSquares`. */
  readonly params?: readonly Tensor[];
  /**
   * Set by the monitor on a sampled step: the optimizer then measures each parameter's norm,
   * update norm and gradient norm (squared) in its own step, so the monitor copies no parameter.
   */
  measureNextStep?: boolean;
  /** What the measured step measured, by index in `params`: `[Σ p², Σ Δp², Σ g²]`, or null. */
  readonly lastUpdateSquares?: readonly (readonly number[] | null)[];
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
  /** The optimizer's step count at the sampled forward when it measures the step, else null. */
  optimizerSteps: number | null;
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
 * Mean, std, the histogram, and (for an activation) saturated or never-active fractions of the
 * output `y`, measured by its backend in place (Backend.valueStats: one read of the values, no
 * copy to the host); also whether every value is finite.
 */
function outputStats(y: Tensor, act: ActKind | null, bins: number): { stats: Record<string, number | Histogram>; finite: boolean } {
  const x = y.isContiguous() ? y : noGrad(() => contiguous(y));
  const v = x.backend.valueStats(x, bins, act);
  if (x !== y) x.dispose();
  const n = y.size;
  const mean = n > 0 ? v.sum / n : 0;
  const stats: Record<string, number | Histogram> = { mean, std: n > 1 ? Math.sqrt(Math.max(0, (v.sumSquares - n * mean * mean) / (n - 1))) : 0 };
  if (v.histogram.length > 0) stats.hist = v.nonfinite > 0 ? { lo: v.min, hi: v.max, counts: v.histogram, nonfinite: v.nonfinite } : { lo: v.min, hi: v.max, counts: v.histogram };
  if (act === 'tanh' || act === 'sigmoid') stats.saturated = n > 0 ? v.saturated / n : 0;
  else if (act === 'relu' && y.ndim >= 2) stats.dead = y.shape[1] > 0 ? v.dead / y.shape[1] : 0;
  return { stats, finite: v.nonfinite === 0 };
}

/**
 * Watches a model's training through hooks only (no layer is patched). Every `every` steps
 * (step 0 included) it records, per parameter: gradient norm, parameter norm and the
 * update/parameter ratio ‖Δp‖/‖p‖ (Δp is the update the optimizer really applied: measured by
 * the optimizer inside its step when it is given and can (`measureNextStep`, every Keel
 * optimizer), else from a copy of the parameters taken at the forward pass); the global gradient
 * norm before and after clipping
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
    const opt = this.measuringOptimizer();
    if (opt !== null && this.scratch !== null) opt.measureNextStep = false; // a sampled step that never reached step()
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

  /** The optimizer, when it can measure its own step's updates (every Keel optimizer can). */
  private measuringOptimizer(): MonitoredOptimizer | null {
    const opt = this.options.optimizer;
    return opt !== undefined && typeof opt.measureNextStep === 'boolean' && opt.params !== undefined && opt.stats !== undefined ? opt : null;
  }

  /**
   * Root pre-hook: on a sampled step, arrange for the update ratio: the optimizer measures its
   * step, or else a snapshot of the parameters is taken.
   */
  private beginForward(): void {
    // A forward under noGrad (evaluate, predict, validation inside fit) is not a training step.
    if (!this.sampling || !isGradEnabled()) return;
    if (this.scratch !== null) return; // a second forward on the same step (e.g. gradient accumulation)
    const opt = this.measuringOptimizer();
    this.scratch = {
      layers: new Map(),
      forwardNaN: null,
      backwardNaN: null,
      removers: [],
      producer: new WeakMap(),
      finite: new Map(),
      lastGrad: null,
      lastGradFinite: true,
      optimizerSteps: opt === null ? null : opt.stats!.steps,
    };
    if (opt !== null) {
      opt.measureNextStep = true;
      return;
    }
    // One copy per parameter on its backend (a memcpy there), into the same buffers every sampled
    // step; the difference is taken by the backend's kernels in record().
    for (const slot of this.slots) {
      const p = slot.param;
      if (p.dtype === 'int32') continue;
      const snap = slot.snapshot;
      if (snap === null || snap.isDisposed || snap.backend !== p.backend || snap.dtype !== p.dtype || snap.size !== p.size) {
        snap?.dispose();
        slot.snapshot = keep(Tensor.empty(p.backend, p.shape, p.dtype, false)); // written just below: no zero fill
      }
      p.backend.copy(p, slot.snapshot!);
    }
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
      // One read of the output on its backend: statistics, histogram and finiteness.
      const o = outputStats(y, w.act, this.options.histogramBins ?? 30);
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

  /** What the optimizer measured of the one step since the sampled forward, by parameter; else null. */
  private optimizerSquares(sc: StepScratch): Map<Tensor, readonly number[] | null> | null {
    const opt = this.measuringOptimizer();
    if (opt === null || sc.optimizerSteps === null) return null;
    opt.measureNextStep = false; // in case no step ran
    const sq = opt.lastUpdateSquares ?? [];
    const params = opt.params!;
    if (opt.stats!.steps !== sc.optimizerSteps + 1 || sq.length !== params.length) return null;
    return new Map(params.map((p, i) => [p, sq[i]]));
  }

  private record(sc: StepScratch, loss: number | undefined, clipInfo: UpdateInfo | undefined, info: readonly UpdateInfo[]): void {
    const params: MonitorRecord['params'] = {};
    const layerSq = new Map<Watched, number>();
    const measured = this.optimizerSquares(sc);
    let total = 0;
    for (const slot of this.slots) {
      const p = slot.param;
      const g = p.grad;
      const snap = slot.snapshot;
      let gsq: number | null;
      let psq: number;
      let dsq: number | null = null;
      const m = measured?.get(p);
      if (m !== undefined && m !== null && g !== null) {
        // Measured by the optimizer in its own step (with the gradient it was given).
        [psq, dsq, gsq] = [m[0], m[1], m[2]];
      } else if (sc.optimizerSteps === null && snap !== null && !snap.isDisposed) {
        // No optimizer that measures: from the snapshot taken at the forward pass.
        const [sp, sd, sg] = updateSquaresOf(p, snap, g);
        [psq, dsq, gsq] = [sp, sd, g === null ? null : sg];
      } else {
        gsq = g === null ? null : g.backend.sumSquares(g);
        psq = p.backend.sumSquares(p);
        // A parameter of the optimizer's that had no gradient was not updated.
        dsq = measured?.has(p) === true ? 0 : null;
      }
      const ratio = dsq !== null && psq > 0 ? Math.sqrt(dsq / psq) : null;
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
