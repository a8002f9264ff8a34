import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../src/ops/methods.js';
import type { GradientTransformation, UpdateInfo } from '../src/optim/transform.js';
import { tensor, zeros } from '../src/tensor/create.js';
import type { Tensor } from '../src/tensor/tensor.js';
import {
  clipByBlockRms,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  clipGradNorm_,
  kerasGlobalClipnorm,
} from '../src/clip/index.js';

// Invariants of norm clipping, checked on random float32 gradients (1 to 4 tensors of 1 to 24
// entries, magnitudes from 1e-3 to 1e3, some all-zero) against float64 arithmetic done here:
// the clipped norm is at most the threshold, clipping twice changes nothing beyond float32
// rounding, and norm clipping never changes the direction (cosine 1).

// Magnitudes below 1e-15 become 0: their float32 squares underflow or go subnormal, so a float32 norm (PyTorch's,
// and Keel's clipGradNorm_) is 0 where float64 says otherwise; that is rounding, not clipping.
const entry = fc
  .oneof(
    fc.constant(0),
    fc.float({ min: Math.fround(-1e3), max: Math.fround(1e3), noNaN: true, noDefaultInfinity: true }),
    fc.float({ min: Math.fround(-1e-3), max: Math.fround(1e-3), noNaN: true, noDefaultInfinity: true }),
  )
  .map((v) => (Math.abs(v) < 1e-15 ? 0 : v));
const grads = fc.array(fc.array(entry, { minLength: 1, maxLength: 24 }), { minLength: 1, maxLength: 4 });
const threshold = fc.double({ min: 1e-3, max: 1e3, noNaN: true });

const toTensors = (gs: number[][]): Tensor[] => gs.map((g) => tensor(g));
const read = (ts: readonly (Tensor | null)[]): number[][] => ts.map((t) => Array.from(t!.toTypedArray()));
const norm = (vs: number[][]): number => Math.sqrt(vs.flat().reduce((s, v) => s + v * v, 0));
const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);
const cosine = (a: number[], b: number[]): number => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));

function run<S>(t: GradientTransformation<S>, ts: Tensor[]): Tensor[] {
  const info: UpdateInfo[] = [];
  const [out] = t.update(ts, t.init(ts), ts, info);
  expect(info).toHaveLength(1);
  return out as Tensor[];
}

/** Equal within float32 rounding of a norm-sized value (relative to the largest magnitude). */
function expectSame(a: number[][], b: number[][], rel = 1e-6): void {
  const scale = Math.max(1e-30, ...a.flat().map(Math.abs));
  a.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - b[i][j])).toBeLessThanOrEqual(rel * scale)));
}

const NUM_RUNS = 150;

describe('clipping invariants (fast-check)', () => {
  it('after clipByGlobalNorm(c) the global norm is at most c·(1 + 1e-6)', () => {
    fc.assert(
      fc.property(grads, threshold, (gs, c) => {
        const out = read(run(clipByGlobalNorm(c), toTensors(gs)));
        expect(norm(out)).toBeLessThanOrEqual(c * (1 + 1e-6));
        // and it is c itself whenever the input was above c
        if (norm(gs) >= c) expect(Math.abs(norm(out) - c)).toBeLessThanOrEqual(c * 1e-6);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('after kerasGlobalClipnorm(c), clipByNorm(c) and clipGradNorm_(c) the norms are at most c·(1 + 1e-6)', () => {
    fc.assert(
      fc.property(grads, threshold, (gs, c) => {
        expect(norm(read(run(kerasGlobalClipnorm(c), toTensors(gs))))).toBeLessThanOrEqual(c * (1 + 1e-6));
        for (const t of read(run(clipByNorm(c), toTensors(gs)))) expect(norm([t])).toBeLessThanOrEqual(c * (1 + 1e-6));
        const params = gs.map((g) => {
          const p = zeros([g.length]).requiresGrad_();
          p.grad = tensor(g);
          return p;
        });
        const total = clipGradNorm_(params, c);
        expect(Math.abs(total - norm(gs))).toBeLessThanOrEqual(norm(gs) * 1e-6);
        expect(norm(read(params.map((p) => p.grad)))).toBeLessThanOrEqual(c * (1 + 1e-6));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('clipping twice changes nothing (idempotent within float32 rounding)', () => {
    const makers: [string, (c: number) => GradientTransformation<unknown>][] = [
      ['clipByGlobalNorm', clipByGlobalNorm],
      ['kerasGlobalClipnorm', kerasGlobalClipnorm],
      ['clipByNorm', clipByNorm],
      ['clipByValue', clipByValue],
      ['clipByBlockRms', clipByBlockRms],
    ];
    fc.assert(
      fc.property(grads, threshold, (gs, c) => {
        for (const [, make] of makers) {
          const once = run(make(c), toTensors(gs));
          const twice = run(make(c), once);
          expectSame(read(twice), read(once));
        }
        // PyTorch's clip_grad_norm_: its 1e-6 makes a second call scale again, by
        // c/(c·t/(t + ε) + ε) = 1 − ε(t − c)/(ct) + O(ε²) ≥ 1 − ε/c for an input norm t: within
        // 1e-6/c of the first result (0.1% at c = 1e-3, negligible at c ≥ 1).
        const params = gs.map((g) => {
          const p = zeros([g.length]).requiresGrad_();
          p.grad = tensor(g);
          return p;
        });
        clipGradNorm_(params, c);
        const once = read(params.map((p) => p.grad));
        clipGradNorm_(params, c);
        expectSame(read(params.map((p) => p.grad)), once, 2e-6 + 1e-6 / c);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('norm clipping never changes the direction (cosine 1)', () => {
    fc.assert(
      fc.property(grads, threshold, (gs, c) => {
        const x = gs.flat();
        if (norm(gs) === 0) return;
        for (const make of [clipByGlobalNorm, kerasGlobalClipnorm]) {
          const y = read(run(make(c), toTensors(gs))).flat();
          expect(cosine(x, y)).toBeGreaterThan(1 - 1e-6);
        }
        // per tensor: each tensor keeps its own direction
        read(run(clipByNorm(c), toTensors(gs))).forEach((y, i) => {
          if (norm([gs[i]]) > 0) expect(cosine(gs[i], y)).toBeGreaterThan(1 - 1e-6);
        });
        const params = gs.map((g) => {
          const p = zeros([g.length]).requiresGrad_();
          p.grad = tensor(g);
          return p;
        });
        clipGradNorm_(params, c);
        const y = read(params.map((p) => p.grad)).flat();
        if (norm([y]) > 0) expect(cosine(x, y)).toBeGreaterThan(1 - 1e-6);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('clipByValue bounds every entry and keeps the ones inside the bound', () => {
    fc.assert(
      fc.property(grads, threshold, (gs, v) => {
        const out = read(run(clipByValue(v), toTensors(gs)));
        gs.forEach((g, i) =>
          g.forEach((x, j) => {
            const y = out[i][j];
            expect(Math.abs(y)).toBeLessThanOrEqual(Math.fround(v));
            if (Math.abs(x) <= Math.fround(v)) expect(y).toBe(x);
          }),
        );
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
