import { describe, expect, it } from 'vitest';
import type { Backend, View } from '../src/backend/backend.js';
import { jsBackend as js } from '../src/backend/js/js-backend.js';
import { relaxedSimdAvailable, wasmSupported } from '../src/backend/wasm/module.js';
import { WasmBackend } from '../src/backend/wasm/wasm-backend.js';
import { rng } from './helpers/rng.js';

/**
 * The two builds of the WebAssembly kernels: the relaxed-SIMD one (matmul's multiply-adds fused),
 * loaded by default where the engine validates it, and the plain SIMD128 one. Both against the
 * reference backend on every transpose combination and both matmul kernels (packed panels, and
 * the dot products of a few rows against a transposed operand), and a product whose last bit
 * tells one rounding from two.
 */

const supported = wasmSupported();
/** KEEL_WASM_RELAXED=0 asks for the plain build everywhere (the slow suite runs the wasm tests so too). */
const optedOut = process.env.KEEL_WASM_RELAXED === '0';

/**
 * Whether this engine's relaxed multiply-add is fused on this CPU (it may be a multiply and an
 * add where the CPU has no FMA): a module of its own, f(a, b, c) = lane 0 of relaxed_madd of the
 * splats, on the witness (1 + 2⁻¹²)·(1 + 2⁻¹²) − 1.
 */
function fusedHere(): boolean {
  if (!supported || optedOut || !relaxedSimdAvailable()) return false;
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x08, 0x01, 0x60, 0x03, 0x7d, 0x7d, 0x7d, 0x01, 0x7d, // (f32 f32 f32) -> f32
    0x03, 0x02, 0x01, 0x00,
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // export "f"
    0x0a, 0x16, 0x01, 0x14, 0x00,
    0x20, 0x00, 0xfd, 0x13, 0x20, 0x01, 0xfd, 0x13, 0x20, 0x02, 0xfd, 0x13, // three f32x4.splat
    0xfd, 0x85, 0x02, 0xfd, 0x1f, 0x00, 0x0b, // f32x4.relaxed_madd, f32x4.extract_lane 0
  ]);
  const f = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f as (a: number, b: number, c: number) => number;
  const x = 1 + 2 ** -12;
  return f(x, x, -1) === 2 ** -11 + 2 ** -24;
}

/** A float32 [1, rows, cols] view of `values` (row-major [rows, cols]), or of its transpose's storage. */
function matrix(b: Backend, values: readonly number[], rows: number, cols: number, transposed: boolean): View {
  const buf = b.alloc('float32', rows * cols);
  if (!transposed) {
    b.write(buf, values);
    return { buf, shape: [1, rows, cols], strides: [0, cols, 1], offset: 0 };
  }
  const t = new Array<number>(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = values[i * cols + j];
  b.write(buf, t);
  return { buf, shape: [1, rows, cols], strides: [0, 1, rows], offset: 0 };
}

function product(b: Backend, a: readonly number[], bv: readonly number[], m: number, k: number, n: number, ta: boolean, tb: boolean): Float32Array {
  const out = b.alloc('float32', m * n);
  b.matmul(matrix(b, a, m, k, ta), matrix(b, bv, k, n, tb), out);
  return b.read(out) as Float32Array;
}

describe.runIf(supported)('wasm kernels: the relaxed-SIMD and the plain SIMD128 builds', () => {
  const relaxed = new WasmBackend();
  const plain = new WasmBackend({ relaxedSimd: false });

  it('loads the relaxed-SIMD build by default where the engine runs it (on Node 20 by turning on V8\'s flag), the plain one on request or with KEEL_WASM_RELAXED=0', () => {
    expect(relaxedSimdAvailable()).toBe(!optedOut);
    expect(relaxed.relaxedSimd).toBe(!optedOut);
    expect(relaxed.kernels.relaxedSimd()).toBe(optedOut ? 0 : 1);
    expect(plain.relaxedSimd).toBe(false);
    expect(plain.kernels.relaxedSimd()).toBe(0);
  });

  it.skipIf(!fusedHere())('fuses each multiply-add (where the CPU fuses relaxed multiply-adds) in both matmul kernels: one rounding where the plain build rounds twice', () => {
    // (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴: the last term is half an ulp of 1, lost when the product is
    // rounded before −1 is added to it (ties to even), kept when the multiply-add rounds once.
    // k = 8 puts −1 and the product in the same SIMD lane at k = 0 and k = 4.
    const x = 1 + 2 ** -12;
    const a = [1, 0, 0, 0, x, 0, 0, 0];
    const b = [-1, 0, 0, 0, x, 0, 0, 0];
    for (const tb of [false, true]) {
      // tb: the operand seen as a transposed view, which the dot-product kernel takes
      expect(product(relaxed, a, b, 1, 8, 1, false, tb)[0], `fused, Bᵀ view ${tb}`).toBe(2 ** -11 + 2 ** -24);
      expect(product(plain, a, b, 1, 8, 1, false, tb)[0], `plain, Bᵀ view ${tb}`).toBe(2 ** -11);
    }
    // The packed kernel on a whole 4×8 tile: every element the same witness.
    const m = 4;
    const n = 8;
    const aw = Array.from({ length: m }, () => a).flat();
    const bw = Array.from({ length: 8 }, (_, q) => new Array<number>(n).fill(b[q])).flat();
    expect([...product(relaxed, aw, bw, m, 8, n, false, false)]).toEqual(new Array<number>(m * n).fill(2 ** -11 + 2 ** -24));
    expect([...product(plain, aw, bw, m, 8, n, false, false)]).toEqual(new Array<number>(m * n).fill(2 ** -11));
  });

  it('both builds agree with the reference backend in every transpose combination, edge tiles and k tails included', () => {
    const r = rng(11);
    const failures: string[] = [];
    for (const [m, k, n] of [
      [1, 8, 1],
      [3, 5, 7],
      [4, 8, 8],
      [13, 37, 29],
      [32, 300, 10], // A·Bᵀ: the dot-product kernel
      [97, 260, 70], // more than one k block of the packed kernel
    ]) {
      const a = Array.from({ length: m * k }, () => r() * 2 - 1);
      const b = Array.from({ length: k * n }, () => r() * 2 - 1);
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const want = product(js, a, b, m, k, n, ta, tb);
          const fused = product(relaxed, a, b, m, k, n, ta, tb);
          const twice = product(plain, a, b, m, k, n, ta, tb);
          // float32 sums of k products of values in [−1, 1): each side within k·2⁻²³ of the exact sum.
          const tol = 2 * k * 2 ** -23;
          for (let i = 0; i < m * n; i++) {
            for (const [name, got] of [['relaxed', fused], ['plain', twice]] as const) {
              if (!(Math.abs(got[i] - want[i]) <= tol)) failures.push(`${name} [${m},${k}]·[${k},${n}] ta ${ta} tb ${tb} [${i}]: ${got[i]} vs ${want[i]}`);
            }
          }
        }
      }
    }
    expect(failures.slice(0, 10)).toEqual([]);
  });
});
