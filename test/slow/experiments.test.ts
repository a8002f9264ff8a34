// `keel experiment NAME`: every experiment's claims hold, through the built CLI (exit code 0 and
// PASS lines) and in-process (structured results); a shortened run shows the claims can fail.
// Run with `npm run test:slow` (builds dist first).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import '../../src/ops/methods.js';
import { EXPERIMENTS, type He2015Result, glorot2010, he2015, scale, symmetry } from '../../src/cli/experiments/index.js';

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
    it(`${e.name}: exits 0 with every claim PASS, in under 3 minutes`, async () => {
      const t0 = Date.now();
      const out = await run(['experiment', e.name]);
      expect((Date.now() - t0) / 1000).toBeLessThan(180);
      expect(out).toContain(`${e.name}: all claims hold`);
      expect(out).not.toMatch(/^FAIL/m);
      expect(out.match(/^PASS/gm)?.length ?? 0).toBeGreaterThanOrEqual(3);
    });

  it('rejects an unknown experiment with exit code 2 and the list', async () => {
    try {
      await run(['experiment', 'nope']);
      expect.unreachable();
    } catch (err) {
      const e = err as { code: number; stderr: string };
      expect(e.code).toBe(2);
      expect(e.stderr).toContain("keel experiment: unknown experiment 'nope' (experiments: he2015, glorot2010, scale, symmetry)");
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
});
