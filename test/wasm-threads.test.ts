import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, Generator, type Tensor, getBackend, listBackends, matmul, randn, setBackend, tensor } from '../src/index.js';
import type { WasmBackend } from '../src/backend/wasm/wasm-backend.js';

const hasWasm = listBackends().includes('wasm');

/** A copy of `t` on the js backend. */
function onJs(t: Tensor): Tensor {
  const data = t.toTypedArray();
  setBackend('js');
  const copy = tensor(data, t.shape);
  setBackend('wasm');
  return copy;
}

describe.runIf(hasWasm)('wasm backend threads', () => {
  let previous: Backend;
  let wasm: WasmBackend;
  beforeAll(async () => {
    previous = getBackend();
    wasm = setBackend('wasm') as WasmBackend;
    // Workers start in the background; give them up to 10 s.
    for (let i = 0; i < 200 && wasm.threads < 2; i++) await new Promise((r) => setTimeout(r, 50));
  });
  afterAll(() => {
    wasm.maxThreads = Infinity;
    setBackend(previous.name);
  });

  it('starts a worker on a multi-core machine', () => {
    expect(wasm.threads).toBeGreaterThanOrEqual(2);
  });

  it('a matmul split over threads equals the one-thread result bit for bit, in every transpose combination', () => {
    const g = new Generator(4);
    for (const [m, k, n] of [
      [130, 70, 250], // split by columns
      [700, 64, 20], // split by rows
      [32, 784, 128], // A·Bᵀ with few rows: the dot-product kernel, split by columns
      [7, 30, 61],
    ]) {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const a0 = randn(ta ? [k, m] : [m, k], { generator: g });
        const b0 = randn(tb ? [n, k] : [k, n], { generator: g });
        const a = ta ? a0.T : a0;
        const b = tb ? b0.T : b0;
        wasm.maxThreads = Infinity;
        const threaded = matmul(a, b).toTypedArray();
        wasm.maxThreads = 1;
        const single = matmul(a, b).toTypedArray();
        expect(Buffer.from(threaded.buffer).equals(Buffer.from(single.buffer))).toBe(true);
        const ja = onJs(a0);
        const jb = onJs(b0);
        const reference = matmul(ta ? ja.T : ja, tb ? jb.T : jb).toTypedArray();
        // float32 sums of k products of N(0,1) values: rounding error grows like k·ε·|term|.
        let worst = 0;
        reference.forEach((r, i) => (worst = Math.max(worst, Math.abs(r - single[i]))));
        expect(worst).toBeLessThan(k * 2e-6);
      }
    }
  });

  it('an LSTM cell step, forward and backward, split over threads by rows equals the one-thread result bit for bit', () => {
    const g = new Generator(12);
    for (const [n, h] of [
      [64, 128], // W3's cells: split
      [33, 125], // odd rows and a hidden size that is not a multiple of 4
    ]) {
      const [gates, c, dout] = [randn([n, 4 * h], { generator: g }), randn([n, h], { generator: g }), randn([n, 2 * h], { generator: g })];
      const run = (threads: number): string[] => {
        wasm.maxThreads = threads;
        const out = randn([n, 2 * h], { generator: new Generator(1) });
        const [dg, dc] = [randn([n, 4 * h], { generator: new Generator(2) }), randn([n, h], { generator: new Generator(3) })];
        wasm.lstmCell(gates, c, out.buf);
        wasm.lstmCellBackward(gates, c, out, dout, dg.buf, dc.buf);
        return [out, dg, dc].map((t) => Buffer.from(t.toTypedArray().buffer).toString('base64'));
      };
      expect(run(Infinity)).toEqual(run(1));
    }
  });

  it('sumSquares, scale and adamStep split over threads equal the one-thread result bit for bit', () => {
    for (const n of [40_003, 100_352, 262_147]) {
      const run = (threads: number): Float32Array[] => {
        wasm.maxThreads = threads;
        const [p, grad, m, v] = [0, 1, 2, 3].map(() => randn([n], { generator: new Generator(n) }));
        const s = new Float32Array([wasm.sumSquares(grad)]);
        wasm.scale(grad.buf, 0.731);
        wasm.adamStep(p.buf, grad.buf, m.buf, v.buf, {
          gradScale: 0.5, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, lr: 1e-2, biasCorrection1: 0.19, biasCorrection2: 0.002,
        });
        return [s, ...[p, grad, m, v].map((t) => t.toTypedArray() as Float32Array)];
      };
      const threaded = run(Infinity);
      const single = run(1);
      threaded.forEach((t, i) => expect(Buffer.from(t.buffer).equals(Buffer.from(single[i].buffer)), `output ${i} of n = ${n}`).toBe(true));
    }
  });
});
