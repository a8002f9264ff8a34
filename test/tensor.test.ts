import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DisposedError,
  ShapeError,
  arange,
  eye,
  full,
  linspace,
  ones,
  onesLike,
  tensor,
  zeros,
  zerosLike,
} from '../src/index.js';

describe('creation', () => {
  it('tensor() takes nested arrays, typed arrays with a shape, and numbers', () => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toBe('float32');
    expect(a.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = tensor(new Int32Array([1, 2, 3, 4, 5, 6]), [3, 2]);
    expect(b.dtype).toBe('int32');
    expect(b.toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const c = tensor(2.5, { dtype: 'float64' });
    expect(c.shape).toEqual([]);
    expect(c.item()).toBe(2.5);
    expect(tensor([0.1]).item()).toBe(Math.fround(0.1));
  });

  it('rejects ragged arrays and wrong shapes with the shapes in the message', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => tensor([[1, 2], [3]])).toThrow(/tensor: ragged nested array: expected 2 elements at \[1\]/);
    expect(() => tensor(new Float32Array(5), [2, 3])).toThrow('tensor: shape [2, 3] holds 6 elements but the data has 5');
    expect(() => zeros([2, -1])).toThrow(/zeros|full: shape \[2, -1\] is invalid/);
  });

  it('zeros, ones, full, *Like, eye, arange, linspace', () => {
    expect(zeros([2, 2]).toArray()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(ones([3], { dtype: 'int32' }).toArray()).toEqual([1, 1, 1]);
    expect(full([2], 7).toArray()).toEqual([7, 7]);
    const t = tensor([1, 2], { dtype: 'float64' });
    expect(zerosLike(t).dtype).toBe('float64');
    expect(onesLike(t).toArray()).toEqual([1, 1]);
    expect(eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(5).dtype).toBe('int32');
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(() => arange(0, 5, -1)).toThrow(ConfigError);
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(-1, 1, 1).toArray()).toEqual([-1]);
  });

  it('item() needs exactly one element', () => {
    expect(() => tensor([1, 2]).item()).toThrow('item: only one-element tensors can be converted to a number (shape is [2])');
  });
});

describe('views share memory', () => {
  it('transpose and slice are views; writes through one are seen by the other', () => {
    const a = arange(6, undefined, 1, { dtype: 'float32' }).reshape([2, 3]);
    const t = a.T;
    expect(t.shape).toEqual([3, 2]);
    expect(t.isContiguous()).toBe(false);
    expect(t.toArray()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    const col = a.slice([null, 1]);
    col.fill_(9);
    expect(a.toArray()).toEqual([
      [0, 9, 2],
      [3, 9, 5],
    ]);
  });

  it('a disposed tensor cannot be used, but its views keep the memory alive', () => {
    const a = tensor([1, 2, 3]);
    const v = a.reshape([3, 1]);
    a.dispose();
    expect(() => a.add(1)).toThrow(DisposedError);
    expect(v.toArray()).toEqual([[1], [2], [3]]);
  });
});

describe('printing', () => {
  it('prints like PyTorch, with Keel names for dtype and autograd', () => {
    expect(String(tensor([[1, 2], [3, 4]]))).toBe('tensor([[1., 2.],\n        [3., 4.]])');
    expect(String(tensor([1.5, 2], { dtype: 'float64' }))).toBe('tensor([1.5000, 2.0000], dtype=float64)');
    expect(String(tensor([1, 2], { requiresGrad: true }))).toBe('tensor([1., 2.], requiresGrad=true)');
    expect(String(tensor([1, 2], { requiresGrad: true }).mul(2))).toBe('tensor([2., 4.], gradFn=<MulBackward>)');
    expect(String(arange(3))).toBe('tensor([0, 1, 2], dtype=int32)');
  });
});
