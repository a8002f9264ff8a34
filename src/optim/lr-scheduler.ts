/**
 * Learning-rate schedulers with PyTorch 1.13's semantics (`torch.optim.lr_scheduler`): a scheduler
 * changes `optimizer.paramGroups[i].lr` when it is built (epoch 0) and on every `step()`, which is
 * called after `optimizer.step()`. StepLR, ExponentialLR, CosineAnnealingLR and LinearLR use
 * PyTorch's recursive ("chainable") formulas, so they compose with changes made by others.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * const sched = new CosineAnnealingLR(opt, { tMax: 100 });
 * for (const batch of data) { ...; opt.step(); sched.step(); }
 */
import { ConfigError } from '../core/errors.js';
import type { Optimizer, ParamGroupBase } from './optimizer.js';

/** Options every scheduler takes. */
export interface LRSchedulerOptions {
  /**
   * The index of the last epoch when resuming (default −1: a fresh start). When resuming, every
   * param group must have `initialLr` (restored with the optimizer's state dict).
   */
  lastEpoch?: number;
}

/** A scheduler's state (see `stateDict`). */
export interface LRSchedulerState {
  lastEpoch: number;
  baseLrs: number[];
  lastLr: number[];
  stepCount: number;
}

const WARNING =
  'Detected call of `lr_scheduler.step()` before `optimizer.step()`. You should call them in this order: ' +
  '`optimizer.step()` before `lr_scheduler.step()`; otherwise the first value of the learning rate schedule is skipped.';

function checkPositiveInt(who: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new ConfigError(`${who}: ${name} must be a positive integer (got ${String(value)})`);
  return value;
}

function checkFinite(who: string, name: string, value: unknown, min?: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (min !== undefined && value < min))
    throw new ConfigError(`${who}: ${name} must be a finite number${min !== undefined ? ` ≥ ${min}` : ''} (got ${String(value)})`);
  return value;
}

/**
 * The base class, as PyTorch's `_LRScheduler`: records each group's `initialLr`, keeps
 * `baseLrs`, and on construction makes the epoch-0 step. Subclasses implement `getLr()`.
 */
export abstract class LRScheduler {
  /** The optimizer whose learning rates this scheduler sets. */
  readonly optimizer: Optimizer<ParamGroupBase>;
  /** Each group's learning rate when the schedule started. */
  baseLrs: number[];
  /** The current epoch (step) index: 0 after construction, +1 per `step()`. */
  lastEpoch: number;
  /** Calls to `step()`, the constructor's included. */
  protected stepCount = 0;
  private lastLr: number[] = [];
  private readonly optimizerStepsAtStart: number;
  private warned = false;

  protected constructor(optimizer: Optimizer<ParamGroupBase>, options: LRSchedulerOptions | undefined) {
    const who = new.target.name;
    if (optimizer === null || typeof optimizer !== 'object' || !Array.isArray(optimizer.paramGroups))
      throw new ConfigError(`${who}: the first argument must be an optimizer (got ${String(optimizer)})`);
    if (optimizer.paramGroups.length === 0)
      throw new ConfigError(`${who}: the optimizer has no parameters yet; bind them (optimizer.bind(params)) before building a scheduler`);
    this.optimizer = optimizer;
    const lastEpoch = options?.lastEpoch ?? -1;
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) throw new ConfigError(`${who}: lastEpoch must be an integer ≥ −1 (got ${lastEpoch})`);
    if (lastEpoch === -1) for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    else
      optimizer.paramGroups.forEach((g, i) => {
        if (g.initialLr === undefined)
          throw new ConfigError(`${who}: param 'initialLr' is not specified in paramGroups[${i}] when resuming (lastEpoch ${lastEpoch}); load the optimizer's state dict first`);
      });
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
    this.optimizerStepsAtStart = optimizer.stats.steps;
  }

  /** Subclasses call this at the end of their constructor: PyTorch's initial step. */
  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The learning rates for `lastEpoch` (already advanced), one per group. */
  protected abstract getLr(): number[];

  /** The groups' current learning rates. */
  protected get groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Advances one epoch (or step) and sets the new learning rates. Call it after `optimizer.step()`. */
  step(): void {
    if (this.stepCount === 1 && this.optimizer.stats.steps === this.optimizerStepsAtStart && !this.warned) {
      this.warned = true;
      console.warn(`${this.constructor.name}: ${WARNING}`);
    }
    this.stepCount++;
    this.lastEpoch++;
    const values = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = values[i]));
    this.lastLr = this.groupLrs;
  }

  /** The learning rates the last `step()` set, one per group (PyTorch's `get_last_lr()`). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The scheduler's state, to save beside the optimizer's. */
  stateDict(): LRSchedulerState {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLr: [...this.lastLr], stepCount: this.stepCount };
  }

  /** Restores a state from `stateDict()`. */
  loadStateDict(state: LRSchedulerState): void {
    this.lastEpoch = state.lastEpoch;
    this.baseLrs = [...state.baseLrs];
    this.lastLr = [...state.lastLr];
    this.stepCount = state.stepCount;
  }
}

/** Options of {@link StepLR}. */
export interface StepLROptions extends LRSchedulerOptions {
  /** Decay every `stepSize` epochs. */
  stepSize: number;
  /** Multiplicative factor (default 0.1). */
  gamma?: number;
}

/** Multiplies the learning rate by `gamma` every `stepSize` epochs, as `torch.optim.lr_scheduler.StepLR`. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer<ParamGroupBase>, options: StepLROptions) {
    super(optimizer, options);
    this.stepSize = checkPositiveInt('StepLR', 'stepSize', options?.stepSize);
    this.gamma = checkFinite('StepLR', 'gamma', options.gamma ?? 0.1, 0);
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * this.gamma);
  }
}

/** Options of {@link ExponentialLR}. */
export interface ExponentialLROptions extends LRSchedulerOptions {
  /** Multiplicative factor per epoch. */
  gamma: number;
}

/** Multiplies the learning rate by `gamma` every epoch, as `torch.optim.lr_scheduler.ExponentialLR`. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;

  constructor(optimizer: Optimizer<ParamGroupBase>, options: ExponentialLROptions) {
    super(optimizer, options);
    this.gamma = checkFinite('ExponentialLR', 'gamma', options?.gamma, 0);
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * this.gamma);
  }
}

/** Options of {@link CosineAnnealingLR}. */
export interface CosineAnnealingLROptions extends LRSchedulerOptions {
  /** Half-period, in epochs (PyTorch's `T_max`). */
  tMax: number;
  /** The minimum learning rate (default 0). */
  etaMin?: number;
}

/**
 * Cosine annealing (Loshchilov & Hutter, 2017) without restarts, as
 * `torch.optim.lr_scheduler.CosineAnnealingLR` with its recursive formula
 * `lr ← (1 + cos(πt/T)) / (1 + cos(π(t − 1)/T)) · (lr − ηmin) + ηmin`; past `tMax` the rate rises
 * again (a period of 2·tMax), as in PyTorch.
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer<ParamGroupBase>, options: CosineAnnealingLROptions) {
    super(optimizer, options);
    this.tMax = checkPositiveInt('CosineAnnealingLR', 'tMax', options?.tMax);
    this.etaMin = checkFinite('CosineAnnealingLR', 'etaMin', options.etaMin ?? 0, 0);
    this.initialStep();
  }

  protected getLr(): number[] {
    const t = this.lastEpoch;
    const T = this.tMax;
    const etaMin = this.etaMin;
    if (t === 0) return this.groupLrs;
    if (this.stepCount === 1 && t > 0)
      return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((t * Math.PI) / T))) / 2);
    if ((t - 1 - T) % (2 * T) === 0)
      return this.groupLrs.map((lr, i) => lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    return this.groupLrs.map((lr) => ((1 + Math.cos((Math.PI * t) / T)) / (1 + Math.cos((Math.PI * (t - 1)) / T))) * (lr - etaMin) + etaMin);
  }
}

/** Options of {@link LinearLR}. */
export interface LinearLROptions extends LRSchedulerOptions {
  /** Factor at epoch 0, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** Factor from epoch `totalIters` on, in [0, 1] (default 1). */
  endFactor?: number;
  /** Epochs of the linear ramp (default 5). */
  totalIters?: number;
}

/**
 * Scales the learning rate by a factor that moves linearly from `startFactor` to `endFactor` over
 * `totalIters` epochs, as `torch.optim.lr_scheduler.LinearLR` (recursive formula). `startFactor`
 * must be > 0 (PyTorch 1.13 accepts 0 but then divides by zero); to warm up from 0 use
 * {@link LinearWarmup}.
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: Optimizer<ParamGroupBase>, options?: LinearLROptions) {
    super(optimizer, options);
    const who = new.target.name;
    this.startFactor = options?.startFactor ?? 1 / 3;
    this.endFactor = options?.endFactor ?? 1;
    if (!(this.startFactor > 0 && this.startFactor <= 1))
      throw new ConfigError(`${who}: startFactor must be in (0, 1] (got ${this.startFactor})`);
    if (!(this.endFactor >= 0 && this.endFactor <= 1)) throw new ConfigError(`${who}: endFactor must be in [0, 1] (got ${this.endFactor})`);
    this.totalIters = checkPositiveInt(who, 'totalIters', options?.totalIters ?? 5);
    this.initialStep();
  }

  protected getLr(): number[] {
    const t = this.lastEpoch;
    const { startFactor: s, endFactor: e, totalIters: n } = this;
    if (t === 0) return this.groupLrs.map((lr) => lr * s);
    if (t > n) return this.groupLrs;
    return this.groupLrs.map((lr) => lr * (1 + (e - s) / (n * s + (t - 1) * (e - s))));
  }
}

/** Options of {@link LinearWarmup}. */
export interface LinearWarmupOptions extends LRSchedulerOptions {
  /** Factor at epoch 0, in [0, 1] (default 1/3, as LinearLR; 0 is allowed). */
  startFactor?: number;
  /** Epochs of the ramp to the full learning rate (default 5). */
  totalIters?: number;
}

/**
 * Linear warm-up: the learning rate is `base·(s + (1 − s)·min(t, N)/N)`, from `startFactor·base`
 * at epoch 0 to `base` at epoch N and after. The same values as PyTorch's
 * `LinearLR(startFactor=s, endFactor=1, totalIters=N)`, computed in closed form so that s = 0 works.
 */
export class LinearWarmup extends LRScheduler {
  readonly startFactor: number;
  readonly totalIters: number;

  constructor(optimizer: Optimizer<ParamGroupBase>, options?: LinearWarmupOptions) {
    super(optimizer, options);
    this.startFactor = options?.startFactor ?? 1 / 3;
    if (!(this.startFactor >= 0 && this.startFactor <= 1))
      throw new ConfigError(`LinearWarmup: startFactor must be in [0, 1] (got ${this.startFactor})`);
    this.totalIters = checkPositiveInt('LinearWarmup', 'totalIters', options?.totalIters ?? 5);
    this.initialStep();
  }

  protected getLr(): number[] {
    const s = this.startFactor;
    const n = this.totalIters;
    const f = s + ((1 - s) * Math.min(n, this.lastEpoch)) / n;
    return this.baseLrs.map((base) => base * f);
  }
}

/** A learning-rate factor as a function of the epoch. */
export type LrLambda = (epoch: number) => number;

/**
 * Sets each group's learning rate to `base·lrLambda(epoch)`, as `torch.optim.lr_scheduler.LambdaLR`.
 * Give one function for all groups or one per group.
 *
 * @example new LambdaLR(opt, (epoch) => 0.95 ** epoch)
 */
export class LambdaLR extends LRScheduler {
  readonly lrLambdas: LrLambda[];

  constructor(optimizer: Optimizer<ParamGroupBase>, lrLambda: LrLambda | readonly LrLambda[], options?: LRSchedulerOptions) {
    super(optimizer, options);
    const n = optimizer.paramGroups.length;
    if (Array.isArray(lrLambda)) {
      if (lrLambda.length !== n) throw new ConfigError(`LambdaLR: expected ${n} lrLambdas (one per param group), but got ${lrLambda.length}`);
      this.lrLambdas = [...(lrLambda as readonly LrLambda[])];
    } else this.lrLambdas = new Array<LrLambda>(n).fill(lrLambda as LrLambda);
    this.lrLambdas.forEach((f, i) => {
      if (typeof f !== 'function') throw new ConfigError(`LambdaLR: lrLambda ${i} must be a function of the epoch (got ${typeof f})`);
    });
    this.initialStep();
  }

  protected getLr(): number[] {
    return this.baseLrs.map((base, i) => {
      const f = this.lrLambdas[i](this.lastEpoch);
      if (typeof f !== 'number' || Number.isNaN(f)) throw new ConfigError(`LambdaLR: lrLambda ${i} returned ${String(f)} at epoch ${this.lastEpoch}; it must return a number`);
      return base * f;
    });
  }
}
