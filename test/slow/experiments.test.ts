// `keel experiment NAME`: every experiment's claims hold, through the built CLI (exit code 0 and
// PASS lines) and in-process (structured results); a shortened run shows the claims can fail.
// Run with `npm run test:slow` (builds dist first).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import '../../src/ops/methods.js';
import { EXPERIMENTS, type He2015Result, type Pascanu2013Result, glorot2010, he2015, pascanu2013, scale, symmetry } from '../../src/cli/experiments/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'dist/cli/keel.js');

// Asynchronous, so the long runs do not block vitest's worker (its RPC times out otherwise).
async function run(args: string[]): Promise<string> {
  return (await promisify(execFile)(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 })).stdout;
}

describe('keel experiment (CLI)', () => {
  it('--help lists every experiment', async () => {
    const out = await run(['experiment', '--help']);
    for (const e of EXPERIMENTS) expect(out).toContain(`  ${e.name}`);
  });

  for (const e of EXPERIMENTS)
    it(`${e.name}: exits 0 with every claim PASS, in under 3 minutes, and writes its report`, async () => {
      const t0 = Date.now();
      const report = path.join(mkdtempSync(path.join(tmpdir(), 'keel-experiment-')), `${e.name}.md`);
      const out = await run(['experiment', e.name, '--report', report]);
      expect((Date.now() - t0) / 1000).toBeLessThan(180);
      expect(out).toContain(`${e.name}: all claims hold`);
      expect(out).not.toMatch(/^FAIL/m);
      expect(out.match(/^PASS/gm)?.length ?? 0).toBeGreaterThanOrEqual(3);
      const md = readFileSync(report, 'utf8');
      expect(md).toContain(`# keel experiment ${e.name}`);
      expect(md).toContain(`**${e.name}: all claims hold`);
      expect(md.match(/^\| PASS \|/gm)?.length).toBe(out.match(/^PASS/gm)?.length);
      expect((JSON.parse(md.split('```json')[1].split('```')[0]) as { name: string }).name).toBe(e.name);
    });

  it('rejects an unknown experiment with exit code 2 and the list', async () => {
    try {
      await run(['experiment', 'nope']);
      expect.unreachable();
    } catch (err) {
      const e = err as { code: number; stderr: string };
      expect(e.code).toBe(2);
      expect(e.stderr).toContain("keel experiment: unknown experiment 'nope' (experiments: he2015, glorot2010, scale, symmetry, pascanu2013)");
    }
  });
});

describe('experiments (structured results)', () => {
  it('he2015 --seed 1 --json: He trains (< 0.3), Xavier and default stall near ln 2; activation std at init as in the paper', async () => {
    const r = JSON.parse(await run(['experiment', 'he2015', '--seed', '1', '--json'])) as He2015Result;
    const [he, xavier, dflt] = r.runs;
    expect(he.finalLoss).toBeLessThan(0.3);
    for (const s of [xavier, dflt]) expect(Math.abs(s.finalLoss - Math.LN2)).toBeLessThan(0.03);
    // Xavier at equal widths halves the second moment per ReLU layer: ≈ 2^-14.5 over 29 layers in std.
    const drop = xavier.activationStd[29] / xavier.activationStd[0];
    expect(drop).toBeGreaterThan(2 ** -18);
    expect(drop).toBeLessThan(2 ** -11);
    expect(r.ok).toBe(true);
  });

  it('he2015: the claims can fail (10 steps are too few for He to train)', () => {
    const r = he2015({ steps: 10 });
    expect(r.ok).toBe(false);
    expect(r.claims[0].ok).toBe(false);
  });

  it('glorot2010: gradient std shrinks ~10× (standard) vs ~1.6× (normalized), close to n·Var(W) theory', () => {
    const r = glorot2010({ seed: 1 });
    const [standard, normalized] = r.runs;
    // Linear-regime theory: Var(∂L/∂s) shrinks by n·Var(W)·E[tanh′²] per layer; n·Var(W) = 1/3 for
    // U(±1/√n), so 4 layers give at most 3⁴ = 81 in variance (9× in std), plus the tanh′ < 1 factor.
    expect(standard.gradientStdRatio).toBeGreaterThan(8);
    expect(standard.gradientStdRatio).toBeLessThan(13);
    expect(normalized.gradientStdRatio).toBeGreaterThan(1);
    expect(normalized.gradientStdRatio).toBeLessThan(2.2);
    expect(r.ok).toBe(true);
  });

  it('scale and symmetry hold for another seed', () => {
    expect(scale({ seed: 1 }).ok).toBe(true);
    expect(symmetry({ seed: 1 }).ok).toBe(true);
  });

  it('pascanu2013: 300 steps are too few for the clipped RNN to learn, so the claims can fail; the table still prints', () => {
    let text = '';
    const r = pascanu2013({ steps: 300, seeds: 1, threads: 1, out: { write: (c: string) => void (text += c) } });
    expect(r.ok).toBe(false);
    expect(r.claims[0].ok).toBe(false);
    expect(r.runs.map((run) => [run.seed, run.clip, run.gradNorms.length, run.losses.length])).toEqual([
      [0, 1, 300, 300],
      [0, null, 300, 300],
    ]);
    // Both start from the same weights and the same first batch: the same first gradient.
    expect(r.runs[0].gradNorms[0]).toBe(r.runs[1].gradNorms[0]);
    expect(text).toMatch(/^seed +clip +test MSE/m);
    expect(text).toMatch(/^FAIL {2}clip 1\.0: test MSE < 0\.08/m);
    // The target is the sum of two U(0, 1) values: variance 2/12, the MSE of predicting its mean 1.
    expect(Math.abs(r.meanPredictorMse - 1 / 6)).toBeLessThan(0.02);
    // The unrolled recurrence is RNN.forward's, to float32 rounding (values and gradients).
    expect(r.recurrenceCheck).toBeLessThan(1e-5);
  });

  it('pascanu2013 in worker threads (built package) gives the same runs as on one thread', async () => {
    const script = (threads: number): string =>
      `import { pascanu2013 } from './dist/cli/experiments/pascanu2013.js';` +
      `const r = pascanu2013({ steps: 150, seeds: 2, threads: ${threads} });` +
      `process.stdout.write(JSON.stringify({ runs: r.runs, threadsUsed: r.threadsUsed }));`;
    type Out = Pick<Pascanu2013Result, 'runs' | 'threadsUsed'>;
    const runs = async (threads: number): Promise<Out> => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script(threads)], { cwd: root, encoding: 'utf8' });
      return JSON.parse(stdout) as Out;
    };
    const [one, two] = [await runs(1), await runs(2)];
    expect(one.runs.map((r) => [r.seed, r.clip])).toEqual([
      [0, 1],
      [0, null],
      [1, 1],
      [1, null],
    ]);
    expect([one.threadsUsed, two.threadsUsed]).toEqual([1, 2]);
    expect(two.runs).toEqual(one.runs);
  });
});
