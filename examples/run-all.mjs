// Runs every example (examples/NN-*.mjs), each in its own `node` process, and prints a summary:
// Keel's test accuracy next to PyTorch's on the same data and recipe (examples/reference-accuracy.json,
// from tools/reference/examples_torch.py), the floor it must reach, and how long it took.
//
//   npm run examples                         (builds Keel first)
//   node examples/run-all.mjs [--quiet] [name-filter ...]
//
// Exits with status 1 when an example fails, prints no accuracy, or falls below its floor:
// PyTorch's mean accuracy over seeds minus 1.5 points. KEEL_BACKEND=js|wasm picks the backend.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** How far below PyTorch's mean accuracy an example may land (1.5 points). */
const TOLERANCE = 0.015;
/** The last line of every example: `test accuracy: 0.9431`. */
const ACCURACY_LINE = /^test accuracy: ([0-9]*\.?[0-9]+)\s*$/;

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quiet = args.includes('--quiet');
const filters = args.filter((a) => !a.startsWith('--'));

/** @type {{ examples: Record<string, { mean: number, std: number }> }} */
const reference = JSON.parse(readFileSync(join(here, 'reference-accuracy.json'), 'utf8'));
const files = readdirSync(here)
  .filter((f) => /^\d\d-.*\.mjs$/.test(f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

/**
 * Runs one example; echoes its output unless --quiet.
 * @param {string} file
 * @returns {Promise<{ code: number | null, output: string, seconds: number }>}
 */
function run(file) {
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn(process.execPath, [join(here, file)], { cwd: join(here, '..'), env: process.env });
    let output = '';
    /** @param {Buffer} chunk */
    const take = (chunk) => {
      output += chunk.toString();
      if (!quiet) process.stdout.write(chunk);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (code) => resolve({ code, output, seconds: (performance.now() - start) / 1000 }));
  });
}

/** The accuracy on the last non-empty line, or null. @param {string} output */
function lastAccuracy(output) {
  const last = output.trimEnd().split('\n').pop() ?? '';
  const m = ACCURACY_LINE.exec(last);
  return m === null ? null : Number(m[1]);
}

/** @type {string[][]} */
const rows = [];
let failed = 0;
for (const file of files) {
  const name = basename(file, '.mjs');
  if (!quiet) console.log(`\n=== ${name}`);
  const { code, output, seconds } = await run(file);
  const accuracy = lastAccuracy(output);
  const ref = reference.examples[name];
  const floor = ref === undefined ? null : ref.mean - TOLERANCE;
  let status = 'ok';
  if (code !== 0) status = `exit ${code}`;
  else if (accuracy === null) status = 'no accuracy line';
  else if (floor === null) status = 'no reference';
  else if (accuracy < floor) status = 'BELOW FLOOR';
  if (status !== 'ok') failed++;
  rows.push([
    name,
    accuracy === null ? '-' : accuracy.toFixed(4),
    ref === undefined ? '-' : `${ref.mean.toFixed(4)} ± ${ref.std.toFixed(4)}`,
    floor === null ? '-' : floor.toFixed(4),
    `${seconds.toFixed(1)} s`,
    status,
  ]);
}

const header = ['example', 'Keel', 'PyTorch (mean ± sd)', 'floor', 'time', 'status'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
/** @param {string[]} cells */
const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
console.log(`\nbackend: ${process.env.KEEL_BACKEND ?? 'default'}; floor = PyTorch mean - ${TOLERANCE * 100} points`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
if (files.length === 0) {
  console.log('no examples matched');
  failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
