import { describe, expect, it } from 'vitest';
import { Generator, logSoftmax, memory, noGrad, randint, randn, tidy, gather, tensor, matmul, tanh } from '../src/index.js';

describe('memory', () => {
  it('1,000 forward+backward+update steps of a small MLP keep the live-buffer count flat', () => {
    const g = new Generator(0);
    const w1 = randn([20, 16], { generator: g }).mul(Math.sqrt(2 / 20)).requiresGrad_();
    const b1 = randn([16], { generator: g }).mul(0.01).requiresGrad_();
    const w2 = randn([16, 5], { generator: g }).mul(Math.sqrt(1 / 16)).requiresGrad_();
    const x = randn([32, 20], { generator: g });
    const y = randint(0, 5, [32, 1], { generator: g });
    const params = [w1, b1, w2];
    const counts: number[] = [];
    let firstLoss = 0;
    let lastLoss = 0;
    for (let step = 0; step < 1000; step++) {
      tidy(() => {
        const h = matmul(x, w1).add(b1).relu();
        const logp = logSoftmax(matmul(h, w2));
        const loss = gather(logp, 1, y).mean().neg();
        for (const p of params) p.grad?.zero_();
        loss.backward();
        noGrad(() => {
          for (const p of params) p.sub_(p.grad!, 0.1);
        });
        if (step === 0) firstLoss = loss.item();
        lastLoss = loss.item();
      });
      counts.push(memory().numBuffers);
    }
    // After the first step creates the gradients, nothing more is held.
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(counts[999]).toBe(counts[1]);
    expect(lastLoss).toBeLessThan(firstLoss * 0.2); // and it really trains
  });

  it('backward releases what the graph saved; a second backward is a clear error', () => {
    const w = randn([4, 3]).requiresGrad_();
    const x = randn([2, 4]);
    const before = memory().numBuffers;
    const loss = tidy(() => tanh(matmul(x, w)).sum());
    // tidy freed the intermediates as tensors, but the graph still holds what backward needs.
    const held = memory().numBuffers;
    expect(held).toBeGreaterThan(before + 1);
    loss.backward();
    // Only the loss and the new gradient remain.
    expect(memory().numBuffers).toBe(before + 2);
    expect(() => loss.backward()).toThrow(/backward through the graph a second time.*retainGraph: true/);
  });

  it('tidy keeps returned tensors (also nested in arrays and objects) and moves them to the outer scope', () => {
    const before = memory().numBuffers;
    const outer = tidy(() => {
      const inner = tidy(() => {
        const a = tensor([1, 2, 3]);
        const b = a.mul(2);
        const c = b.add(1);
        return { c, list: [b] };
      });
      expect(inner.c.toArray()).toEqual([3, 5, 7]);
      expect(inner.list[0].toArray()).toEqual([2, 4, 6]);
      return inner.c;
    });
    expect(outer.toArray()).toEqual([3, 5, 7]);
    expect(memory().numBuffers).toBe(before + 1);
    outer.dispose();
    expect(memory().numBuffers).toBe(before);
  });
});
