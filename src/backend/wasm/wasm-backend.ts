import { type DType, type TypedArray, bytesPerElement } from '../../core/dtype.js';
import { ConfigError, DisposedError, ShapeError, fmtShape } from '../../core/errors.js';
import { numel } from '../../core/shape.js';
import type { ArgReduceOp, Backend, BackendBuffer, BinaryOp, ReduceOp, UnaryOp, UnaryParams, View } from '../backend.js';
import { axpbyStrided, copyStrided, mapBinary, mapUnary, select, sumSquaresStrided } from '../js/elementwise.js';
import { gatherAxis, scatterAddAxis } from '../js/gather.js';
import { binaryFn, unaryFn } from '../js/math.js';
import { matmulBatched } from '../js/matmul.js';
import { argReduceAxis, reduceAxes } from '../js/reduce.js';
import type { ArrayView } from '../js/strided.js';
import { Allocator } from './allocator.js';
import { INITIAL_PAGES, type KernelExports, MAXIMUM_PAGES, instantiate, kernelModule } from './module.js';
import { ThreadPool, defaultThreads } from './threads.js';

/** Kernels that worker threads can run, by index. */
const THREADED = ['gemmF32', 'peakF32'] as const;

/** Below this many flops a matmul runs on one thread: waking a worker would cost more. */
const PARALLEL_FLOPS = 1 << 20;

/**
 * The WebAssembly backend: tensors live in one WebAssembly.Memory and float32 kernels run as
 * SIMD128 code compiled from AssemblyScript (assembly/). float64 and int32 run the reference
 * kernels on views of the same memory; every such fallback is counted, so tests can prove that
 * no float32 kernel quietly runs in JavaScript.
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
  private readonly pool: ThreadPool;
  /** How often each kernel ran in JavaScript, by `kernel:dtype`. */
  readonly fallbacks = new Map<string, number>();

  constructor() {
    this.memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true });
    this.kernels = instantiate(this.memory);
    this.allocator = new Allocator(this.memory, this.kernels.heapBase(), () => this.refreshViews());
    this.refreshViews();
    this.scratch = this.allocator.alloc(this.kernels.gemmScratchBytes());
    this.pool = new ThreadPool(
      this.memory,
      kernelModule(),
      THREADED,
      defaultThreads(),
      (bytes) => this.allocator.alloc(bytes),
      this.kernels.gemmScratchBytes(),
    );
  }

  /**
   * Runs the SIMD ceiling kernel (12 independent f32x4 multiply→add chains in registers) on
   * `threads` threads at once for `iters` iterations each and returns the GFLOP/s achieved: the
   * most this machine's WebAssembly can do, against which kernels are judged.
   */
  peakGflops(threads: number, iters = 2_000_000): number {
    const n = Math.max(1, Math.min(threads, this.pool.ready));
    const calls = Array.from({ length: n }, (_, t) => [iters, t + 1]);
    const t0 = performance.now();
    this.pool.run(calls, THREADED.indexOf('peakF32'), (c) => void this.kernels.peakF32(c[0], c[1]));
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

  alloc(dtype: DType, size: number): WasmBuffer {
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
    this.heap(dtype).fill(0, ptr / bytesPerElement(dtype), ptr / bytesPerElement(dtype) + size);
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
    this.fallback('copy', dst.buf.dtype);
    copyStrided(this.view('copy', 'src', src), this.view('copy', 'dst', dst));
  }

  unary(op: UnaryOp, x: View, out: BackendBuffer, params?: UnaryParams): void {
    this.fallback(op, out.dtype);
    mapUnary(unaryFn(op, params), this.view(op, 'x', x), this.output(op, out));
  }

  binary(op: BinaryOp, a: View, b: View, out: BackendBuffer): void {
    this.fallback(op, out.dtype);
    mapBinary(binaryFn(op), this.view(op, 'a', a), this.view(op, 'b', b), this.output(op, out));
  }

  where(cond: View, a: View, b: View, out: BackendBuffer): void {
    this.fallback('where', out.dtype);
    select(this.view('where', 'cond', cond), this.view('where', 'a', a), this.view('where', 'b', b), this.output('where', out));
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[], out: BackendBuffer): void {
    this.fallback(op, out.dtype);
    reduceAxes(op, this.view(op, 'x', x), axes, this.output(op, out));
  }

  argReduce(op: ArgReduceOp, x: View, axis: number, out: BackendBuffer): void {
    this.fallback(op, x.buf.dtype);
    argReduceAxis(op, this.view(op, 'x', x), axis, this.output(op, out));
  }

  matmul(a: View, b: View, out: BackendBuffer): void {
    const [B, M, K] = a.shape;
    const N = b.shape[2];
    if (a.buf.dtype !== 'float32' || b.buf.dtype !== 'float32' || out.dtype !== 'float32') {
      this.fallback('matmul', out.dtype);
      matmulBatched(this.view('matmul', 'a', a), this.view('matmul', 'b', b), this.output('matmul', out));
      return;
    }
    const av = this.view('matmul', 'a', a);
    const bv = this.view('matmul', 'b', b);
    const o = this.own('matmul', 'out', out);
    const [, ars, acs] = a.strides;
    const [, brs, bcs] = b.strides;
    const threads = 2 * M * N * K >= PARALLEL_FLOPS ? this.threads : 1;
    for (let i = 0; i < B; i++) {
      const ap = (av.offset + i * a.strides[0]) * 4;
      const bp = (bv.offset + i * b.strides[0]) * 4;
      const cp = o.ptr + i * M * N * 4;
      if (threads === 1) {
        this.kernels.gemmF32(M, 0, N, K, ap, ars, acs, bp, brs, bcs, cp, N, this.scratch);
        continue;
      }
      // Slice the wider side: columns in multiples of the 8-wide micro-tile, or rows in multiples of 6.
      const calls: number[][] = [];
      const byCols = N >= M;
      const unit = byCols ? 8 : 6;
      const total = byCols ? N : M;
      const per = Math.ceil(total / unit / threads) * unit;
      for (let t = 0, start = 0; start < total; t++, start += per) {
        const end = Math.min(total, start + per);
        const scratch = t === 0 ? this.scratch : this.pool.scratchOf(t);
        calls.push(
          byCols
            ? [M, start, end, K, ap, ars, acs, bp, brs, bcs, cp, N, scratch]
            : [end - start, 0, N, K, ap + start * ars * 4, ars, acs, bp, brs, bcs, cp + start * N * 4, N, scratch],
        );
      }
      this.pool.run(calls, 0, (c) =>
        this.kernels.gemmF32(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12]),
      );
    }
  }

  gather(x: View, axis: number, index: View, out: BackendBuffer): void {
    this.fallback('gather', out.dtype);
    gatherAxis(this.view('gather', 'x', x), axis, this.view('gather', 'index', index), this.output('gather', out));
  }

  scatterAdd(out: BackendBuffer, outShape: readonly number[], axis: number, index: View, src: View): void {
    this.fallback('scatterAdd', out.dtype);
    scatterAddAxis(this.output('scatterAdd', out), outShape, axis, this.view('scatterAdd', 'index', index), this.view('scatterAdd', 'src', src));
  }

  axpby(alpha: number, x: View, beta: number, y: BackendBuffer): void {
    this.fallback('axpby', y.dtype);
    axpbyStrided(alpha, this.view('axpby', 'x', x), beta, this.output('axpby', y));
  }

  sumSquares(x: View): number {
    this.fallback('sumSquares', x.buf.dtype);
    return sumSquaresStrided(this.view('sumSquares', 'x', x));
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
