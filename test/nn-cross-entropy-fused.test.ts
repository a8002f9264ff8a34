import { describe, expect, it } from 'vitest';
import { gradcheck } from '../src/autograd/gradcheck.js';
import { getBackend } from '../src/backend/registry.js';
import { Generator } from '../src/core/random.js';
import { crossEntropy, nllLoss } from '../src/nn/losses.js';
import '../src/ops/methods.js';
import { logSoftmax } from '../src/ops/softmax.js';
import { randint, randn, tensor } from '../src/tensor/create.js';
import type { Tensor } from '../src/tensor/tensor.js';

// crossEntropy's fused path (one primitive per row, forward and backward) against the
// composition it replaces: nllLoss of logSoftmax.

function close(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i])) expect(got[i]).toBeNaN();
    else expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(rtol * (1 + Math.abs(want[i])));
  }
}

describe('crossEntropy (fused rows) against nllLoss(logSoftmax)', () => {
  it.each(['mean', 'sum', 'none'] as const)('reduction %s: loss and gradient, ordinary and extreme logits', (reduction) => {
    const gen = new Generator(11);
    for (const [n, c, scale] of [[32, 10, 1], [7, 3, 40], [5, 1000, 3], [4, 5, 1e4]]) {
      const x = randn([n, c], { generator: gen }).mul(scale).requiresGrad_();
      const y = randint(0, c, [n], { generator: gen });
      const a = crossEntropy(x, y, { reduction });
      const w = randn(a.shape, { generator: gen });
      a.mul(w).sum().backward();
      const ga = x.grad!.toTypedArray();
      x.grad = null;
      const b = nllLoss(logSoftmax(x, 1), y, { reduction });
      b.mul(w).sum().backward();
      close(a.toTypedArray(), b.toTypedArray(), 2e-6);
      close(ga, x.grad!.toTypedArray(), 2e-6);
    }
  });

  it('a NaN logit makes its row NaN; an unbatched input [C] works', () => {
    const x = tensor([[1, 2, 3], [1, NaN, 0]]);
    expect(Array.from(crossEntropy(x, tensor([0, 1], [2], { dtype: 'int32' }), { reduction: 'none' }).toTypedArray()).map(Number.isNaN)).toEqual([false, true]);
    const u = tensor([0.5, -1, 2]);
    close(crossEntropy(u, tensor(2, [], { dtype: 'int32' })).toTypedArray(), [Math.log(Math.exp(0.5) + Math.exp(-1) + Math.exp(2)) - 2], 1e-6);
  });

  it('float64 gradcheck', () => {
    const gen = new Generator(12);
    const x = randn([4, 5], { generator: gen, dtype: 'float64' }).requiresGrad_();
    const y = randint(0, 5, [4], { generator: gen });
    expect(gradcheck((t: Tensor) => crossEntropy(t, y), [x])).toBe(true);
    expect(gradcheck((t: Tensor) => crossEntropy(t, y, { reduction: 'none' }), [x])).toBe(true);
  });

  it('the kernels refuse a target outside [0, C) with the row and value', () => {
    const be = getBackend();
    const x = randn([3, 4]);
    const t = tensor([0, 7, 1], [3], { dtype: 'int32' });
    const out = be.alloc('float32', 3);
    expect(() => be.crossEntropyRows(x, t, out)).toThrow(/crossEntropyRows: target holds class 7 at row 1, outside the valid range \[0, 3\]/);
  });
});
