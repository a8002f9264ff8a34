import { KeelError } from '../core/errors.js';
import { htmlReport } from '../diagnostics/html-report.js';
import { type RunLog, parseRunLog } from '../diagnostics/run-log.js';
import { writeFileAtomic } from '../train/files.js';
import type { ProgressSink } from '../train/progress.js';
import { type FlagSpec, helpText, parseFlags } from './args.js';

/** The flags of `keel report` (besides the log file, its one positional argument). */
export const REPORT_FLAGS: readonly FlagSpec[] = [
  { name: 'output', kind: 'string', help: 'where to write the page; -o works too (default: the log’s path with .html)' },
  { name: 'title', kind: 'string', default: 'Keel training report', help: 'the page title' },
];

const USAGE = `Usage: keel report <run.jsonl> [-o report.html] [flags]

Draws a run log (written by keel train --monitor run.jsonl, or GradientMonitor({ logFile })) as one
self-contained HTML page: per-layer gradient norms, global norm and clipping, clip rate, loss and
accuracy, update ratios, output histograms per layer, and the detectors' findings.

keel report flags:`;

interface NodeFs {
  readFileSync(path: string, encoding: 'utf8'): string;
}

interface NodeModule {
  createRequire(from: string): { resolve(id: string): string };
}

function builtin<T>(id: string): T {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  if (typeof get !== 'function') throw new KeelError('keel report: needs Node.js 20.16 or later (process.getBuiltinModule is missing)');
  return get(id) as T;
}

/** The text of a file, or an error that names it and says what to do. */
function readText(path: string, what: string): string {
  try {
    return builtin<NodeFs>('fs').readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new KeelError(`keel report: ${what} ${path} does not exist${what === 'run log' ? ' (write one with keel train --monitor FILE)' : ''}`);
    if (code === 'EISDIR') throw new KeelError(`keel report: ${what} ${path} is a directory, not a file`);
    throw new KeelError(`keel report: cannot read ${what} ${path} (${(e as Error).message})`);
  }
}

/** uPlot's browser build and stylesheet, from the installed `uplot` package. */
function chartLibrary(): { js: string; css: string } {
  const require = builtin<NodeModule>('module').createRequire(import.meta.url);
  let js: string;
  try {
    js = require.resolve('uplot/dist/uPlot.iife.min.js');
  } catch {
    throw new KeelError('keel report: the uplot package is missing (it is a dependency of keel: run npm install)');
  }
  return { js: readText(js, 'chart library'), css: readText(js.replace(/uPlot\.iife\.min\.js$/, 'uPlot.min.css'), 'chart stylesheet') };
}

/** Splits `keel report` arguments: the log path (the one positional argument) and the flags (`-o` is `--output`). */
function splitArgs(args: readonly string[]): { input: string | undefined; flags: string[] } {
  let input: string | undefined;
  const flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] === '-o' ? '--output' : args[i].startsWith('-o=') ? `--output=${args[i].slice(3)}` : args[i];
    if (a.startsWith('--')) {
      flags.push(a);
      // The value of a flag that takes one is not the positional argument.
      const spec = REPORT_FLAGS.find((s) => s.name === a.slice(2));
      if (spec !== undefined && spec.kind !== 'boolean' && i + 1 < args.length) flags.push(args[++i]);
    } else if (input === undefined) input = a;
    else throw new KeelError(`keel report: one run log at a time (got '${input}' and '${a}'); see keel report --help`);
  }
  return { input, flags };
}

function parseLog(text: string, path: string): RunLog {
  try {
    return parseRunLog(text, path);
  } catch (e) {
    if (e instanceof KeelError) throw new KeelError(`keel report: ${e.message.replace(/^parseRunLog: /, '')}`);
    throw e;
  }
}

/**
 * `keel report run.jsonl -o report.html`: reads a run log and writes the HTML report. Prints
 * the usage and returns 1 without a log path; returns 0 when the page is written.
 */
export function report(args: readonly string[], out: ProgressSink): number {
  if (args.includes('--help') || args.includes('-h')) {
    out.write(helpText(USAGE, REPORT_FLAGS));
    return 0;
  }
  const { input, flags } = splitArgs(args);
  const opts = parseFlags(flags, REPORT_FLAGS);
  if (input === undefined) {
    out.write(helpText(USAGE, REPORT_FLAGS));
    return 1;
  }
  const output = (opts.output as string | undefined) ?? `${input.replace(/\.jsonl?$/i, '')}.html`;
  if (output === input) throw new KeelError(`keel report: the output ${output} would overwrite the run log; give -o report.html`);
  const log = parseLog(readText(input, 'run log'), input);
  const lib = chartLibrary();
  const html = htmlReport(log, { chartJs: lib.js, chartCss: lib.css, title: opts.title as string, source: input });
  const bytes = new TextEncoder().encode(html);
  writeFileAtomic(output, bytes);
  const layers = new Set(log.steps.flatMap((r) => Object.keys(r.layers))).size;
  out.write(
    `keel report: wrote ${output} (${Math.ceil(bytes.length / 1024)} KiB): ${log.steps.length} sampled steps, ${layers} modules, ` +
      `${log.epochs.length} epochs, ${log.findings.length} finding${log.findings.length === 1 ? '' : 's'}\n`,
  );
  return 0;
}
