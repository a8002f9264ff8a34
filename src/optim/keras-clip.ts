/**
 * The Keras optimizer options `clipnorm`, `clipvalue` and `globalClipnorm` as gradient
 * transformations, with Keras 3's formulas (`keras/src/optimizers/base_optimizer.py`). Private to
 * the optimizer classes: the general clipping transforms live in `src/clip/`.
 */
import { ConfigError } from '../core/errors.js';
import { abs, clamp, div, gt, mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import type { Tensor } from '../tensor/tensor.js';
import { mapUpdates } from './transforms.js';
import type { GradientTransformation } from './transform.js';

/** Which Keras clipping option. */
export type KerasClipKind = 'clipnorm' | 'clipvalue' | 'globalClipnorm';

/** The Keras clipping options as an optimizer receives them. */
export interface KerasClipOptions {
  clipnorm?: number;
  clipvalue?: number;
  globalClipnorm?: number;
}

const sumSquares = (t: Tensor): number => (t.size === 0 ? 0 : t.backend.sumSquares(t));

/**
 * Validates the three options (at most one set; each positive and finite) and returns the
 * transform for the one that is set, or null.
 */
export function kerasClip(who: string, options: KerasClipOptions): GradientTransformation<null> | null {
  const set = (['clipnorm', 'clipvalue', 'globalClipnorm'] as const).filter((k) => options[k] !== undefined && options[k] !== null);
  if (set.length > 1)
    throw new ConfigError(
      `${who}: Only one of \`clipnorm\`, \`clipvalue\` and \`globalClipnorm\` can be set. Received: ` +
        `clipnorm=${String(options.clipnorm)}, clipvalue=${String(options.clipvalue)}, globalClipnorm=${String(options.globalClipnorm)}`,
    );
  if (set.length === 0) return null;
  const kind = set[0];
  const c = options[kind];
  if (typeof c !== 'number' || !Number.isFinite(c) || c <= 0)
    throw new ConfigError(
      `${who}: ${kind} must be a positive finite number (got ${String(c)}); to disable clipping, omit the option` +
        ' (Keras silently ignores 0 and negative values; Keel refuses them)',
    );
  switch (kind) {
    case 'clipnorm':
      return clipnormTransform(c);
    case 'globalClipnorm':
      return globalClipnormTransform(c);
    case 'clipvalue':
      return clipvalueTransform(c);
    default:
      return kind satisfies never;
  }
}

/** Per variable: g·c / max(‖g‖₂, c), multiplied first and always applied (no branch, no epsilon). */
function clipnormTransform(c: number): GradientTransformation<null> {
  return {
    name: 'clipnorm',
    init: () => null,
    update(updates, state, _params, info) {
      let before = 0;
      let after = 0;
      let clipped = false;
      const out = mapUpdates(updates, (g) => {
        const n = Math.sqrt(sumSquares(g));
        const d = Math.max(n, c); // NaN norm → NaN (Math.max propagates it), as ops.maximum
        before += n * n;
        after += n > c ? c * c : n * n;
        if (n > c) clipped = true;
        return div(mul(g, c), d);
      });
      info.push({ transform: 'clipnorm', normBefore: Math.sqrt(before), normAfter: Math.sqrt(after), clipped });
      return [out, state];
    },
  };
}

/**
 * All gradients together: scale = c·min(1/n, 1/c) + (n − n) with n the global L2 norm, so n = 0
 * gives 1 and a non-finite n gives NaN everywhere. Computed in float32 for float32 gradients, as
 * Keras computes it in the variables' dtype.
 */
function globalClipnormTransform(c: number): GradientTransformation<null> {
  const globalScale: NonNullable<GradientTransformation<null>['globalScale']> = (updates, state, _params, info) => {
    let ss = 0;
    let dtype: string | null = null;
    for (const g of updates) {
      if (g === null || g === undefined) continue;
      ss += sumSquares(g);
      dtype ??= g.dtype;
    }
    const r = dtype === 'float64' ? (x: number) => x : Math.fround;
    const n = r(Math.sqrt(ss));
    const scale = r(r(r(c) * Math.min(r(1 / n), r(1 / c))) + (n - n));
    info.push({ transform: 'globalClipnorm', normBefore: n, normAfter: n * scale, clipped: n > c });
    return [scale, state];
  };
  return {
    name: 'globalClipnorm',
    init: () => null,
    update(updates, state, params, info) {
      const [scale] = globalScale(updates, state, params, info);
      return [mapUpdates(updates, (g) => mul(g, scale)), state];
    },
    globalScale,
  };
}

/** Elementwise clamp to [−v, v] (NaN stays NaN). */
function clipvalueTransform(v: number): GradientTransformation<null> {
  return {
    name: 'clipvalue',
    init: () => null,
    update(updates, state, _params, info) {
      let before = 0;
      let after = 0;
      let clipped = false;
      const out = mapUpdates(updates, (g) => {
        before += sumSquares(g);
        if (g.size > 0 && sum(gt(abs(g), v)).item() > 0) clipped = true; // NaN entries compare false
        const c = clamp(g, -v, v);
        after += sumSquares(c);
        return c;
      });
      info.push({ transform: 'clipvalue', normBefore: Math.sqrt(before), normAfter: Math.sqrt(after), clipped });
      return [out, state];
    },
  };
}
