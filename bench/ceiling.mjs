// The WebAssembly SIMD128 ceiling of this machine: the peak kernel (12 independent f32x4
// multiply→add chains that stay in registers, no relaxed SIMD) on 1 and on 2 threads, best of
// several runs. Prints one JSON line. Run after `npm run build`.
import os from 'node:os';
import { setBackend } from '../dist/index.js';

const wasm = setBackend('wasm');
// Workers start in the background: wait until they are ready (at most 5 s).
for (let i = 0; i < 100 && wasm.threads < Math.min(2, os.availableParallelism()); i++) await new Promise((r) => setTimeout(r, 50));
const best = (threads) => {
  let g = 0;
  for (let r = 0; r < 7; r++) g = Math.max(g, wasm.peakGflops(threads));
  return g;
};
const one = best(1);
const two = wasm.threads >= 2 ? best(2) : null;
console.log(
  JSON.stringify({
    bench: 'wasm-simd128-ceiling',
    kernel: '12 independent f32x4 mul->add chains, 96 flop/iteration',
    gflops_1_thread: Number(one.toFixed(1)),
    gflops_2_threads: two === null ? null : Number(two.toFixed(1)),
    threads_available: wasm.threads,
    node: process.version,
    cpu_model: os.cpus()[0]?.model,
  }),
);
