import { describe, expect, it } from 'vitest';
import { Generator, type Tensor, matmul, noGrad, randn, relu, tidy, transpose, variance, zeros } from '../../src/index.js';
import { kaimingNormal_, normal_, xavierNormal_ } from '../../src/nn/init/index.js';

// The acceptance test for initialization (He et al. 2015, SEMANTICS.md §7): through a
// 50-layer, width-256 ReLU MLP (plain matmuls, no bias) fed a batch of 256 N(0, 1) inputs,
// kaimingNormal_ keeps the pre-activation variance steady — the mean over 20 independently
// seeded networks of var(z_l)/var(z_1) stays within [0.5, 2] at every layer — while
// xavierNormal_ (variance halves per ReLU layer: 2^-49 by layer 50) and normal_(std 0.01)
// (×0.0128 per layer) shrink it by more than 100× by layer 50 in every seed.

const DEPTH = 50;
const WIDTH = 256;
const BATCH = 256;
const SEEDS = 20;

/** Pre-activation variance of each layer divided by layer 1's, for one seeded network. */
function varianceRatios(initWeight: (w: Tensor, g: Generator) => void, seed: number): number[] {
  const g = new Generator(seed);
  return noGrad(() =>
    tidy(() => {
      let h = randn([BATCH, WIDTH], { generator: g });
      const vars: number[] = [];
      for (let l = 0; l < DEPTH; l++) {
        const [next, v] = tidy(() => {
          const w = zeros([WIDTH, WIDTH]);
          initWeight(w, g);
          const z = matmul(h, transpose(w));
          return [relu(z), variance(z).item()] as const;
        });
        h.dispose();
        h = next;
        vars.push(v);
      }
      return vars.map((v) => v / vars[0]);
    }),
  );
}

const SEED_LIST = Array.from({ length: SEEDS }, (_, s) => s);

/**
 * Yields to the event loop. Synchronous tests run back to back on microtasks only, so without this
 * vitest's worker cannot read its reporter's replies for the whole file (over a minute on the js
 * backend) and reports an RPC timeout.
 */
const breathe = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

// One test per network, each yielding first, so that the event loop breathes between them.
describe('variance propagation through a 50-layer ReLU MLP', () => {
  const he: number[][] = [];

  it.each(SEED_LIST)('kaimingNormal_(relu) network, seed %i', async (s) => {
    await breathe();
    he.push(varianceRatios((w, g) => void kaimingNormal_(w, { nonlinearity: 'relu', generator: g }), s));
  });

  it('kaimingNormal_: the mean over 20 networks of var(z_l)/var(z_1) lies in [0.5, 2] at every layer', () => {
    expect(he.length).toBe(SEEDS);
    for (let l = 0; l < DEPTH; l++) {
      const m = he.reduce((acc, r) => acc + r[l], 0) / SEEDS;
      expect(m, `kaimingNormal_ layer ${l + 1}`).toBeGreaterThanOrEqual(0.5);
      expect(m, `kaimingNormal_ layer ${l + 1}`).toBeLessThanOrEqual(2);
    }
  });

  it.each(SEED_LIST)('xavierNormal_ and normal_(std 0.01) shrink it more than 100× by layer 50, seed %i', async (s) => {
    await breathe();
    const xavier = varianceRatios((w, g) => void xavierNormal_(w, { generator: g }), 1000 + s);
    expect(xavier[DEPTH - 1], 'xavierNormal_').toBeLessThan(0.01);
    const small = varianceRatios((w, g) => void normal_(w, 0, 0.01, { generator: g }), 2000 + s);
    expect(small[DEPTH - 1], 'normal_(0.01)').toBeLessThan(0.01);
  });
});
