import { describe, expect, it } from 'vitest';
import {
  Adam,
  Generator,
  SGD,
  type Tensor,
  add_,
  clipGradNorm_,
  getBackend,
  getTotalNorm,
  keep,
  matmul,
  mul,
  mul_,
  nn,
  noGrad,
  randint,
  randn,
  tensor,
  tidy,
} from '../src/index.js';
import type { WasmBackend } from '../src/backend/wasm/wasm-backend.js';

// clipGradNorm_ without its two passes over the gradients: a weight gradient's Σ g² comes from
// the matmul that wrote it (Backend.matmulSquares, recorded on its storage and forgotten at any
// access), and the clipping factor is deferred on the storage, applied by the next access or
// folded into Adam's fused step. Everything a user can observe must be what the eager passes give.

const backend = getBackend();

function bits(t: Tensor): string {
  return Buffer.from(t.toTypedArray().buffer).toString('base64');
}

/** Σ x² of the values in float64, exactly as a reference. */
function exactSquares(t: Tensor): number {
  let s = 0;
  for (const v of t.toTypedArray()) s += v * v;
  return s;
}

/** A 784→16→10 MLP with gradients from one backward; returns its parameters. */
function mlpWithGrads(seed: number, scale = 1): Tensor[] {
  const g = new Generator(seed);
  const fc1 = new nn.Linear(784, 16, { generator: g });
  const fc2 = new nn.Linear(16, 10, { generator: g });
  const x = mul(randn([32, 784], { generator: g }), scale);
  const y = randint(0, 10, [32], { generator: g });
  nn.crossEntropy(fc2.call(fc1.call(x).relu()), y).backward();
  return [...fc1.parameters(), ...fc2.parameters()];
}

describe('Backend.matmulSquares', () => {
  const shapes: [number, number, number][] = [
    [128, 32, 784], // a weight gradient Gᵀ·x at batch 32
    [10, 32, 128],
    [200, 300, 61], // more than one row block and k block; a last panel of 5 columns
    [7, 0, 9], // k = 0: a zero product
    [33, 17, 1],
  ];
  for (const [m, k, n] of shapes) {
    it(`equals sumSquares of the product within float32 summation error: [${m}×${k}]·[${k}×${n}], every layout`, () => {
      const g = new Generator(m * 1000 + n);
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        tidy(() => {
          const a0 = randn(ta ? [k, m] : [m, k], { generator: g });
          const b0 = randn(tb ? [n, k] : [k, n], { generator: g });
          const a = ta ? a0.T : a0;
          const b = tb ? b0.T : b0;
          const plain = matmul(a, b);
          const out = matmul(a, b); // a second output buffer for the measured product
          const view = (t: Tensor) => ({ buf: t.buf, shape: [1, ...t.shape], strides: [0, ...t.strides], offset: t.offset });
          const got = backend.matmulSquares(view(a), view(b), out.buf);
          expect(bits(out), 'the product itself').toBe(bits(plain));
          if (got === null) {
            // Declined: only a threaded wasm product with more rows than columns does.
            expect([backend.name, m > n]).toEqual(['wasm', true]);
            return;
          }
          const want = exactSquares(plain);
          expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-6 * want);
          expect(Math.abs(got - backend.sumSquares(plain))).toBeLessThanOrEqual(1e-6 * want);
        });
      }
    });
  }

  it('sums huge, tiny, zero and NaN products as sumSquares does: float64 past float32 range, 0, NaN', () => {
    const view = (t: Tensor) => ({ buf: t.buf, shape: [1, ...t.shape], strides: [0, ...t.strides], offset: t.offset });
    /** Σ of the squares of a [64, 16] matrix whose rows are `row`, measured by a product with the identity. */
    const run = (row: number[]): number =>
      tidy(() => {
        const a = tensor(Array.from({ length: 64 }, () => row));
        const eye = tensor(row.map((_, i) => row.map((__, j) => (i === j ? 1 : 0))));
        const plain = matmul(a, eye);
        const measured = matmul(a, eye);
        const got = backend.matmulSquares(view(a), view(eye), measured.buf);
        expect(bits(measured)).toBe(bits(plain));
        if (got === null) throw new Error('a one-thread product is always measured');
        return got;
      });
    const same = (v: number) => Array(16).fill(v) as number[];
    const huge = Math.fround(1e30) ** 2 * 64 * 16; // float32 sums overflow; the float64 fallback does not
    expect(Math.abs(run(same(1e30)) - huge)).toBeLessThanOrEqual(1e-12 * huge);
    const tiny = Math.fround(1e-25) ** 2 * 64 * 16; // float32 squares underflow to 0
    expect(Math.abs(run(same(1e-25)) - tiny)).toBeLessThanOrEqual(1e-12 * tiny);
    expect(run(same(0))).toBe(0);
    expect(run([...same(1).slice(1), Number.NaN])).toBeNaN();
  });
});

describe('clipGradNorm_ with recorded norms and deferred scaling', () => {
  it('a Linear weight gradient arrives with its Σ g², forgotten as soon as anything touches the buffer', () => {
    tidy(() => {
      const [w, b] = mlpWithGrads(1);
      const known = w.grad!.knownSumSquares();
      expect(known).toBeDefined();
      expect(Math.abs(known! - exactSquares(w.grad!))).toBeLessThanOrEqual(1e-6 * known!);
      expect(b.grad!.knownSumSquares()).toBeUndefined(); // a bias gradient is a sum, not a matmul
      noGrad(() => mul_(w.grad!, 2));
      expect(w.grad!.knownSumSquares()).toBeUndefined();
    });
  });

  it('returns the norm of the gradients as they are, after any change to them', () => {
    tidy(() => {
      const params = mlpWithGrads(2);
      noGrad(() => add_(params[0].grad!, 0.5)); // a write through another path: the recorded Σ g² is stale
      const want = Math.sqrt(params.reduce((s, p) => s + exactSquares(p.grad!), 0));
      const got = clipGradNorm_(params, Infinity);
      expect(Math.abs(got - want)).toBeLessThanOrEqual(2e-6 * want);
    });
  });

  it('leaves every gradient equal, bit for bit, to the eager g·coef, however it is read next', () => {
    tidy(() => {
      const params = mlpWithGrads(3);
      const total = getTotalNorm(params.map((p) => p.grad!)).item();
      const coef = Math.fround(Math.fround(1 / Math.fround(total + Math.fround(1e-6))) * Math.fround(0.01));
      const eager = params.map((p) => noGrad(() => mul(p.grad!, coef)));
      expect(clipGradNorm_(params, 0.01)).toBe(total);
      // Read as values, read again (the factor is applied once), written in place, used by an op.
      params.forEach((p, i) => expect(bits(p.grad!), `grad ${i}`).toBe(bits(eager[i])));
      params.forEach((p, i) => expect(bits(p.grad!), `grad ${i} read twice`).toBe(bits(eager[i])));
      const plusOne = noGrad(() => add_(params[1].grad!, 1));
      expect(bits(plusOne)).toBe(bits(noGrad(() => add_(eager[1], 1))));
    });
  });

  it('clipping twice multiplies twice, each product rounded, as two eager passes', () => {
    tidy(() => {
      const params = mlpWithGrads(4);
      const eager = params.map((p) => noGrad(() => mul(p.grad!, 1)));
      const first = clipGradNorm_(params, 0.05);
      const c1 = Math.fround(Math.fround(1 / Math.fround(first + Math.fround(1e-6))) * Math.fround(0.05));
      eager.forEach((e) => noGrad(() => mul_(e, c1)));
      const second = clipGradNorm_(params, 0.01);
      const eagerNorm = Math.sqrt(eager.reduce((s, e) => s + exactSquares(e), 0));
      expect(Math.abs(second - eagerNorm)).toBeLessThanOrEqual(2e-6 * eagerNorm);
      const c2 = Math.fround(Math.fround(1 / Math.fround(second + Math.fround(1e-6))) * Math.fround(0.01));
      eager.forEach((e) => noGrad(() => mul_(e, c2)));
      params.forEach((p, i) => expect(bits(p.grad!), `grad ${i}`).toBe(bits(eager[i])));
    });
  });

  it('a second backward adds to the clipped gradients, and zeroGrad without setToNone zeroes them, as eagerly', () => {
    tidy(() => {
      const params = mlpWithGrads(6);
      const eager = params.map((p) => noGrad(() => mul(p.grad!, 1)));
      const total = clipGradNorm_(params, 0.01);
      const coef = Math.fround(Math.fround(1 / Math.fround(total + Math.fround(1e-6))) * Math.fround(0.01));
      eager.forEach((e) => noGrad(() => mul_(e, coef)));
      // Accumulate a second backward into the (still unscaled in memory) gradients.
      const [w1, b1, w2, b2] = params;
      const g = new Generator(60);
      const x = randn([32, 784], { generator: g });
      const y = randint(0, 10, [32], { generator: g });
      const loss = () => nn.crossEntropy(nn.functional.linear(nn.functional.linear(x, w1, b1).relu(), w2, b2), y);
      loss().backward();
      const fresh = params.map((p) => keep(p.detach().requiresGrad_()));
      const [fw1, fb1, fw2, fb2] = fresh;
      nn.crossEntropy(nn.functional.linear(nn.functional.linear(x, fw1, fb1).relu(), fw2, fb2), y).backward();
      params.forEach((p, i) => expect(bits(p.grad!), `grad ${i}`).toBe(bits(noGrad(() => add_(eager[i], fresh[i].grad!)))));
      // Clip again, then zero in place: zeros, and the norm of zeros.
      clipGradNorm_(params, 0.01);
      new SGD(params, { lr: 0.1 }).zeroGrad({ setToNone: false });
      for (const p of params) expect(p.grad!.toTypedArray().every((v) => v === 0)).toBe(true);
      expect(clipGradNorm_(params, 1)).toBe(0);
    });
  });

  for (const optimizer of ['Adam', 'SGD'] as const) {
    it(`${optimizer} after clipGradNorm_ steps exactly as after eager clipping, and the gradients still read as clipped`, () => {
      const trained = (deferred: boolean): string[] =>
        tidy(() => {
          const params = mlpWithGrads(5, 3).map((p) => keep(p));
          const opt = optimizer === 'Adam' ? new Adam(params, { lr: 1e-2 }) : new SGD(params, { lr: 0.1, momentum: 0.9 });
          const out: string[] = [];
          for (let step = 0; step < 3; step++) {
            if (step > 0) {
              opt.zeroGrad();
              const g = new Generator(50 + step);
              const x = randn([32, 784], { generator: g });
              const y = randint(0, 10, [32], { generator: g });
              const [w1, b1, w2, b2] = params;
              nn.crossEntropy(nn.functional.linear(nn.functional.linear(x, w1, b1).relu(), w2, b2), y).backward();
            }
            const total = clipGradNorm_(params, 0.1);
            if (!deferred) {
              // Read every gradient once: the pending factor is applied before the step.
              for (const p of params) p.grad!.toTypedArray();
            }
            opt.step();
            out.push(String(total), ...params.map(bits), ...params.map((p) => bits(p.grad!)));
          }
          return out;
        });
      expect(trained(true)).toEqual(trained(false));
    });
  }
});

const wasm = backend.name === 'wasm' ? (backend as WasmBackend) : null;

describe.runIf(wasm !== null)('matmulSquares over threads', () => {
  it('gives the same bits on one thread and on several (each panel is summed by one thread)', async () => {
    for (let i = 0; i < 200 && wasm!.threads < 2; i++) await new Promise((r) => setTimeout(r, 50));
    const g = new Generator(9);
    for (const [m, k, n] of [
      [128, 32, 784],
      [300, 64, 520],
      [20, 784, 128],
    ]) {
      tidy(() => {
        const a = randn([k, m], { generator: g }).T;
        const b = randn([k, n], { generator: g });
        const out = matmul(a, b);
        const view = (t: Tensor) => ({ buf: t.buf, shape: [1, ...t.shape], strides: [0, ...t.strides], offset: t.offset });
        wasm!.maxThreads = Infinity;
        const threaded = wasm!.matmulSquares(view(a), view(b), out.buf);
        wasm!.maxThreads = 1;
        const single = wasm!.matmulSquares(view(a), view(b), out.buf);
        wasm!.maxThreads = Infinity;
        expect(threaded).toBe(single);
      });
    }
  });
});
