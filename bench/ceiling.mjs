// The WebAssembly SIMD128 ceiling of this machine, on 1 and on 2 threads (best of 7 runs):
//   ceiling: 12 independent f32x4 chains (6 multiply, 6 add) in registers, no relaxed SIMD;
//   madd:    12 chains of dependent multiply→add, for comparison.
// Prints one JSON line. Run after `npm run build`.
import os from 'node:os';
import { setBackend } from '../dist/index.js';

const wasm = setBackend('wasm');
// Workers start in the background: wait until they are ready (at most 5 s).
for (let i = 0; i < 100 && wasm.threads < Math.min(2, os.availableParallelism()); i++) await new Promise((r) => setTimeout(r, 50));
const best = (threads, kind) => {
  let g = 0;
  for (let r = 0; r < 7; r++) g = Math.max(g, wasm.peakGflops(threads, 2_000_000, kind));
  return Number(g.toFixed(1));
};
const two = wasm.threads >= 2;
console.log(
  JSON.stringify({
    bench: 'wasm-simd128-ceiling',
    ceiling_1_thread: best(1, 'independent'),
    ceiling_2_threads: two ? best(2, 'independent') : null,
    madd_1_thread: best(1, 'dependent'),
    madd_2_threads: two ? best(2, 'dependent') : null,
    flop_per_iteration: 96,
    threads_available: wasm.threads,
    node: process.version,
    cpu_model: os.cpus()[0]?.model,
  }),
);
