import { describe, expect, it } from 'vitest';
import { gradcheck } from '../src/autograd/gradcheck.js';
import { run } from '../src/autograd/run.js';
import { Generator } from '../src/core/random.js';
import { lstmCellComposed } from '../src/nn/recurrent-cell.js';
import { add, mul } from '../src/ops/elementwise.js';
import '../src/ops/methods.js';
import { concat, narrow } from '../src/ops/shape.js';
import { randn } from '../src/tensor/create.js';
import type { Tensor } from '../src/tensor/tensor.js';

// The fused LSTM cell primitive against the composition of primitives it replaces.

const fused = (gates: Tensor, c: Tensor): Tensor => run('lstmCell', [gates, c], {});
const composed = (gates: Tensor, c: Tensor): Tensor => concat(lstmCellComposed(gates, c, gates.shape[1] / 4), 1);

function bits(t: Tensor): string {
  return Buffer.from(t.contiguous().toTypedArray().buffer).toString('base64');
}

describe('lstmCell (fused) against its composition', () => {
  it.each([
    [5, 4],
    [3, 7], // hidden not a multiple of 4: the kernels' tails
    [64, 128],
  ])('rows %i, hidden %i: forward bit for bit, gradients within float32 rounding', (n, h) => {
    const gen = new Generator(n * 100 + h);
    const gates = randn([n, 4 * h], { generator: gen }).mul(2).requiresGrad_();
    const c = randn([n, h], { generator: gen }).requiresGrad_();
    const w = randn([n, 2 * h], { generator: gen });
    const a = fused(gates, c);
    const b = composed(gates, c);
    expect(bits(a)).toBe(bits(b));
    mul(a, w).sum().backward();
    const [dg, dc] = [gates.grad!.toTypedArray(), c.grad!.toTypedArray()];
    gates.grad = null;
    c.grad = null;
    mul(b, w).sum().backward();
    const [rg, rc] = [gates.grad!.toTypedArray(), c.grad!.toTypedArray()];
    for (const [got, want] of [[dg, rg], [dc, rc]] as const)
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(2e-6 * (1 + Math.abs(want[i])));
  });

  it('float64 gradcheck, including a transposed gates input and a row-strided cell state', () => {
    const gen = new Generator(3);
    const f64 = (shape: number[]): Tensor => randn(shape, { generator: gen, dtype: 'float64' }).requiresGrad_();
    const gates = f64([3, 8]);
    const c = f64([3, 2]);
    expect(gradcheck(fused, [gates, c])).toBe(true);
    const gt = f64([8, 3]);
    const wide = f64([3, 5]);
    expect(gradcheck((g, s) => fused(g.T, narrow(s, 1, 1, 2)), [gt, wide])).toBe(true);
    // the state halves of one step feeding the next (views with row stride 2h)
    expect(
      gradcheck((g1, g2, s) => {
        const hc = fused(g1, s);
        return fused(add(g2, concat([narrow(hc, 1, 0, 2), narrow(hc, 1, 0, 2), narrow(hc, 1, 0, 2), narrow(hc, 1, 0, 2)], 1)), narrow(hc, 1, 2, 2));
      }, [gates, f64([3, 8]), c]),
    ).toBe(true);
  });

  it('names the operands when shapes do not fit', () => {
    const gates = randn([3, 8]);
    expect(() => fused(gates, randn([3, 3]))).toThrow(/lstmCell: c has shape \[3, 3\]; expected \[3, 2\]/);
  });
});
