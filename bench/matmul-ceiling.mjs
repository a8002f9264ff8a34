// matmul 1024³ against the machine's WebAssembly SIMD128 ceiling, in one process, interleaved:
// prints ONE JSON line. `npm run build && node bench/matmul-ceiling.mjs` (~25 s; KEEL_THREADS=1
// for one thread; KEEL_WASM_RELAXED=0 for the plain SIMD128 build of the kernels). The ceiling is
// the SIMD128 one (12 chains of f32x4 multiplies and adds, no relaxed SIMD); with the relaxed-SIMD
// build, whose matmul fuses its multiply-adds, the fused ceiling (12 chains of fused multiply-adds)
// is measured in the same rounds and reported beside it: on machines where a fused multiply-add
// costs what a multiply does (AMD Zen) the two ceilings are equal, on others it can be twice. On a shared machine whose speed drifts within seconds, GFLOP/s from separate
// runs of bench/ceiling.mjs and bench/engine.mjs do not divide meaningfully; here each round
// measures the ceiling kernel and then every layout for 0.3 s each, and each figure is the best
// of its rounds, so both sides of a ratio come from the same minutes.
import os from 'node:os';
import { matmul, rand, setBackend, tidy } from '../dist/index.js';

const wasm = setBackend('wasm');
const want = Number(process.env.KEEL_THREADS) >= 1 ? Number(process.env.KEEL_THREADS) : os.availableParallelism();
for (let i = 0; i < 100 && wasm.threads < want; i++) await new Promise((r) => setTimeout(r, 50));
const threads = wasm.threads;
const N = 1024;
const ROUNDS = 6;
const WINDOW_MS = 300;
const a = rand([N, N]);
const b = rand([N, N]);
const layouts = { 'A·B': () => matmul(a, b), 'Aᵀ·B': () => matmul(a.T, b), 'A·Bᵀ': () => matmul(a, b.T), 'Aᵀ·Bᵀ': () => matmul(a.T, b.T) };
// Warm-ups: the kernels compile lazily and tier up on their first calls.
for (const f of Object.values(layouts)) for (let i = 0; i < 3; i++) tidy(() => void f().toTypedArray());
const relaxed = wasm.relaxedSimd;
for (let i = 0; i < 3; i++) {
  wasm.peakGflops(threads);
  if (relaxed) wasm.peakGflops(threads, undefined, 'fused');
}
const best = { ceiling: 0, fused: 0, ...Object.fromEntries(Object.keys(layouts).map((k) => [k, 0])) };
for (let r = 0; r < ROUNDS; r++) {
  best.ceiling = Math.max(best.ceiling, wasm.peakGflops(threads));
  if (relaxed) best.fused = Math.max(best.fused, wasm.peakGflops(threads, undefined, 'fused'));
  for (const [k, f] of Object.entries(layouts)) {
    const t0 = performance.now();
    let reps = 0;
    while (performance.now() - t0 < WINDOW_MS) {
      tidy(() => void f().toTypedArray()); // read back and freed, as the engine benchmark does
      reps++;
    }
    best[k] = Math.max(best[k], (2 * N ** 3 * reps) / ((performance.now() - t0) / 1000) / 1e9);
  }
}
const round1 = (v) => Number(v.toFixed(1));
console.log(
  JSON.stringify({
    bench: 'keel-matmul-ceiling',
    threads,
    n: N,
    rounds: ROUNDS,
    kernels: relaxed ? 'relaxed-simd' : 'simd128',
    ceiling_gflops: round1(best.ceiling),
    fused_ceiling_gflops: relaxed ? round1(best.fused) : null,
    matmul_gflops: Object.fromEntries(Object.keys(layouts).map((k) => [k, round1(best[k])])),
    fraction_of_ceiling: Object.fromEntries(Object.keys(layouts).map((k) => [k, Number((best[k] / best.ceiling).toFixed(3))])),
    fraction_of_fused_ceiling: relaxed
      ? Object.fromEntries(Object.keys(layouts).map((k) => [k, Number((best[k] / best.fused).toFixed(3))]))
      : null,
    node: process.version,
    cpu_model: os.cpus()[0]?.model,
  }),
);
