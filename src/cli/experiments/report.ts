import type { ProgressSink } from '../../train/progress.js';

/** One checked claim of an experiment: what it says, the measured value, and whether it held. */
export interface Claim {
  /** The claim in words, with its threshold (e.g. `He final loss < 0.3`). */
  text: string;
  /** The measured quantity the claim is about. */
  measured: number;
  /** Whether the measured value satisfies the claim. */
  ok: boolean;
}

/** What every experiment returns: its claims plus experiment-specific numbers. */
export interface ExperimentResult {
  /** The experiment's name (`he2015`, …). */
  name: string;
  /** The checked claims; the experiment passes when every one holds. */
  claims: Claim[];
  /** Whether every claim held. */
  ok: boolean;
  /** Wall-clock seconds. */
  seconds: number;
}

/** Options every experiment accepts. */
export interface ExperimentOptions {
  /** Where the tables go (default: nowhere). */
  out?: ProgressSink;
  /** Seed of the weights and the data (default 0). */
  seed?: number;
}

/** A claim `measured < bound` (or `>` with `above`). */
export function claim(text: string, measured: number, ok: boolean): Claim {
  return { text, measured, ok: Number.isFinite(measured) && ok };
}

/** Formats a number compactly for the tables. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e4 ? x.toPrecision(4) : x.toExponential(2);
}

/** A plain-text table: a header row, then rows, columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j]?.length ?? 0)));
  const line = (cells: readonly string[]): string => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
  return `${[line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`;
}

/** Writes the claims with ✓/✗ marks. */
export function writeClaims(out: ProgressSink | undefined, claims: readonly Claim[]): void {
  if (out === undefined) return;
  for (const c of claims) out.write(`${c.ok ? 'PASS' : 'FAIL'}  ${c.text}  (measured ${fmt(c.measured)})\n`);
}

/** Mean and (population) standard deviation of the values. */
export function meanStd(v: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  const mean = s / v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i] - mean) ** 2;
  return { mean, std: Math.sqrt(q / v.length) };
}

/** Seconds since `t0` (from `performance.now()`). */
export function since(t0: number): number {
  return (performance.now() - t0) / 1000;
}
