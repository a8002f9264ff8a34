/**
 * The base class of the optimizers users see (`SGD`, `Adam`, ...): thin wrappers that hold the
 * parameters, their groups and hyperparameters, and run a chain of gradient transformations on
 * every `step()`.
 *
 * Two ways to build one, as in the two libraries Keel follows:
 * - PyTorch style: `new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 })`, or param groups
 *   `new SGD([{ params: a, lr: 0.1 }, { params: b }], { lr: 0.01 })`; PyTorch's option names,
 *   defaults and formulas.
 * - Keras style: `new Adam({ learningRate: 1e-3, clipnorm: 1 })` without parameters, bound later by
 *   `optimizer.bind(params)` (what `compile` does); Keras' option names, defaults and formulas.
 * The option names decide the style (parameters given and no Keras-only name: PyTorch; no
 * parameters and no PyTorch-only name: Keras); mixing the two is a ConfigError. The clipping
 * options (`clip`, `clipnorm`, `clipvalue`, `globalClipnorm`) work with either.
 */
import { enableGrad, noGrad } from '../autograd/grad-mode.js';
import type { UpdateSquares } from '../backend/backend.js';
import { isFloat } from '../core/dtype.js';
import { ConfigError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { fill_ } from '../ops/inplace.js';
import { cast, clone } from '../ops/shape.js';
import { keep, tidy } from '../tensor/scope.js';
import { Tensor } from '../tensor/tensor.js';
import { type KerasClipOptions, kerasClip } from './keras-clip.js';
import { type GradientTransformation, type UpdateInfo, applyUpdates_, chain } from './transform.js';
import { disposeStaleState, stateTensors } from './transforms.js';
import { updateSquaresOf } from './update-squares.js';

/** Which library's names, defaults and formulas an optimizer follows. */
export type OptimizerStyle = 'pytorch' | 'keras';

/** The clipping options every optimizer accepts, in either style. They run before everything else. */
export interface ClipOptions {
  /**
   * A gradient transformation run first on the gradients of all parameters together (e.g. a
   * clipping transform from `src/clip/`). Its state is saved by `stateDict()`.
   */
  clip?: GradientTransformation<unknown>;
  /** Keras: clip each parameter's gradient to L2 norm ≤ c, `g·c / max(‖g‖, c)`. */
  clipnorm?: number;
  /** Keras: clamp every gradient entry to [−v, v]. */
  clipvalue?: number;
  /** Keras: clip all gradients together to global L2 norm ≤ c. At most one of the three. */
  globalClipnorm?: number;
}

/** The fields every param group has: its parameters and learning rate. */
export interface ParamGroupBase {
  /** The parameters this group updates. */
  params: Tensor[];
  /** The learning rate; schedulers change it, and so may you between steps. */
  lr: number;
  /** The learning rate when the first scheduler was attached (PyTorch's `initial_lr`). */
  initialLr?: number;
}

/** A param group as given to a constructor: its parameters and any per-group option. */
export type ParamGroupSpec<O> = { params: Iterable<Tensor> | Tensor } & O;

/** What the first constructor argument may be: parameters, or param groups. */
export type ParamsArg<O> = Iterable<Tensor> | Iterable<ParamGroupSpec<O>>;

/** Counters of what `step()` did, for logs and progress bars. */
export interface OptimizerStats {
  /** Calls to `step()`. */
  steps: number;
  /** Steps in which a clipping transform changed the gradients. */
  stepsClipped: number;
  /** Steps skipped by a transform (non-finite gradients). */
  stepsSkipped: number;
  /** The gradient norm measured by the first transform that measured one on the last step. */
  lastGradNorm?: number;
}

/** One parameter's state in a state dict, under PyTorch's names (`step`, `exp_avg`, ...). */
export type ParamState = Record<string, Tensor | number>;

/** A saved param group: its hyperparameters, and its parameters as indices (as PyTorch). */
export type SavedParamGroup = Record<string, unknown> & { params: number[] };

/**
 * What `stateDict()` returns, as PyTorch's `optimizer.state_dict()`: the state of each parameter
 * by its index (counting through the groups in order), and every group's hyperparameters. Tensors
 * are copies.
 */
export interface OptimizerStateDict {
  /** The naming and formula style the state belongs to. */
  style: OptimizerStyle;
  /** Per parameter index; parameters that were never updated have no entry. */
  state: Record<number, ParamState>;
  /** Hyperparameters of each group, with `params` as indices. */
  paramGroups: SavedParamGroup[];
  /** The state of the clipping transforms (the `clip` option), copied. */
  clip: unknown;
  /** The counters. */
  stats: OptimizerStats;
}

/**
 * What `loadStateDict` accepts: a state dict from `stateDict()`, or one converted from PyTorch's
 * (`state` and `paramGroups` only; the style, clipping state and counters are then left as they are).
 */
export type OptimizerStateDictInput = Pick<OptimizerStateDict, 'state' | 'paramGroups'> & Partial<Pick<OptimizerStateDict, 'style' | 'clip' | 'stats'>>;

/** @internal How one option name maps onto a group field. */
export interface OptionSpec {
  /** The style the name belongs to; 'both' for names the two libraries share. */
  style: OptimizerStyle | 'both';
  /** The group field it sets. */
  key: string;
  /** For Keras' beta1/beta2: the index into the `betas` pair. */
  index?: 0 | 1;
  /** Validates the value (throws a ConfigError naming the optimizer, option and value). */
  check: (who: string, name: string, value: unknown) => unknown;
}

/** @internal The declarative description of an optimizer's options. */
export interface OptimizerSpec<G extends ParamGroupBase> {
  /** Option names (camelCase) and what they set. */
  options: Record<string, OptionSpec>;
  /** Defaults of each style (lr may be missing where the library requires it). */
  defaults: Record<OptimizerStyle, Partial<Omit<G, 'params'>>>;
  /** Cross-option checks on a resolved group (e.g. Nesterov needs momentum). */
  checkGroup?(who: string, group: Omit<G, 'params'>, style: OptimizerStyle): void;
}

const CLIP_KEYS = new Set(['clip', 'clipnorm', 'clipvalue', 'globalClipnorm']);

/** @internal A link of an optimizer's chain, named so its state can be found (`stateDict`). */
export type Link = readonly [name: string, transform: GradientTransformation<unknown>];

/** @internal Where a PyTorch state key lives: the link's name and the field of its state. */
export type StateFields = Record<string, readonly [link: string, field: string]>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !(v instanceof Tensor) && !(Symbol.iterator in v);
}

function describe(v: unknown): string {
  if (v instanceof Tensor) return `a Tensor of shape ${fmtShape(v.shape)}`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return v === null ? 'null' : typeof v;
}

/** Deep copy of a transform state: tensors cloned (and kept), arrays and plain objects copied. */
function copyState(s: unknown, keepTensors: boolean): unknown {
  if (s instanceof Tensor) {
    const c = noGrad(() => clone(s));
    return keepTensors ? keep(c) : c;
  }
  if (Array.isArray(s)) return s.map((x) => copyState(x, keepTensors));
  if (isPlainObject(s) && Object.getPrototypeOf(s) === Object.prototype)
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, copyState(v, keepTensors)]));
  return s;
}

/**
 * The base class of Keel's optimizers. Subclasses declare their options and build, per group, the
 * chain of transforms one step applies (`links`). A step runs, in order: the `clip` transform and
 * the Keras clipping option over all parameters together, then each group's chain (weight decay,
 * the update rule, the learning rate), then adds the updates to the parameters. When a clipping
 * transform reports `skipped` (non-finite gradients), the rest of the step is skipped: parameters
 * and optimizer state stay as they were, and `stats.stepsSkipped` counts it.
 */
export abstract class Optimizer<G extends ParamGroupBase = ParamGroupBase> {
  /** The optimizer's name, used in errors (`'Adam'`). */
  readonly name: string;
  /** Which library's names, defaults and formulas apply. */
  readonly style: OptimizerStyle;
  /** The param groups: parameters and hyperparameters. Change `lr` (or others) between steps. */
  readonly paramGroups: G[] = [];
  /** What `step()` has done so far. */
  readonly stats: OptimizerStats = { steps: 0, stepsClipped: 0, stepsSkipped: 0 };
  /** What the transforms reported on the last step (clipping norms, skips). */
  lastUpdateInfo: UpdateInfo[] = [];
  /**
   * Set to have the next `step()` also measure each parameter it was given a gradient for, into
   * `lastUpdateSquares`; `step()` clears it. A training monitor sets it on its sampled steps to
   * read update ratios without copying the parameters itself: a fused step measures inside its
   * one kernel pass, any other step copies the parameters before updating them.
   */
  measureNextStep = false;
  /**
   * What the last measured step measured, by index in `params`: `[Σ p², Σ Δp², Σ g²]` (the
   * parameter after the step, the update it applied, `.grad` as it was given), or null for a
   * parameter without a gradient; empty after a step that did not measure.
   */
  lastUpdateSquares: (UpdateSquares | null)[] = [];
  /** The defaults that param groups fill their missing options from (PyTorch's `defaults`). */
  readonly defaults: Omit<G, 'params'>;

  private readonly spec: OptimizerSpec<G>;
  private readonly clipTransform: GradientTransformation<unknown[]>;
  /** The clipping transforms the chain above joins (to fold a lone global scaling into a fused step). */
  private readonly clips: GradientTransformation<unknown>[];
  private clipState: unknown[] | null = null;
  private groupStates: unknown[][] = [];

  protected constructor(name: string, spec: OptimizerSpec<G>, first: unknown, second: unknown) {
    this.name = name;
    this.spec = spec;
    let paramsArg: unknown = undefined;
    let options: unknown = second;
    if (first !== undefined && first !== null && !isPlainObject(first)) paramsArg = first;
    else {
      if (second !== undefined)
        throw new ConfigError(`${name}: the first argument must be the parameters (an array of tensors or param groups) when options follow (got ${describe(first)})`);
      options = first;
    }
    if (options !== undefined && !isPlainObject(options))
      throw new ConfigError(`${name}: options must be an object such as { lr: 0.01 } (got ${describe(options)})`);
    const opts = (options ?? {}) as Record<string, unknown>;
    const groups = paramsArg === undefined ? null : this.parseParams(paramsArg);

    // The style: from the option names of the options and of every group.
    const names = [...Object.keys(opts).filter((k) => !CLIP_KEYS.has(k))];
    for (const g of groups ?? []) if (!(g instanceof Tensor)) names.push(...Object.keys(g).filter((k) => k !== 'params'));
    this.style = this.detectStyle(names, groups !== null);

    // Clipping, over all parameters, before anything else.
    const clip = opts.clip;
    if (clip !== undefined && !(isPlainObject(clip) && typeof clip.init === 'function' && typeof clip.update === 'function'))
      throw new ConfigError(`${name}: clip must be a gradient transformation ({ name, init, update }, e.g. clipByGlobalNorm(1)) (got ${describe(clip)})`);
    const keras = kerasClip(name, opts as KerasClipOptions);
    const clips = [clip as GradientTransformation<unknown> | undefined, keras ?? undefined].filter((t) => t !== undefined);
    this.clips = clips;
    this.clipTransform = chain(...clips);

    const rest = Object.fromEntries(Object.entries(opts).filter(([k]) => !CLIP_KEYS.has(k)));
    this.defaults = this.resolve({ ...spec.defaults[this.style] } as Omit<G, 'params'>, rest, 'options', false);
    if (groups !== null) {
      const asGroups = groups.every((g) => g instanceof Tensor) ? [{ params: groups as Tensor[] }] : (groups as Record<string, unknown>[]);
      for (const g of asGroups) this.addParamGroup(g as ParamGroupSpec<Record<string, unknown>>);
    }
  }

  /** Whether the optimizer has parameters (constructed with them, or `bind` was called). */
  get isBound(): boolean {
    return this.paramGroups.length > 0;
  }

  /** All parameters, group by group (the order of the indices in `stateDict`). */
  get params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** Keras' name for the learning rate: the first group's `lr`; setting it sets every group's. */
  get learningRate(): number {
    return this.paramGroups.length > 0 ? this.paramGroups[0].lr : (this.defaults.lr as number);
  }

  set learningRate(value: number) {
    const lr = this.checkLr(value);
    (this.defaults as { lr: number }).lr = lr;
    for (const g of this.paramGroups) g.lr = lr;
  }

  /**
   * Gives an optimizer built without parameters (Keras style) its parameters; Keras' `compile`
   * calls this. An optimizer can be bound once; use `addParamGroup` to add more parameters.
   */
  bind(params: Iterable<Tensor>): this {
    if (this.isBound)
      throw new ConfigError(
        `${this.name}.bind: the optimizer already has ${this.params.length} parameters; build a new optimizer for another model (or use addParamGroup)`,
      );
    const list = this.parseParams(params);
    if (!list.every((p) => p instanceof Tensor))
      throw new ConfigError(`${this.name}.bind: params must be tensors (for param groups, call addParamGroup)`);
    this.addParamGroup({ params: list as Tensor[] } as ParamGroupSpec<Record<string, unknown>>);
    return this;
  }

  /**
   * Adds a param group, as PyTorch's `add_param_group`: options missing from `group` come from the
   * optimizer's defaults. A parameter may belong to one group only.
   */
  addParamGroup(group: ParamGroupSpec<Record<string, unknown>>): void {
    if (!isPlainObject(group) || !('params' in group))
      throw new ConfigError(`${this.name}.addParamGroup: a param group must be an object with a params field (got ${describe(group)})`);
    const { params: raw, ...overrides } = group as { params: unknown } & Record<string, unknown>;
    const params = raw instanceof Tensor ? [raw] : this.parseParams(raw, `param group ${this.paramGroups.length}`);
    if (!params.every((p) => p instanceof Tensor))
      throw new ConfigError(`${this.name}: the params of a param group must be tensors`);
    const tensors = params as Tensor[];
    const existing = new Set(this.params);
    const seen = new Set<Tensor>();
    tensors.forEach((p, i) => {
      if (seen.has(p)) throw new ConfigError(`${this.name}: parameter ${i} appears twice in param group ${this.paramGroups.length}; pass each tensor once`);
      if (existing.has(p)) throw new ConfigError(`${this.name}: some parameters appear in more than one parameter group (parameter ${i} of group ${this.paramGroups.length})`);
      seen.add(p);
    });
    const names = Object.keys(overrides);
    if (names.length > 0) this.detectStyle(names, true, this.style);
    const resolved = this.resolve({ ...this.defaults }, overrides, `param group ${this.paramGroups.length}`, true);
    const full = { ...resolved, params: tensors } as unknown as G;
    this.paramGroups.push(full);
    this.groupStates.push(this.groupChain(full).transform.init(tensors) as unknown[]);
    // The clipping transforms see all parameters together: their state starts over.
    const oldClip = this.clipState;
    this.clipState = this.clipTransform.init(this.params);
    disposeStaleState(oldClip, this.clipState);
  }

  /** The chain of transforms one step applies to `group`'s gradients, with each link's name. */
  protected abstract links(group: G): Link[];

  /** Where each PyTorch state key lives in the links' states. */
  protected abstract stateFields(): StateFields;

  /**
   * @internal Whether the subclass can run `group`'s whole chain as one fused kernel pass on these
   * gradients and states (default: no).
   */
  protected canFuse(_group: G, _grads: readonly (Tensor | null)[], _states: unknown[]): boolean {
    return false;
  }

  /**
   * @internal The group's whole chain as one fused pass, called only where `canFuse` holds: updates
   * the group's parameters in place, with each gradient first multiplied by `gradScale` (a global
   * clipping coefficient folded in), and returns the links' new states. It must agree bit for bit
   * with running the chain on the scaled gradients. With `squares`, it also measures each
   * parameter with a gradient into it by index in the group (see `lastUpdateSquares`).
   */
  protected fusedStep(
    _group: G,
    _grads: readonly (Tensor | null)[],
    _states: unknown[],
    _gradScale: number,
    _squares: (UpdateSquares | null)[] | null,
  ): unknown[] {
    throw new Error(`${this.name}: fusedStep without canFuse`);
  }

  /**
   * Clears the gradients: sets them to null (the default, as PyTorch) and releases their memory
   * (so a training loop's live-buffer count stays flat without waiting for the garbage
   * collector), or with `setToNone: false` fills them with zeros in place. Copy a gradient
   * (`p.grad.clone()`) if you need it after `zeroGrad()`.
   */
  zeroGrad(options?: { setToNone?: boolean }): void {
    const setToNone = options?.setToNone ?? true;
    for (const p of this.params) {
      const g = p.grad;
      if (g === null) continue;
      if (setToNone) {
        p.grad = null;
        g.dispose();
      } else noGrad(() => fill_(g, 0));
    }
  }

  /**
   * One update of every parameter that has a gradient. With a `closure` (PyTorch's L-BFGS-style
   * API), it is called first with gradients enabled and its result returned.
   */
  step<T = undefined>(closure?: () => T): T | undefined {
    this.assertBound('step');
    const loss = closure === undefined ? undefined : enableGrad(closure);
    const params = this.params;
    const info: UpdateInfo[] = [];
    const oldStates = { clip: this.clipState, groups: this.groupStates };
    const measure = this.measureNextStep;
    this.measureNextStep = false;
    const squares: (UpdateSquares | null)[] = measure ? params.map(() => null) : [];
    tidy(() => {
      const grads = params.map((p) => p.grad);
      grads.forEach((g, i) => {
        if (g !== null && !shapesEqual(g.shape, params[i].shape))
          throw new ShapeError(`${this.name}.step: parameter ${i} has shape ${fmtShape(params[i].shape)} but its gradient ${fmtShape(g.shape)}`);
      });
      // Every group fused: a lone global scaling (global-norm clipping) is folded into the fused
      // kernels as a coefficient instead of writing scaled copies of the gradients.
      const lone = this.clips.length === 1 ? this.clips[0] : null;
      if (lone?.globalScale !== undefined) {
        const byGroup = this.splitByGroup(grads);
        if (this.paramGroups.every((group, gi) => this.canFuse(group, byGroup[gi], this.groupStates[gi]))) {
          const [scale, s0] = lone.globalScale(grads, this.clipState![0], params, info);
          this.clipState = [s0];
          const bySquares = measure ? this.splitByGroup(squares) : null;
          this.groupStates = this.paramGroups.map((group, gi) =>
            this.fusedStep(group, byGroup[gi], this.groupStates[gi], scale, bySquares === null ? null : bySquares[gi]),
          );
          if (bySquares !== null) squares.splice(0, squares.length, ...bySquares.flat());
          return;
        }
      }
      const [clipped, clipState] = this.clipTransform.update(grads, this.clipState!, params, info);
      this.clipState = clipState;
      // A clipping transform that skips the step (non-finite gradients, e.g. src/clip's
      // applyIfFinite) skips it for the whole optimizer: no update, and the moments are kept.
      if (info.some((i) => i.skipped === true)) {
        if (measure) grads.forEach((g, i) => (squares[i] = g === null ? null : [params[i].backend.sumSquares(params[i]), 0, g.backend.sumSquares(g)]));
        return;
      }
      // Measuring: the parameters as they are before any update.
      const before = measure ? noGrad(() => params.map((p, i) => (grads[i] === null ? null : clone(p)))) : [];
      const updates: (Tensor | null)[] = [];
      const groupStates: unknown[][] = [];
      const clippedByGroup = this.splitByGroup(clipped);
      this.paramGroups.forEach((group, gi) => {
        const gg = clippedByGroup[gi];
        if (this.canFuse(group, gg, this.groupStates[gi])) {
          updates.push(...gg.map(() => null)); // applied in place
          groupStates.push(this.fusedStep(group, gg, this.groupStates[gi], 1, null));
          return;
        }
        const [u, st] = this.groupChain(group).transform.update(gg, this.groupStates[gi], group.params, info);
        updates.push(...u);
        groupStates.push(st);
      });
      applyUpdates_(params, updates);
      this.groupStates = groupStates;
      if (measure) params.forEach((p, i) => (squares[i] = before[i] === null ? null : updateSquaresOf(p, before[i], grads[i])));
    });
    this.lastUpdateSquares = squares;
    disposeStaleState(oldStates, { clip: this.clipState, groups: this.groupStates });
    this.lastUpdateInfo = info;
    this.stats.steps++;
    if (info.some((i) => i.clipped === true)) this.stats.stepsClipped++;
    if (info.some((i) => i.skipped === true)) this.stats.stepsSkipped++;
    this.stats.lastGradNorm = info.find((i) => i.normBefore !== undefined)?.normBefore;
    return loss;
  }

  /**
   * The optimizer's state, as PyTorch's `state_dict()`: per parameter index the buffers under
   * PyTorch's names (`momentum_buffer`; `step`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`;
   * `square_avg`, `grad_avg`; `sum`), each group's hyperparameters, the clipping state and the
   * counters. Tensors are copies: later steps do not change a saved state dict.
   */
  stateDict(): OptimizerStateDict {
    const state: Record<number, ParamState> = {};
    const fields = this.stateFields();
    let index = 0;
    const paramGroups: SavedParamGroup[] = this.paramGroups.map((group, gi) => {
      const { links, transform: _ } = this.groupChain(group);
      const names = links.map(([n]) => n);
      const linkStates = this.groupStates[gi];
      const indices: number[] = [];
      group.params.forEach((_p, j) => {
        const rec: ParamState = {};
        for (const [key, [link, field]] of Object.entries(fields)) {
          const li = names.indexOf(link);
          const arr = li < 0 ? null : (linkStates[li] as Record<string, unknown> | null)?.[field];
          if (!Array.isArray(arr)) continue;
          const v = arr[j] as unknown;
          if (v instanceof Tensor) rec[key] = noGrad(() => clone(v));
          else if (typeof v === 'number') rec[key] = v;
        }
        const active = 'step' in rec ? (rec.step as number) > 0 : Object.keys(rec).length > 0;
        if (active) state[index] = rec;
        else for (const v of Object.values(rec)) if (v instanceof Tensor) v.dispose();
        indices.push(index++);
      });
      const { params: _params, ...hyper } = group;
      return { ...copyState(hyper, false) as Record<string, unknown>, params: indices };
    });
    return { style: this.style, state, paramGroups, clip: copyState(this.clipState, false), stats: { ...this.stats } };
  }

  /**
   * Restores a state saved by `stateDict()` (or converted from PyTorch's, same names): the
   * hyperparameters of each group, every parameter's buffers (copied, cast to the parameter's
   * dtype; parameters without an entry start fresh), the clipping state and the counters. The
   * groups must have the same sizes.
   */
  loadStateDict(stateDict: OptimizerStateDictInput): void {
    const who = `${this.name}.loadStateDict`;
    this.assertBound('loadStateDict');
    if (stateDict.style !== undefined && stateDict.style !== this.style)
      throw new ConfigError(`${who}: the state was saved by a ${stateDict.style}-style optimizer but this one is ${this.style}-style (their buffers mean different things)`);
    const saved = stateDict.paramGroups;
    if (!Array.isArray(saved) || saved.length !== this.paramGroups.length)
      throw new ConfigError(`${who}: loaded state dict has a different number of parameter groups (${Array.isArray(saved) ? saved.length : 'none'} vs ${this.paramGroups.length})`);
    saved.forEach((g, gi) => {
      if (!Array.isArray(g.params) || g.params.length !== this.paramGroups[gi].params.length)
        throw new ConfigError(
          `${who}: loaded state dict contains a parameter group that doesn't match the size of optimizer's group (group ${gi}: ${Array.isArray(g.params) ? g.params.length : 'no'} vs ${this.paramGroups[gi].params.length} parameters)`,
        );
    });
    const fields = this.stateFields();
    const newStates: unknown[][] = [];
    const freshTensors = new Set<Tensor>();
    this.paramGroups.forEach((group, gi) => {
      // Hyperparameters first (they may change the chain, e.g. amsgrad), then the buffers.
      for (const [k, v] of Object.entries(saved[gi])) {
        if (k === 'params' || !(k in group || k === 'initialLr')) continue;
        (group as Record<string, unknown>)[k] = copyState(v, false);
      }
      const { links, transform } = this.groupChain(group);
      const names = links.map(([n]) => n);
      const fresh = transform.init(group.params) as unknown[];
      stateTensors(fresh, freshTensors);
      const states = fresh.map((s) => (isPlainObject(s) ? { ...s } : s));
      for (const [, [link, field]] of Object.entries(fields)) {
        const li = names.indexOf(link);
        const s = li < 0 ? null : (states[li] as Record<string, unknown> | null);
        if (s && Array.isArray(s[field])) s[field] = [...(s[field] as unknown[])];
      }
      group.params.forEach((p, j) => {
        const rec = stateDict.state[saved[gi].params[j]];
        if (rec === undefined) return;
        for (const [key, [link, field]] of Object.entries(fields)) {
          if (!(key in rec)) continue;
          const li = names.indexOf(link);
          const s = li < 0 ? null : (states[li] as Record<string, unknown> | null);
          const arr = s?.[field];
          if (!Array.isArray(arr)) continue; // e.g. max_exp_avg_sq without amsgrad: unused, as in PyTorch
          const v = rec[key];
          if (v instanceof Tensor) {
            if (!shapesEqual(v.shape, p.shape))
              throw new ShapeError(`${who}: state '${key}' of parameter ${saved[gi].params[j]} has shape ${fmtShape(v.shape)} but the parameter ${fmtShape(p.shape)}`);
            arr[j] = keep(noGrad(() => (v.dtype === p.dtype ? clone(v) : cast(v, p.dtype))));
          } else if (typeof v === 'number') arr[j] = v;
          else throw new ConfigError(`${who}: state '${key}' of parameter ${saved[gi].params[j]} must be a tensor or a number (got ${describe(v)})`);
        }
      });
      newStates.push(states);
    });
    const old = { clip: this.clipState, groups: this.groupStates };
    this.groupStates = newStates;
    if (stateDict.clip !== undefined && stateDict.clip !== null) this.clipState = copyState(stateDict.clip, true) as unknown[];
    // Fresh tensors that a loaded buffer replaced, and the old state, are released.
    disposeStaleState({ old, fresh: [...freshTensors] }, { clip: this.clipState, groups: this.groupStates });
    if (stateDict.stats !== undefined) Object.assign(this.stats, stateDict.stats);
  }

  /** One entry per parameter of all groups, cut into one list per group. */
  private splitByGroup<T>(all: readonly T[]): T[][] {
    let offset = 0;
    return this.paramGroups.map((group) => all.slice(offset, (offset += group.params.length)));
  }

  /** A group's links and their chain. */
  private groupChain(group: G): { links: Link[]; transform: GradientTransformation<unknown[]> } {
    const links = this.links(group);
    return { links, transform: chain(...links.map(([, t]) => t)) };
  }

  private assertBound(method: string): void {
    if (!this.isBound)
      throw new ConfigError(
        `${this.name}.${method}: the optimizer has no parameters yet; pass them to the constructor (PyTorch style) or call bind(model.parameters()) (compile does)`,
      );
  }

  private checkLr(value: unknown): number {
    const spec = this.spec.options[this.style === 'keras' ? 'learningRate' : 'lr'];
    return spec.check(this.name, this.style === 'keras' ? 'learningRate' : 'lr', value) as number;
  }

  /** The parameters or groups as an array, checking each tensor. */
  private parseParams(arg: unknown, where = 'params'): (Tensor | Record<string, unknown>)[] {
    if (arg instanceof Tensor || arg === null || typeof arg !== 'object' || !(Symbol.iterator in arg))
      throw new ConfigError(
        `${this.name}: ${where} must be an iterable of tensors or of param groups ({ params, ...options }), e.g. model.parameters() (got ${describe(arg)})`,
      );
    const list = [...(arg as Iterable<unknown>)];
    if (list.length === 0) throw new ConfigError(`${this.name}: optimizer got an empty parameter list (${where})`);
    const tensors = list.filter((x) => x instanceof Tensor).length;
    if (tensors !== 0 && tensors !== list.length)
      throw new ConfigError(`${this.name}: ${where} mixes tensors and param groups; give either tensors or groups ({ params, ...options })`);
    list.forEach((x, i) => {
      if (x instanceof Tensor) {
        if (!x.isLeaf) throw new ConfigError(`${this.name}: can't optimize a non-leaf tensor (parameter ${i} of ${where} was computed by ${x.gradFn!.name}); use a leaf, e.g. x.detach().requiresGrad_()`);
        if (!isFloat(x.dtype)) throw new DTypeError(`${this.name}: parameter ${i} of ${where} is ${x.dtype}; only float32/float64 tensors can be optimized`);
        x.assertLive(this.name);
      } else if (!isPlainObject(x) || !('params' in x))
        throw new ConfigError(`${this.name}: entry ${i} of ${where} is neither a tensor nor a param group ({ params, ...options }) (got ${describe(x)})`);
    });
    return list as (Tensor | Record<string, unknown>)[];
  }

  /** Decides the style from option names; `expected` (a group's) must agree with the optimizer's. */
  private detectStyle(names: string[], hasParams: boolean, expected?: OptimizerStyle): OptimizerStyle {
    const byStyle: Record<OptimizerStyle, string[]> = { pytorch: [], keras: [] };
    for (const n of names) {
      const s = this.spec.options[n];
      if (s === undefined) {
        const known = Object.keys(this.spec.options).concat([...CLIP_KEYS]);
        throw new ConfigError(`${this.name}: unknown option '${n}' (known: ${known.join(', ')})`);
      }
      if (s.style !== 'both') byStyle[s.style].push(n);
    }
    if (byStyle.pytorch.length > 0 && byStyle.keras.length > 0)
      throw new ConfigError(
        `${this.name}: options mix PyTorch names (${byStyle.pytorch.join(', ')}) and Keras names (${byStyle.keras.join(', ')}); use one style: ` +
          `PyTorch (lr, betas, eps, ...) or Keras (learningRate, beta1, beta2, epsilon, ...)`,
      );
    const found: OptimizerStyle | null = byStyle.pytorch.length > 0 ? 'pytorch' : byStyle.keras.length > 0 ? 'keras' : null;
    if (expected !== undefined && found !== null && found !== expected)
      throw new ConfigError(`${this.name}: a param group uses ${found} names (${byStyle[found].join(', ')}) but the optimizer is ${expected}-style`);
    return found ?? expected ?? (hasParams ? 'pytorch' : 'keras');
  }

  /** Applies options onto `base`, validating each; checks the result when it is a full group. */
  private resolve(base: Omit<G, 'params'>, options: Record<string, unknown>, where: string, complete: boolean): Omit<G, 'params'> {
    const out = { ...base } as Record<string, unknown>;
    if (Array.isArray(out.betas)) out.betas = [...(out.betas as number[])];
    for (const [name, value] of Object.entries(options)) {
      if (value === undefined) continue;
      const s = this.spec.options[name];
      const v = s.check(this.name, name, value);
      if (s.index !== undefined) (out[s.key] as number[])[s.index] = v as number;
      else out[s.key] = v;
    }
    if (complete) {
      if (out.lr === undefined)
        throw new ConfigError(`${this.name}: lr is required (${where}); e.g. new ${this.name}(model.parameters(), { lr: 0.01 })`);
      this.spec.checkGroup?.(this.name, out as Omit<G, 'params'>, this.style);
    }
    return out as Omit<G, 'params'>;
  }
}

/** @internal Validators for option specs. */
export const checks = {
  /** A finite number ≥ 0. */
  nonNegative(who: string, name: string, value: unknown): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new ConfigError(`${who}: invalid ${name} ${String(value)}: it must be a finite number ≥ 0`);
    return value;
  },
  /** A number in [0, 1). */
  unitOpen(who: string, name: string, value: unknown): number {
    if (typeof value !== 'number' || !(value >= 0 && value < 1))
      throw new ConfigError(`${who}: invalid ${name} ${String(value)}: it must be in [0, 1)`);
    return value;
  },
  /** A number in [0, 1]. */
  unitClosed(who: string, name: string, value: unknown): number {
    if (typeof value !== 'number' || !(value >= 0 && value <= 1))
      throw new ConfigError(`${who}: invalid ${name} ${String(value)}: it must be in [0, 1]`);
    return value;
  },
  /** A boolean. */
  boolean(who: string, name: string, value: unknown): boolean {
    if (typeof value !== 'boolean') throw new ConfigError(`${who}: ${name} must be true or false (got ${String(value)})`);
    return value;
  },
  /** A pair of numbers in [0, 1) (PyTorch's betas). */
  betas(who: string, name: string, value: unknown): [number, number] {
    if (!Array.isArray(value) || value.length !== 2)
      throw new ConfigError(`${who}: ${name} must be a pair [beta1, beta2] (got ${String(value)})`);
    value.forEach((b, i) => {
      if (typeof b !== 'number' || !(b >= 0 && b < 1))
        throw new ConfigError(`${who}: invalid beta parameter at index ${i}: ${String(b)} (${name} must be in [0, 1))`);
    });
    return [value[0] as number, value[1] as number];
  },
};

