// The WebAssembly kernels, compiled by tools/build-wasm.mjs. Pointers are byte offsets into the
// shared memory that the JavaScript side owns and allocates; strides are in elements for matmul
// and in bytes in the descriptors of the strided kernels (see strided.ts).
export { gemmF32, gemmNtF32, gemmScratchBytes, panelSquaresF32 } from './matmul';
export { peakF32, peakFmaF32, peakMaddF32, relaxedSimd } from './peak';
export { descBytes, descMaxRank } from './strided';
export { axpbyF32, binaryF32, copyStrided, sumSquaresF32, unaryF32, whereF32 } from './elementwise';
export { argReduceF32, reduceF32 } from './reduce';
export { adamF32, scaleF32, squaresBlock, sumSquaresBlocksF32, updateSquaresF32 } from './update';
export { lstmCellBackwardF32, lstmCellF32 } from './recurrent';
export { crossEntropyRowsBackwardF32, crossEntropyRowsF32 } from './loss';
export { gatherF32, scatterAddF32 } from './gather';
export { valueStatsBytes, valueStatsF32 } from './stats';
export { uniformF32 } from './random';

/** First byte after the module's static data: the JavaScript allocator starts above it. */
export function heapBase(): usize {
  return __heap_base;
}
