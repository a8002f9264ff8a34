// Gradient clipping cost in a W1 training step: prints ONE JSON line.
//   npm run build && node bench/clip.mjs          (~45 s; KEEL_BACKEND=js|wasm picks the backend)
//   KEEL_BENCH=quick node bench/clip.mjs          (~6 s, rough numbers)
// The model and recipe are W1 of bench/peers: 784 -> 128 ReLU -> 10 (nn.Linear x2, xavier-uniform
// weights, zero biases), batch 32, cross-entropy, Adam(lr 1e-3), on synthetic rows x ~ U[0,1) with
// learnable labels (the class whose 78-column group sums highest), batches taken in turn.
// A step is: grads set to none, forward, backward, [clipGradNorm_(params, maxNorm)], Adam.step().
//
// clipGradNorm_ does part of its work elsewhere, so its own call time is not its cost: the weight
// gradient's matmul sums its squares as it writes it (in every step, clipped or not), and the
// clipping factor is applied inside Adam's pass over the gradient. So the cost is measured whole:
// 1. steps with clipGradNorm_ against steps without, in alternating blocks of 25 steps, median
//    block time per step; two clip settings: maxNorm 1.0 (the W1 recipe; reports how many steps
//    it clipped) and maxNorm 1e-3 (clips every step, so the deferred factor is always applied);
// 2. the extra time of the measuring matmul (matmulSquares against matmul on dW's shape,
//    interleaved), which the "without" steps pay too;
// clip_fraction = (time inside the clipGradNorm_ call + matmul extra) / step; target under 3%;
// and, as a check, the same with the paired difference of whole steps (with − without, block by
// block) in place of the call's time. Also: the two passes the design avoids (a norm pass and a
// scale pass over the same gradients) timed alone; and clipping inside the optimizer
// (Adam({ clip: clipByGlobalNorm(1.0) })) against Adam without, as in 1.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Adam, Generator, getBackend, init, listBackends, manualSeed, memory, nn, rand, tensor, tidy } from '../dist/index.js';
import { clipByGlobalNorm, clipGradNorm_ } from '../dist/clip/index.js';

const mode = process.env.KEEL_BENCH ?? 'default';
if (!['quick', 'default'].includes(mode)) throw new Error(`bench/clip.mjs: KEEL_BENCH must be quick or default (got '${mode}')`);
const MEASURE_S = mode === 'quick' ? 1.5 : 12; // seconds per comparison (the paired difference needs ~300 rounds to settle within ±0.5%)
const WARMUP = mode === 'quick' ? 20 : 60;
const BLOCK = 25; // steps per timed block
const TARGET = 0.03;
const B = 32;
const ROWS = 4096;

const t0 = performance.now();
const backend = getBackend();
// A threaded backend (wasm) starts its workers in the background: wait for them (at most 5 s).
const wantThreads = Number(process.env.KEEL_THREADS) >= 1 ? Number(process.env.KEEL_THREADS) : os.availableParallelism();
for (let i = 0; i < 100 && typeof backend.threads === 'number' && backend.threads < wantThreads; i++) await new Promise((r) => setTimeout(r, 50));

manualSeed(0);
const gen = new Generator(0);
const fc1 = new nn.Linear(784, 128, { generator: gen });
const fc2 = new nn.Linear(128, 10, { generator: gen });
for (const l of [fc1, fc2]) {
  init.xavierUniform_(l.weight, { generator: gen });
  init.zeros_(l.bias);
}
const params = [...fc1.parameters(), ...fc2.parameters()];
const numParams = params.reduce((n, p) => n + p.size, 0);

// Data: ROWS rows of U[0,1); label = argmax over the 10 groups of 78 columns of the group's sum.
const X = rand([ROWS, 784], { generator: gen });
const xs = X.toTypedArray();
const labels = new Int32Array(ROWS);
for (let r = 0; r < ROWS; r++) {
  let best = -Infinity;
  for (let c = 0; c < 10; c++) {
    let s = 0;
    for (let j = 0; j < 78; j++) s += xs[r * 784 + c * 78 + j];
    if (s > best) [best, labels[r]] = [s, c];
  }
}
X.dispose();
const batches = [];
for (let off = 0; off + B <= ROWS; off += B) {
  const x = tensor(xs.subarray(off * 784, (off + B) * 784), [B, 784]);
  const y = tensor(labels.subarray(off, off + B), [B], { dtype: 'int32' });
  x.kept = y.kept = true;
  batches.push([x, y]);
}
let cursor = 0;

function freeGrads() {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
}

function forwardBackward() {
  const [x, y] = batches[cursor++ % batches.length];
  nn.crossEntropy(fc2.call(fc1.call(x).relu()), y).backward();
}

const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (v, d = 4) => Number(v.toFixed(d));

/**
 * Rounds of one block of BLOCK steps per variant (order rotated every round), MEASURE_S seconds in
 * all. Returns each variant's median block time per step (ms) and, for each variant, the median
 * over rounds of its block time minus the first variant's in the same round: the machine's speed
 * drifts by tens of percent within seconds here, and a difference inside one round cancels it.
 */
function compare(variants) {
  const names = Object.keys(variants);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < WARMUP; i++) for (const n of names) variants[n]();
  const s0 = performance.now();
  for (let round = 0; performance.now() - s0 < MEASURE_S * 1000 || round < 10; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const n of order) {
      const s = performance.now();
      for (let i = 0; i < BLOCK; i++) variants[n]();
      times[n].push((performance.now() - s) / BLOCK);
    }
  }
  const base = times[names[0]];
  return {
    ms: Object.fromEntries(names.map((n) => [n, median(times[n])])),
    extra: Object.fromEntries(names.map((n) => [n, median(times[n].map((t, r) => t - base[r]))])),
  };
}

// ---- 1. steps with and without clipGradNorm_ ----------------------------------------------------
const adam = new Adam(params, { lr: 1e-3 });
const inCall = { none: [], '1': [], '0.001': [] };
const clipped = { '1': 0, '0.001': 0 };
const norms = [];
// Every variant runs the same bookkeeping around the clipping slot (two clock reads, two array
// pushes), so that the paired difference of steps is the call alone.
function step(maxNorm) {
  tidy(() => {
    freeGrads();
    forwardBackward();
    const c = performance.now();
    const norm = maxNorm === null ? 0 : clipGradNorm_(params, maxNorm);
    inCall[maxNorm ?? 'none'].push(performance.now() - c);
    if (maxNorm !== null && norm > maxNorm) clipped[maxNorm]++;
    norms.push(norm);
    adam.step();
  });
}
for (let i = 0; i < 3; i++) step(0.001);
freeGrads();
const buffersBefore = memory().numBuffers;
const loop = compare({ none: () => step(null), clip1: () => step(1), clipAlways: () => step(0.001) });
freeGrads();
const buffersAfter = memory().numBuffers;
const stepsPerVariant = inCall['1'].length;

// ---- 2. the measuring matmul on dW's shape: Gᵀ[128×32]·x[32×784] ------------------------------
const g = rand([B, 128], { generator: gen });
const x = batches[0][0];
const gt = { buf: g.buf, shape: [1, 128, B], strides: [0, 1, 128], offset: 0 };
const xv = { buf: x.buf, shape: [1, B, 784], strides: [0, 784, 1], offset: 0 };
const dw = backend.alloc('float32', 128 * 784, false);
const mm = { plain: [], squares: [] };
for (let i = 0; i < 200; i++) {
  backend.matmul(gt, xv, dw);
  backend.matmulSquares(gt, xv, dw);
}
const m0 = performance.now();
for (let round = 0; performance.now() - m0 < (MEASURE_S / 3) * 1000 || round < 20; round++) {
  for (const kind of round % 2 ? ['squares', 'plain'] : ['plain', 'squares']) {
    const s = performance.now();
    if (kind === 'plain') for (let i = 0; i < 50; i++) backend.matmul(gt, xv, dw);
    else for (let i = 0; i < 50; i++) backend.matmulSquares(gt, xv, dw);
    mm[kind].push((performance.now() - s) / 50);
  }
}
const matmulExtra = median(mm.squares) - median(mm.plain);

// ---- 3. the two passes an eager clip makes, alone, on dW's 100,352 floats ----------------------
const dwView = { buf: dw, shape: [128 * 784], strides: [1], offset: 0 };
const passes = { norm: [], scale: [] };
for (let i = 0; i < 1000; i++) {
  let s = performance.now();
  backend.sumSquares(dwView);
  passes.norm.push(performance.now() - s);
  s = performance.now();
  backend.scale(dw, 0.999);
  passes.scale.push(performance.now() - s);
}
backend.free(dw);
g.dispose();

// ---- 4. clipping inside the optimizer's fused step --------------------------------------------
const withClip = new Adam(params, { lr: 1e-3, clip: clipByGlobalNorm(1.0) });
const withoutClip = new Adam(params, { lr: 1e-3 });
function optimizerStep(opt) {
  tidy(() => {
    freeGrads();
    forwardBackward();
    opt.step();
  });
}
const opt = compare({ none: () => optimizerStep(withoutClip), clip: () => optimizerStep(withClip) });
freeGrads();

const round5 = (v) => round(v, 5);
const stepMs = loop.ms.none;
// The cost of clipping, two ways: the work it adds (the call itself, and the measuring matmul that
// the steps without clipping also run; Adam multiplies by the factor in the pass it makes anyway),
// and the paired difference of whole steps plus the matmul's extra.
const added = (median(inCall['1']) + matmulExtra) / stepMs;
const addedAlways = (median(inCall['0.001']) + matmulExtra) / stepMs;
const paired = (loop.extra.clip1 + matmulExtra) / stepMs;
const pairedAlways = (loop.extra.clipAlways + matmulExtra) / stepMs;
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
console.log(
  JSON.stringify({
    bench: 'keel-clip',
    keel_version: pkg.version,
    backend: backend.name,
    backends_available: listBackends(),
    threads: typeof backend.threads === 'number' ? backend.threads : 1,
    node: process.version,
    cpu_model: os.cpus()[0]?.model,
    host_cpus: os.cpus().length,
    mode,
    model: 'W1: 784-128 ReLU-10 (nn.Linear x2, xavier-uniform, zero bias), batch 32, crossEntropy, Adam lr 1e-3',
    num_params: numParams,
    step_ms: { none: round(loop.ms.none), clip_maxnorm_1: round(loop.ms.clip1), clip_maxnorm_0_001: round(loop.ms.clipAlways) },
    clip_call_ms_median: { maxnorm_1: round5(median(inCall['1'])), maxnorm_0_001: round5(median(inCall['0.001'])) },
    matmul_squares_extra_ms: round5(matmulExtra),
    clip_fraction: round5(added), // (clipGradNorm_ call + measuring matmul's extra) / step, maxNorm 1.0
    clip_fraction_clipping_every_step: round5(addedAlways), // the same with maxNorm 1e-3
    clip_fraction_paired: { maxnorm_1: round5(paired), maxnorm_0_001: round5(pairedAlways) }, // (paired step difference + matmul extra) / step
    target_fraction: TARGET,
    meets_target: Math.max(added, addedAlways) < TARGET,
    steps_per_variant: stepsPerVariant,
    steps_clipped_maxnorm_1: clipped['1'],
    steps_clipped_maxnorm_0_001: clipped['0.001'],
    total_norm_median: round(median(norms.filter((n) => n > 0)), 6),
    eager_passes_ms_median: { norm: round5(median(passes.norm)), scale: round5(median(passes.scale)) },
    optimizer_clip: {
      step: 'Adam({ clip: clipByGlobalNorm(1.0) }) vs Adam without clip, paired',
      step_ms_clip: round(opt.ms.clip),
      step_ms_none: round(opt.ms.none),
      clip_fraction_paired: round5((opt.extra.clip + matmulExtra) / opt.ms.none),
    },
    live_buffers_before: buffersBefore,
    live_buffers_after: buffersAfter,
    memory_flat: buffersBefore === buffersAfter,
    fallbacks: backend.fallbacks instanceof Map ? Object.fromEntries(backend.fallbacks) : undefined,
    total_s: round((performance.now() - t0) / 1000, 2),
  }),
);
