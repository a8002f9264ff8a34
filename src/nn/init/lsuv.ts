import { noGrad } from '../../autograd/grad-mode.js';
import { ConfigError, NonFiniteError, ShapeError, fmtShape } from '../../core/errors.js';
import type { Generator } from '../../core/random.js';
import { mul_, zero_ } from '../../ops/inplace.js';
import { variance } from '../../ops/reduce.js';
import { tidy } from '../../tensor/scope.js';
import { Tensor } from '../../tensor/tensor.js';
import { Conv1d, Conv2d } from '../conv.js';
import { Linear } from '../linear.js';
import type { Module } from '../module.js';
import { orthogonal_ } from './pytorch.js';

/** A layer that LSUV and `check` act on: a Linear (Keras Dense included) or a convolution. */
export type WeightLayer = Linear | Conv1d | Conv2d;

/** @internal Whether `m` is a Linear or Conv layer (subclasses included, e.g. Keras' Dense). */
export function isWeightLayer(m: Module): m is WeightLayer {
  return m instanceof Linear || m instanceof Conv1d || m instanceof Conv2d;
}

/** @internal The Linear/Conv layers of `model` with their dotted names ('' names the model itself). */
export function weightLayers(model: Module): [string, WeightLayer][] {
  return [...model.namedModules()].filter((e): e is [string, WeightLayer] => isWeightLayer(e[1]));
}

/**
 * @internal The tensor whose statistics stand for a layer's output: what its call returned, or,
 * for a Linear subclass with its own activation in `forward` (Keras' Dense), its pre-activation
 * `x·Wᵀ + b`, recomputed from the call's input without gradients.
 */
export function preActivation(layer: WeightLayer, inputs: readonly unknown[], output: unknown): unknown {
  if (layer instanceof Linear && layer.forward !== Linear.prototype.forward && inputs[0] instanceof Tensor) {
    const x = inputs[0];
    return noGrad(() => Linear.prototype.forward.call(layer, x));
  }
  return output;
}

/** @internal How a layer's path is shown in messages and reports: 'model' for the root. */
export function layerLabel(name: string): string {
  return name === '' ? 'model' : name;
}

/**
 * @internal Runs `fn` with every module of `model` in evaluation mode (dropout off, batch norm on
 * its running statistics, which are not updated), then restores each module's own mode.
 */
export function inEvalMode<T>(model: Module, fn: () => T): T {
  const modes = [...model.modules()].map((m) => [m, m.training] as const);
  model.eval();
  try {
    return fn();
  } finally {
    for (const [m, mode] of modes) m.training = mode;
  }
}

/**
 * @internal The Linear/Conv layers of `model` in the order the batch reaches them (each layer at
 * its first call), and those it never reaches; one forward pass without gradients.
 */
export function forwardOrder(model: Module, batch: Tensor): { reached: [string, WeightLayer][]; unreached: [string, WeightLayer][] } {
  const layers = weightLayers(model);
  const firstCall = new Map<WeightLayer, number>();
  const removers = layers.map(([, layer]) =>
    layer.registerForwardHook(() => {
      if (!firstCall.has(layer)) firstCall.set(layer, firstCall.size);
    }),
  );
  try {
    noGrad(() => tidy(() => void model.call(batch)));
  } finally {
    for (const remove of removers) remove();
  }
  const reached = layers.filter(([, l]) => firstCall.has(l)).sort((a, b) => firstCall.get(a[1])! - firstCall.get(b[1])!);
  const unreached = layers.filter(([, l]) => !firstCall.has(l));
  return { reached, unreached };
}

/** Options of {@link lsuv}. */
export interface LsuvOptions {
  /** Stop rescaling a layer once |var − 1| < tolVar (default 0.1, the paper's Tol_var). */
  tolVar?: number;
  /** At most this many rescalings per layer (default 10, the paper's T_max); 0 only measures. */
  maxIter?: number;
  /**
   * Start from `orthogonal_` weights (gain 1) in every layer (default true, as the paper). With
   * false the current weights are kept and only rescaled.
   */
  orthogonalInit?: boolean;
  /** The generator for the orthogonal pre-initialization (default: the seeded global one). */
  generator?: Generator;
  /**
   * What to do with Linear/Conv layers that the batch never reaches (a head the forward pass does
   * not use): `'error'` (default) throws a ConfigError naming them before anything is changed;
   * `'skip'` leaves them untouched, warns, and leaves them out of the report.
   */
  unreached?: 'error' | 'skip';
}

/** What {@link lsuv} did to one layer. */
export interface LsuvLayerReport {
  /** The layer's dotted path in the model (`'0'`, `'encoder.fc1'`; `'model'` for the root itself). */
  name: string;
  /** The layer's class (`Linear`, `Conv2d`, `Dense`). */
  type: string;
  /**
   * Variance of the layer's output (pre-activation) on the batch before this layer was rescaled: after the
   * orthogonal pre-initialization (when on) and the zeroing of every bias, and after the layers
   * before it in forward order were already rescaled — the paper's Var(B_L) at its first step.
   */
  varianceBefore: number;
  /** Variance of the layer's output on the batch after its last rescaling (measured again). */
  varianceAfter: number;
  /** How many times the weight was divided by √var (0 when the first measurement was in tolerance). */
  iterations: number;
  /** Whether |varianceAfter − 1| < tolVar. */
  converged: boolean;
}

/** Thrown by the measuring hook to stop the forward pass at the layer being measured. */
const STOP = Symbol('lsuv.stop');

/**
 * Layer-sequential unit-variance initialization (Mishkin & Matas 2015, "All you need is a good
 * init"), in place:
 *
 * 1. every Linear/Conv layer (found by `namedModules`; Keras' Dense is a Linear) gets an
 *    `orthogonal_` weight (unless `orthogonalInit: false`) and a zero bias;
 * 2. layer by layer, in the order the batch reaches them, the batch runs through the model (no
 *    gradients; a forward hook captures the layer's output and stops the pass there) and the
 *    layer's weight is divided by √var(output) until |var − 1| < `tolVar` or `maxIter`
 *    rescalings were made.
 *
 * "Output" is the layer's pre-activation: what a Linear/Conv `call` returns, and for a Keras Dense
 * (a Linear with its own activation) its `x·Wᵀ + b`, recomputed from the input the hook sees —
 * not the post-activation the authors' Keras code measures, which a bounded activation (tanh,
 * sigmoid, softmax) cannot bring to variance 1 however large the weights grow. The variance is over every element of that output (batch, features and positions together),
 * with Bessel's correction, as `torch.var(output)` in the paper's Torch code. A layer called
 * several times in one pass is measured at its first call. The model runs in evaluation mode
 * (dropout off, batch norm on its running statistics, which are not updated), so the
 * measurements are deterministic; each module's mode is restored afterwards.
 *
 * Layers the batch never reaches are an error by default (nothing is changed); with
 * `{ unreached: 'skip' }` they are left as they are, with a warning. A layer whose output has
 * variance 0 on the batch (a constant batch, or dead inputs) cannot be rescaled: ConfigError; a
 * non-finite variance is a NonFiniteError. A layer that does not converge in `maxIter` steps is
 * reported with `converged: false` and a warning.
 *
 * @returns one report per rescaled layer, in forward order.
 * @example const report = init.lsuv(model, train.x.slice(0, 256)); console.table(report);
 */
export function lsuv(model: Module, batch: Tensor, options?: LsuvOptions): LsuvLayerReport[] {
  const fn = 'lsuv';
  const tolVar = options?.tolVar ?? 0.1;
  const maxIter = options?.maxIter ?? 10;
  const orthogonalInit = options?.orthogonalInit ?? true;
  const onUnreached = options?.unreached ?? 'error';
  if (!(tolVar > 0) || !Number.isFinite(tolVar)) throw new ConfigError(`${fn}: tolVar must be a finite number > 0 (got ${tolVar})`);
  if (!Number.isInteger(maxIter) || maxIter < 0) throw new ConfigError(`${fn}: maxIter must be an integer ≥ 0 (got ${maxIter})`);
  if (onUnreached !== 'error' && onUnreached !== 'skip')
    throw new ConfigError(`${fn}: unreached must be 'error' or 'skip' (got '${String(onUnreached)}')`);
  if (!(batch instanceof Tensor)) throw new ConfigError(`${fn}: batch must be a Tensor of model inputs (got ${typeof batch})`);
  if (weightLayers(model).length === 0)
    throw new ConfigError(`${fn}: ${model.name} has no Linear or Conv layers to initialize (LSUV rescales the weights of Linear, Conv1d and Conv2d layers)`);

  return inEvalMode(model, () => {
    const { reached, unreached } = forwardOrder(model, batch);
    if (unreached.length > 0) {
      const names = unreached.map(([n, l]) => `'${layerLabel(n)}' (${l.name})`).join(', ');
      if (onUnreached === 'error')
        throw new ConfigError(
          `${fn}: the batch never reaches ${names}, so ${unreached.length === 1 ? 'its' : 'their'} output variance cannot be measured ` +
            `(pass a batch that uses every layer, or { unreached: 'skip' } to leave them as they are)`,
        );
      console.warn(`${fn}: skipping ${names}: the batch never reaches ${unreached.length === 1 ? 'it' : 'them'}; left as initialized`);
    }
    noGrad(() => {
      for (const [, layer] of reached) {
        if (orthogonalInit) orthogonal_(layer.weight, { generator: options?.generator });
        if (layer.bias !== null) zero_(layer.bias);
      }
    });
    const reports: LsuvLayerReport[] = [];
    for (const [name, layer] of reached) {
      const label = `'${layerLabel(name)}' (${layer.name})`;
      const measure = (): number => {
        const v = outputVariance(model, batch, layer, `${fn}: layer ${label}`);
        if (!Number.isFinite(v))
          throw new NonFiniteError(`${fn}: layer ${label} has output variance ${v} on the batch (check the batch and the layers before it for NaN/Inf)`);
        return v;
      };
      const before = measure();
      let v = before;
      let iterations = 0;
      while (!(Math.abs(v - 1) < tolVar) && iterations < maxIter) {
        if (v === 0)
          throw new ConfigError(
            `${fn}: layer ${label} has output variance 0 on the batch, so no rescaling can bring it to 1 ` +
              '(is the batch constant, or are all of its inputs zero, e.g. dead ReLUs before it?)',
          );
        const scale = 1 / Math.sqrt(v);
        noGrad(() => void mul_(layer.weight, scale));
        iterations++;
        v = measure();
      }
      const converged = Math.abs(v - 1) < tolVar;
      if (!converged)
        console.warn(`${fn}: layer ${label} has output variance ${v.toPrecision(4)} after ${iterations} rescalings (not within 1 ± ${tolVar}; raise maxIter?)`);
      reports.push({ name: layerLabel(name), type: layer.name, varianceBefore: before, varianceAfter: v, iterations, converged });
    }
    return reports;
  });
}

/**
 * The variance of `layer`'s output (its first call) when `batch` runs through `model`, without
 * gradients; the forward pass stops at the layer. Throws if the layer is not reached.
 */
function outputVariance(model: Module, batch: Tensor, layer: WeightLayer, where: string): number {
  const captured: { v: number | null } = { v: null };
  const remove = layer.registerForwardHook((_m, inputs, output) => {
    const out = preActivation(layer, inputs, output);
    if (!(out instanceof Tensor)) throw new ShapeError(`${where}: output is not a Tensor (got ${typeof out})`);
    if (out.size < 2) throw new ShapeError(`${where}: output of shape ${fmtShape(out.shape)} has fewer than 2 elements; its variance is undefined`);
    captured.v = variance(out).item();
    throw STOP;
  });
  try {
    noGrad(() =>
      tidy(() => {
        try {
          model.call(batch);
        } catch (e) {
          if (e !== STOP) throw e;
        }
      }),
    );
  } finally {
    remove();
  }
  if (captured.v === null) throw new ConfigError(`${where}: the batch did not reach this layer (its forward pass depends on something that changed?)`);
  return captured.v;
}
