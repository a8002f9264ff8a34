import type { TypedArray } from '../../core/dtype.js';
import type { StatsActivation, ValueStats } from '../backend.js';

// The reference of Backend.valueStats: statistics of a layer's output for a training monitor,
// walked in plain loops (one pass for the moments and the range, one for the histogram, which
// needs the range, and a short one for the activation's fraction).

/**
 * Counts of the values of `v` in `bins` equal bins over [lo, hi]: bin ⌊(x − lo)·bins/(hi − lo)⌋
 * in float64, the top value in the last bin. `finite`: every value is known to be finite, so the
 * range check can be left out (otherwise NaN/±Inf, the only values outside [lo, hi], are skipped).
 */
function histogram(v: TypedArray, start: number, n: number, lo: number, hi: number, bins: number, finite: boolean): number[] {
  const scale = hi > lo ? bins / (hi - lo) : 0;
  const last = bins - 1;
  const end = start + n;
  if (finite) {
    // Four tallies, one per lane of four consecutive values, added at the end: runs of values in
    // one bin (the zeros of a ReLU) then do not wait on the previous increment of that bin.
    const tally = new Int32Array(4 * bins);
    let i = start;
    for (; i + 4 <= end; i += 4) {
      const b0 = ((v[i] - lo) * scale) | 0; // floor: the argument is in [0, bins]
      const b1 = ((v[i + 1] - lo) * scale) | 0;
      const b2 = ((v[i + 2] - lo) * scale) | 0;
      const b3 = ((v[i + 3] - lo) * scale) | 0;
      tally[b0 > last ? last : b0]++;
      tally[bins + (b1 > last ? last : b1)]++;
      tally[2 * bins + (b2 > last ? last : b2)]++;
      tally[3 * bins + (b3 > last ? last : b3)]++;
    }
    for (; i < end; i++) {
      const b = ((v[i] - lo) * scale) | 0;
      tally[b > last ? last : b]++;
    }
    const counts = new Array<number>(bins);
    for (let b = 0; b < bins; b++) counts[b] = tally[b] + tally[bins + b] + tally[2 * bins + b] + tally[3 * bins + b];
    return counts;
  }
  const counts = new Array<number>(bins).fill(0);
  for (let i = start; i < end; i++) {
    const x = v[i];
    if (x >= lo && x <= hi) {
      const b = ((x - lo) * scale) | 0;
      counts[b > last ? last : b]++;
    }
  }
  return counts;
}

/**
 * Statistics of the `n` values of `v` from `start`, laid out `[batch, units, inner]` when `layout`
 * is given (see Backend.valueStats).
 */
export function valueStatsArray(
  v: TypedArray,
  start: number,
  n: number,
  bins: number,
  act: StatsActivation,
  layout: readonly [number, number, number] | null,
): ValueStats {
  const end = start + n;
  let s = 0;
  let s2 = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = start; i < end; i++) {
    const x = v[i];
    s += x;
    s2 += x * x;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  // A finite sum of squares (accumulated in float64) means every value is finite; otherwise find
  // the range of the finite values and count the NaN/±Inf (rare: a second pass).
  let nonfinite = 0;
  if (!Number.isFinite(s2)) {
    lo = Number.POSITIVE_INFINITY;
    hi = Number.NEGATIVE_INFINITY;
    for (let i = start; i < end; i++) {
      const x = v[i];
      if (x - x !== 0) nonfinite++; // NaN, ±Inf
      else {
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
  }
  const counts = bins > 0 && lo <= hi ? histogram(v, start, n, lo, hi, bins, nonfinite === 0) : [];
  let saturated = 0;
  if (act === 'tanh') {
    for (let i = start; i < end; i++) if (Math.abs(v[i]) > 0.99) saturated++;
  } else if (act === 'sigmoid') {
    for (let i = start; i < end; i++) if (v[i] < 0.01 || v[i] > 0.99) saturated++;
  }
  let dead = 0;
  if (act === 'relu' && layout !== null) {
    // A unit is dead when it is ≤ 0 (or NaN) for every sample and position. Unit by unit,
    // stopping at its first positive value (usually in sample 0).
    const [batch, units, inner] = layout;
    for (let u = 0; u < units; u++) {
      let on = false;
      for (let b = 0; b < batch && !on; b++)
        for (let k = 0, at = start + (b * units + u) * inner; k < inner; k++)
          if (v[at + k] > 0) {
            on = true;
            break;
          }
      if (!on) dead++;
    }
  }
  return { sum: s, sumSquares: s2, min: lo, max: hi, nonfinite, histogram: counts, saturated, dead };
}
