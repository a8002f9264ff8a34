import { type DType, type TypedArray, bytesPerElement } from '../../core/dtype.js';
import { ConfigError, DTypeError, DisposedError, ShapeError, fmtShape } from '../../core/errors.js';
import { checkShape, contiguousStrides, numel } from '../../core/shape.js';
import type { AdamStepScalars, ArgReduceOp, Backend, BackendBuffer, BinaryOp, ReduceOp, StatsActivation, UnaryOp, UnaryParams, UpdateSquares, ValueStats, View } from '../backend.js';
import { axpbyStrided, copyStrided, mapBinary, mapUnary, select, sumSquaresStrided } from '../js/elementwise.js';
import { gatherAxis, scatterAddAxis } from '../js/gather.js';
import { binaryFn, unaryFn } from '../js/math.js';
import { matmulBatched } from '../js/matmul.js';
import { argReduceAxis, reduceAxes } from '../js/reduce.js';
import { type ArrayView, unravel, withoutAxis } from '../js/strided.js';
import { checkAliasing, checkAxis, checkCrossEntropyRows, checkIndexShape, checkLstmOperands, checkUpdateBuffers, checkValueStats, isRowMajor, sameShapes, targetError } from '../checks.js';
import { crossEntropyRowsArrays, crossEntropyRowsBackwardArrays } from '../js/loss.js';
import { type Rows, lstmCellBackwardRows, lstmCellRows } from '../js/recurrent.js';
import { adamArrays, scaleArray, updateSquaresArrays } from '../js/update.js';
import { valueStatsArray } from '../js/stats.js';
import { Allocator } from './allocator.js';
import { INITIAL_PAGES, type KernelExports, MAXIMUM_PAGES, instantiate, kernelModule, relaxedSimdAvailable } from './module.js';
import { ThreadPool, defaultThreads } from './threads.js';

/** Kernels that worker threads can run, by index. */
const THREADED = ['gemmF32', 'peakF32', 'peakMaddF32', 'peakFmaF32', 'sumSquaresBlocksF32', 'adamF32', 'gemmNtF32', 'lstmCellF32', 'lstmCellBackwardF32'] as const;

/** Below this many flops a matmul runs on one thread: waking a worker would cost more. */
const PARALLEL_FLOPS = 1 << 20;

/**
 * Up to this many rows, a product whose operands both run along k (A row-major, B transposed: a
 * linear layer's x·Wᵀ at batch 32) takes the unpacked dot-product kernel (gemmNtF32), which
 * skips transposing B into panels: 1.1–1.25× faster at 8 and 32 rows against 784→128 weights
 * (bench, interleaved), mixed from 64 rows on (0.8× at 64×128·128×512).
 */
const NT_MAX_ROWS = 32;

/** Whether a product takes the dot-product kernel: both operands run along k, few rows. */
function takesDots(a: View, b: View): boolean {
  return a.strides[2] === 1 && b.strides[1] === 1 && a.shape[1] <= NT_MAX_ROWS;
}

/**
 * From this many elements a whole-buffer update (sum of squares, scale, optimizer step) is split
 * between threads. Below it the hand-off costs more than the pass (measured on the 784→128→10
 * gradients: the 100,352-float weight gains, the 1,280-float one does not).
 */
const PARALLEL_ELEMENTS = 1 << 15;

/**
 * From this many cells (rows × hidden units) an LSTM cell step, forward or backward, is split
 * between threads by rows: W3's 64 × 128 cells take 100–250 µs on one thread (five
 * transcendental functions per cell), far more than the hand-off.
 */
const PARALLEL_CELLS = 1 << 12;

/** Boundary alignment of a whole-buffer split, in elements (four f32x4 vectors). */
const SPLIT_UNIT = 16;

/**
 * From this many elements a sum of squares is split between threads. It is far higher than
 * PARALLEL_ELEMENTS because the norm is followed by the scaling of the same gradients (clipping):
 * a half read on the other core must then be pulled back before it can be written, which cost
 * more than the split saved on the 784→128→10 gradients (clipGradNorm_ 31 µs vs 16 µs on one).
 */
const PARALLEL_SQUARES = 1 << 22;

/** Float64 partial sums that fit the preallocated slots: 256 blocks of a sum of squares (1M floats), or the 8-column panels of a measured product up to 2,048 columns. */
const PARTIAL_SLOTS = 256;

// Codes shared with the AssemblyScript kernels (assembly/strided.ts, vmath.ts, reduce.ts): the
// Record types make the compiler list any op that is added to the interface but not here.
const DTYPE_CODES: Record<DType, number> = { float32: 0, float64: 1, int32: 2 };
const UNARY_CODES: Record<UnaryOp, number> = {
  neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, sign: 5, tanh: 6, sigmoid: 7, relu: 8, erf: 9,
  leakyRelu: 10, elu: 11, selu: 12, gelu: 13, geluTanh: 14, softplus: 15,
};
const BINARY_CODES: Record<BinaryOp, number> = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6, gt: 7, ge: 8, lt: 9, le: 10, eq: 11, ne: 12,
};
const REDUCE_CODES: Record<ReduceOp, number> = { sum: 0, max: 1, min: 2 };
const ARG_REDUCE_CODES: Record<ArgReduceOp, number> = { argmax: 0, argmin: 1 };
const STATS_ACTIVATIONS: Record<NonNullable<StatsActivation> | 'none', number> = { none: 0, relu: 1, tanh: 2, sigmoid: 3 };

/** Word offset of the shape in a strided-kernel descriptor; the stride lists follow (assembly/strided.ts). */
const DESC_SHAPE = 4;

/** A checked view as the kernels take it: the byte address of its first element, strides in bytes. */
interface Operand {
  ptr: number;
  strides: number[];
  dtype: number;
}

/**
 * The WebAssembly backend: tensors live in one WebAssembly.Memory and float32 kernels run as
 * SIMD128 code compiled from AssemblyScript (assembly/): matmul, and every strided kernel (copy,
 * unary, binary, where, reduce, argReduce, gather, scatterAdd, axpby, sumSquares), which walk
 * operands described by a coalesced shape and byte strides written into a small descriptor in
 * wasm memory. Kernels with a float64 or int32 output (but copy, which converts any dtypes) run
 * the reference kernels on views of the same memory; every such fallback is counted, so tests can
 * prove that no float32 kernel quietly runs in JavaScript.
 */

/** A block of WebAssembly memory holding `size` elements of `dtype`. */
export class WasmBuffer implements BackendBuffer {
  freed = false;
  constructor(
    readonly dtype: DType,
    readonly size: number,
    /** Byte offset of element 0. */
    readonly ptr: number,
  ) {}
}

export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly memory: WebAssembly.Memory;
  readonly kernels: KernelExports;
  private readonly allocator: Allocator;
  private f32 = new Float32Array(0);
  private f64 = new Float64Array(0);
  private i32 = new Int32Array(0);
  private readonly scratch: number;
  /** Float64 partial sums of sumSquares on this thread (PARTIAL_SLOTS of them). */
  private readonly partials: number;
  /** Each operand's byte stride of the descriptor's last dimension while describe() fills it. */
  private readonly lastStrides = [0, 0, 0, 0];
  /** The descriptor of the strided kernels (one at a time, on this thread). */
  private readonly desc: number;
  private readonly descMaxRank: number;
  private readonly pool: ThreadPool;
  /** How often each kernel ran in JavaScript, by `kernel:dtype`. */
  readonly fallbacks = new Map<string, number>();

  /**
   * Whether the kernels are the relaxed-SIMD build (fused multiply-adds in matmul), the default
   * where the engine runs it; else the plain SIMD128 build.
   */
  readonly relaxedSimd: boolean;

  /** `relaxedSimd: false` loads the plain SIMD128 build even where relaxed SIMD is available. */
  constructor(options: { relaxedSimd?: boolean } = {}) {
    this.relaxedSimd = (options.relaxedSimd ?? true) && relaxedSimdAvailable();
    const module = kernelModule(this.relaxedSimd);
    this.memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true });
    this.kernels = instantiate(module, this.memory);
    this.allocator = new Allocator(this.memory, this.kernels.heapBase(), () => this.refreshViews());
    this.refreshViews();
    this.scratch = this.allocator.alloc(this.kernels.gemmScratchBytes());
    this.desc = this.allocator.alloc(this.kernels.descBytes());
    this.partials = this.allocator.alloc(PARTIAL_SLOTS * 8);
    this.descMaxRank = this.kernels.descMaxRank();
    this.pool = new ThreadPool(
      this.memory,
      module,
      THREADED,
      defaultThreads(),
      (bytes) => this.allocator.alloc(bytes),
      this.kernels.gemmScratchBytes(),
    );
    this.warmUp();
  }

  /**
   * Runs the kernels of every training step (both matmul kernels, the Adam step) once on small
   * zero-filled operands. The engine compiles a kernel with its baseline compiler at its first
   * call and recompiles it optimized in the background once it has run enough; these calls use
   * up that allowance, so the optimized code is ready by the time a model has been built, and
   * the first training step does not run 100,000-element updates and megaflop products in
   * baseline code (≈10 ms of a 784→128→10 model's first step). About 1 ms here.
   */
  private warmUp(): void {
    const n = 128;
    const k = 64;
    const bytes = (2 * n * k + n * n) * 4;
    const a = this.allocator.alloc(bytes);
    try {
      new Uint8Array(this.memory.buffer, a, bytes).fill(0);
      const b = a + n * k * 4;
      const c = b + n * k * 4;
      this.kernels.gemmF32(n, 0, n, k, a, 1, n, b, n, 1, c, n, this.scratch, 0);
      this.kernels.gemmNtF32(n, 0, n, k, a, k, b, k, c, n);
      const e = (n * n) / 4; // four arrays of the Adam step in c's n² floats
      for (let i = 0; i < 4; i++) this.kernels.adamF32(c, c + e * 4, c + e * 8, c + e * 12, 0, e, 1, 0, 0, 0.9, 0.1, 0.999, 0.001, 0.1, 1e-8, 10, -1e-3, 0, 0);
    } finally {
      this.allocator.release(a, bytes);
    }
  }

  /**
   * Runs a SIMD peak kernel on `threads` threads at once for `iters` iterations each and returns
   * the GFLOP/s achieved. `'independent'` (the ceiling): 12 independent f32x4 chains, 6 of
   * multiplies and 6 of adds, all in registers. `'dependent'`: 12 chains of multiply→add.
   * `'fused'`: 12 chains of multiply-add, each one fused instruction in the relaxed-SIMD build
   * (else the same as `'dependent'`).
   */
  peakGflops(threads: number, iters = 2_000_000, kind: 'independent' | 'dependent' | 'fused' = 'independent'): number {
    const n = Math.max(1, Math.min(threads, this.pool.ready));
    const calls = Array.from({ length: n }, (_, t) => [iters, t + 1]);
    const name = kind === 'independent' ? 'peakF32' : kind === 'dependent' ? 'peakMaddF32' : 'peakFmaF32';
    const t0 = performance.now();
    this.pool.run(calls, THREADED.indexOf(name), (c) => void this.kernels[name](c[0], c[1]));
    const seconds = (performance.now() - t0) / 1000;
    return (n * iters * 96) / seconds / 1e9;
  }

  /** Most threads a kernel may use (default: all; 1 turns threading off). */
  maxThreads = Infinity;

  /** Threads that kernels can use right now (the main thread plus ready workers, at most maxThreads). */
  get threads(): number {
    return Math.min(this.maxThreads, this.pool.ready);
  }

  /** Typed-array views over the whole memory, remade after it grows (the old ones would be stale). */
  private refreshViews(): void {
    const buf = this.memory.buffer;
    this.f32 = new Float32Array(buf);
    this.f64 = new Float64Array(buf);
    this.i32 = new Int32Array(buf);
  }

  /** The view over the whole memory for a dtype (always current). */
  heap(dtype: DType): TypedArray {
    if (this.f32.buffer.byteLength !== this.memory.buffer.byteLength) this.refreshViews();
    return dtype === 'float32' ? this.f32 : dtype === 'float64' ? this.f64 : this.i32;
  }

  /** Bytes of tensor memory in use now, and the most the allocator ever reserved. */
  memoryInfo(): { inUseBytes: number; reservedBytes: number; memoryBytes: number } {
    return { inUseBytes: this.allocator.inUse, reservedBytes: this.allocator.reserved, memoryBytes: this.memory.buffer.byteLength };
  }

  alloc(dtype: DType, size: number, zero = true): WasmBuffer {
    if (!Number.isInteger(size) || size < 0) throw new ConfigError(`alloc: size ${size} is invalid (expected a non-negative integer)`);
    const bytes = Math.max(1, size) * bytesPerElement(dtype);
    let ptr: number;
    try {
      ptr = this.allocator.alloc(bytes);
    } catch (e) {
      throw new ConfigError(
        `alloc: cannot grow WebAssembly memory for ${size} ${dtype} elements (${this.memoryInfo().memoryBytes} bytes in use): ${String(e)}`,
      );
    }
    const buf = new WasmBuffer(dtype, size, ptr);
    if (zero) this.heap(dtype).fill(0, ptr / bytesPerElement(dtype), ptr / bytesPerElement(dtype) + size);
    return buf;
  }

  free(buf: BackendBuffer): void {
    const b = this.own('free', 'buf', buf);
    b.freed = true;
    this.allocator.release(b.ptr, Math.max(1, b.size) * bytesPerElement(b.dtype));
  }

  read(buf: BackendBuffer, start = 0, length?: number): TypedArray {
    const b = this.own('read', 'buf', buf);
    const len = length ?? b.size - start;
    if (start < 0 || len < 0 || start + len > b.size) throw new ShapeError(`read: range [${start}, ${start + len}) is outside a buffer of ${b.size} elements`);
    const first = b.ptr / bytesPerElement(b.dtype) + start;
    return this.heap(b.dtype).slice(first, first + len);
  }

  write(buf: BackendBuffer, data: ArrayLike<number>, start = 0): void {
    const b = this.own('write', 'buf', buf);
    if (start < 0 || start + data.length > b.size)
      throw new ShapeError(`write: ${data.length} elements from ${start} do not fit a buffer of ${b.size} elements`);
    this.heap(b.dtype).set(data, b.ptr / bytesPerElement(b.dtype) + start);
  }

  fill(out: BackendBuffer, value: number): void {
    const b = this.own('fill', 'out', out);
    const first = b.ptr / bytesPerElement(b.dtype);
    this.heap(b.dtype).fill(value, first, first + b.size);
  }

  copy(src: View, dst: View): void {
    sameShapes('copy', { src, dst });
    const s = this.operand('copy', 'src', src);
    const d = this.operand('copy', 'dst', dst);
    if (numel(src.shape) === 0) return;
    if (!this.describe(src.shape, [s.strides, d.strides])) {
      this.fallback('copy', dst.buf.dtype);
      copyStrided(this.view('copy', 'src', src), this.view('copy', 'dst', dst));
      return;
    }
    this.kernels.copyStrided(this.desc, s.ptr, s.dtype, d.ptr, d.dtype);
  }

  unary(op: UnaryOp, x: View, out: BackendBuffer, params?: UnaryParams): void {
    const xo = this.operand(op, 'x', x);
    const o = this.outputPtr(op, out, x.shape);
    checkAliasing(op, out, { x });
    if (numel(x.shape) === 0) return;
    if (out.dtype !== 'float32' || !this.describe(x.shape, [xo.strides, byteStrides(x.shape, 4)])) {
      this.fallback(op, out.dtype);
      mapUnary(unaryFn(op, params), this.view(op, 'x', x), this.output(op, out));
      return;
    }
    // The defaults of unaryFn in ../js/math.ts.
    const alpha = params?.alpha ?? (op === 'leakyRelu' ? 0.01 : 1);
    const beta = params?.beta ?? 1;
    const threshold = params?.threshold ?? 20;
    this.kernels.unaryF32(UNARY_CODES[op], this.desc, xo.ptr, xo.dtype, o, alpha, beta, threshold);
  }

  binary(op: BinaryOp, a: View, b: View, out: BackendBuffer): void {
    sameShapes(op, { a, b });
    const ao = this.operand(op, 'a', a);
    const bo = this.operand(op, 'b', b);
    const o = this.outputPtr(op, out, a.shape);
    checkAliasing(op, out, { a, b });
    if (numel(a.shape) === 0) return;
    if (out.dtype !== 'float32' || !this.describe(a.shape, [ao.strides, bo.strides, byteStrides(a.shape, 4)])) {
      this.fallback(op, out.dtype);
      mapBinary(binaryFn(op), this.view(op, 'a', a), this.view(op, 'b', b), this.output(op, out));
      return;
    }
    this.kernels.binaryF32(BINARY_CODES[op], this.desc, ao.ptr, ao.dtype, bo.ptr, bo.dtype, o);
  }

  where(cond: View, a: View, b: View, out: BackendBuffer): void {
    sameShapes('where', { cond, a, b });
    const co = this.operand('where', 'cond', cond);
    const ao = this.operand('where', 'a', a);
    const bo = this.operand('where', 'b', b);
    const o = this.outputPtr('where', out, a.shape);
    checkAliasing('where', out, { cond, a, b });
    if (numel(a.shape) === 0) return;
    const strides = [co.strides, ao.strides, bo.strides, byteStrides(a.shape, 4)];
    if (out.dtype !== 'float32' || !this.describe(a.shape, strides)) {
      this.fallback('where', out.dtype);
      select(this.view('where', 'cond', cond), this.view('where', 'a', a), this.view('where', 'b', b), this.output('where', out));
      return;
    }
    this.kernels.whereF32(this.desc, co.ptr, co.dtype, ao.ptr, ao.dtype, bo.ptr, bo.dtype, o);
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[], out: BackendBuffer): void {
    const xo = this.operand(op, 'x', x);
    axes.forEach((d, i) => {
      if (!Number.isInteger(d) || d < 0 || d >= x.shape.length || (i > 0 && d <= axes[i - 1]))
        throw new ConfigError(
          `${op}: axes [${axes.join(', ')}] are invalid for a tensor of rank ${x.shape.length} ` +
            `(expected sorted, unique axes in [0, ${x.shape.length - 1}])`,
        );
      if (op !== 'sum' && x.shape[d] === 0)
        throw new ConfigError(
          `${op}: cannot reduce axis ${d} of shape ${fmtShape(x.shape)}, which has size 0 ` +
            `(${op} of an empty set is undefined; use sum, or check the shape)`,
        );
    });
    const kept = x.shape.filter((_, d) => !axes.includes(d));
    const o = this.outputPtr(op, out, kept);
    const count = numel(kept);
    if (count === 0) return;
    // The accumulator: float64 scratch for sums, the float32 output itself for max/min.
    const accBytes = op === 'sum' ? 8 : 4;
    const keptStrides = byteStrides(kept, accBytes);
    let k = 0;
    const accStrides = x.shape.map((_, d) => (axes.includes(d) ? 0 : keptStrides[k++]));
    if (out.dtype !== 'float32' || x.buf.dtype !== 'float32' || !this.describe(x.shape, [xo.strides, accStrides])) {
      this.fallback(op, out.dtype);
      reduceAxes(op, this.view(op, 'x', x), axes, this.output(op, out));
      return;
    }
    const acc = op === 'sum' ? this.allocator.alloc(count * 8) : o;
    try {
      this.kernels.reduceF32(REDUCE_CODES[op], this.desc, xo.ptr, acc, o, count);
    } finally {
      if (acc !== o) this.allocator.release(acc, count * 8);
    }
  }

  argReduce(op: ArgReduceOp, x: View, axis: number, out: BackendBuffer): void {
    const xo = this.operand(op, 'x', x);
    checkAxis(op, axis, x.shape.length);
    if (x.shape[axis] === 0)
      throw new ConfigError(`${op}: axis ${axis} of shape ${fmtShape(x.shape)} has size 0, so there is no ${op}`);
    if (out.dtype !== 'int32') throw new DTypeError(`${op}: out has dtype ${out.dtype} (expected int32)`);
    const o = this.outputPtr(op, out, x.shape.filter((_, d) => d !== axis));
    if (numel(x.shape) === 0) return;
    // One lane per output element: the shape with `axis` collapsed to 1, which coalescing drops.
    const lanes = x.shape.map((n, d) => (d === axis ? 1 : n));
    if (x.buf.dtype !== 'float32' || !this.describe(lanes, [xo.strides, byteStrides(lanes, 4)])) {
      this.fallback(op, x.buf.dtype);
      argReduceAxis(op, this.view(op, 'x', x), axis, this.output(op, out));
      return;
    }
    this.kernels.argReduceF32(ARG_REDUCE_CODES[op], this.desc, xo.ptr, o, x.shape[axis], xo.strides[axis]);
  }

  matmul(a: View, b: View, out: BackendBuffer): void {
    this.product(a, b, out, false);
  }

  matmulSquares(a: View, b: View, out: BackendBuffer): number | null {
    // Measuring splits the columns between threads; a product that would split its rows (more
    // rows than columns: an LSTM's W_hh gradient, 512 × 128 per time step) would pack more for
    // it than the pass it saves (+20 µs on 190 here), so it declines.
    const [, M, K] = a.shape;
    const N = b.shape[2];
    const declines = 2 * M * N * K >= PARALLEL_FLOPS && this.threads > 1 && M > N && !takesDots(a, b);
    if (declines) {
      this.product(a, b, out, false);
      return null;
    }
    return this.product(a, b, out, true);
  }

  /**
   * The batched product; with `squares`, also `Σ out²` (else 0). A float32 product sums the
   * squares of each 8-column panel as its micro-kernels finish a block of rows (gemmF32's
   * `squares`), and the panels are added in order, so the value never depends on the thread
   * count; it agrees with sumSquares(out) to float32 summation error (≈1e-7 relative), not bit
   * for bit.
   */
  private product(a: View, b: View, out: BackendBuffer, squares: boolean): number {
    const [B, M, K] = a.shape;
    const N = b.shape[2];
    if (a.buf.dtype !== 'float32' || b.buf.dtype !== 'float32' || out.dtype !== 'float32') {
      this.fallback('matmul', out.dtype);
      matmulBatched(this.view('matmul', 'a', a), this.view('matmul', 'b', b), this.output('matmul', out));
      return squares ? this.sumSquares({ buf: out, shape: [out.size], strides: [1], offset: 0 }) : 0;
    }
    const av = this.view('matmul', 'a', a);
    const bv = this.view('matmul', 'b', b);
    const o = this.own('matmul', 'out', out);
    const [, ars, acs] = a.strides;
    const [, brs, bcs] = b.strides;
    const threads = 2 * M * N * K >= PARALLEL_FLOPS ? this.threads : 1;
    const dots = takesDots(a, b);
    // Float64 sums of the 8-column panels, one slot per panel of every matrix in the batch.
    const panels = squares ? Math.ceil(N / 8) : 0;
    const sums = panels * B <= PARTIAL_SLOTS ? this.partials : this.allocator.alloc(panels * B * 8);
    try {
      for (let i = 0; i < B; i++) {
        const ap = (av.offset + i * a.strides[0]) * 4;
        const bp = (bv.offset + i * b.strides[0]) * 4;
        const cp = o.ptr + i * M * N * 4;
        const sq = sums + i * panels * 8;
        if (dots) {
          // Columns (rows of Bᵀ) in multiples of 4 per thread, so every element is computed alike.
          this.split(N, threads > 1, 4, (j0, j1) => [M, j0, j1, K, ap, ars, bp, bcs, cp, N], 'gemmNtF32', (c) =>
            this.kernels.gemmNtF32(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]),
          );
          if (squares) this.kernels.panelSquaresF32(cp, N, M, 0, N, sq);
          continue;
        }
        if (threads === 1) {
          this.kernels.gemmF32(M, 0, N, K, ap, ars, acs, bp, brs, bcs, cp, N, this.scratch, squares ? sq : 0);
          continue;
        }
        // Slice the wider side: columns in multiples of the 8-wide micro-tile, or rows in multiples
        // of 4. A measured product always splits columns, so that each panel is one thread's.
        const calls: number[][] = [];
        const byCols = squares || N >= M; // matmulSquares declines a product that would split rows
        const unit = byCols ? 8 : 4;
        const total = byCols ? N : M;
        const per = Math.ceil(total / unit / threads) * unit;
        for (let t = 0, start = 0; start < total; t++, start += per) {
          const end = Math.min(total, start + per);
          const scratch = t === 0 ? this.scratch : this.pool.scratchOf(t);
          calls.push(
            byCols
              ? [M, start, end, K, ap, ars, acs, bp, brs, bcs, cp, N, scratch, squares ? sq : 0]
              : [end - start, 0, N, K, ap + start * ars * 4, ars, acs, bp, brs, bcs, cp + start * N * 4, N, scratch, 0],
          );
        }
        this.pool.run(calls, 0, (c) =>
          this.kernels.gemmF32(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13]),
        );
      }
      if (!squares) return 0;
      const f64 = this.heap('float64');
      let sum = 0;
      for (let k = 0, at = sums >> 3; k < panels * B; k++) sum += f64[at + k];
      return sum;
    } finally {
      if (sums !== this.partials) this.allocator.release(sums, panels * B * 8);
    }
  }

  gather(x: View, axis: number, index: View, out: BackendBuffer): void {
    const xo = this.operand('gather', 'x', x);
    const io = this.operand('gather', 'index', index);
    checkIndexShape('gather', axis, index, 'x', x.shape, false);
    const o = this.outputPtr('gather', out, index.shape);
    if (numel(index.shape) === 0) return;
    const strides = [io.strides, withoutAxis(xo.strides, axis), byteStrides(index.shape, 4)];
    if (out.dtype !== 'float32' || x.buf.dtype !== 'float32' || !this.describe(index.shape, strides)) {
      this.fallback('gather', out.dtype);
      gatherAxis(this.view('gather', 'x', x), axis, this.view('gather', 'index', index), this.output('gather', out));
      return;
    }
    const bad = this.kernels.gatherF32(this.desc, io.ptr, xo.ptr, o, x.shape[axis], xo.strides[axis]);
    if (bad >= 0) throw this.indexError('gather', index, bad, axis, x.shape[axis]);
  }

  scatterAdd(out: BackendBuffer, outShape: readonly number[], axis: number, index: View, src: View): void {
    checkShape('scatterAdd', outShape);
    const io = this.operand('scatterAdd', 'index', index);
    const so = this.operand('scatterAdd', 'src', src);
    checkIndexShape('scatterAdd', axis, index, 'out', outShape, false);
    checkIndexShape('scatterAdd', axis, index, 'src', src.shape, true);
    const o = this.outputPtr('scatterAdd', out, outShape);
    if (numel(index.shape) === 0) return;
    const outStrides = byteStrides(outShape, 4);
    const strides = [io.strides, so.strides, withoutAxis(outStrides, axis)];
    if (out.dtype !== 'float32' || src.buf.dtype !== 'float32' || !this.describe(index.shape, strides)) {
      this.fallback('scatterAdd', out.dtype);
      scatterAddAxis(this.output('scatterAdd', out), outShape, axis, this.view('scatterAdd', 'index', index), this.view('scatterAdd', 'src', src));
      return;
    }
    const bad = this.kernels.scatterAddF32(this.desc, io.ptr, so.ptr, o, outShape[axis], outStrides[axis]);
    if (bad >= 0) throw this.indexError('scatterAdd', index, bad, axis, outShape[axis]);
  }

  axpby(alpha: number, x: View, beta: number, y: BackendBuffer): void {
    const xo = this.operand('axpby', 'x', x);
    const yp = this.outputPtr('axpby', y, x.shape);
    if (y.size !== numel(x.shape))
      throw new ShapeError(`axpby: y has ${y.size} elements but x ${fmtShape(x.shape)} has ${numel(x.shape)}`);
    checkAliasing('axpby', y, { x });
    if (y.size === 0) return;
    if (y.dtype !== 'float32' || !this.describe(x.shape, [xo.strides, byteStrides(x.shape, 4)])) {
      this.fallback('axpby', y.dtype);
      axpbyStrided(alpha, this.view('axpby', 'x', x), beta, this.output('axpby', y));
      return;
    }
    this.kernels.axpbyF32(this.desc, alpha, xo.ptr, xo.dtype, beta, yp);
  }

  uniform(out: BackendBuffer, state: Uint32Array, a: number, width: number): void {
    const o = this.own('uniform', 'out', out);
    if (o.dtype !== 'float32') throw new ConfigError(`uniform: out must be a float32 buffer (got ${o.dtype})`);
    if (state.length !== 4) throw new ConfigError(`uniform: state must be four 32-bit words (got ${state.length})`);
    const s = this.allocator.alloc(16);
    try {
      const u32 = new Uint32Array(this.memory.buffer, s, 4);
      u32.set(state);
      this.kernels.uniformF32(o.ptr, o.size, s, a, width);
      state.set(new Uint32Array(this.memory.buffer, s, 4));
    } finally {
      this.allocator.release(s, 16);
    }
  }

  sumSquares(x: View): number {
    const b = this.own('sumSquares', 'x', x.buf);
    const n = numel(x.shape);
    // The common case (a parameter, a gradient, a layer's output): a contiguous float32 view inside
    // its buffer goes straight to the block kernel, without the strided path's descriptor.
    if (b.dtype === 'float32' && n > 0 && Number.isInteger(n) && Number.isInteger(x.offset) && x.offset >= 0 && x.offset + n <= b.size && isRowMajor(x))
      return this.squaresOfRange(b.ptr + x.offset * 4, n);
    const xo = this.operand('sumSquares', 'x', x);
    if (n === 0) return 0;
    if (x.buf.dtype !== 'float32' || !this.describe(x.shape, [xo.strides])) {
      this.fallback('sumSquares', x.buf.dtype);
      return sumSquaresStrided(this.view('sumSquares', 'x', x));
    }
    const i32 = this.heap('int32');
    const contiguous = i32[this.desc >> 2] === 1 && i32[(this.desc >> 2) + DESC_SHAPE + this.descMaxRank] === 4;
    if (!contiguous) return this.kernels.sumSquaresF32(this.desc, xo.ptr);
    return this.squaresOfRange(xo.ptr, n);
  }

  /**
   * `Σ x²` of `n` contiguous floats at byte `ptr`: partial sums over fixed blocks, added in block
   * order, so the result is the same whether one thread or several computed the blocks.
   */
  private squaresOfRange(ptr: number, n: number): number {
    const blocks = Math.ceil(n / this.kernels.squaresBlock());
    const parallel = n >= PARALLEL_SQUARES;
    const own = parallel || blocks > PARTIAL_SLOTS; // else the partials go to this thread's scratch
    const partials = own ? this.allocator.alloc(blocks * 8) : this.partials;
    try {
      if (!parallel) this.kernels.sumSquaresBlocksF32(ptr, n, 0, blocks, partials);
      else
        this.split(blocks, true, 1, (b0, b1) => [ptr, n, b0, b1, partials], 'sumSquaresBlocksF32', (c) =>
          this.kernels.sumSquaresBlocksF32(c[0], c[1], c[2], c[3], c[4]),
        );
      const f64 = this.heap('float64');
      let total = 0;
      for (let k = 0, at = partials >> 3; k < blocks; k++) total += f64[at + k];
      return total;
    } finally {
      if (own) this.allocator.release(partials, blocks * 8);
    }
  }

  scale(y: BackendBuffer, alpha: number): void {
    const b = this.own('scale', 'y', y);
    if (b.size === 0) return;
    if (b.dtype !== 'float32') {
      this.fallback('scale', b.dtype);
      scaleArray(this.output('scale', y), alpha);
      return;
    }
    const c = Math.fround(alpha);
    // One thread: a pass this light is bound by moving the data, and half of it would first have
    // to travel to the other core (measured: 2 threads slower in the training loop).
    this.kernels.scaleF32(b.ptr, 0, b.size, c);
  }

  crossEntropyRows(logits: View, target: View, loss: BackendBuffer): void {
    const op = 'crossEntropyRows';
    const [n, c] = checkCrossEntropyRows(op, logits, target);
    const lp = this.outputPtr(op, loss, [n]);
    const [xo, to] = [this.operand(op, 'logits', logits), this.operand(op, 'target', target)];
    if (n === 0) return;
    let bad: number;
    if (loss.dtype !== 'float32' || logits.buf.dtype !== 'float32' || c === 0) {
      this.fallback(op, loss.dtype);
      bad = crossEntropyRowsArrays(this.view(op, 'logits', logits), this.view(op, 'target', target), this.output(op, loss));
    } else bad = this.kernels.crossEntropyRowsF32(xo.ptr, xo.strides[0], xo.strides[1], to.ptr, to.strides[0], n, c, lp);
    if (bad >= 0) throw targetError(op, bad, this.heap('int32')[(to.ptr >> 2) + bad * target.strides[0]], c);
  }

  crossEntropyRowsBackward(logits: View, target: View, g: View, dx: BackendBuffer): void {
    const op = 'crossEntropyRowsBackward';
    const [n, c] = checkCrossEntropyRows(op, logits, target, g);
    const dp = this.outputPtr(op, dx, [n, c]);
    const [xo, to, go] = [this.operand(op, 'logits', logits), this.operand(op, 'target', target), this.operand(op, 'g', g)];
    if (n === 0 || c === 0) return;
    let bad: number;
    if (dx.dtype !== 'float32' || logits.buf.dtype !== 'float32') {
      this.fallback(op, dx.dtype);
      bad = crossEntropyRowsBackwardArrays(this.view(op, 'logits', logits), this.view(op, 'target', target), this.view(op, 'g', g), this.output(op, dx));
    } else bad = this.kernels.crossEntropyRowsBackwardF32(xo.ptr, xo.strides[0], xo.strides[1], to.ptr, to.strides[0], go.ptr, go.strides[0], n, c, dp);
    if (bad >= 0) throw targetError(op, bad, this.heap('int32')[(to.ptr >> 2) + bad * target.strides[0]], c);
  }

  lstmCell(gates: View, c: View, out: BackendBuffer): void {
    const [n, h] = checkLstmOperands('lstmCell', gates, c, {});
    const op = this.outputPtr('lstmCell', out, [n, 2 * h]);
    const [go, co] = [this.operand('lstmCell', 'gates', gates), this.operand('lstmCell', 'c', c)];
    if (n * h === 0) return;
    if (out.dtype !== 'float32') {
      this.fallback('lstmCell', out.dtype);
      lstmCellRows(n, h, this.rows('lstmCell', 'gates', gates), this.rows('lstmCell', 'c', c), { data: this.output('lstmCell', out), offset: 0, rowStride: 2 * h });
      return;
    }
    // Rows are independent: split them between threads (each row's pointers offset), same bits.
    const [gs, cs] = [gates.strides[0], c.strides[0]];
    this.split(n, n * h >= PARALLEL_CELLS, 1, (r0, r1) => [go.ptr + r0 * gs * 4, gs, co.ptr + r0 * cs * 4, cs, op + r0 * 2 * h * 4, 2 * h, r1 - r0, h], 'lstmCellF32', (a) =>
      this.kernels.lstmCellF32(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]),
    );
  }

  lstmCellBackward(gates: View, c: View, out: View, dout: View, dGates: BackendBuffer, dC: BackendBuffer): void {
    const name = 'lstmCellBackward';
    const [n, h] = checkLstmOperands(name, gates, c, { out, dout });
    const dg = this.outputPtr(name, dGates, [n, 4 * h]);
    const dc = this.outputPtr(name, dC, [n, h]);
    const [go, co, oo, d] = [this.operand(name, 'gates', gates), this.operand(name, 'c', c), this.operand(name, 'out', out), this.operand(name, 'dout', dout)];
    if (n * h === 0) return;
    if (dGates.dtype !== 'float32') {
      this.fallback(name, dGates.dtype);
      const r = (role: string, v: View): Rows => this.rows(name, role, v);
      lstmCellBackwardRows(n, h, r('gates', gates), r('c', c), r('out', out), r('dout', dout), this.output(name, dGates), this.output(name, dC));
      return;
    }
    const [gs, cs, os, ds] = [gates.strides[0], c.strides[0], out.strides[0], dout.strides[0]];
    this.split(
      n,
      n * h >= PARALLEL_CELLS,
      1,
      (r0, r1) => [go.ptr + r0 * gs * 4, gs, co.ptr + r0 * cs * 4, cs, oo.ptr + r0 * os * 4, os, d.ptr + r0 * ds * 4, ds, dg + r0 * 4 * h * 4, dc + r0 * h * 4, r1 - r0, h],
      'lstmCellBackwardF32',
      (a) => this.kernels.lstmCellBackwardF32(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]),
    );
  }

  /** A checked 2-D row-major view resolved onto the memory, for the reference kernels. */
  private rows(op: string, role: string, v: View): Rows {
    const a = this.view(op, role, v);
    return { data: a.data, offset: a.offset, rowStride: v.strides[0] };
  }

  updateSquares(p: BackendBuffer, before: BackendBuffer, g: BackendBuffer | null): UpdateSquares {
    const op = 'updateSquares';
    checkUpdateBuffers(op, g === null ? { p, before } : { p, before, g });
    const [pb, sb] = [this.own(op, 'p', p), this.own(op, 'before', before)];
    const gb = g === null ? null : this.own(op, 'g', g);
    if (pb.dtype !== 'float32') {
      this.fallback(op, pb.dtype);
      return updateSquaresArrays(this.output(op, p), this.output(op, before), g === null ? null : this.output(op, g));
    }
    if (pb.size === 0) return [0, 0, 0];
    const out = this.allocator.alloc(24);
    try {
      this.kernels.updateSquaresF32(pb.ptr, sb.ptr, gb === null ? 0 : gb.ptr, pb.size, out);
      const f64 = this.heap('float64');
      return [f64[out >> 3], f64[(out >> 3) + 1], f64[(out >> 3) + 2]];
    } finally {
      this.allocator.release(out, 24);
    }
  }

  valueStats(x: View, bins: number, act: StatsActivation): ValueStats {
    const op = 'valueStats';
    const layout = checkValueStats(op, x, bins, act);
    const b = this.own(op, 'x', x.buf);
    const n = numel(x.shape);
    if (b.dtype !== 'float32') {
      this.fallback(op, b.dtype);
      return valueStatsArray(this.heap(b.dtype), b.ptr / 8 + x.offset, n, bins, act, layout);
    }
    const bytes = this.kernels.valueStatsBytes(bins);
    const out = this.allocator.alloc(bytes);
    try {
      const [batch, units, inner] = layout ?? [0, 0, 0];
      this.kernels.valueStatsF32(b.ptr + x.offset * 4, n, bins, STATS_ACTIVATIONS[act ?? 'none'], batch, units, inner, out);
      const f64 = this.heap('float64');
      const at = out >> 3;
      const min = f64[at + 2];
      const max = f64[at + 3];
      const hasHistogram = bins > 0 && min <= max;
      const i32 = this.heap('int32');
      const counts = hasHistogram ? Array.from(i32.subarray((out >> 2) + 16, (out >> 2) + 16 + bins)) : [];
      return { sum: f64[at], sumSquares: f64[at + 1], min, max, nonfinite: f64[at + 4], histogram: counts, saturated: f64[at + 5], dead: f64[at + 6] };
    } finally {
      this.allocator.release(out, bytes);
    }
  }

  adamStep(p: BackendBuffer, g: BackendBuffer, m: BackendBuffer, v: BackendBuffer, s: AdamStepScalars, measure = false): UpdateSquares | null {
    checkUpdateBuffers('adamStep', { p, g, m, v });
    const pb = this.own('adamStep', 'p', p);
    const gb = this.own('adamStep', 'g', g);
    const mb = this.own('adamStep', 'm', m);
    const vb = this.own('adamStep', 'v', v);
    if (pb.size === 0) return measure ? [0, 0, 0] : null;
    if (pb.dtype !== 'float32') {
      this.fallback('adamStep', pb.dtype);
      return adamArrays(this.output('adamStep', p), this.output('adamStep', g), this.output('adamStep', m), this.output('adamStep', v), s, measure);
    }
    const f = Math.fround;
    const [gradScale, wd, decay, b1, c1, b2, c2] = [f(s.gradScale), f(s.weightDecay), s.weightDecay !== 0 ? 1 : 0, f(s.beta1), f(1 - s.beta1), f(s.beta2), f(1 - s.beta2)];
    const [sqrtBc2, eps, invBc1, negLr] = [f(Math.sqrt(s.biasCorrection2)), f(s.eps), f(1 / s.biasCorrection1), f(-s.lr)];
    // Measuring: three float64 partial sums per thread (room for every thread the pool may have
    // ready by the time split() looks), added after.
    const parallel = pb.size >= PARALLEL_ELEMENTS;
    const slots = measure ? (parallel ? this.pool.size : 1) : 0;
    const out = slots > 0 ? this.allocator.alloc(slots * 24) : 0;
    try {
      if (out !== 0) this.heap('float64').fill(0, out >> 3, (out >> 3) + slots * 3);
      // Lane t (in split's order) writes its sums to slot t and keeps a block of old values in
      // its thread's scratch.
      let lane = 0;
      const args = (i0: number, i1: number): number[] => {
        const t = lane++;
        const sums = out === 0 ? 0 : out + 24 * t;
        const scratch = out === 0 ? 0 : t === 0 ? this.scratch : this.pool.scratchOf(t);
        return [pb.ptr, gb.ptr, mb.ptr, vb.ptr, i0, i1, gradScale, wd, decay, b1, c1, b2, c2, sqrtBc2, eps, invBc1, negLr, sums, scratch];
      };
      this.split(pb.size, parallel, SPLIT_UNIT, args, 'adamF32', (a) =>
        this.kernels.adamF32(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18]),
      );
      if (out === 0) return null;
      const f64 = this.heap('float64');
      const sums: UpdateSquares = [0, 0, 0];
      for (let t = 0; t < slots; t++) for (let k = 0; k < 3; k++) sums[k] += f64[(out >> 3) + 3 * t + k];
      return sums;
    } finally {
      if (out !== 0) this.allocator.release(out, slots * 24);
    }
  }

  /**
   * Runs `kernel` over [0, total) in one call, or split into one contiguous range per thread
   * (boundaries on multiples of `unit`) when `parallel` and threads are available.
   */
  private split(
    total: number,
    parallel: boolean,
    unit: number,
    args: (start: number, end: number) => number[],
    kernel: (typeof THREADED)[number],
    runHere: (args: readonly number[]) => void,
  ): void {
    const threads = parallel ? this.threads : 1;
    if (threads === 1) {
      runHere(args(0, total));
      return;
    }
    const per = Math.ceil(total / unit / threads) * unit;
    const calls: number[][] = [];
    for (let start = 0; start < total; start += per) calls.push(args(start, Math.min(total, start + per)));
    this.pool.run(calls, THREADED.indexOf(kernel), runHere);
  }

  /**
   * Writes the strided-kernel descriptor for walking `shape` with one byte-stride list per
   * operand, coalesced like the reference's iterator (a rank-0 shape becomes one element). False
   * when the coalesced rank does not fit the descriptor, and the caller falls back.
   */
  private describe(shape: readonly number[], strides: readonly (readonly number[])[]): boolean {
    // Coalesced as the reference's coalesce() (size-1 dimensions dropped, a dimension merged into the one
    // before it when every operand's strides allow), but straight into the descriptor: this runs
    // for every strided kernel call, and the intermediate arrays were the largest share of a
    // training step's short-lived objects. The merge test compares exact products, as coalesce.
    const i32 = this.heap('int32');
    const base = this.desc >> 2;
    const maxRank = this.descMaxRank;
    const ops = strides.length;
    const last = this.lastStrides;
    let rank = 0;
    for (let d = 0; d < shape.length; d++) {
      const n = shape[d];
      if (n === 1) continue;
      let merge = rank > 0;
      for (let k = 0; k < ops && merge; k++) merge = last[k] === strides[k][d] * n;
      if (merge) {
        i32[base + DESC_SHAPE + rank - 1] *= n;
        for (let k = 0; k < ops; k++) last[k] = i32[base + DESC_SHAPE + (k + 1) * maxRank + rank - 1] = strides[k][d];
        continue;
      }
      if (rank === maxRank) return false;
      i32[base + DESC_SHAPE + rank] = n;
      for (let k = 0; k < ops; k++) last[k] = i32[base + DESC_SHAPE + (k + 1) * maxRank + rank] = strides[k][d];
      rank++;
    }
    if (rank === 0) {
      i32[base + DESC_SHAPE] = 1;
      for (let k = 0; k < ops; k++) i32[base + DESC_SHAPE + (k + 1) * maxRank] = 0;
      rank = 1;
    }
    i32[base] = rank;
    return true;
  }

  /** A view checked to be well formed and inside its live buffer, as the kernels address it. */
  private operand(op: string, role: string, v: View): Operand {
    const b = this.own(op, role, v.buf);
    const bytes = bytesPerElement(b.dtype);
    const rank = v.shape.length;
    const strides = new Array<number>(rank);
    let wellFormed = v.strides.length === rank && Number.isInteger(v.offset);
    let empty = false;
    let lo = v.offset;
    let hi = v.offset;
    for (let d = 0; d < rank; d++) {
      const n = v.shape[d];
      const s = v.strides[d];
      if (!Number.isInteger(n) || n < 0 || !Number.isInteger(s)) wellFormed = false;
      if (n === 0) empty = true;
      const reach = (n - 1) * s;
      if (reach < 0) lo += reach;
      else hi += reach;
      strides[d] = s * bytes;
    }
    if (!wellFormed)
      throw new ShapeError(
        `${op}: ${role} view (shape ${fmtShape(v.shape)}, strides ${fmtShape(v.strides)}, offset ${v.offset}) is malformed ` +
          `(expected one integer stride per non-negative integer dimension, and an integer offset)`,
      );
    if (!empty && (lo < 0 || hi >= b.size))
      throw new ShapeError(`${op}: ${role} view ${fmtShape(v.shape)} reaches elements ${lo} to ${hi}, outside its buffer of ${b.size}`);
    return { ptr: b.ptr + v.offset * bytes, strides, dtype: DTYPE_CODES[b.dtype] };
  }

  /** The byte address of an output buffer, checked to hold a contiguous tensor of `shape`. */
  private outputPtr(op: string, out: BackendBuffer, shape: readonly number[]): number {
    const b = this.own(op, 'out', out);
    if (b.size < numel(shape))
      throw new ShapeError(`${op}: out has ${b.size} elements, too few for shape ${fmtShape(shape)} (${numel(shape)})`);
    return b.ptr;
  }

  /** The reference's error for an out-of-range index (src/backend/js/gather.ts), at row-major position `flat`. */
  private indexError(op: string, index: View, flat: number, axis: number, len: number): ConfigError {
    const at = unravel(flat, index.shape);
    const i = this.view(op, 'index', index);
    const value = i.data[at.reduce((p, k, d) => p + k * index.strides[d], i.offset)];
    const valid = len === 0 ? `axis ${axis} is empty, so no index is valid` : `valid indices are 0 to ${len - 1}`;
    return new ConfigError(
      `${op}: index ${value} at position ${fmtShape(at)} is out of range for axis ${axis} of size ${len} ` +
        `(${valid}; negative indices are not wrapped)`,
    );
  }

  private fallback(kernel: string, dtype: DType): void {
    const key = `${kernel}:${dtype}`;
    this.fallbacks.set(key, (this.fallbacks.get(key) ?? 0) + 1);
  }

  /** `buf` as one of this backend's live buffers, or a clear error. */
  private own(op: string, role: string, buf: BackendBuffer): WasmBuffer {
    if (!(buf instanceof WasmBuffer))
      throw new ConfigError(`${op}: ${role} is not a buffer of the wasm backend (create the tensor after setBackend('wasm'))`);
    if (buf.freed) throw new DisposedError(`${op}: ${role} (a ${buf.dtype} buffer of ${buf.size} elements) was already freed`);
    return buf;
  }

  /** A view resolved onto the memory (its offset counted from the start of the memory), bounds-checked. */
  private view(op: string, role: string, v: View): ArrayView {
    const b = this.own(op, role, v.buf);
    if (numel(v.shape) > 0) {
      let lo = v.offset;
      let hi = v.offset;
      v.shape.forEach((n, d) => {
        const reach = (n - 1) * v.strides[d];
        if (reach < 0) lo += reach;
        else hi += reach;
      });
      if (lo < 0 || hi >= b.size)
        throw new ShapeError(`${op}: ${role} view ${fmtShape(v.shape)} reaches elements ${lo} to ${hi}, outside its buffer of ${b.size}`);
    }
    return { data: this.heap(b.dtype), shape: v.shape, strides: v.strides, offset: b.ptr / bytesPerElement(b.dtype) + v.offset };
  }

  /** The output buffer as a typed array starting at its element 0. */
  private output(op: string, out: BackendBuffer): TypedArray {
    const b = this.own(op, 'out', out);
    const first = b.ptr / bytesPerElement(b.dtype);
    return this.heap(b.dtype).subarray(first, first + b.size);
  }
}

/** Row-major strides of `shape` in bytes, for elements of `bytes` bytes. */
function byteStrides(shape: readonly number[], bytes: number): number[] {
  return contiguousStrides(shape).map((s) => s * bytes);
}
