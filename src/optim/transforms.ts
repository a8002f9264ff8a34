/**
 * The elementary gradient transformations (Optax style): learning rate, schedules, weight decay
 * and momentum. Each follows the arithmetic of the PyTorch 1.13 optimizer it comes from, operation
 * by operation, so that a chain of them reproduces `torch.optim` to rounding.
 *
 * State tensors are `keep()`-ed (they outlive every `tidy`); a transform never modifies its inputs
 * or its old state, so the caller releases replaced state with {@link disposeStaleState}.
 */
import { noGrad } from '../autograd/grad-mode.js';
import { ConfigError } from '../core/errors.js';
import { add, mul } from '../ops/elementwise.js';
import { clone } from '../ops/shape.js';
import { keep } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import type { GradientTransformation } from './transform.js';

/** A hyperparameter given as a number, or as a function read at every update (schedulers). */
export type Scalar = number | (() => number);

/** @internal The current value of a {@link Scalar}. */
export function valueOf(x: Scalar): number {
  return typeof x === 'function' ? x() : x;
}

/** @internal Maps each non-null update; null (a parameter without gradient) stays null. */
export function mapUpdates(updates: readonly (Tensor | null)[], fn: (u: Tensor, i: number) => Tensor): (Tensor | null)[] {
  return noGrad(() => updates.map((u, i) => (u === null || u === undefined ? null : fn(u, i))));
}

/** @internal Checks that an option is a finite number (and, with `min`, at least `min`). */
export function checkNumber(who: string, name: string, value: unknown, min?: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (min !== undefined && value < min))
    throw new ConfigError(
      `${who}: ${name} must be a finite number${min !== undefined ? ` ≥ ${min}` : ''} (got ${String(value)})`,
    );
  return value;
}

/** @internal Checks a boolean option. */
export function checkBoolean(who: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(`${who}: ${name} must be true or false (got ${String(value)})`);
  return value;
}

/**
 * Collects every tensor reachable from a state (through arrays and plain objects).
 * @internal
 */
export function stateTensors(state: unknown, out: Set<Tensor> = new Set()): Set<Tensor> {
  if (state instanceof Tensor) out.add(state);
  else if (Array.isArray(state)) for (const s of state) stateTensors(s, out);
  else if (state !== null && typeof state === 'object' && Object.getPrototypeOf(state) === Object.prototype)
    for (const s of Object.values(state)) stateTensors(s, out);
  return out;
}

/**
 * Releases the tensors of `oldState` that `newState` no longer holds. Transforms keep their state
 * tensors alive across `tidy` scopes and return new ones on every update, so a loop that drives a
 * transform by hand calls this after each update (the optimizer classes do it for you).
 */
export function disposeStaleState(oldState: unknown, newState: unknown): void {
  const live = stateTensors(newState);
  for (const t of stateTensors(oldState)) if (!live.has(t)) t.dispose();
}

/** Options of {@link scaleByLearningRate}. */
export interface ScaleByLearningRateOptions {
  /** Multiply by −lr (descent, the default) instead of +lr. */
  flipSign?: boolean;
}

/**
 * Multiplies the updates by −lr (as Optax's `scale_by_learning_rate`): the last link of an
 * optimizer chain, since updates are added to the parameters. `lr` may be a function, read at
 * every update: the optimizer classes pass `() => group.lr`, so schedulers that change
 * `paramGroups[i].lr` take effect on the next step.
 */
export function scaleByLearningRate(lr: Scalar, options?: ScaleByLearningRateOptions): GradientTransformation<null> {
  const sign = (options?.flipSign ?? true) ? -1 : 1;
  return {
    name: 'scaleByLearningRate',
    init: () => null,
    update(updates, state) {
      const factor = sign * valueOf(lr);
      return [mapUpdates(updates, (u) => mul(u, factor)), state];
    },
  };
}

/** State of {@link scaleBySchedule}: how many updates it has scaled. */
export interface ScaleByScheduleState {
  count: number;
}

/**
 * Multiplies the updates by `schedule(count)`, where `count` is the number of updates made before
 * this one (0 on the first), as Optax's `scale_by_schedule`. No sign flip: pass a negative
 * schedule, or follow with `scaleByLearningRate(1)`, to descend.
 */
export function scaleBySchedule(schedule: (count: number) => number): GradientTransformation<ScaleByScheduleState> {
  if (typeof schedule !== 'function')
    throw new ConfigError(`scaleBySchedule: schedule must be a function of the step count (got ${typeof schedule})`);
  return {
    name: 'scaleBySchedule',
    init: () => ({ count: 0 }),
    update(updates, state) {
      const factor = schedule(state.count);
      checkNumber('scaleBySchedule', `schedule(${state.count})`, factor);
      return [mapUpdates(updates, (u) => mul(u, factor)), { count: state.count + 1 }];
    },
  };
}

/**
 * Adds `weightDecay·p` to each update (as Optax's `add_decayed_weights`). Before the optimizer's
 * scaling this is PyTorch's L2 weight decay (`g ← g + wd·p`: SGD, Adam, RMSprop, Adagrad); after
 * `scaleByAdam` and before `scaleByLearningRate` it is AdamW's decoupled decay `p ← p − lr·wd·p`.
 * Parameters without gradient are left alone (as PyTorch). With `weightDecay` 0 the updates pass
 * through unchanged.
 */
export function addDecayedWeights(weightDecay: Scalar): GradientTransformation<null> {
  return {
    name: 'addDecayedWeights',
    init: () => null,
    update(updates, state, params) {
      const wd = valueOf(weightDecay);
      if (wd === 0) return [[...updates], state];
      // PyTorch: grad.add(param, alpha=wd) = g + wd·p.
      return [mapUpdates(updates, (u, i) => add(u, mul(params[i], wd))), state];
    },
  };
}

/** Options of {@link trace}. */
export interface TraceOptions {
  /** The momentum factor μ (PyTorch's `momentum`); 0 passes the updates through. */
  decay: number;
  /** Dampening d: later steps add (1 − d)·g (default 0). */
  dampening?: number;
  /** Nesterov momentum: the update is g + μ·buf instead of buf (default false). */
  nesterov?: boolean;
}

/** State of {@link trace}: one momentum buffer per parameter, null until its first gradient. */
export interface TraceState {
  momentumBuffer: (Tensor | null)[];
}

/**
 * Momentum, exactly as PyTorch's SGD: on a parameter's first update `buf ← g` (a copy: no
 * dampening on that step); afterwards `buf ← μ·buf + (1 − d)·g`; the update is `buf`, or
 * `g + μ·buf` with Nesterov. With μ = 0 the updates pass through and no buffer is made.
 */
export function trace(options: TraceOptions): GradientTransformation<TraceState> {
  const who = 'trace';
  const decay = checkNumber(who, 'decay', options?.decay, 0);
  const dampening = checkNumber(who, 'dampening', options?.dampening ?? 0);
  const nesterov = checkBoolean(who, 'nesterov', options?.nesterov ?? false);
  if (nesterov && (decay <= 0 || dampening !== 0))
    throw new ConfigError(`${who}: Nesterov momentum requires a momentum (decay > 0) and zero dampening (got decay ${decay}, dampening ${dampening})`);
  return {
    name: 'trace',
    init: (params) => ({ momentumBuffer: params.map(() => null) }),
    update(updates, state) {
      if (decay === 0) return [[...updates], state];
      const buffers = [...state.momentumBuffer];
      const out = mapUpdates(updates, (g, i) => {
        const old = buffers[i];
        // buf.mul_(μ).add_(g, alpha=1 − d); the first step clones g.
        const buf = keep(old === null ? clone(g) : add(mul(old, decay), dampening === 0 ? g : mul(g, 1 - dampening)));
        buffers[i] = buf;
        return nesterov ? add(g, mul(buf, decay)) : buf;
      });
      return [out, { momentumBuffer: buffers }];
    },
  };
}
