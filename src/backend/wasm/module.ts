import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './generated/kernels.js';

/** The exports of the kernel module (see assembly/index.ts). Pointers are byte offsets. */
export interface KernelExports {
  heapBase(): number;
  gemmScratchBytes(): number;
  gemmF32(
    m: number, n0: number, n1: number, k: number,
    a: number, ars: number, acs: number,
    b: number, brs: number, bcs: number,
    c: number, ldc: number,
    scratch: number,
    /** Float64 array for the 8-column panels' `Σ C²`, or 0 for none. */
    squares: number,
  ): void;
  /** `n` float32 uniforms `a + width·u` at `out` from the xoshiro128** state (four u32) at `state`, advanced. */
  uniformF32(out: number, n: number, state: number, a: number, width: number): void;
  /** Float64 `Σ C²` of each 8-column panel of columns [n0, n1) (n0 a multiple of 8) into out[j / 8]. */
  panelSquaresF32(c: number, ldc: number, m: number, n0: number, n1: number, out: number): void;
  /** C[i, j] = Σ A[i, q]·Bᵀ[j, q], i < m, j in [n0, n1): A row-major (lda), Bᵀ row-major (ldb); strides in elements. */
  gemmNtF32(m: number, n0: number, n1: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number): void;
  peakF32(iters: number, seed: number): number;
  peakMaddF32(iters: number, seed: number): number;
  /** 12 chains of multiply-add, fused in the relaxed-SIMD build. */
  peakFmaF32(iters: number, seed: number): number;
  /** 1 in the relaxed-SIMD build (its `madd` is a fused multiply-add), else 0. */
  relaxedSimd(): number;

  // Strided kernels (assembly/strided.ts): `desc` is a descriptor of descBytes() bytes that the
  // caller filled with the coalesced shape and each operand's byte strides; dtypes are codes
  // (0 float32, 1 float64, 2 int32); ops are the codes in wasm-backend.ts.
  descBytes(): number;
  descMaxRank(): number;
  copyStrided(desc: number, src: number, srcDtype: number, dst: number, dstDtype: number): void;
  unaryF32(
    op: number, desc: number, x: number, xDtype: number, out: number,
    alpha: number, beta: number, threshold: number,
  ): void;
  binaryF32(op: number, desc: number, a: number, aDtype: number, b: number, bDtype: number, out: number): void;
  whereF32(
    desc: number, cond: number, condDtype: number, a: number, aDtype: number, b: number, bDtype: number, out: number,
  ): void;
  /** `acc` is float64 scratch of `count` elements for sum; max/min accumulate in `out`. */
  reduceF32(op: number, desc: number, x: number, acc: number, out: number, count: number): void;
  /** `len` elements along the axis, `along` bytes apart. */
  argReduceF32(op: number, desc: number, x: number, out: number, len: number, along: number): void;
  /** −1, or the row-major position in `index` of the first index outside [0, len) (nothing written). */
  gatherF32(desc: number, index: number, x: number, out: number, len: number, along: number): number;
  scatterAddF32(desc: number, index: number, src: number, out: number, len: number, along: number): number;
  axpbyF32(desc: number, alpha: number, x: number, xDtype: number, beta: number, y: number): void;
  sumSquaresF32(desc: number, x: number): number;

  // Whole-buffer kernels of clipping and optimizer updates (assembly/update.ts), over [i0, i1).
  squaresBlock(): number;
  /** Partial `Σ x²` of blocks [b0, b1) of squaresBlock() elements into the float64 array `out`. */
  sumSquaresBlocksF32(x: number, n: number, b0: number, b1: number, out: number): void;
  scaleF32(y: number, i0: number, i1: number, c: number): void;
  adamF32(
    p: number, g: number, m: number, v: number, i0: number, i1: number,
    gradScale: number, wd: number, decay: number, b1: number, c1: number, b2: number, c2: number,
    sqrtBc2: number, eps: number, invBc1: number, negLr: number, out: number, scratch: number,
  ): void;
  /** `[Σ p², Σ (p − s)², Σ g²]` over n floats as three float64 at `out`; g = 0: no gradient. */
  updateSquaresF32(p: number, s: number, g: number, n: number, out: number): void;
  // A layer output's statistics for a training monitor (assembly/stats.ts).
  valueStatsBytes(bins: number): number;
  /** act: 0 none, 1 relu, 2 tanh, 3 sigmoid; result: 8 float64 slots then `bins` int32 counts at `out`. */
  valueStatsF32(x: number, n: number, bins: number, act: number, batch: number, units: number, inner: number, out: number): void;
  // The fused LSTM cell (assembly/recurrent.ts): byte pointers, row strides in elements.
  /** −1, or the first row whose target is out of range. Strides in bytes. */
  crossEntropyRowsF32(x: number, rs: number, cs: number, t: number, ts: number, n: number, c: number, loss: number): number;
  crossEntropyRowsBackwardF32(
    x: number, rs: number, cs: number, t: number, ts: number, g: number, gs: number, n: number, c: number, dx: number,
  ): number;
  lstmCellF32(gates: number, gs: number, c: number, cs: number, out: number, os: number, n: number, h: number): void;
  lstmCellBackwardF32(
    gates: number, gs: number, c: number, cs: number, out: number, os: number, dout: number, ds: number,
    dgates: number, dc: number, n: number, h: number,
  ): void;
}

/** The memory's limits, in 64 KiB pages: start small, allow up to 4 GiB. */
export const INITIAL_PAGES = 32;
export const MAXIMUM_PAGES = 65536;

/** Node's Buffer, where there is one: its native base64 decoder takes 0.2 ms where atob and a copy loop take 4. */
const NodeBuffer = (globalThis as { Buffer?: { from(s: string, encoding: 'base64'): Uint8Array<ArrayBuffer> } }).Buffer;

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  if (NodeBuffer !== undefined) return NodeBuffer.from(b64, 'base64');
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// The smallest module that uses relaxed SIMD: one function returning f32x4.relaxed_madd of its
// three v128 parameters.
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // body
]);

interface NodeProcess {
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

let relaxedAvailable: boolean | null = null;

/**
 * Whether the relaxed-SIMD build of the kernels can load here, where it is the default (see
 * {@link kernelModule}). Relaxed SIMD is standard WebAssembly, on in Chrome and Node from V8 11.4
 * (Node 22); Node 20's V8 has it behind `--experimental-wasm-relaxed-simd`, which this turns on
 * (a process-wide engine flag that only lets modules using these instructions validate) unless the
 * environment variable `KEEL_WASM_RELAXED=0` asks for the plain build.
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxedAvailable !== null) return relaxedAvailable;
  const proc = (globalThis as { process?: NodeProcess }).process;
  relaxedAvailable = false;
  if (typeof WebAssembly !== 'object' || proc?.env?.KEEL_WASM_RELAXED === '0') return false;
  relaxedAvailable = WebAssembly.validate(RELAXED_PROBE);
  if (!relaxedAvailable) {
    const v8 = proc?.getBuiltinModule?.('v8') as { setFlagsFromString?: (flags: string) => void } | undefined;
    if (v8?.setFlagsFromString !== undefined) {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      relaxedAvailable = WebAssembly.validate(RELAXED_PROBE);
    }
  }
  return relaxedAvailable;
}

const compiled: { plain?: WebAssembly.Module; relaxed?: WebAssembly.Module } = {};

/**
 * The compiled kernel module (compiled once, shared with worker threads): the relaxed-SIMD build
 * where {@link relaxedSimdAvailable} (its matmul micro-kernel's multiply-adds are fused: 1.3× the
 * plain build's speed at 1024³), else, or with `relaxed` false, the plain SIMD128 build. The two
 * differ in the rounding of products only (one rounding per multiply-add instead of two).
 *
 * It is compiled the way the engine compiles any module: lazily, each kernel by the baseline
 * compiler on its first call, then by the optimizing compiler in the background once it runs hot
 * (V8's dynamic tiering). The optimizing compile of all ~100 KB up front took 65–80 ms at import,
 * most of the time to a first training step; lazily, a step of the 784→128→10 model runs at full
 * speed after a few dozen steps, and the first thousand steps, import included, take as long as
 * before.
 */
export function kernelModule(relaxed = relaxedSimdAvailable()): WebAssembly.Module {
  if (relaxed) return (compiled.relaxed ??= new WebAssembly.Module(decodeBase64(KERNELS_RELAXED_WASM_BASE64)));
  return (compiled.plain ??= new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64)));
}

/** Whether this JavaScript engine runs WebAssembly SIMD and shared memory. */
export function wasmSupported(): boolean {
  try {
    if (typeof WebAssembly !== 'object' || typeof SharedArrayBuffer !== 'function') return false;
    kernelModule(); // the build the backend will load, compiled once
    return true;
  } catch {
    return false;
  }
}

/** One instance of `module` (one of {@link kernelModule}'s builds) over `memory`. */
export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort: (): never => {
        throw new Error('wasm kernel aborted');
      },
    },
  });
  return instance.exports as unknown as KernelExports;
}
