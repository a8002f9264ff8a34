import { describe, expect, it } from 'vitest';
import { jsBackend } from '../src/backend/js/js-backend.js';

describe('js backend: optimizer and norm kernels', () => {
  it('axpby computes y = alpha·x + beta·y, reading x through any view', () => {
    const x = jsBackend.alloc('float64', 6);
    jsBackend.write(x, [1, 2, 3, 4, 5, 6]);
    const y = jsBackend.alloc('float64', 6);
    jsBackend.write(y, [10, 20, 30, 40, 50, 60]);
    // x seen as the transpose of a [2, 3] matrix: [[1, 4], [2, 5], [3, 6]]
    jsBackend.axpby(2, { buf: x, shape: [3, 2], strides: [1, 3], offset: 0 }, 0.5, y);
    expect(Array.from(jsBackend.read(y))).toEqual([5 + 2, 10 + 8, 15 + 4, 20 + 10, 25 + 6, 30 + 12]);
  });

  it('sumSquares accumulates in float64, past float32 overflow', () => {
    const x = jsBackend.alloc('float32', 4);
    jsBackend.write(x, [3, 4, 1e20, -1e20]);
    expect(jsBackend.sumSquares({ buf: x, shape: [2], strides: [1], offset: 0 })).toBe(25);
    const f = Math.fround(1e20); // the stored float32 value; its square overflows float32 but not float64
    expect(jsBackend.sumSquares({ buf: x, shape: [4], strides: [1], offset: 0 })).toBe(2 * f * f);
    expect(jsBackend.sumSquares({ buf: x, shape: [0], strides: [1], offset: 0 })).toBe(0);
  });
});
