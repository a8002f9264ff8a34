import { KeelError } from '../core/errors.js';
import { type DetectorOptions, type Finding, type MonitorRecord, detect } from './report.js';

/**
 * The JSON Lines run log that a {@link GradientMonitor} streams (`logFile` / `logSink`) and that
 * `keel report` reads. One JSON object per line, told apart by `type`:
 * - `run`: the header, written when the log is opened: sampling interval, clipping threshold,
 *   detector thresholds, and a free description of the run;
 * - `step`: one sampled step, a {@link MonitorRecord} (what `toJSONL()` writes);
 * - `epoch`: end-of-epoch metrics (`loss`, `accuracy`, `val_loss`, ..., flattened as the
 *   `MetricsLogger` writes them) with the number of steps done so far;
 * - `findings`: the detectors' findings, written when the monitor is detached.
 * Non-finite numbers are written as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
 */

/** The first line of a run log. */
export interface RunHeader {
  /** Always `'run'`. */
  type: 'run';
  /** The log's format and version. */
  format: typeof RUN_LOG_FORMAT;
  /** The monitor samples every this many steps. */
  every: number;
  /** The global-norm clipping threshold of the run, when known (drawn in reports). */
  clipThreshold?: number;
  /** The detectors' thresholds (used when the log ends before its findings line). */
  detector?: DetectorOptions;
  /** A free description of the run (dataset, optimizer, learning rate, ...). */
  info?: Record<string, string | number | boolean>;
}

/** End-of-epoch metrics, as `fit` reports them to callbacks. */
export interface EpochRecord {
  /** The epoch, 1-based. */
  epoch: number;
  /** Training steps done when the epoch ended. */
  step: number;
  /** The epoch's metrics: `loss`, `accuracy`, `val_loss`, `val_accuracy`, `clipped`, ... */
  logs: Record<string, number>;
}

/** A parsed run log. */
export interface RunLog {
  header: RunHeader | null;
  /** The sampled steps, in the order they were written. */
  steps: MonitorRecord[];
  epochs: EpochRecord[];
  /** The last findings line, or the detectors run over `steps` when the log has none. */
  findings: Finding[];
}

/** The `format` of the header line. */
export const RUN_LOG_FORMAT = 'keel-run/1';

/** One JSON line; non-finite numbers become strings (JSON has no NaN). */
export function toLogLine(value: object): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

/** Keys whose string values are names, never numbers written as strings. */
const TEXT_KEYS = new Set(['type', 'format', 'after', 'layer', 'message', 'kind', 'forward', 'backward', 'activation']);
const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };

function revive(key: string, v: unknown): unknown {
  return typeof v === 'string' && !TEXT_KEYS.has(key) && v in NON_FINITE ? NON_FINITE[v] : v;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses a run log (`text`, the file's contents; `source` names it in errors). Lines without a
 * `type` are read as a step when they have `step` and `gradNorm` (the output of `toJSONL()`),
 * as an epoch when they have `epoch` (the `MetricsLogger`'s lines); lines of an unknown `type`
 * are skipped, blank lines too. Throws a KeelError naming `source:line` for a line that is not
 * JSON or lacks a required field, and for a log with no step or epoch at all.
 */
export function parseRunLog(text: string, source = 'run log'): RunLog {
  const out: RunLog = { header: null, steps: [], epochs: [], findings: [] };
  let findings: Finding[] | null = null;
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `${source}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line, revive);
    } catch (e) {
      throw new KeelError(`parseRunLog: ${where}: not JSON (${(e as Error).message}); each line of a run log is one JSON object`);
    }
    if (!isObject(v)) throw new KeelError(`parseRunLog: ${where}: expected a JSON object, got ${Array.isArray(v) ? 'an array' : JSON.stringify(v)}`);
    const type = v.type ?? ('gradNorm' in v && 'step' in v ? 'step' : 'epoch' in v ? 'epoch' : undefined);
    if (type === 'run') out.header = readHeader(v, where);
    else if (type === 'step') out.steps.push(readStep(v, where));
    else if (type === 'epoch') out.epochs.push(readEpoch(v, where));
    else if (type === 'findings') findings = readFindings(v, where);
    else if (type === undefined)
      throw new KeelError(`parseRunLog: ${where}: a line without "type" must be a step (with "step" and "gradNorm") or an epoch (with "epoch")`);
  });
  if (out.steps.length === 0 && out.epochs.length === 0)
    throw new KeelError(
      `parseRunLog: ${source} has no sampled steps and no epochs${lines.every((l) => l.trim() === '') ? ' (the file is empty)' : ''}; ` +
        "write one with keel train --monitor FILE or new GradientMonitor({ logFile: 'run.jsonl' })",
    );
  out.findings = findings ?? detect(out.steps, out.header?.detector);
  return out;
}

function num(v: Json, key: string, where: string): number {
  const x = v[key];
  if (typeof x !== 'number') throw new KeelError(`parseRunLog: ${where}: "${key}" must be a number (got ${JSON.stringify(x) ?? 'nothing'})`);
  return x;
}

function readHeader(v: Json, where: string): RunHeader {
  const h: RunHeader = { type: 'run', format: RUN_LOG_FORMAT, every: num(v, 'every', where) };
  if (typeof v.clipThreshold === 'number') h.clipThreshold = v.clipThreshold;
  if (isObject(v.detector)) h.detector = v.detector as DetectorOptions;
  if (isObject(v.info)) h.info = v.info as RunHeader['info'];
  return h;
}

function readStep(v: Json, where: string): MonitorRecord {
  const step = num(v, 'step', where);
  const gradNorm = num(v, 'gradNorm', where);
  for (const k of ['layers', 'params'])
    if (v[k] !== undefined && !isObject(v[k])) throw new KeelError(`parseRunLog: ${where}: "${k}" must be an object keyed by name`);
  const nf = isObject(v.nonfinite) ? v.nonfinite : {};
  const rec: MonitorRecord = {
    step,
    gradNorm,
    gradNormAfter: typeof v.gradNormAfter === 'number' ? v.gradNormAfter : null,
    clipped: typeof v.clipped === 'boolean' ? v.clipped : null,
    skipped: v.skipped === true,
    nonfinite: { forward: typeof nf.forward === 'string' ? nf.forward : null, backward: typeof nf.backward === 'string' ? nf.backward : null },
    layers: (v.layers ?? {}) as MonitorRecord['layers'],
    params: (v.params ?? {}) as MonitorRecord['params'],
  };
  if (typeof v.loss === 'number') rec.loss = v.loss;
  return rec;
}

function readEpoch(v: Json, where: string): EpochRecord {
  const logs: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) if (k !== 'type' && k !== 'epoch' && k !== 'step' && typeof x === 'number') logs[k] = x;
  return { epoch: num(v, 'epoch', where), step: typeof v.step === 'number' ? v.step : Number.NaN, logs };
}

function readFindings(v: Json, where: string): Finding[] {
  if (!Array.isArray(v.findings)) throw new KeelError(`parseRunLog: ${where}: "findings" must be an array`);
  return v.findings.map((f: unknown, j) => {
    if (!isObject(f) || typeof f.kind !== 'string' || typeof f.layer !== 'string' || typeof f.message !== 'string')
      throw new KeelError(`parseRunLog: ${where}: finding ${j} needs string "kind", "layer" and "message"`);
    return { step: Number.NaN, count: 1, ...f } as Finding;
  });
}
