// The WebAssembly kernels, compiled by tools/build-wasm.mjs. Pointers are byte offsets into the
// shared memory that the JavaScript side owns and allocates; strides are in elements.
export { gemmF32, gemmScratchBytes } from './matmul';
export { peakF32 } from './peak';

/** First byte after the module's static data: the JavaScript allocator starts above it. */
export function heapBase(): usize {
  return __heap_base;
}
