import { ConfigError } from '../core/errors.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { saveModel } from './checkpoint.js';
import { appendLine } from './append.js';

/** The optimizer as callbacks see it: its parameter groups' learning rates. */
export interface LrHolder {
  paramGroups?: { lr: number }[];
}

/** What `fit` tells callbacks about the run. */
export interface TrainContext {
  model: Module;
  optimizer: LrHolder;
  epochs: number;
  stepsPerEpoch: number;
  /** Set to true to end training after the current epoch. */
  stopTraining: boolean;
}

/**
 * The base class of callbacks, as Keras' `Callback`: override the hooks you need. `logs` hold
 * the epoch's metrics (`loss`, `accuracy`, `val_loss`, `val_accuracy`, `clipped`, `lr`).
 */
export abstract class Callback {
  /** Set by `fit` before training starts. */
  context!: TrainContext;
  onTrainBegin(): void {}
  onTrainEnd(_logs: Record<string, number>): void {}
  onEpochBegin(_epoch: number): void {}
  onEpochEnd(_epoch: number, _logs: Record<string, number>): void {}
  onBatchEnd(_step: number, _logs: Record<string, number>): void {}
}

type Mode = 'min' | 'max' | 'auto';

function better(mode: Mode, monitor: string): (a: number, b: number, delta: number) => boolean {
  const m = mode === 'auto' ? (/acc|auc|precision|recall/.test(monitor) ? 'max' : 'min') : mode;
  return m === 'min' ? (a, b, d) => a < b - d : (a, b, d) => a > b + d;
}

function read(logs: Record<string, number>, monitor: string, who: string): number | undefined {
  const v = logs[monitor];
  if (v === undefined)
    console.warn(`${who}: metric '${monitor}' is not in the logs (available: ${Object.keys(logs).join(', ')}); skipping`);
  return v;
}

function checkNonNegative(who: string, name: string, v: number): void {
  if (!(v >= 0)) throw new ConfigError(`${who}: ${name} must be ≥ 0 (got ${v})`);
}

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  monitor?: string;
  minDelta?: number;
  patience?: number;
  mode?: Mode;
  /** Put back the weights of the best epoch when training stops. */
  restoreBestWeights?: boolean;
}

/** Stops training when `monitor` (default `val_loss`) has not improved for `patience` epochs. */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  private readonly minDelta: number;
  private readonly patience: number;
  private readonly isBetter: (a: number, b: number, d: number) => boolean;
  private readonly restore: boolean;
  private best = Number.NaN;
  private wait = 0;
  private bestWeights: Map<string, Tensor> | null = null;
  /** The epoch training stopped at, or -1. */
  stoppedEpoch = -1;

  constructor(options?: EarlyStoppingOptions) {
    super();
    this.monitor = options?.monitor ?? 'val_loss';
    this.minDelta = Math.abs(options?.minDelta ?? 0);
    this.patience = options?.patience ?? 0;
    checkNonNegative('EarlyStopping', 'patience', this.patience);
    this.isBetter = better(options?.mode ?? 'auto', this.monitor);
    this.restore = options?.restoreBestWeights ?? false;
  }

  override onTrainBegin(): void {
    this.best = Number.NaN;
    this.wait = 0;
    this.stoppedEpoch = -1;
  }

  override onEpochEnd(epoch: number, logs: Record<string, number>): void {
    const v = read(logs, this.monitor, 'EarlyStopping');
    if (v === undefined) return;
    if (Number.isNaN(this.best) || this.isBetter(v, this.best, this.minDelta)) {
      this.best = v;
      this.wait = 0;
      if (this.restore) {
        for (const t of this.bestWeights?.values() ?? []) t.dispose();
        this.bestWeights = new Map([...this.context.model.stateDict()].map(([k, t]) => [k, t.clone()]));
        for (const t of this.bestWeights.values()) t.kept = true;
      }
      return;
    }
    if (++this.wait > this.patience) {
      this.stoppedEpoch = epoch;
      this.context.stopTraining = true;
      if (this.restore && this.bestWeights !== null) this.context.model.loadStateDict(this.bestWeights);
    }
  }
}

/** Stops training as soon as the loss is NaN or infinite. */
export class TerminateOnNaN extends Callback {
  override onBatchEnd(_step: number, logs: Record<string, number>): void {
    if (logs.loss !== undefined && !Number.isFinite(logs.loss)) {
      console.warn(`TerminateOnNaN: loss is ${logs.loss}; stopping training`);
      this.context.stopTraining = true;
    }
  }
}

function setLr(opt: LrHolder, who: string, lr: number): void {
  if (opt.paramGroups === undefined) throw new ConfigError(`${who}: the optimizer has no paramGroups with a learning rate`);
  for (const g of opt.paramGroups) g.lr = lr;
}

/** Sets the learning rate at the start of each epoch to `schedule(epoch, lr)`, as Keras' LearningRateScheduler. */
export class LearningRateScheduler extends Callback {
  constructor(private readonly schedule: (epoch: number, lr: number) => number) {
    super();
  }

  override onEpochBegin(epoch: number): void {
    const current = this.context.optimizer.paramGroups?.[0]?.lr ?? Number.NaN;
    const lr = this.schedule(epoch, current);
    if (!Number.isFinite(lr) || lr < 0) throw new ConfigError(`LearningRateScheduler: schedule returned ${lr} at epoch ${epoch} (expected a finite lr ≥ 0)`);
    setLr(this.context.optimizer, 'LearningRateScheduler', lr);
  }
}

/** Options of {@link ReduceLROnPlateau}. */
export interface ReduceLROnPlateauOptions {
  monitor?: string;
  factor?: number;
  patience?: number;
  minDelta?: number;
  cooldown?: number;
  minLr?: number;
  mode?: Mode;
}

/** Multiplies the learning rate by `factor` when `monitor` stops improving (Keras' defaults). */
export class ReduceLROnPlateau extends Callback {
  private readonly o: Required<Omit<ReduceLROnPlateauOptions, 'mode'>>;
  private readonly isBetter: (a: number, b: number, d: number) => boolean;
  private best = Number.NaN;
  private wait = 0;
  private cooldownLeft = 0;

  constructor(options?: ReduceLROnPlateauOptions) {
    super();
    this.o = {
      monitor: options?.monitor ?? 'val_loss',
      factor: options?.factor ?? 0.1,
      patience: options?.patience ?? 10,
      minDelta: options?.minDelta ?? 1e-4,
      cooldown: options?.cooldown ?? 0,
      minLr: options?.minLr ?? 0,
    };
    if (!(this.o.factor > 0 && this.o.factor < 1)) throw new ConfigError(`ReduceLROnPlateau: factor must be in (0, 1) (got ${this.o.factor})`);
    this.isBetter = better(options?.mode ?? 'auto', this.o.monitor);
  }

  override onEpochEnd(_epoch: number, logs: Record<string, number>): void {
    const v = read(logs, this.o.monitor, 'ReduceLROnPlateau');
    if (v === undefined) return;
    if (this.cooldownLeft > 0) this.cooldownLeft--;
    if (Number.isNaN(this.best) || this.isBetter(v, this.best, this.o.minDelta)) {
      this.best = v;
      this.wait = 0;
    } else if (this.cooldownLeft === 0 && ++this.wait >= this.o.patience) {
      const lr = this.context.optimizer.paramGroups?.[0]?.lr ?? 0;
      const next = Math.max(lr * this.o.factor, this.o.minLr);
      if (next < lr) setLr(this.context.optimizer, 'ReduceLROnPlateau', next);
      this.cooldownLeft = this.o.cooldown;
      this.wait = 0;
    }
  }
}

/** Options of {@link ModelCheckpoint}. */
export interface ModelCheckpointOptions {
  monitor?: string;
  /** Only write when `monitor` improved (default false: every epoch). */
  saveBestOnly?: boolean;
  mode?: Mode;
}

/**
 * Writes the model's weights (safetensors, PyTorch names, written atomically) after each epoch;
 * `{epoch}` in the path is replaced by the 1-based epoch number.
 */
export class ModelCheckpoint extends Callback {
  private best = Number.NaN;
  private readonly isBetter: (a: number, b: number, d: number) => boolean;

  constructor(
    readonly filepath: string,
    private readonly options?: ModelCheckpointOptions,
  ) {
    super();
    this.isBetter = better(options?.mode ?? 'auto', options?.monitor ?? 'val_loss');
  }

  override onEpochEnd(epoch: number, logs: Record<string, number>): void {
    if (this.options?.saveBestOnly ?? false) {
      const v = read(logs, this.options?.monitor ?? 'val_loss', 'ModelCheckpoint');
      if (v === undefined || !(Number.isNaN(this.best) || this.isBetter(v, this.best, 0))) return;
      this.best = v;
    }
    saveModel(this.context.model, this.filepath.replace('{epoch}', String(epoch + 1)));
  }
}

/** Appends one line per epoch to a file: JSON Lines (`.jsonl`) or CSV (anything else, with a header). */
export class MetricsLogger extends Callback {
  private wroteHeader = false;
  constructor(readonly path: string) {
    super();
  }

  override onEpochEnd(epoch: number, logs: Record<string, number>): void {
    const row = { epoch: epoch + 1, ...logs };
    if (this.path.endsWith('.jsonl')) {
      appendLine(this.path, JSON.stringify(row));
      return;
    }
    if (!this.wroteHeader) appendLine(this.path, Object.keys(row).join(','));
    this.wroteHeader = true;
    appendLine(this.path, Object.values(row).join(','));
  }
}
