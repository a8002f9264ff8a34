// Gradient-monitor cost: prints ONE JSON line.
//   npm run build && node bench/monitor.mjs          (~21 s on wasm, ~25 s on js; KEEL_BACKEND=js|wasm picks the backend)
//   KEEL_BENCH=quick node bench/monitor.mjs          (~3 s on wasm, ~8 s on js; rough numbers)
// The model is W1 of the peer suite: 784 -> 128 ReLU -> 10 as nn.Sequential(Linear, ReLU, Linear)
// (101,770 parameters), batch 32, cross-entropy on logits, Adam lr 1e-3 clipping by global norm
// 1.0 (the optimizer's `clip: clipByGlobalNorm(1.0)`, so the monitor reads the norms from
// `lastUpdateInfo`). Four variants, each with its own model and optimizer:
//   manual      a PyTorch-style loop: zeroGrad, forward, backward, step, loss.item(), one tidy per step
//   manual+mon  the same with a GradientMonitor attached ({ every: 10, optimizer }) and
//               monitor.step(loss) after optimizer.step()
//   fit         model.fit(x, y, { epochs: 1, batchSize: 32, verbose: 0 }) over one block of batches
//               (shuffled, fit's default), step times from a callback's onBatchEnd
//   fit+mon     the same with { monitor } (a GradientMonitor that fit attaches for the call)
// The variants run in blocks of BLOCK steps (a multiple of 10, so every monitored block samples the
// same steps), interleaved manual, manual+mon, fit, fit+mon, then the reverse order, round after
// round, so that drift of the machine's speed hits all four alike; rounds go on for MEASURE_S and
// at least MIN_ROUNDS. The overhead of a monitored
// variant is, per round, Σ step ms (monitored block) / Σ step ms (its unmonitored block) − 1, and
// its median over the rounds: it includes the sampled steps (1 in 10), which a median step time
// would hide. Target: ≤ 5% (the monitor is meant to be left on).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Adam, Callback, Generator, GradientMonitor, getBackend, listBackends, manualSeed, memory, narrow, nn, randint, randn, tidy } from '../dist/index.js';
import { clipByGlobalNorm } from '../dist/clip/index.js';

const mode = process.env.KEEL_BENCH ?? 'default';
if (!['quick', 'default'].includes(mode)) throw new Error(`bench/monitor.mjs: KEEL_BENCH must be quick or default (got '${mode}')`);
// 20 s: on a shared 2-core machine whose speed drifts by ±30% within seconds, 10 s of rounds
// left the median's spread at about ±1.5 points; 20–30 s bring it under ±1.
const MEASURE_S = mode === 'quick' ? 2 : 20; // measured rounds (each: every variant once, one block each) ...
const MIN_ROUNDS = mode === 'quick' ? 4 : 10; // ... and at least this many
const WARMUP_ROUNDS = 2;
const BLOCK = 20; // steps per block; a multiple of EVERY
const EVERY = 10;
const TARGET = 0.05;
const B = 32;
const N = BLOCK * B; // one block of batches: fit runs one epoch over exactly BLOCK batches

const t0 = performance.now();
const backend = getBackend();
// A threaded backend (wasm) starts its workers in the background: wait for them (at most 5 s).
const wantThreads = Number(process.env.KEEL_THREADS) >= 1 ? Number(process.env.KEEL_THREADS) : os.availableParallelism();
for (let i = 0; i < 100 && typeof backend.threads === 'number' && backend.threads < wantThreads; i++) await new Promise((r) => setTimeout(r, 50));

manualSeed(0);
const gen = new Generator(0);
const x = randn([N, 784], { generator: gen });
const y = randint(0, 10, [N], { generator: gen });

function makeNet() {
  const model = new nn.Sequential(new nn.Linear(784, 128, { generator: gen }), new nn.ReLU(), new nn.Linear(128, 10, { generator: gen }));
  const optimizer = new Adam(model.parameters(), { lr: 1e-3, clip: clipByGlobalNorm(1.0) });
  return { model, optimizer };
}
const numParams = makeNet()
  .model.parameters()
  .reduce((n, p) => n + p.size, 0);

/** The manual loop: one block of BLOCK steps; returns the step times (ms). */
function manualVariant(monitored) {
  const { model, optimizer } = makeNet();
  const monitor = monitored ? new GradientMonitor() : null;
  return {
    monitor,
    block() {
      const detach = monitor?.attach(model, { every: EVERY, optimizer }) ?? null;
      const times = new Array(BLOCK);
      for (let s = 0; s < BLOCK; s++) {
        const start = performance.now();
        tidy(() => {
          const xb = narrow(x, 0, s * B, B);
          const yb = narrow(y, 0, s * B, B);
          optimizer.zeroGrad();
          const loss = nn.crossEntropy(model.call(xb), yb);
          loss.backward();
          optimizer.step();
          const value = loss.item();
          monitor?.step(value);
        });
        times[s] = performance.now() - start;
      }
      detach?.();
      return times;
    },
  };
}

/** Records the end of every batch (and the start of the epoch) of a fit call. */
class StepTimer extends Callback {
  marks = [];
  onEpochBegin() {
    this.marks = [performance.now()];
  }
  onBatchEnd() {
    this.marks.push(performance.now());
  }
}

/** fit over one block: one epoch of BLOCK batches; returns the step times (ms). */
function fitVariant(monitored) {
  const { model, optimizer } = makeNet();
  model.compile({ optimizer, loss: (yTrue, yPred) => nn.crossEntropy(yPred, yTrue) });
  const monitor = monitored ? new GradientMonitor({ every: EVERY }) : null;
  const timer = new StepTimer();
  return {
    monitor,
    block() {
      model.fit(x, y, { epochs: 1, batchSize: B, verbose: 0, generator: gen, callbacks: [timer], ...(monitor ? { monitor } : {}) });
      return timer.marks.slice(1).map((t, i) => t - timer.marks[i]);
    },
  };
}

const variants = {
  manual: manualVariant(false),
  'manual+mon': manualVariant(true),
  fit: fitVariant(false),
  'fit+mon': fitVariant(true),
};
const names = Object.keys(variants);
const stepMs = Object.fromEntries(names.map((k) => [k, []])); // every measured step
const blockSums = Object.fromEntries(names.map((k) => [k, []])); // per round: Σ step ms of the block
const sampledMs = Object.fromEntries(names.map((k) => [k, []])); // steps EVERY apart, at the sampled positions

function round(r, record) {
  const order = r % 2 === 0 ? names : [...names].reverse();
  for (const k of order) {
    const times = variants[k].block();
    if (!record) continue;
    stepMs[k].push(...times);
    blockSums[k].push(times.reduce((a, b) => a + b, 0));
    for (let s = 0; s < times.length; s += EVERY) sampledMs[k].push(times[s]);
  }
}

for (let r = 0; r < WARMUP_ROUNDS; r++) round(r, false);
const buffersBefore = memory().numBuffers;
const m0 = performance.now();
let rounds = 0;
while (rounds < MIN_ROUNDS || performance.now() - m0 < MEASURE_S * 1000) round(rounds++, true);
const measuredS = (performance.now() - m0) / 1000;
const buffersAfter = memory().numBuffers;

const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (a) => a.reduce((p, q) => p + q, 0) / a.length;
const rnd = (v, d = 4) => Number(v.toFixed(d));

const steps = {};
for (const k of names)
  steps[k] = {
    step_ms_median: rnd(median(stepMs[k])),
    step_ms_mean: rnd(mean(stepMs[k])),
    // the steps at the positions the monitor samples (0, 10, 20, ... of each block)
    sampled_step_ms_median: rnd(median(sampledMs[k])),
    measured_steps: stepMs[k].length,
  };
const overhead = {};
for (const [on, off] of [
  ['manual+mon', 'manual'],
  ['fit+mon', 'fit'],
]) {
  const perRound = blockSums[on].map((s, i) => s / blockSums[off][i] - 1);
  const fraction = median(perRound);
  const records = variants[on].monitor.records.length;
  overhead[on] = {
    fraction: rnd(fraction, 5), // median over rounds of Σ monitored / Σ unmonitored − 1
    fraction_min: rnd(Math.min(...perRound), 5),
    fraction_max: rnd(Math.max(...perRound), 5),
    fraction_of_means: rnd(mean(stepMs[on]) / mean(stepMs[off]) - 1, 5),
    fraction_of_medians: rnd(median(stepMs[on]) / median(stepMs[off]) - 1, 5), // the unsampled steps' hook cost
    // what one sampled step costs beyond an unmonitored step, and spread over EVERY steps
    sampled_extra_ms: rnd(median(sampledMs[on]) - median(sampledMs[off])),
    records, // sampled steps recorded, warm-up included
    meets_target: fraction <= TARGET,
  };
}

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
console.log(
  JSON.stringify({
    bench: 'keel-monitor',
    keel_version: pkg.version,
    backend: backend.name,
    backends_available: listBackends(),
    threads: typeof backend.threads === 'number' ? backend.threads : 1,
    node: process.version,
    cpu_model: os.cpus()[0]?.model,
    host_cpus: os.cpus().length,
    mode,
    model: '784-128 ReLU-10 (nn.Sequential), batch 32, crossEntropy, Adam lr 1e-3 + clipByGlobalNorm(1.0)',
    num_params: numParams,
    monitor: `GradientMonitor, every ${EVERY} steps`,
    block_steps: BLOCK,
    rounds,
    warmup_rounds: WARMUP_ROUNDS,
    measured_s: rnd(measuredS, 2),
    steps,
    overhead,
    target_fraction: TARGET,
    meets_target: Object.values(overhead).every((o) => o.meets_target),
    live_buffers_before: buffersBefore,
    live_buffers_after: buffersAfter,
    memory_flat: buffersBefore === buffersAfter,
    fallbacks: backend.fallbacks instanceof Map ? Object.fromEntries(backend.fallbacks) : undefined,
    total_s: rnd((performance.now() - t0) / 1000, 2),
  }),
);
