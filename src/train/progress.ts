/**
 * Keras-style progress output for `fit`: with verbose 1 a bar redrawn in place on a terminal
 * (`250/250 ━━━━━━━━━━━━━━━━━━━━ 2s 6ms/step - accuracy: 0.9312 - loss: 0.2290 - clipped: 12%`),
 * one line per epoch elsewhere (CI logs, files); with verbose 2 one line per epoch; 0 is silent.
 */

/** Where progress goes: anything with `write`, and `isTTY` when it can redraw a line. */
export interface ProgressSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** The default sink: standard output in Node, the console elsewhere. */
export function defaultSink(): ProgressSink {
  const stdout = (globalThis as { process?: { stdout?: ProgressSink } }).process?.stdout;
  if (stdout !== undefined) return stdout;
  let line = '';
  return {
    write(text: string) {
      line += text;
      const parts = line.split('\n');
      line = parts.pop() ?? '';
      for (const p of parts) console.log(p);
    },
  };
}

function fmtTime(seconds: number): string {
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  return `${Math.round(seconds)}s`;
}

function fmtValue(key: string, v: number): string {
  if (key.endsWith('clipped')) return `${(v * 100).toFixed(0)}%`;
  return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(4);
}

/** Formats `logs` as Keras does: ` - accuracy: 0.9312 - loss: 0.2290`. */
export function formatLogs(logs: Record<string, number>): string {
  return Object.entries(logs)
    .map(([k, v]) => ` - ${k}: ${fmtValue(k, v)}`)
    .join('');
}

/** One epoch's progress bar. */
export class ProgressBar {
  private readonly start = performance.now();
  private lastDraw = 0;

  constructor(
    private readonly total: number,
    private readonly verbose: 0 | 1 | 2,
    private readonly sink: ProgressSink,
  ) {}

  /** Redraws after `done` of `total` steps (at most every 50 ms on a terminal). */
  update(done: number, logs: Record<string, number>): void {
    if (this.verbose !== 1 || this.sink.isTTY !== true) return;
    const now = performance.now();
    if (done < this.total && now - this.lastDraw < 50) return;
    this.lastDraw = now;
    this.sink.write(`\r${this.line(done, logs)}\x1b[K`);
  }

  /** Prints the epoch's final line. */
  finish(logs: Record<string, number>): void {
    if (this.verbose === 0) return;
    this.sink.write(`${this.verbose === 1 && this.sink.isTTY === true ? '\r' : ''}${this.line(this.total, logs)}\n`);
  }

  private line(done: number, logs: Record<string, number>): string {
    const width = 20;
    const filled = this.total === 0 ? width : Math.round((width * done) / this.total);
    const bar = '━'.repeat(filled) + (filled < width ? '\x1b[2m' + '━'.repeat(width - filled) + '\x1b[0m' : '');
    const elapsed = (performance.now() - this.start) / 1000;
    const perStep = done > 0 ? (elapsed / done) * 1000 : 0;
    const timing =
      done < this.total
        ? `${fmtTime(((this.total - done) * perStep) / 1000)} ETA`
        : `${fmtTime(elapsed)} ${perStep >= 1 ? `${Math.round(perStep)}ms` : `${Math.round(perStep * 1000)}us`}/step`;
    const count = `${String(done).padStart(String(this.total).length)}/${this.total}`;
    return `${count} ${this.sink.isTTY === true ? bar : '━'.repeat(width)} ${timing}${formatLogs(logs)}`;
  }
}
