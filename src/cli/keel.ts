#!/usr/bin/env node
/**
 * The `keel` command. `keel train` is the main job: the source's MNIST model with He
 * initialization and gradient clipping. `keel --help` lists the commands and flags.
 */
import '../ops/methods.js';
import { KeelError } from '../core/errors.js';
import type { ProgressSink } from '../train/progress.js';
import { type FlagSpec, helpText, parseFlags } from './args.js';
import { setBackend } from '../backend/registry.js';
import { TRAIN_FLAGS, train } from './train.js';
import { EXPERIMENTS, type Experiment, type ExperimentResult } from './experiments/index.js';
import { writeFileAtomic } from '../train/files.js';
import { report } from './report.js';

const USAGE = `Usage: keel <command> [flags]

Commands:
  train       train the 784→128→10 MNIST model (He init, Adam, gradient clipping) and report test accuracy
  experiment  run a classic initialization experiment and check its claim (keel experiment --help)
  report      draw a run log (keel train --monitor run.jsonl) as one HTML page: keel report run.jsonl -o report.html
  help        show this help

keel train flags:`;

interface Proc {
  argv: string[];
  stdout: ProgressSink;
  stderr: ProgressSink;
  exitCode?: number;
}

async function main(proc: Proc): Promise<void> {
  const [command, ...rest] = proc.argv.slice(2);
  if (command === 'experiment') {
    experiment(proc, rest);
    return;
  }
  if (command === 'report') {
    proc.exitCode = report(rest, proc.stdout);
    return;
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h' || rest.includes('--help')) {
    proc.stdout.write(helpText(USAGE, TRAIN_FLAGS));
    if (command === undefined) proc.exitCode = 1;
    return;
  }
  if (command !== 'train') throw new KeelError(`keel: unknown command '${command}' (commands: train, experiment, report, help; see keel --help)`);
  await train(parseFlags(rest, TRAIN_FLAGS), proc.stdout);
}

/** `keel experiment NAME [--seed N] [--json]`: runs one experiment; exit code 1 when a claim fails. */
function experiment(proc: Proc, args: string[]): void {
  const usage =
    'Usage: keel experiment <name> [flags]\n\nExperiments:\n' +
    EXPERIMENTS.map((e) => `  ${e.name.padEnd(12)}${e.summary}`).join('\n') +
    '\n\nEach prints its table and PASS/FAIL per claim; the exit code is 1 when a claim fails.\n\nkeel experiment flags:';
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || rest.includes('--help')) {
    proc.stdout.write(helpText(usage, EXPERIMENT_FLAGS));
    if (name === undefined) proc.exitCode = 1;
    return;
  }
  const found = EXPERIMENTS.find((e) => e.name === name);
  if (found === undefined)
    throw new KeelError(`keel experiment: unknown experiment '${name}' (experiments: ${EXPERIMENTS.map((e) => e.name).join(', ')})`);
  const flags = parseFlags(rest, EXPERIMENT_FLAGS);
  if (flags.backend !== undefined) setBackend(flags.backend as string);
  const json = flags.json === true;
  // The tables go to stdout (unless --json) and, with --report, into the report as well.
  let printed = '';
  const out: ProgressSink | undefined =
    json && flags.report === undefined ? undefined : { write: (text: string) => void ((printed += text), json || proc.stdout.write(text)) };
  const result = found.run({ out, seed: flags.seed as number });
  const verdict = `${result.name}: ${result.ok ? 'all claims hold' : 'a claim FAILED'} (${result.seconds.toFixed(1)} s)`;
  if (json) proc.stdout.write(`${JSON.stringify(result)}\n`);
  else proc.stdout.write(`${verdict}\n`);
  if (flags.report !== undefined) {
    writeFileAtomic(flags.report as string, new TextEncoder().encode(experimentReport(found, printed, verdict, result)));
    if (!json) proc.stdout.write(`report: ${String(flags.report)}\n`);
  }
  if (!result.ok) proc.exitCode = 1;
}

/** The Markdown report of one experiment run: what it tests, its tables and claims, and the full result. */
function experimentReport(e: Experiment, printed: string, verdict: string, result: ExperimentResult): string {
  const claims = result.claims.map((c) => `| ${c.ok ? 'PASS' : 'FAIL'} | ${c.text.replace(/\|/g, '\\|')} | ${c.measured} |`).join('\n');
  return [
    `# keel experiment ${e.name}`,
    '',
    e.summary,
    '',
    `**${verdict}**`,
    '',
    '| | claim | measured |',
    '|---|---|---|',
    claims,
    '',
    '## Output',
    '',
    '```text',
    printed.trimEnd(),
    '```',
    '',
    '## Result (JSON)',
    '',
    '```json',
    JSON.stringify(result, null, 2),
    '```',
    '',
  ].join('\n');
}

const EXPERIMENT_FLAGS: readonly FlagSpec[] = [
  { name: 'seed', kind: 'number', default: 0, help: 'seed of the weights and the data' },
  { name: 'backend', kind: 'string', choices: ['wasm', 'js'], help: 'compute backend (default: wasm where available)' },
  { name: 'json', kind: 'boolean', default: false, help: 'print the structured result as one JSON line instead of the tables' },
  { name: 'report', kind: 'string', help: 'also write a Markdown report here: the claims, the tables and the full result' },
];

const proc = (globalThis as unknown as { process: Proc }).process;
main(proc).catch((e: unknown) => {
  proc.stderr.write(`${e instanceof KeelError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  proc.exitCode = 2;
});
