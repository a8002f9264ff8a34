import { describe, expect, it, vi } from 'vitest';
import { getBackend } from '../src/backend/registry.js';
import { Generator } from '../src/core/random.js';
import { linear } from '../src/nn/functional.js';
import { matmul } from '../src/ops/linalg.js';
import type { Tensor } from '../src/tensor/tensor.js';
import '../src/ops/methods.js';
import { randn } from '../src/tensor/create.js';

// The matmul backward gives a transposed operand (the weight of x·Wᵀ) its gradient in the layout
// of the tensor behind the view, so no transposing copy runs, and the numbers are unchanged.

describe('matmul backward through a transposed weight', () => {
  it.each([
    ['matmul(x, W.T)', (x: Tensor, w: Tensor) => matmul(x, w.T)],
    ['linear(x, W)', (x: Tensor, w: Tensor) => linear(x, w)],
  ])('%s: W.grad is contiguous, no transposing copy runs, and it equals (xᵀ·G)ᵀ bit for bit', (_name, f) => {
    const gen = new Generator(7);
    const x = randn([32, 784], { generator: gen });
    const w = randn([128, 784], { generator: gen }).requiresGrad_();
    const g = randn([32, 128], { generator: gen });
    const y = f(x, w);
    const copy = vi.spyOn(getBackend(), 'copy');
    y.backward(g);
    // (backward may copy the seed gradient it was given, or W's gradient contiguously; never with a transposed read)
    expect(copy.mock.calls.filter(([src]) => src.strides.length === 2 && src.strides[0] === 1 && src.shape[0] > 1)).toEqual([]);
    copy.mockRestore();
    expect(w.grad!.isContiguous()).toBe(true);
    const reference = matmul(x.T, g).T.contiguous();
    expect(Buffer.from(w.grad!.toTypedArray().buffer).equals(Buffer.from(reference.toTypedArray().buffer))).toBe(true);
  });

  it('Aᵀ·B with a transposed A: A.grad keeps A’s layout and equals B·Gᵀ transposed', () => {
    const gen = new Generator(8);
    const a = randn([40, 24], { generator: gen }).requiresGrad_();
    const b = randn([40, 16], { generator: gen });
    const g = randn([24, 16], { generator: gen });
    matmul(a.T, b).backward(g);
    expect(a.grad!.isContiguous()).toBe(true);
    const reference = matmul(g, b.T).T.contiguous(); // d(Aᵀ) = G·Bᵀ, so dA = (G·Bᵀ)ᵀ
    const got = a.grad!.toTypedArray();
    const want = reference.toTypedArray();
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[i])));
  });
});
