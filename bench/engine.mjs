// Engine benchmarks: prints ONE JSON line (see bench/README.md for the fields).
//   npm run bench                      (builds first; ~35 s on the js backend, ~18 s on wasm)
//   KEEL_BENCH=quick node bench/engine.mjs   (~18 s on js, ~5 s on wasm: a smoke test, rough numbers)
//   KEEL_BENCH=full  node bench/engine.mjs   (never caps slow products: ~1.5 min on the js backend)
//   KEEL_BACKEND=js|wasm picks the backend (default: the registry's default); KEEL_THREADS=n caps
//   the threads of a threaded backend (wasm).
// 1. matmul GFLOP/s, float32 n x n x n, for A·B, Aᵀ·B, A·Bᵀ, Aᵀ·Bᵀ (transposes are `.T` views,
//    which the engine reads in place), with the protocol of gflopsLoop in the peer suite
//    (../shared/peers/lib/common.mjs): 2 warm-ups, then >= 1 s and >= 3 reps.
// 2. forward + backward of the 784 -> 128 ReLU -> 10 MLP, batch 32, log-softmax cross-entropy,
//    one step per `tidy`, gradients reset to null each step (no optimizer).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Generator, getBackend, listBackends, logSoftmax, matmul, memory, noGrad, rand, randint, relu, tidy, zeros, gather, mean } from '../dist/index.js';

const mode = process.env.KEEL_BENCH ?? 'default';
if (!['quick', 'default', 'full'].includes(mode)) throw new Error(`bench/engine.mjs: KEEL_BENCH must be quick, default or full (got '${mode}')`);
const SIZES = [128, 512, 1024];
// The protocol of gflopsLoop (2 warm-ups, then >= 1 s and >= 3 reps), except that a product slow
// enough to make it drag (the pure-JS 1024³ takes ~2 s a rep: ~40 s for the four combinations)
// is capped: when the first warm-up took longer than CAP_REP_S, it stops after that one warm-up
// and 2 measured reps. KEEL_BENCH=full never caps; KEEL_BENCH=quick is shorter all round.
const CAP_REP_S = 0.5;
const PROTOCOL = {
  quick: { warmups: 1, minS: 0.2, minReps: 1, capRepS: CAP_REP_S, capped: { warmups: 1, minS: 0, minReps: 1 } },
  default: { warmups: 2, minS: 1.0, minReps: 3, capRepS: CAP_REP_S, capped: { warmups: 1, minS: 0, minReps: 2 } },
  full: { warmups: 2, minS: 1.0, minReps: 3, capRepS: Infinity, capped: null },
}[mode];
const MLP_S = mode === 'quick' ? 1 : 5; // measured seconds of MLP steps
const MLP_WARM = mode === 'quick' ? 5 : 20; // warm-up steps

const t0 = performance.now();

// A threaded backend (wasm) starts its workers in the background: wait for them (at most 5 s), so
// the first sizes are not measured on one thread. KEEL_THREADS=1 turns threading off.
const backend = getBackend();
const wantThreads = Number(process.env.KEEL_THREADS) >= 1 ? Number(process.env.KEEL_THREADS) : os.availableParallelism();
for (let i = 0; i < 100 && typeof backend.threads === 'number' && backend.threads < wantThreads; i++) await new Promise((r) => setTimeout(r, 50));
const threadsWaitS = (performance.now() - t0) / 1000;

// The loop of gflopsLoop in the peer suite, with the cap described above.
function gflopsLoop(fn, n) {
  const w0 = performance.now();
  fn(); // first warm-up, timed to decide on the cap
  const capped = (performance.now() - w0) / 1000 > PROTOCOL.capRepS;
  const { warmups, minS, minReps } = capped ? PROTOCOL.capped : PROTOCOL;
  for (let i = 1; i < warmups; i++) fn();
  let reps = 0;
  let el = 0;
  const s0 = performance.now();
  while (reps < minReps || el < minS) {
    fn();
    reps++;
    el = (performance.now() - s0) / 1000;
  }
  return { n, reps, seconds: el, gflops: (2 * n ** 3 * reps) / el / 1e9, warmups, capped };
}

// ---- 1. matmul ------------------------------------------------------------------------------
const gen = new Generator(0);
const matmulRuns = [];
const matmulGflops = { 'A·B': [], 'Aᵀ·B': [], 'A·Bᵀ': [], 'Aᵀ·Bᵀ': [] };
for (const n of SIZES) {
  const a = rand([n, n], { generator: gen });
  const b = rand([n, n], { generator: gen });
  const combos = [
    ['A·B', a, b],
    ['Aᵀ·B', a.T, b],
    ['A·Bᵀ', a, b.T],
    ['Aᵀ·Bᵀ', a.T, b.T],
  ];
  for (const [op, x, y] of combos) {
    // Read the product back (as the peers' dataSync) and free it at once.
    const r = gflopsLoop(() => tidy(() => void matmul(x, y).toTypedArray()), n);
    matmulRuns.push({ op, ...r });
    matmulGflops[op].push(Number(r.gflops.toFixed(3)));
  }
  a.dispose();
  b.dispose();
}

// ---- 2. MLP forward + backward ---------------------------------------------------------------
const B = 32;
// Glorot-uniform weights laid out [out, in] (as nn.Linear) and zero biases, as the peer suite.
function linear(fanIn, fanOut) {
  const s = Math.sqrt(6 / (fanIn + fanOut));
  const w = noGrad(() => rand([fanOut, fanIn], { generator: gen }).mul(2 * s).sub(s)).requiresGrad_();
  return { w, b: zeros([fanOut]).requiresGrad_() };
}
const l1 = linear(784, 128);
const l2 = linear(128, 10);
const params = [l1.w, l1.b, l2.w, l2.b];
const x = rand([B, 784], { generator: gen });
const y = randint(0, 10, [B, 1], { generator: gen });

function mlpStep() {
  return tidy(() => {
    for (const p of params) {
      p.grad?.dispose();
      p.grad = null;
    }
    const h = relu(matmul(x, l1.w.T).add(l1.b));
    const logp = logSoftmax(matmul(h, l2.w.T).add(l2.b));
    const loss = mean(gather(logp, 1, y)).neg();
    loss.backward();
    return loss.item();
  });
}
for (let i = 0; i < MLP_WARM; i++) mlpStep();
const buffersBefore = memory().numBuffers;
const times = [];
const m0 = performance.now();
while (performance.now() - m0 < MLP_S * 1000 || times.length < 10) {
  const s = performance.now();
  mlpStep();
  times.push(performance.now() - s);
}
const measuredS = (performance.now() - m0) / 1000;
const buffersAfter = memory().numBuffers;
times.sort((p, q) => p - q);
const median = times.length % 2 ? times[times.length >> 1] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
console.log(
  JSON.stringify({
    bench: 'keel-engine',
    keel_version: pkg.version,
    backend: backend.name,
    backends_available: listBackends(),
    threads: typeof backend.threads === 'number' ? backend.threads : 1, // threads the kernels may use
    threads_wait_s: threadsWaitS,
    node: process.version,
    cpu_model: os.cpus()[0]?.model,
    host_cpus: os.cpus().length,
    mode,
    matmul_protocol:
      mode === 'full'
        ? '2 warm-ups, then >= 1 s and >= 3 reps (gflopsLoop)'
        : mode === 'default'
          ? `2 warm-ups, then >= 1 s and >= 3 reps (gflopsLoop); capped (1 warm-up + 2 reps) when a rep takes > ${CAP_REP_S} s`
          : `quick: 1 warm-up, then >= 0.2 s and >= 1 rep; capped (1 warm-up + 1 rep) when a rep takes > ${CAP_REP_S} s`,
    matmul_sizes: SIZES,
    matmul_gflops: matmulGflops,
    matmul: matmulRuns,
    mlp: {
      desc: '784-128 ReLU-10, batch 32, log-softmax + gather + mean + neg, forward+backward in tidy, no optimizer',
      batch: B,
      warmup_steps: MLP_WARM,
      measured_steps: times.length,
      measured_s: measuredS,
      ms_per_step_median: median,
      ms_per_step_min: times[0],
      ms_per_step_max: times[times.length - 1],
      steps_per_s: 1000 / median,
      samples_per_s: (1000 / median) * B,
      live_buffers_before: buffersBefore,
      live_buffers_after: buffersAfter,
      memory_flat: buffersBefore === buffersAfter,
    },
    // kernels the backend ran in JavaScript instead of its own code (wasm), by kernel:dtype
    fallbacks: backend.fallbacks instanceof Map ? Object.fromEntries(backend.fallbacks) : undefined,
    total_s: (performance.now() - t0) / 1000,
  }),
);
