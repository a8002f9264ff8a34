// Does splitting a matmul over threads pay at every size? For square and MLP-shaped products,
// time one thread against all threads (same process, interleaved). Prints one JSON line.
import { matmul, randn, setBackend } from '../dist/index.js';

const wasm = setBackend('wasm');
for (let i = 0; i < 100 && wasm.threads < 2; i++) await new Promise((r) => setTimeout(r, 50));
const threads = wasm.threads;
const shapes = [
  [8, 8, 8], [32, 32, 32], [64, 64, 64], [32, 784, 128], [32, 128, 10], [784, 32, 128], [96, 96, 96], [128, 128, 128], [256, 256, 256], [512, 512, 512],
];
function time(a, b, minMs = 150) {
  for (let i = 0; i < 3; i++) matmul(a, b).dispose();
  let reps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    matmul(a, b).dispose();
    reps++;
  }
  return ((performance.now() - t0) / reps) * 1000; // µs per call
}
const rows = [];
for (const [m, k, n] of shapes) {
  const a = randn([m, k]);
  const b = randn([k, n]);
  let one = Infinity;
  let all = Infinity;
  for (let r = 0; r < 3; r++) {
    wasm.maxThreads = 1;
    one = Math.min(one, time(a, b));
    wasm.maxThreads = Infinity;
    all = Math.min(all, time(a, b));
  }
  rows.push({ m, k, n, us_1_thread: Number(one.toFixed(1)), us_all_threads: Number(all.toFixed(1)), speedup: Number((one / all).toFixed(2)) });
}
console.log(JSON.stringify({ bench: 'wasm-matmul-threads', threads, rows }));
