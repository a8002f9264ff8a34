import { KERNELS_WASM_BASE64 } from './generated/kernels.js';

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
  ): void;
  peakF32(iters: number, seed: number): number;
}

/** The memory's limits, in 64 KiB pages: start small, allow up to 4 GiB. */
export const INITIAL_PAGES = 32;
export const MAXIMUM_PAGES = 65536;

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let compiled: WebAssembly.Module | null = null;

interface V8Flags {
  setFlagsFromString(flags: string): void;
}

/**
 * The compiled kernel module (compiled once, shared with worker threads). In Node the kernels are
 * compiled with the optimizing compiler up front: V8 otherwise starts them in its baseline tier,
 * and a long kernel call cannot switch tiers midway, so the first seconds of training would run
 * at a third of the speed. The flags are restored right after, for any other module.
 */
export function kernelModule(): WebAssembly.Module {
  if (compiled !== null) return compiled;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const v8 = proc?.getBuiltinModule?.('v8') as V8Flags | undefined;
  v8?.setFlagsFromString('--no-liftoff');
  v8?.setFlagsFromString('--no-wasm-lazy-compilation');
  try {
    compiled = new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64));
  } finally {
    v8?.setFlagsFromString('--liftoff');
    v8?.setFlagsFromString('--wasm-lazy-compilation');
  }
  return compiled;
}

/** Whether this JavaScript engine runs WebAssembly SIMD and shared memory. */
export function wasmSupported(): boolean {
  try {
    if (typeof WebAssembly !== 'object' || typeof SharedArrayBuffer !== 'function') return false;
    kernelModule();
    return true;
  } catch {
    return false;
  }
}

/** One instance of the kernels over `memory`. */
export function instantiate(memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(kernelModule(), {
    env: {
      memory,
      abort: (): never => {
        throw new Error('wasm kernel aborted');
      },
    },
  });
  return instance.exports as unknown as KernelExports;
}
