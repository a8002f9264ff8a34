import type { TypedArray } from '../../core/dtype.js';
import type { AdamStepScalars, UpdateSquares } from '../backend.js';

// The reference kernels of gradient clipping and optimizer updates over whole buffers: plain
// loops that round every operation to the buffer's dtype, so the wasm kernels can be checked
// against them bit for bit.

const identity = (x: number): number => x;

/** The rounding of one arithmetic result to `a`'s element type. */
function rounding(a: TypedArray): (x: number) => number {
  return a instanceof Float32Array ? Math.fround : identity;
}

/** `y ← alpha·y`, `alpha` rounded to y's dtype first (a Float32Array store rounds the product). */
export function scaleArray(y: TypedArray, alpha: number): void {
  const c = rounding(y)(alpha);
  for (let i = 0; i < y.length; i++) y[i] = y[i] * c;
}

/**
 * One Adam step in place on `p`, `m`, `v` (see Backend.adamStep for the formula); with `measure`,
 * also `[Σ p², Σ (p − p_before)², Σ g²]` in float64 (else null).
 */
export function adamArrays(p: TypedArray, g: TypedArray, m: TypedArray, v: TypedArray, s: AdamStepScalars, measure = false): UpdateSquares | null {
  const r = rounding(p);
  const scale = r(s.gradScale);
  const wd = r(s.weightDecay);
  const b1 = r(s.beta1);
  const c1 = r(1 - s.beta1);
  const b2 = r(s.beta2);
  const c2 = r(1 - s.beta2);
  const sqrtBc2 = r(Math.sqrt(s.biasCorrection2));
  const eps = r(s.eps);
  const invBc1 = r(1 / s.biasCorrection1);
  const negLr = r(-s.lr);
  const decay = s.weightDecay !== 0;
  let sp = 0;
  let sd = 0;
  let sg = 0;
  for (let i = 0; i < p.length; i++) {
    const before = p[i];
    let gi = r(g[i] * scale);
    if (decay) gi = r(gi + r(p[i] * wd));
    const mi = r(r(m[i] * b1) + r(gi * c1));
    const vi = r(r(v[i] * b2) + r(r(gi * c2) * gi));
    const den = r(r(r(Math.sqrt(vi)) / sqrtBc2) + eps);
    m[i] = mi;
    v[i] = vi;
    p[i] = r(p[i] + r(r(r(mi / den) * invBc1) * negLr));
    if (measure) {
      const d = r(p[i] - before);
      sp += p[i] * p[i];
      sd += d * d;
      sg += g[i] * g[i];
    }
  }
  return measure ? [sp, sd, sg] : null;
}

/** `[Σ p², Σ (p − before)², Σ g²]` in float64, each difference rounded to p's dtype (see Backend.updateSquares). */
export function updateSquaresArrays(p: TypedArray, before: TypedArray, g: TypedArray | null): UpdateSquares {
  const r = rounding(p);
  let sp = 0;
  let sd = 0;
  let sg = 0;
  for (let i = 0; i < p.length; i++) {
    const d = r(p[i] - before[i]);
    sp += p[i] * p[i];
    sd += d * d;
  }
  if (g !== null) for (let i = 0; i < g.length; i++) sg += g[i] * g[i];
  return [sp, sd, sg];
}
