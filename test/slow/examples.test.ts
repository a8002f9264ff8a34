import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Runs each of the eight examples (examples/NN-*.mjs) in its own `node` process, as a user would,
// and checks the test accuracy it prints on its last line against PyTorch's on the same data and
// recipe: at least the mean over seeds in examples/reference-accuracy.json (written by
// tools/reference/examples_torch.py with torch 1.13) minus 1.5 points. The examples import the
// built package ('keel' → dist/), so build first: `npm run test:slow` does.
// About 25 s on the wasm backend (two cores); KEEL_BACKEND=js runs them on the JS one (~5 min).

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');
const TOLERANCE = 0.015;
const ACCURACY_LINE = /^test accuracy: ([0-9]*\.?[0-9]+)\s*$/;

interface Reference {
  examples: Record<string, { mean: number; std: number; accuracies: number[] }>;
}

const reference = JSON.parse(readFileSync(join(EXAMPLES, 'reference-accuracy.json'), 'utf8')) as Reference;
const files = readdirSync(EXAMPLES)
  .filter((f) => /^\d\d-.*\.mjs$/.test(f))
  .sort();

/**
 * Runs `node script` without blocking this worker's event loop (a synchronous spawn would starve
 * vitest's own messages during a 50-second example on the JS backend).
 */
function run(script: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd: ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('examples', () => {
  it('there are eight examples, each with a PyTorch reference', () => {
    expect(files).toHaveLength(8);
    expect(files.map((f) => f.replace(/\.mjs$/, ''))).toEqual(Object.keys(reference.examples).sort());
    for (const r of Object.values(reference.examples)) {
      // A reference that is not an accuracy (or a chance-level one) would make the floor meaningless.
      expect(r.accuracies.length).toBeGreaterThanOrEqual(5);
      expect(r.mean).toBeGreaterThan(0.5);
      expect(r.mean).toBeLessThanOrEqual(1);
    }
  });

  it.each(files)('%s reaches PyTorch\'s accuracy (mean over seeds − 1.5 points)', async (file) => {
    if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm run test:slow does)');
    const name = file.replace(/\.mjs$/, '');
    const t0 = performance.now();
    const r = await run(join(EXAMPLES, file));
    const seconds = (performance.now() - t0) / 1000;
    expect(r.status, `${file} failed:\n${r.stdout}${r.stderr}`).toBe(0);
    const last = r.stdout.trimEnd().split('\n').pop() ?? '';
    const match = ACCURACY_LINE.exec(last);
    expect(match, `${file}: the last line should be 'test accuracy: <number>' (got '${last}')`).not.toBeNull();
    const accuracy = Number(match![1]);
    const ref = reference.examples[name];
    console.log(`${name}: Keel ${accuracy.toFixed(4)}, PyTorch ${ref.mean.toFixed(4)} ± ${ref.std.toFixed(4)}, ${seconds.toFixed(1)} s`);
    expect(accuracy).toBeGreaterThanOrEqual(ref.mean - TOLERANCE);
  });
});
