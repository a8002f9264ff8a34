import { describe, expect, it } from 'vitest';
import { tensor } from '../src/index.js';

describe('tensor gradient hooks', () => {
  it('see the gradient of a leaf and of a non-leaf, may replace it, and can be removed', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const h = x.mul(2);
    const seenLeaf: number[][] = [];
    const seenMid: number[][] = [];
    const removeLeaf = x.registerHook((g) => void seenLeaf.push(g.toArray() as number[]));
    const removeMid = h.registerHook((g) => {
      seenMid.push(g.toArray() as number[]);
      return g.mul(10); // replaces the gradient flowing on
    });
    h.mul(h).sum().backward();
    expect(seenMid).toEqual([[4, 8, 12]]); // d(h²)/dh = 2h
    expect(seenLeaf).toEqual([[80, 160, 240]]); // 10 · 2h · 2
    expect(x.grad!.toArray()).toEqual([80, 160, 240]);
    removeLeaf();
    removeMid();
    removeMid(); // harmless
    x.grad = null;
    const h2 = x.mul(2);
    h2.sum().backward();
    expect(seenLeaf).toHaveLength(1);
    expect(x.grad!.toArray()).toEqual([2, 2, 2]);
  });

  it('refuses a tensor that does not require grad', () => {
    expect(() => tensor([1]).registerHook(() => undefined)).toThrow(/registerHook: the tensor does not require grad/);
  });
});
