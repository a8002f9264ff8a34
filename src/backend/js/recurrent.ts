import type { TypedArray } from '../../core/dtype.js';
import { sigmoid } from './math.js';

// The reference kernels of the fused LSTM cell (see Backend.lstmCell): the same operations as the
// composition sigmoid/tanh/mul/add, each rounded to the dtype, in the same order.

/** A row-major matrix inside a typed array: element [r, j] at `offset + r·rowStride + j`. */
export interface Rows {
  data: TypedArray;
  offset: number;
  rowStride: number;
}

const identity = (x: number): number => x;

/** The gates i, f, g, o of one unit from their pre-activations `h` apart, each rounded. */
function gateValues(G: TypedArray, at: number, h: number, r: (x: number) => number): [number, number, number, number] {
  return [r(sigmoid(G[at])), r(sigmoid(G[at + h])), r(Math.tanh(G[at + 2 * h])), r(sigmoid(G[at + 3 * h]))];
}

/** `out = [h' | c']` per row from the gates' pre-activations and the previous cell state. */
export function lstmCellRows(n: number, h: number, gates: Rows, c: Rows, out: Rows): void {
  const r = gates.data instanceof Float32Array ? Math.fround : identity;
  const G = gates.data;
  for (let row = 0; row < n; row++) {
    const g0 = gates.offset + row * gates.rowStride;
    const c0 = c.offset + row * c.rowStride;
    const o0 = out.offset + row * out.rowStride;
    for (let j = 0; j < h; j++) {
      const [i, f, g, o] = gateValues(G, g0 + j, h, r);
      const c2 = r(r(f * c.data[c0 + j]) + r(i * g));
      out.data[o0 + j] = r(o * r(Math.tanh(c2)));
      out.data[o0 + h + j] = c2;
    }
  }
}

/** The cell's backward (see Backend.lstmCellBackward): writes `dGates` [n, 4h] and `dC` [n, h], contiguous. */
export function lstmCellBackwardRows(n: number, h: number, gates: Rows, c: Rows, out: Rows, dout: Rows, dGates: TypedArray, dC: TypedArray): void {
  const r = gates.data instanceof Float32Array ? Math.fround : identity;
  const G = gates.data;
  for (let row = 0; row < n; row++) {
    const g0 = gates.offset + row * gates.rowStride;
    const c0 = c.offset + row * c.rowStride;
    const o0 = out.offset + row * out.rowStride;
    const d0 = dout.offset + row * dout.rowStride;
    const q = row * 4 * h;
    for (let j = 0; j < h; j++) {
      const [i, f, g, o] = gateValues(G, g0 + j, h, r);
      const tc = r(Math.tanh(out.data[o0 + h + j]));
      const dh = dout.data[d0 + j];
      const dct = r(dout.data[d0 + h + j] + r(r(dh * o) * r(1 - r(tc * tc))));
      dGates[q + j] = r(r(dct * g) * r(i * r(1 - i)));
      dGates[q + h + j] = r(r(dct * c.data[c0 + j]) * r(f * r(1 - f)));
      dGates[q + 2 * h + j] = r(r(dct * i) * r(1 - r(g * g)));
      dGates[q + 3 * h + j] = r(r(dh * tc) * r(o * r(1 - o)));
      dC[row * h + j] = r(dct * f);
    }
  }
}
