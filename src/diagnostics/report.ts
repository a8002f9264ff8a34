/**
 * The records a {@link GradientMonitor} keeps, the detectors that read them, and the terminal
 * summary.
 */

/** Statistics of one layer (Linear/Conv/recurrent) or activation module on a sampled step. */
export interface LayerRecord {
  /** The module's class. */
  type: string;
  /** Mean of its output (first output tensor, all elements). */
  mean: number;
  /** Standard deviation of its output (Bessel-corrected). */
  std: number;
  /** L2 norm of the gradients of its own parameters (null: none, or an activation module). */
  gradNorm: number | null;
  /** 'relu', 'tanh' or 'sigmoid' when the module applies one. */
  activation?: string;
  /** For tanh/sigmoid: fraction of outputs with |tanh| > 0.99, or sigmoid < 0.01 or > 0.99. */
  saturated?: number;
  /** For ReLU: fraction of units (axis 1) zero for every sample and position of the batch. */
  dead?: number;
  /** For an activation module: the layer whose output it took, or null. */
  after?: string | null;
  /** Histogram of its output's values (absent when `histogramBins` is 0 or no value is finite). */
  hist?: Histogram;
}

/** Counts of values in equal bins over [lo, hi]: bin i holds [lo + i·w, lo + (i+1)·w), the last one includes hi. */
export interface Histogram {
  /** The smallest finite value. */
  lo: number;
  /** The largest finite value. */
  hi: number;
  counts: number[];
  /** How many values were NaN or ±Inf (absent when none). */
  nonfinite?: number;
}

/** Statistics of one parameter on a sampled step. */
export interface ParamRecord {
  /** L2 norm of `.grad` at `step()` (null when it has none). */
  gradNorm: number | null;
  /** L2 norm of the parameter after the update. */
  paramNorm: number;
  /** ‖Δp‖ / ‖p‖ for the update applied between the forward pass and `step()` (null if ‖p‖ = 0). */
  updateRatio: number | null;
}

/** One sampled step, as a line of `toJSONL()`. */
export interface MonitorRecord {
  /** The step (0-based count of `step()` calls before this one). */
  step: number;
  /** The loss passed to `step()`. */
  loss?: number;
  /** Global L2 gradient norm before clipping (the optimizer's, else of the `.grad`s). */
  gradNorm: number;
  /** Global norm after clipping, when the optimizer reports one. */
  gradNormAfter: number | null;
  /** Whether a clipping transform changed the gradients (null: the optimizer reports no clipping). */
  clipped: boolean | null;
  /** Whether the optimizer skipped the step (non-finite gradients). */
  skipped: boolean;
  /** The first module producing a NaN/Inf: forward and backward (null when none). */
  nonfinite: { forward: string | null; backward: string | null };
  /** By module path. */
  layers: Record<string, LayerRecord>;
  /** By parameter path. */
  params: Record<string, ParamRecord>;
}

/** What a detector found. */
export type FindingKind = 'exploding' | 'clipRate' | 'vanishing' | 'deadRelu' | 'saturation' | 'nonfiniteForward' | 'nonfiniteBackward';

/** A problem found by {@link GradientMonitor.findings}: kind and layer identify it. */
export interface Finding {
  kind: FindingKind;
  /** The module's path (`'model'` for the root, `'global'` for whole-model findings). */
  layer: string;
  /** The sampled step it was first seen at. */
  step: number;
  /** How many sampled steps showed it. */
  count: number;
  /** What was seen and what to try. */
  message: string;
  /** For exploding/clipRate: the suggested global-norm clipping threshold (2 × the median of the first `window` sampled norms). */
  suggestedClipnorm?: number;
}

/** Thresholds of the detectors (see {@link MonitorOptions}). */
export interface DetectorOptions {
  /** Samples per window of the exploding-gradient detector (default 5). */
  window?: number;
  /** The exploding detector fires when the median of the last `window` norms exceeds this many times the first `window`'s (default 10). */
  growthFactor?: number;
  /** The clip-rate detector fires when more than this fraction of sampled steps were clipped (default 0.5). */
  clipRateThreshold?: number;
  /** A layer's gradient norm below this times the largest layer's is vanishing (default 1e-7). */
  vanishingRatio?: number;
  /** Dead-ReLU detector: fraction of units never active on the batch (default 0.5). */
  deadThreshold?: number;
  /** Saturation detector: fraction of saturated tanh/sigmoid outputs (default 0.5). */
  saturationThreshold?: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A number for messages. */
export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a === 0 ? '0' : a >= 1e-3 && a < 1e4 ? x.toPrecision(3) : x.toExponential(2);
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;

/** The initializer suggestion for the activation after a layer (as `init.check` suggests). */
function initFor(act: string | undefined): string {
  if (act === 'relu') return "He init: kaimingNormal_(weight, { nonlinearity: 'relu' }) (Keras 'heNormal')";
  if (act === 'tanh') return "Xavier init: xavierUniform_(weight, { gain: calculateGain('tanh') }) (Keras 'glorotUniform')";
  return "Xavier init: xavierUniform_(weight) (Keras 'glorotUniform')";
}

/** The activation that follows each layer, from the activation modules' `after`. */
function activationAfter(rec: MonitorRecord): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of Object.values(rec.layers)) if (l.after !== undefined && l.after !== null && l.activation !== undefined) out.set(l.after, l.activation);
  for (const [name, l] of Object.entries(rec.layers)) if (l.after === undefined && l.activation !== undefined) out.set(name, l.activation);
  return out;
}

/**
 * Runs the detectors over `records` (in step order):
 * - exploding: with at least 2·window finite samples, the median of the last `window` global
 *   norms exceeds `growthFactor` × the median of the first `window`; or a non-finite global norm;
 * - clipRate: with at least `window` samples that report clipping, more than
 *   `clipRateThreshold` of them were clipped;
 * - vanishing: a layer's gradient norm is below `vanishingRatio` × the largest layer's (same step);
 * - deadRelu / saturation: a ReLU's dead fraction, or a tanh/sigmoid's saturated fraction, above
 *   its threshold;
 * - nonfiniteForward / nonfiniteBackward: the NaN locator named a module.
 * The suggested clipping threshold is 2 × the median of the first `window` sampled global norms
 * (the norm while training was still healthy).
 */
export function detect(records: readonly MonitorRecord[], options?: DetectorOptions): Finding[] {
  const window = options?.window ?? 5;
  const growth = options?.growthFactor ?? 10;
  const clipRate = options?.clipRateThreshold ?? 0.5;
  const vanishing = options?.vanishingRatio ?? 1e-7;
  const deadT = options?.deadThreshold ?? 0.5;
  const satT = options?.saturationThreshold ?? 0.5;
  const found = new Map<string, Finding>();
  const finite = records.filter((r) => Number.isFinite(r.gradNorm)).map((r) => r.gradNorm);
  const healthy = finite.slice(0, window);
  const clipAt = healthy.length > 0 ? 2 * median(healthy) : Number.NaN;
  const add = (kind: FindingKind, layer: string, step: number, message: string): void => {
    const key = `${kind}\u0000${layer}`;
    const f = found.get(key);
    const clip = (kind === 'exploding' || kind === 'clipRate') && Number.isFinite(clipAt) ? { suggestedClipnorm: clipAt } : {};
    if (f === undefined) found.set(key, { kind, layer, step, count: 1, message, ...clip });
    else f.count++;
  };
  const clipHint = Number.isFinite(clipAt)
    ? `clip the global norm at about ${fmtNum(clipAt)} (2 × the median of the first ${healthy.length} sampled global gradient norms: clipGradNorm_(params, ${fmtNum(clipAt)}) or the optimizer's globalClipnorm)`
    : 'clip the global gradient norm (clipGradNorm_ or the optimizer option globalClipnorm)';
  const norms: number[] = [];
  let clipSeen = 0;
  let clipHit = 0;
  for (const r of records) {
    if (!Number.isFinite(r.gradNorm)) add('exploding', 'global', r.step, `global gradient norm is ${r.gradNorm} at step ${r.step}; lower the learning rate and ${clipHint}`);
    else norms.push(r.gradNorm);
    if (norms.length >= 2 * window) {
      const first = median(norms.slice(0, window));
      const last = median(norms.slice(-window));
      if (last > growth * first)
        add(
          'exploding',
          'global',
          r.step,
          `global gradient norm grew from a median of ${fmtNum(first)} (first ${window} samples) to ${fmtNum(last)} (last ${window}); lower the learning rate or ${clipHint}`,
        );
    }
    if (r.clipped !== null) {
      clipSeen++;
      if (r.clipped) clipHit++;
      if (clipSeen >= window && clipHit / clipSeen > clipRate)
        add(
          'clipRate',
          'global',
          r.step,
          `clipping acted on ${pct(clipHit / clipSeen)} of ${clipSeen} sampled steps (pre-clip median ${fmtNum(median(norms.length > 0 ? norms : [Number.NaN]))}): the learning rate may be too high or the threshold too low; try a threshold near 2 × that median`,
        );
    }
    // After a NaN/Inf the activation and gradient statistics are noise: only the NaN is reported.
    if (!Number.isFinite(r.gradNorm) || r.nonfinite.forward !== null || r.nonfinite.backward !== null) {
      reportNonfinite(r, add);
      continue;
    }
    const acts = activationAfter(r);
    const grads = Object.entries(r.layers).filter((e): e is [string, typeof e[1] & { gradNorm: number }] => e[1].gradNorm !== null && Number.isFinite(e[1].gradNorm));
    const top = Math.max(0, ...grads.map(([, l]) => l.gradNorm));
    const topName = grads.find(([, l]) => l.gradNorm === top)?.[0];
    if (top > 0)
      for (const [name, l] of grads)
        if (l.gradNorm < vanishing * top)
          add(
            'vanishing',
            name,
            r.step,
            `${name} (${l.type}): gradient norm ${fmtNum(l.gradNorm)} is below ${vanishing} × the largest layer's (${topName}: ${fmtNum(top)}); ` +
              `try ${initFor(acts.get(name))}${acts.get(name) === 'sigmoid' || acts.get(name) === 'tanh' ? ', ReLU activations with He init' : ''}, fewer layers, or normalization (BatchNorm/LayerNorm) or residual connections`,
          );
    for (const [name, l] of Object.entries(r.layers)) {
      const src = l.after !== undefined && l.after !== null ? ` after ${l.after}` : '';
      if (l.dead !== undefined && l.dead > deadT)
        add(
          'deadRelu',
          name,
          r.step,
          `${name} (${l.type})${src}: ${pct(l.dead)} of ReLU units never active on the batch; try ${initFor('relu')} with zero biases, a lower learning rate, or LeakyReLU`,
        );
      if (l.saturated !== undefined && l.saturated > satT)
        add(
          'saturation',
          name,
          r.step,
          `${name} (${l.type})${src}: ${pct(l.saturated)} of ${l.activation} outputs saturated; try ${initFor(l.activation)}, normalized inputs, or a lower learning rate`,
        );
    }
  }
  return [...found.values()];
}

function reportNonfinite(r: MonitorRecord, add: (kind: FindingKind, layer: string, step: number, message: string) => void): void {
  if (r.nonfinite.forward !== null)
    add('nonfiniteForward', r.nonfinite.forward, r.step, `forward: ${r.nonfinite.forward} produced NaN/Inf from finite inputs at step ${r.step}; check its weights (scale, init) and any log/sqrt/division in it`);
  if (r.nonfinite.backward !== null)
    add(
      'nonfiniteBackward',
      r.nonfinite.backward,
      r.step,
      `backward: ${r.nonfinite.backward} turned a finite output gradient into a NaN/Inf input gradient at step ${r.step}; guard its sqrt/log/division at 0 (add an epsilon or clamp)`,
    );
}

const BARS = '▁▂▃▄▅▆▇█';

/** A log-scale sparkline of `xs` over [lo, hi] (log10 values); '·' for no value, '!' for non-finite. */
export function sparkline(xs: readonly (number | null)[], lo: number, hi: number): string {
  return xs
    .map((x) => {
      if (x === null) return '·';
      if (!Number.isFinite(x)) return '!';
      if (x <= 0) return ' ';
      const t = hi > lo ? (Math.log10(x) - lo) / (hi - lo) : 0.5;
      return BARS[Math.min(7, Math.max(0, Math.round(t * 7)))];
    })
    .join('');
}

/** Evenly spaced picks of at most `n` items. */
function thin<T>(xs: readonly T[], n: number): T[] {
  if (xs.length <= n) return [...xs];
  return Array.from({ length: n }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (n - 1))]);
}

/** The summary text of {@link GradientMonitor.summary}. */
export function formatSummary(records: readonly MonitorRecord[], findings: readonly Finding[], every: number, steps: number): string {
  if (records.length === 0) return `GradientMonitor: no sampled steps yet (every ${every}, ${steps} steps)`;
  const recs = thin(records, 40);
  const norms = records.map((r) => r.gradNorm).filter(Number.isFinite);
  const clipped = records.filter((r) => r.clipped !== null);
  const lines = [
    `GradientMonitor: ${records.length} sampled steps (every ${every}) of ${steps}; global grad norm median ${fmtNum(norms.length > 0 ? median(norms) : Number.NaN)}, last ${fmtNum(records[records.length - 1].gradNorm)}` +
      (clipped.length > 0 ? `; clipped on ${pct(clipped.filter((r) => r.clipped === true).length / clipped.length)} of samples` : ''),
  ];
  const names = [...new Set(records.flatMap((r) => Object.entries(r.layers).filter(([, l]) => l.gradNorm !== null).map(([n]) => n)))];
  const series = names.map((n) => recs.map((r) => r.layers[n]?.gradNorm ?? null));
  const logs = series.flat().filter((x): x is number => x !== null && Number.isFinite(x) && x > 0).map(Math.log10);
  const lo = logs.length > 0 ? Math.min(...logs) : 0;
  const hi = logs.length > 0 ? Math.max(...logs) : 0;
  const width = Math.max(5, ...names.map((n) => n.length));
  lines.push(`${'layer'.padEnd(width)}  grad norm (log scale ${fmtNum(10 ** lo)}..${fmtNum(10 ** hi)})  last      act mean/std`);
  const last = records[records.length - 1];
  names.forEach((n, i) => {
    const l = last.layers[n];
    const g = l?.gradNorm ?? null;
    lines.push(`${n.padEnd(width)}  ${sparkline(series[i], lo, hi).padEnd(40)}  ${(g === null ? '—' : fmtNum(g)).padEnd(8)}  ${l === undefined ? '—' : `${fmtNum(l.mean)}/${fmtNum(l.std)}`}`);
  });
  if (findings.length === 0) lines.push('no problems found');
  for (const f of findings) lines.push(`! [${f.kind}] step ${f.step}${f.count > 1 ? ` (seen ${f.count}×)` : ''}: ${f.message}`);
  return lines.join('\n');
}
