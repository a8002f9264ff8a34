#!/usr/bin/env node
/**
 * The `keel` command. `keel train` is the main job: the source's MNIST model with He
 * initialization and gradient clipping. `keel --help` lists the commands and flags.
 */
import '../ops/methods.js';
import { KeelError } from '../core/errors.js';
import type { ProgressSink } from '../train/progress.js';
import { helpText, parseFlags } from './args.js';
import { TRAIN_FLAGS, train } from './train.js';

const USAGE = `Usage: keel <command> [flags]

Commands:
  train     train the 784→128→10 MNIST model (He init, Adam, gradient clipping) and report test accuracy
  help      show this help

keel train flags:`;

interface Proc {
  argv: string[];
  stdout: ProgressSink;
  stderr: ProgressSink;
  exitCode?: number;
}

async function main(proc: Proc): Promise<void> {
  const [command, ...rest] = proc.argv.slice(2);
  if (command === undefined || command === 'help' || command === '--help' || command === '-h' || rest.includes('--help')) {
    proc.stdout.write(helpText(USAGE, TRAIN_FLAGS));
    if (command === undefined) proc.exitCode = 1;
    return;
  }
  if (command !== 'train') throw new KeelError(`keel: unknown command '${command}' (commands: train, help; see keel --help)`);
  await train(parseFlags(rest, TRAIN_FLAGS), proc.stdout);
}

const proc = (globalThis as unknown as { process: Proc }).process;
main(proc).catch((e: unknown) => {
  proc.stderr.write(`${e instanceof KeelError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  proc.exitCode = 2;
});
