import { noGrad } from '../autograd/grad-mode.js';
import { add_ } from '../ops/inplace.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Gradient transformations, as in Optax: a pure `{ init, update }` pair that maps the gradients
 * of a list of parameters to updates, carrying its own state. Clipping, optimizers and schedules
 * are all transforms joined by {@link chain}; the optimizer classes users see are thin wrappers.
 *
 * Conventions: `updates` holds one entry per parameter (null where the parameter has no
 * gradient, which every transform passes through as null); the final updates are ADDED to the
 * parameters (`p ← p + u`), so a learning-rate transform scales by −lr. Transforms return new
 * tensors and never modify their inputs in place.
 */

/** What a transform did on its last update, for logs, progress bars and diagnostics. */
export interface UpdateInfo {
  /** The transform's name, e.g. `clipByGlobalNorm`. */
  transform: string;
  /** The norm it measured before acting (clipping transforms). */
  normBefore?: number;
  /** The norm after acting. */
  normAfter?: number;
  /** Whether it changed the updates (a clip that bit). */
  clipped?: boolean;
  /** Whether the whole step was skipped (non-finite gradients). */
  skipped?: boolean;
}

/** One transform: `init` makes the state for the parameters, `update` maps updates and state. */
export interface GradientTransformation<S = unknown> {
  /** A short name for reports (`scaleByAdam`, `clipByGlobalNorm`, ...). */
  readonly name: string;
  init(params: readonly Tensor[]): S;
  /**
   * Maps `updates` (initially the gradients) to new updates and a new state. Transforms that
   * measure or change something push an {@link UpdateInfo} onto `info`.
   */
  update(updates: readonly (Tensor | null)[], state: S, params: readonly Tensor[], info: UpdateInfo[]): [(Tensor | null)[], S];
  /**
   * Only for transforms that multiply every update by one number (global-norm clipping): that
   * number, with the state and the info `update` would give, without writing the scaled updates.
   * An optimizer with a fused step folds it in; `update` must equal multiplying by it.
   */
  globalScale?(updates: readonly (Tensor | null)[], state: S, params: readonly Tensor[], info: UpdateInfo[]): [number, S];
}

/** Applies transforms one after another; the state is the list of their states. */
export function chain(...transforms: GradientTransformation<unknown>[]): GradientTransformation<unknown[]> {
  return {
    name: `chain(${transforms.map((t) => t.name).join(', ')})`,
    init: (params) => transforms.map((t) => t.init(params)),
    update(updates, state, params, info) {
      let u = updates as (Tensor | null)[];
      const next = state.map((s, i) => {
        const [nu, ns] = transforms[i].update(u, s, params, info);
        u = nu;
        return ns;
      });
      return [u, next];
    },
  };
}

/** `p ← p + u` for every parameter with an update, in place and unrecorded. */
export function applyUpdates_(params: readonly Tensor[], updates: readonly (Tensor | null)[]): void {
  noGrad(() => {
    params.forEach((p, i) => {
      const u = updates[i];
      if (u !== null && u !== undefined) add_(p, u);
    });
  });
}
