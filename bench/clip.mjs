// Gradient clipping cost: prints ONE JSON line.
//   npm run build && node bench/clip.mjs          (~10 s; KEEL_BACKEND=js|wasm picks the backend)
//   KEEL_BENCH=quick node bench/clip.mjs          (~3 s, rough numbers)
// The model is the 784 -> 128 ReLU -> 10 MLP of two nn.Linear layers (101,770 parameters), batch
// 32, cross-entropy loss. A training step is: forward, backward, clipGradNorm_(params, 1.0) over
// all parameters, and the update, in one tidy: Adam(lr 1e-3), the W1 recipe of the speed issue
// (default), or KEEL_BENCH_OPTIMIZER=sgd for plain SGD p <- p - lr*g (sub_ under noGrad), a
// shorter step and so the harder ratio. Reported:
// 1. in-loop: the time clipGradNorm_ takes inside each step, as a fraction of the whole step
//    (sum over the measured steps, and the ratio of the medians); target: under 3%;
// 2. isolated: clipGradNorm_ alone on the gradients of one backward, repeated (median and min per
//    call), and its two halves: getTotalNorm (the norm) and clipGradsWithNorm_ (the scaling);
// 3. optimizer-side: Adam({ clip: clipByGlobalNorm(1.0) }), whose fused step folds the clipping
//    coefficient into the update (one norm pass, no scaled copy), against Adam without clipping,
//    in alternating blocks of steps: the extra time as a fraction of the clipped step.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Adam, Generator, getBackend, listBackends, manualSeed, memory, nn, noGrad, randint, randn, sub_, tidy } from '../dist/index.js';
import { clipByGlobalNorm, clipGradNorm_, clipGradsWithNorm_, getTotalNorm } from '../dist/clip/index.js';

const mode = process.env.KEEL_BENCH ?? 'default';
if (!['quick', 'default'].includes(mode)) throw new Error(`bench/clip.mjs: KEEL_BENCH must be quick or default (got '${mode}')`);
const MEASURE_S = mode === 'quick' ? 1 : 4; // seconds of measured training steps
const WARMUP = mode === 'quick' ? 10 : 30; // warm-up steps
const ISOLATED_REPS = mode === 'quick' ? 200 : 1000;
const TARGET = 0.03;
const B = 32;
const LR = 0.01;
const MAX_NORM = 1.0;
const OPTIMIZER = process.env.KEEL_BENCH_OPTIMIZER ?? 'adam';
if (!['adam', 'sgd'].includes(OPTIMIZER)) throw new Error(`bench/clip.mjs: KEEL_BENCH_OPTIMIZER must be adam or sgd (got '${OPTIMIZER}')`);

const t0 = performance.now();
const backend = getBackend();
// A threaded backend (wasm) starts its workers in the background: wait for them (at most 5 s).
const wantThreads = Number(process.env.KEEL_THREADS) >= 1 ? Number(process.env.KEEL_THREADS) : os.availableParallelism();
for (let i = 0; i < 100 && typeof backend.threads === 'number' && backend.threads < wantThreads; i++) await new Promise((r) => setTimeout(r, 50));

manualSeed(0);
const gen = new Generator(0);
const fc1 = new nn.Linear(784, 128, { generator: gen });
const fc2 = new nn.Linear(128, 10, { generator: gen });
const params = [...fc1.parameters(), ...fc2.parameters()];
const numParams = params.reduce((n, p) => n + p.size, 0);
const x = randn([B, 784], { generator: gen });
const y = randint(0, 10, [B], { generator: gen });
const adam = OPTIMIZER === 'adam' ? new Adam(params, { lr: 1e-3 }) : null;

function freeGrads() {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
}

function forwardBackward() {
  const loss = nn.crossEntropy(fc2.call(fc1.call(x).relu()), y);
  loss.backward();
  return loss;
}

/** One training step; returns [step ms, clip ms, total norm]. */
function step() {
  const s = performance.now();
  let clipMs = 0;
  let norm = 0;
  tidy(() => {
    freeGrads();
    forwardBackward();
    const c = performance.now();
    norm = clipGradNorm_(params, MAX_NORM);
    clipMs = performance.now() - c;
    if (adam !== null) adam.step();
    else
      noGrad(() => {
        for (const p of params) sub_(p, p.grad, LR);
      });
  });
  return [performance.now() - s, clipMs, norm];
}

const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- 1. in the training loop ---------------------------------------------------------------------
for (let i = 0; i < WARMUP; i++) step();
const buffersBefore = memory().numBuffers;
const stepMs = [];
const clipMs = [];
const norms = [];
const m0 = performance.now();
while (performance.now() - m0 < MEASURE_S * 1000 || stepMs.length < 20) {
  const [s, c, n] = step();
  stepMs.push(s);
  clipMs.push(c);
  norms.push(n);
}
const measuredS = (performance.now() - m0) / 1000;
const buffersAfter = memory().numBuffers;
const sumStep = stepMs.reduce((a, b) => a + b, 0);
const sumClip = clipMs.reduce((a, b) => a + b, 0);

// ---- 2. isolated, on the gradients of one backward ----------------------------------------------
freeGrads();
tidy(() => void forwardBackward());
const grads = params.map((p) => p.grad);
function timeReps(fn) {
  for (let i = 0; i < 20; i++) fn();
  const t = [];
  for (let i = 0; i < ISOLATED_REPS; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  return { median: median(t), min: Math.min(...t) };
}
const clipAlone = timeReps(() => clipGradNorm_(params, MAX_NORM));
const normAlone = timeReps(() => tidy(() => void getTotalNorm(grads)));
const total = getTotalNorm(grads);
const scaleAlone = timeReps(() => clipGradsWithNorm_(params, MAX_NORM, total));
total.dispose();
freeGrads();

// ---- 3. clipping inside the optimizer's fused step ---------------------------------------------
const withClip = new Adam(params, { lr: 1e-3, clip: clipByGlobalNorm(MAX_NORM) });
const withoutClip = new Adam(params, { lr: 1e-3 });
function optimizerStep(opt) {
  const s = performance.now();
  tidy(() => {
    freeGrads();
    forwardBackward();
    opt.step();
  });
  return performance.now() - s;
}
const blockMs = { clip: [], none: [] };
for (let i = 0; i < WARMUP; i++) optimizerStep(i % 2 ? withClip : withoutClip);
const o0 = performance.now();
for (let round = 0; performance.now() - o0 < MEASURE_S * 1000 || round < 10; round++) {
  for (const [key, opt] of round % 2 ? [['clip', withClip], ['none', withoutClip]] : [['none', withoutClip], ['clip', withClip]]) {
    let t = 0;
    for (let i = 0; i < 25; i++) t += optimizerStep(opt);
    blockMs[key].push(t / 25);
  }
}
freeGrads();
const optClipMs = median(blockMs.clip);
const optNoneMs = median(blockMs.none);

const round = (v, d = 4) => Number(v.toFixed(d));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const fraction = sumClip / sumStep;
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
    model: '784-128 ReLU-10 (nn.Linear x2), batch 32, crossEntropy',
    num_params: numParams,
    optimizer: OPTIMIZER,
    step: `forward + backward + clipGradNorm_(params, 1.0) + ${adam !== null ? 'Adam(lr 1e-3).step()' : 'SGD p -= 0.01*g'}, one tidy per step`,
    warmup_steps: WARMUP,
    measured_steps: stepMs.length,
    measured_s: round(measuredS, 2),
    step_ms_median: round(median(stepMs)),
    clip_ms_median: round(median(clipMs)),
    clip_fraction: round(fraction, 5), // Σ clip time / Σ step time over the measured steps
    clip_fraction_of_medians: round(median(clipMs) / median(stepMs), 5),
    target_fraction: TARGET,
    meets_target: fraction < TARGET,
    isolated_ms: {
      clipGradNorm_: { median: round(clipAlone.median), min: round(clipAlone.min) },
      getTotalNorm: { median: round(normAlone.median), min: round(normAlone.min) },
      clipGradsWithNorm_: { median: round(scaleAlone.median), min: round(scaleAlone.min) },
    },
    optimizer_clip: {
      step: 'forward + backward + Adam(lr 1e-3, clip: clipByGlobalNorm(1.0)).step() vs the same Adam without clip, blocks of 25 steps alternating',
      step_ms_median_clip: round(optClipMs),
      step_ms_median_none: round(optNoneMs),
      clip_fraction: round((optClipMs - optNoneMs) / optClipMs, 5),
      meets_target: (optClipMs - optNoneMs) / optClipMs < TARGET,
    },
    total_norm_median: round(median(norms), 6),
    steps_clipped: norms.filter((n) => n > MAX_NORM).length,
    live_buffers_before: buffersBefore,
    live_buffers_after: buffersAfter,
    memory_flat: buffersBefore === buffersAfter,
    fallbacks: backend.fallbacks instanceof Map ? Object.fromEntries(backend.fallbacks) : undefined,
    total_s: round((performance.now() - t0) / 1000, 2),
  }),
);
