import { ConfigError } from '../core/errors.js';
import type { GradientTransformation } from '../optim/transform.js';
import { Tensor } from '../tensor/tensor.js';
import { allFinite, checkKeys, describe } from './common.js';

/** Options of {@link applyIfFinite}. */
export interface ApplyIfFiniteOptions {
  /**
   * After this many non-finite steps in a row, the next non-finite step is applied anyway (as
   * Optax's `max_consecutive_errors`). Default: Infinity (never).
   */
  maxConsecutiveErrors?: number;
}

/** The state of {@link applyIfFinite}. */
export interface ApplyIfFiniteState<S> {
  /** Non-finite steps in a row, up to and including the last one. */
  readonly notFiniteCount: number;
  /** Whether the last step's updates were all finite. */
  readonly lastFinite: boolean;
  /** Non-finite steps since `init`. */
  readonly totalNotFinite: number;
  /** Steps skipped (given zero updates) since `init`. */
  readonly skipped: number;
  /** The wrapped transform's state, unchanged by skipped steps. */
  readonly inner: S;
}

/**
 * Wraps a transform so that a step whose incoming updates (the gradients) hold a NaN or ±Inf is
 * skipped, as Optax's `apply_if_finite`: the step returns zero updates, the wrapped transform is
 * not called and its state is kept as it was (so an optimizer's moments are not poisoned). The
 * state counts such steps; each step pushes `{ transform: 'applyIfFinite', skipped }` onto the
 * info list (the wrapped transform adds its own entries when it runs).
 *
 * @example const opt = applyIfFinite(chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-3)));
 */
export function applyIfFinite<S>(inner: GradientTransformation<S>, options?: ApplyIfFiniteOptions): GradientTransformation<ApplyIfFiniteState<S>> {
  const name = 'applyIfFinite';
  if (inner === null || typeof inner !== 'object' || typeof inner.update !== 'function' || typeof inner.init !== 'function')
    throw new ConfigError(`${name}: inner must be a gradient transformation with init and update (got ${describe(inner)})`);
  checkKeys(name, options, ['maxConsecutiveErrors']);
  const maxErrors = options?.maxConsecutiveErrors ?? Infinity;
  if (typeof maxErrors !== 'number' || Number.isNaN(maxErrors) || maxErrors < 0 || (Number.isFinite(maxErrors) && !Number.isInteger(maxErrors)))
    throw new ConfigError(`${name}: maxConsecutiveErrors must be an integer ≥ 0 or Infinity (got ${describe(maxErrors)})`);
  return {
    name: `${name}(${inner.name})`,
    init: (params) => ({ notFiniteCount: 0, lastFinite: true, totalNotFinite: 0, skipped: 0, inner: inner.init(params) }),
    update(updates, state, params, info) {
      const finite = allFinite(updates);
      const notFiniteCount = finite ? 0 : state.notFiniteCount + 1;
      const totalNotFinite = state.totalNotFinite + (finite ? 0 : 1);
      if (finite || notFiniteCount > maxErrors) {
        info.push({ transform: name, skipped: false });
        const [out, innerState] = inner.update(updates, state.inner, params, info);
        return [out, { notFiniteCount, lastFinite: finite, totalNotFinite, skipped: state.skipped, inner: innerState }];
      }
      info.push({ transform: name, skipped: true });
      // Zero-filled buffers on each update's own backend.
      const zeros = updates.map((u) => (u === null ? null : Tensor.empty(u.backend, u.shape, u.dtype)));
      return [zeros, { notFiniteCount, lastFinite: false, totalNotFinite, skipped: state.skipped + 1, inner: state.inner }];
    },
  };
}

/**
 * Skips every step whose gradients hold a NaN or ±Inf: {@link applyIfFinite} with no limit on
 * consecutive skips. A skipped step gives zero updates and keeps the wrapped transform's state.
 *
 * @example const opt = skipNonfinite(chain(scaleByAdam(), scaleByLearningRate(1e-3)));
 */
export function skipNonfinite<S>(inner: GradientTransformation<S>): GradientTransformation<ApplyIfFiniteState<S>> {
  return applyIfFinite(inner, { maxConsecutiveErrors: Infinity });
}
