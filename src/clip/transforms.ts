import { noGrad } from '../autograd/grad-mode.js';
import { ConfigError } from '../core/errors.js';
import { abs, clamp, div } from '../ops/elementwise.js';
import { max } from '../ops/reduce.js';
import type { GradientTransformation, UpdateInfo } from '../optim/transform.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkKeys, checkPositive, describe, globalNorm, scaled, sumSquares } from './common.js';

/**
 * Clipping as gradient transformations (Optax's `{ init, update }`), to be joined with optimizers
 * by `chain()`. Each measures the updates, returns new tensors (never writing into its inputs; an
 * update it leaves alone is passed through as the same tensor) and pushes an {@link UpdateInfo}
 * with the global L2 norm before and after (measured in float64) and whether it clipped.
 *
 * Two families of names: Optax's verbs (`clipByValue`, `clipByGlobalNorm`, `clipByBlockRms`) and
 * Keras' optimizer options (`clipvalue` = {@link clipByValue}, `clipnorm` = {@link clipByNorm},
 * per tensor, `global_clipnorm` = {@link kerasGlobalClipnorm}), gathered by {@link kerasClipTransform}.
 */

/** The state of a transform that keeps none. */
export type EmptyState = Record<string, never>;

/** @internal Runs `fn` without recording and frees its temporaries (what it returns survives). */
export function measure<T>(fn: () => T): T {
  return noGrad(() => tidy(fn));
}

/** @internal Pushes the standard clipping report. */
export function report(info: UpdateInfo[], transform: string, normBefore: number, out: readonly (Tensor | null)[], clipped: boolean): void {
  info.push({ transform, normBefore, normAfter: globalNorm(out), clipped });
}

/** A stateless transform from a function of the updates. */
function stateless(
  name: string,
  apply: (updates: readonly (Tensor | null)[]) => { out: (Tensor | null)[]; clipped: boolean },
): GradientTransformation<EmptyState> {
  return {
    name,
    init: () => ({}),
    update(updates, state, _params, info) {
      const normBefore = globalNorm(updates);
      const { out, clipped } = measure(() => apply(updates));
      report(info, name, normBefore, out, clipped);
      return [out, state];
    },
  };
}

/**
 * Clamps every update entry into `[−maxDelta, maxDelta]`: Optax's `clip(max_delta)` and Keras'
 * `clipvalue`. NaN entries stay NaN.
 *
 * @param maxDelta The largest magnitude allowed (> 0).
 * @example const opt = chain(clipByValue(0.5), scaleByLearningRate(0.1));
 */
export function clipByValue(maxDelta: number): GradientTransformation<EmptyState> {
  const name = 'clipByValue';
  checkPositive(name, 'maxDelta', maxDelta, ' (omit the transform to disable clipping)');
  return stateless(name, (updates) => {
    let clipped = false;
    const out = updates.map((u) => {
      if (u === null || u.size === 0) return u;
      if (max(abs(u)).item() > maxDelta) clipped = true;
      return clamp(u, -maxDelta, maxDelta);
    });
    return { out, clipped };
  });
}

/**
 * Clips each update tensor to an L2 norm of at most `maxNorm`, separately: Keras' per-variable
 * `clipnorm`, `g ← g·c / max(‖g‖₂, c)`, with no epsilon (a tensor whose norm is at most `c` is
 * unchanged). A NaN norm makes that tensor NaN; an infinite one makes its finite entries 0 and its
 * infinite ones NaN.
 *
 * @param maxNorm The largest norm of each tensor (> 0).
 * @example chain(clipByNorm(1.0), scaleByLearningRate(0.01)) // Keras: SGD(learning_rate=0.01, clipnorm=1.0)
 */
export function clipByNorm(maxNorm: number): GradientTransformation<EmptyState> {
  const name = 'clipByNorm';
  checkPositive(name, 'maxNorm', maxNorm, ' (omit the transform to disable clipping)');
  return stateless(name, (updates) => {
    let clipped = false;
    const out = updates.map((u) => {
      if (u === null) return null;
      const n = Math.sqrt(sumSquares(u));
      const scale = maxNorm / Math.max(n, maxNorm); // NaN for a NaN norm, 1 when n ≤ maxNorm
      if (scale === 1) return u;
      clipped = true;
      return scaled(u, scale);
    });
    return { out, clipped };
  });
}

/**
 * Clips the updates to a global L2 norm of at most `maxNorm`, as Optax's
 * `clip_by_global_norm`: with `g` the norm of all updates together, they are kept as they are
 * when `g < maxNorm` and scaled by `maxNorm / g` otherwise. No epsilon. A NaN norm makes every
 * update NaN; an infinite one makes finite entries 0 and infinite ones NaN. For Keras'
 * `global_clipnorm` (every update NaN when the norm is not finite) use {@link kerasGlobalClipnorm}.
 *
 * @param maxNorm The largest global norm (> 0).
 * @example const opt = chain(clipByGlobalNorm(1.0), scaleByAdam(), scaleByLearningRate(1e-3));
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<EmptyState> {
  const name = 'clipByGlobalNorm';
  checkPositive(name, 'maxNorm', maxNorm, ' (omit the transform to disable clipping)');
  return {
    name,
    init: () => ({}),
    update(updates, state, _params, info) {
      const g = globalNorm(updates);
      if (g < maxNorm) {
        info.push({ transform: name, normBefore: g, normAfter: g, clipped: false });
        return [[...updates], state];
      }
      const scale = maxNorm / g;
      const out = measure(() => updates.map((u) => (u === null ? null : scaled(u, scale))));
      report(info, name, g, out, true);
      return [out, state];
    },
    globalScale(updates, state, _params, info) {
      const g = globalNorm(updates);
      const scale = g < maxNorm ? 1 : maxNorm / g;
      // normAfter is the scaled norm in exact arithmetic (update's report measures the rounded copies).
      info.push({ transform: name, normBefore: g, normAfter: g * scale, clipped: scale !== 1 });
      return [scale, state];
    },
  };
}

/**
 * Keras' `global_clipnorm`: with `n` the L2 norm of all updates together, every update is scaled
 * by `c·min(1/n, 1/c)` — unchanged when `n ≤ c` (and when `n = 0`), `c/n` otherwise — and when
 * `n` is NaN or ±Inf every update becomes NaN (Keras adds `n − n` to the scale). Keel computes
 * the scale in float64; the float64 reference is Keras' formula in exact arithmetic.
 *
 * @param clipnorm The largest global norm (> 0; Keras would silently disable clipping for ≤ 0).
 * @example chain(kerasGlobalClipnorm(1.0), scaleByLearningRate(0.01)) // Keras: SGD(global_clipnorm=1.0)
 */
export function kerasGlobalClipnorm(clipnorm: number): GradientTransformation<EmptyState> {
  const name = 'kerasGlobalClipnorm';
  checkPositive(name, 'clipnorm', clipnorm, ' (omit the transform to disable clipping)');
  return {
    name,
    init: () => ({}),
    update(updates, state, _params, info) {
      const n = globalNorm(updates);
      const scale = !Number.isFinite(n) ? NaN : n <= clipnorm ? 1 : clipnorm / n;
      if (scale === 1) {
        info.push({ transform: name, normBefore: n, normAfter: n, clipped: false });
        return [[...updates], state];
      }
      const out = measure(() => updates.map((u) => (u === null ? null : scaled(u, scale))));
      report(info, name, n, out, true);
      return [out, state];
    },
    globalScale(updates, state, _params, info) {
      const n = globalNorm(updates);
      const scale = !Number.isFinite(n) ? NaN : n <= clipnorm ? 1 : clipnorm / n;
      info.push({ transform: name, normBefore: n, normAfter: n * scale, clipped: scale !== 1 });
      return [scale, state];
    },
  };
}

/**
 * Clips each update tensor so that its root mean square is at most `threshold`, as Optax's
 * `clip_by_block_rms`: `u / max(1, rms(u) / threshold)`.
 *
 * @param threshold The largest RMS of each tensor (> 0).
 * @example chain(clipByBlockRms(1.0), scaleByLearningRate(0.1))
 */
export function clipByBlockRms(threshold: number): GradientTransformation<EmptyState> {
  const name = 'clipByBlockRms';
  checkPositive(name, 'threshold', threshold, ' (omit the transform to disable clipping)');
  return stateless(name, (updates) => {
    let clipped = false;
    const out = updates.map((u) => {
      if (u === null || u.size === 0) return u;
      const denom = Math.max(1, Math.sqrt(sumSquares(u) / u.size) / threshold); // NaN stays NaN
      if (denom === 1) return u;
      clipped = true;
      return div(u, denom);
    });
    return { out, clipped };
  });
}

/** Keras' optimizer clipping options (at most one may be set). */
export interface KerasClipOptions {
  /** Per-variable norm clipping: `g·c / max(‖g‖₂, c)` for each gradient. */
  clipnorm?: number | null;
  /** Elementwise clipping into `[−v, v]`. */
  clipvalue?: number | null;
  /** Global norm clipping over all gradients together (Keras' `global_clipnorm`). */
  globalClipnorm?: number | null;
}

/**
 * The transform for Keras-style optimizer options, for optimizer classes that accept them:
 * `clipnorm` → {@link clipByNorm}, `clipvalue` → {@link clipByValue}, `globalClipnorm` →
 * {@link kerasGlobalClipnorm}; null when none is set. Setting more than one is an error, as in
 * Keras; so is a value ≤ 0, which Keras silently treats as "no clipping".
 *
 * @example const clip = kerasClipTransform({ clipnorm: 1.0 }); const opt = clip ? chain(clip, sgd) : sgd;
 */
export function kerasClipTransform(options: KerasClipOptions): GradientTransformation<EmptyState> | null {
  const fn = 'kerasClipTransform';
  checkKeys(fn, options, ['clipnorm', 'clipvalue', 'globalClipnorm']);
  const set = (['clipnorm', 'clipvalue', 'globalClipnorm'] as const).filter((k) => options?.[k] !== undefined && options?.[k] !== null);
  if (set.length > 1)
    throw new ConfigError(`${fn}: Only one of \`clipnorm\`, \`clipvalue\` and \`globalClipnorm\` can be set (got ${set.join(' and ')})`);
  if (set.length === 0) return null;
  const key = set[0];
  const value = options[key];
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0)
    throw new ConfigError(
      `${fn}: ${key} must be a positive number (got ${describe(value)}); Keras silently disables clipping for 0 or negative values — omit the option to disable clipping`,
    );
  if (key === 'clipnorm') return clipByNorm(value);
  if (key === 'clipvalue') return clipByValue(value);
  return kerasGlobalClipnorm(value);
}
