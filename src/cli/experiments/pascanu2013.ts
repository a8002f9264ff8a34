/**
 * `keel experiment pascanu2013` — Pascanu, Mikolov & Bengio (2013), "On the difficulty of
 * training recurrent neural networks", §3 and §5: a tanh RNN learns a long-range task with
 * momentum SGD when the gradient norm is clipped; without clipping, the rare huge gradients of
 * the loss surface's "steep walls" throw the weights away.
 *
 * Setup: the addition problem (Hochreiter & Schmidhuber 1997) with T = 50 steps of 2 features, a
 * value U(0, 1) and a marker that is 1 at exactly two positions, one drawn uniformly from the
 * first half [0, T/2) and one from the second half [T/2, T) (the convention of Le et al. 2015 and
 * Arjovsky et al. 2016; the original task puts the first marker near the start and varies the
 * length), 0 elsewhere; the target is the sum of the two marked values (predicting its mean, 1,
 * gives MSE 2/12 ≈ 0.167). Model: `RNN(2, 100)` (tanh, PyTorch's U(±1/√100) parameters) with
 * `orthogonal_` W_hh, and a `Linear(100, 1)` read-out of the last hidden state. MSE, fresh batches
 * of 32, SGD lr 0.01 momentum 0.9, 4,000 steps, with `clipGradNorm_(params, 1.0)` between
 * backward and step, or without (the same initial weights and batches). Recorded: the gradient
 * norm before clipping at every step (`clipGradNorm_`'s return value, `getTotalNorm` without
 * clipping) and the MSE on 1,000 held-out sequences after training. Three seeds: `seed`,
 * `seed + 1`, `seed + 2` (so `keel experiment pascanu2013 --seed 3` runs seeds 3–5).
 *
 * Claims, each on at least 2 of the 3 seeds: the clipped run's test MSE < 0.08; the unclipped
 * run's test MSE ≥ 0.08 (it does not learn); the clipped run ends below the unclipped one.
 *
 * The recurrence is unrolled here with the fewest ops per step (`lastHidden` below); it is
 * `RNN.forward`'s to float32 rounding (the result's `recurrenceCheck`). The six runs are spread
 * over the available cores in worker threads.
 *
 * PyTorch 1.13 on the same setup (tools/reference/pascanu2013_torch.py, one thread, its own
 * random data), test MSE clipped / unclipped and the unclipped run's largest gradient norm:
 *
 *     seed      0       1       2       3       4       5
 *     clip 1.0  0.0197  0.0339  0.0175  0.0137  0.0461  0.0232
 *     none      0.1671  0.0346  0.1363  0.1747  0.2614  0.3980
 *     max norm  10.15   24.23   14.57   53.2    763.9   807.7
 *
 * Keel shows the same picture on seeds 0–5: every clipped run learns; without clipping a run
 * either has not started to learn after 4,000 steps (test MSE ≈ 0.17, largest norm about that of
 * the first steps, 10–20), or starts and hits a wall (norm in the hundreds or thousands, the loss above 10, and it
 * ends worse than predicting the mean); in each framework 1 of the 6 unclipped runs learns.
 */
import { Generator } from '../../core/random.js';
import { ConfigError, KeelError } from '../../core/errors.js';
import { noGrad } from '../../autograd/grad-mode.js';
import { backward } from '../../autograd/backward.js';
import { getBackend, setBackend } from '../../backend/registry.js';
import { RNN } from '../../nn/recurrent.js';
import { Linear } from '../../nn/linear.js';
import { mse } from '../../nn/losses.js';
import { orthogonal_ } from '../../nn/init/pytorch.js';
import { SGD } from '../../optim/optimizers.js';
import { clipGradNorm_, getTotalNorm } from '../../clip/grad-utils.js';
import { tensor } from '../../tensor/create.js';
import { tidy } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import { add, tanh } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { sum } from '../../ops/reduce.js';
import { concat, contiguous, narrow, select, transpose, unsqueeze } from '../../ops/shape.js';
import { type ExperimentOptions, type ExperimentResult, claim, fmt, since, table, writeClaims } from './report.js';

/** Options of {@link pascanu2013}. */
export interface Pascanu2013Options extends ExperimentOptions {
  /** SGD steps per run (default 4000). */
  steps?: number;
  /** Sequence length T (default 50). */
  length?: number;
  /** How many consecutive seeds, from `seed` on (default 3); the claims must hold on a majority. */
  seeds?: number;
  /**
   * Runs trained at once, this thread included (default: the cores available, at most the number
   * of runs). The results do not depend on it.
   */
  threads?: number;
}

/** One training run (one seed, clipped or not) of {@link pascanu2013}. */
export interface Pascanu2013Run {
  /** The seed of the initial weights (`seed`), the batches (`seed + 1000`) and the test set (`seed + 2000`). */
  seed: number;
  /** The max norm given to `clipGradNorm_`, or null for no clipping. */
  clip: number | null;
  /** The gradient norm before clipping at every step. */
  gradNorms: number[];
  /** Training loss at every step. */
  losses: number[];
  /** MSE on the held-out sequences after training (NaN when the weights became NaN). */
  testMse: number;
  /** The largest gradient norm (Infinity when one was NaN). */
  maxGradNorm: number;
  /** The 99th percentile of the gradient norms. */
  p99GradNorm: number;
}

/** The result of {@link pascanu2013}. */
export interface Pascanu2013Result extends ExperimentResult {
  /** Per seed, the clipped run then the unclipped one. */
  runs: Pascanu2013Run[];
  /** MSE of always predicting 1 (the target's mean) on the first seed's test set (≈ 0.167). */
  meanPredictorMse: number;
  /**
   * The largest absolute difference between the experiment's unrolled recurrence and
   * `RNN.forward` (last hidden state and parameter gradients, one batch, first seed's initial
   * weights): ≈ 1e-7, since both compute the same recurrence.
   */
  recurrenceCheck: number;
  /** How many threads trained at least one run (the main thread and worker threads). */
  threadsUsed: number;
}

const HIDDEN = 100;
const BATCH = 32;
const LR = 0.01;
const MOMENTUM = 0.9;
const CLIP = 1.0;
const TEST = 1000;
/** A run "learns" when its test MSE is below this. */
const THRESHOLD = 0.08;

/**
 * `n` addition-problem sequences, time-major: inputs `[T, n, 3]` (value, marker, and a constant 1
 * that carries the bias) and targets `[n, 1]`.
 */
function additionBatch(n: number, length: number, g: Generator): { x: Tensor; y: Tensor } {
  const x = new Float32Array(length * n * 3);
  const y = new Float32Array(n);
  const half = Math.floor(length / 2);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < length; t++) {
      x[(t * n + i) * 3] = g.nextFloat32();
      x[(t * n + i) * 3 + 2] = 1;
    }
    const first = g.nextBelow(half);
    const second = half + g.nextBelow(length - half);
    x[(first * n + i) * 3 + 1] = 1;
    x[(second * n + i) * 3 + 1] = 1;
    y[i] = x[(first * n + i) * 3] + x[(second * n + i) * 3];
  }
  return { x: tensor(x, [length, n, 3]), y: tensor(y, [n, 1]) };
}

/**
 * The RNN's last hidden state for time-major `x` `[T, N, 3]`, unrolled with the fewest ops per
 * step: `h_t = tanh(x_t·Wᵀ + h_{t−1}·W_hhᵀ)` where `W = [W_ih | b_ih + b_hh]` (the constant input
 * column carries both biases), `h_0 = 0`. This is `RNN.forward`'s recurrence; it differs only in
 * bookkeeping: `RNN.forward` projects every step's input at once and takes per-step slices of that
 * projection, whose gradients cost a full `[T, N, hidden]` buffer per step in backward.
 */
function lastHidden(rnn: RNN, x: Tensor): Tensor {
  const [weightIh, weightHh, biasIh, biasHh] = rnn.allWeights[0];
  const inputT = transpose(concat([weightIh, unsqueeze(add(biasIh, biasHh), 1)], 1)); // [3, hidden]
  const hiddenT = transpose(weightHh);
  let h = tanh(matmul(select(x, 0, 0), inputT));
  for (let t = 1; t < x.shape[0]; t++) h = tanh(add(matmul(h, hiddenT), matmul(select(x, 0, t), inputT)));
  return h;
}

/** The read-out of the last hidden state: `[T, N, 3]` → `[N, 1]`. */
function predict(rnn: RNN, head: Linear, x: Tensor): Tensor {
  return head.call(lastHidden(rnn, x)) as Tensor;
}

/**
 * How far {@link lastHidden} is from `RNN.forward`: the largest absolute difference in the last
 * hidden state and in every RNN parameter's gradient of the MSE, on one batch at seed `seed`'s
 * initial weights. Both compute the same recurrence, so this is float32 rounding (≈ 1e-7).
 */
function recurrenceCheck(seed: number, length: number): number {
  const g = new Generator(seed);
  const rnn = new RNN(2, HIDDEN, { batchFirst: true, generator: g });
  orthogonal_(rnn.allWeights[0][1], { generator: g });
  const params = rnn.parameters();
  return tidy(() => {
    const { x, y } = additionBatch(BATCH, length, new Generator(seed + 1000));
    const lossOf = (h: Tensor): Tensor => mse(sum(h, { axis: 1, keepDims: true }), y); // any scalar of h_T
    const mine = lastHidden(rnn, x);
    backward(lossOf(mine));
    const myGrads = params.map((p) => p.grad!.toTypedArray());
    rnn.zeroGrad();
    // RNN.forward with batchFirst reads [N, T, 2]: the value and marker columns, batch-major.
    const [, hn] = rnn.call(contiguous(transpose(narrow(x, 2, 0, 2), 0, 1))) as [Tensor, Tensor];
    const theirs = select(hn, 0, 0);
    backward(lossOf(theirs));
    let d = 0;
    const a = mine.toTypedArray();
    const b = theirs.toTypedArray();
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
    params.forEach((p, k) => {
      const q = p.grad!.toTypedArray();
      for (let i = 0; i < q.length; i++) d = Math.max(d, Math.abs(q[i] - myGrads[k][i]));
    });
    rnn.zeroGrad();
    return d;
  });
}

/** Largest value and 99th percentile (nearest rank); NaN sorts above everything. */
function spikes(norms: readonly number[]): { max: number; p99: number } {
  const sorted = norms.map((v) => (Number.isNaN(v) ? Infinity : v)).sort((a, b) => a - b);
  return { max: sorted[sorted.length - 1], p99: sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))] };
}

/** One training run to do: which seed, clipped or not, and the shared settings. */
interface Job {
  seed: number;
  clip: number | null;
  steps: number;
  length: number;
}

/** Trains one model from scratch for `job` and measures it; see the file comment. */
function train(job: Job): Pascanu2013Run {
  const { seed, clip, steps, length } = job;
  const g = new Generator(seed);
  const rnn = new RNN(2, HIDDEN, { batchFirst: true, generator: g });
  orthogonal_(rnn.allWeights[0][1], { generator: g }); // weight_hh_l0
  const head = new Linear(HIDDEN, 1, { generator: g });
  const params = [...rnn.parameters(), ...head.parameters()];
  const opt = new SGD(params, { lr: LR, momentum: MOMENTUM });
  const data = new Generator(seed + 1000);
  const gradNorms: number[] = [];
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    tidy(() => {
      const { x, y } = additionBatch(BATCH, length, data);
      opt.zeroGrad();
      const loss = mse(predict(rnn, head, x), y);
      backward(loss);
      gradNorms.push(clip === null ? getTotalNorm(params.map((p) => p.grad!)).item() : clipGradNorm_(params, clip));
      opt.step();
      losses.push(loss.item());
    });
  }
  const testMse = noGrad(() =>
    tidy(() => {
      const test = additionBatch(TEST, length, testGenerator(seed));
      return mse(predict(rnn, head, test.x), test.y).item();
    }),
  );
  const { max, p99 } = spikes(gradNorms);
  return { seed, clip, gradNorms, losses, testMse, maxGradNorm: max, p99GradNorm: p99 };
}

/** The generator of seed `seed`'s held-out sequences. */
function testGenerator(seed: number): Generator {
  return new Generator(seed + 2000);
}

// ---------------------------------------------------------------------------------------------
// Running the six independent runs at once. Each is small enough that the backend runs its
// kernels on one thread, so on a machine with more than one core the runs are spread over
// worker threads (Node's worker_threads, fetched at run time so the module still loads in a
// browser): every thread takes the next job from a shared counter, the main thread included,
// which also does every job when no worker could start. Results are bit-identical either way.

/** What a worker thread gets: the jobs, the shared counter, the backend and where to report. */
export interface Pascanu2013LaneData {
  /** Every run of the experiment. */
  jobs: Job[];
  /**
   * Over a SharedArrayBuffer: `[0]` the index of the next job to take; `[1]` a count that each
   * worker raises (and notifies) after posting a result and when it stops.
   */
  counter: Int32Array;
  /** The backend to create tensors on (the main thread's). */
  backend: string;
  /** Where each finished run is posted as `{ index, run }` (or `{ error }`). */
  port: { postMessage(message: unknown): void };
}

/** Takes jobs from the shared counter until none are left; `done(index, run)` gets each result. */
function takeJobs(jobs: readonly Job[], counter: Int32Array, done: (index: number, run: Pascanu2013Run) => void): void {
  for (;;) {
    const index = Atomics.add(counter, 0, 1);
    if (index >= jobs.length) return;
    done(index, train(jobs[index]));
  }
}

/**
 * The body of a worker thread of {@link pascanu2013} (exported for the worker to import; not part
 * of the public API): runs jobs from the shared counter on `data.backend` and posts each result.
 */
export function pascanu2013Lane(data: Pascanu2013LaneData): void {
  setBackend(data.backend);
  takeJobs(data.jobs, data.counter, (index, run) => {
    data.port.postMessage({ index, run });
    signal(data.counter);
  });
}

/** Raises the event count `counter[1]` and wakes the main thread. */
function signal(counter: Int32Array): void {
  Atomics.add(counter, 1, 1);
  Atomics.notify(counter, 1);
}

// The worker's whole program: import this module, run the lane, and always report the end (with
// the error, if any). A worker that fails to start takes no job: the other threads do them.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { url, flag, data } = workerData;
import(url)
  .then((m) => m.pascanu2013Lane(data))
  .catch((e) => data.port.postMessage({ error: String((e && e.stack) || e) }))
  .finally(() => { Atomics.store(flag, 0, 1); Atomics.add(data.counter, 1, 1); Atomics.notify(data.counter, 1); });
`;

interface WorkerThreads {
  Worker: new (
    source: string,
    options: { eval: true; execArgv: string[]; workerData: unknown; transferList: unknown[]; env: Record<string, string | undefined> },
  ) => { unref(): void };
  MessageChannel: new () => { port1: object; port2: { postMessage(message: unknown): void } };
  receiveMessageOnPort(port: object): { message: unknown } | undefined;
}

interface NodeProcess {
  env: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

/** Cores this process may use (1 where that is unknown). */
function cores(): number {
  const os = (globalThis as { process?: NodeProcess }).process?.getBuiltinModule?.('node:os') as
    | { availableParallelism?: () => number; cpus(): unknown[] }
    | undefined;
  return Math.max(1, os?.availableParallelism?.() ?? os?.cpus().length ?? 1);
}

/** Runs every job on `threads` threads (this one included); `progress` sees each result as it is collected. */
function runJobs(jobs: Job[], threads: number, progress: (run: Pascanu2013Run) => void): { runs: Pascanu2013Run[]; threadsUsed: number } {
  const results = new Array<Pascanu2013Run | undefined>(jobs.length);
  const errors: string[] = [];
  const counter = new Int32Array(new SharedArrayBuffer(8));
  const proc = (globalThis as { process?: NodeProcess }).process;
  const wt = threads > 1 ? (proc?.getBuiltinModule?.('node:worker_threads') as WorkerThreads | undefined) : undefined;
  const lanes: { port: object; flag: Int32Array; used: boolean }[] = [];
  let mainUsed = false;
  if (wt !== undefined && proc !== undefined)
    for (let t = 1; t < threads; t++) {
      const { port1, port2 } = new wt.MessageChannel();
      const flag = new Int32Array(new SharedArrayBuffer(4));
      const data: Pascanu2013LaneData = { jobs, counter, backend: getBackend().name, port: port2 };
      // KEEL_THREADS=1: these kernels are too small for the backend's own threads. execArgv: []
      // so that the parent's flags (e.g. --input-type=module) do not change how the source runs.
      const worker = new wt.Worker(WORKER_SOURCE, {
        eval: true,
        execArgv: [],
        workerData: { url: import.meta.url, flag, data },
        transferList: [port2],
        env: { ...proc.env, KEEL_THREADS: '1' },
      });
      worker.unref();
      lanes.push({ port: port1, flag, used: false });
    }
  const collect = (): void => {
    for (const lane of lanes)
      for (let m = wt!.receiveMessageOnPort(lane.port); m !== undefined; m = wt!.receiveMessageOnPort(lane.port)) {
        const msg = m.message as { index: number; run: Pascanu2013Run } | { error: string };
        if ('error' in msg) errors.push(msg.error);
        else {
          results[msg.index] = msg.run;
          lane.used = true;
          progress(msg.run);
        }
      }
  };
  takeJobs(jobs, counter, (index, run) => {
    results[index] = run;
    mainUsed = true;
    progress(run);
    collect();
  });
  // Wait for the jobs that workers took, until every result is in or every worker has stopped.
  for (;;) {
    const seen = Atomics.load(counter, 1);
    collect();
    if (!results.includes(undefined) || lanes.every((l) => Atomics.load(l.flag, 0) === 1)) break;
    Atomics.wait(counter, 1, seen, 1000);
  }
  collect();
  const missing = results.findIndex((r) => r === undefined);
  if (missing >= 0)
    throw new KeelError(
      `pascanu2013: run ${missing} (seed ${jobs[missing].seed}, ${jobs[missing].clip === null ? 'no clipping' : `clip ${jobs[missing].clip}`}) ` +
        `failed in a worker thread: ${errors.join('\n') || 'no error was reported'}`,
    );
  return { runs: results as Pascanu2013Run[], threadsUsed: (mainUsed ? 1 : 0) + lanes.filter((l) => l.used).length };
}

function checkInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw new ConfigError(`pascanu2013: ${name} must be an integer ≥ ${min} (got ${value})`);
}

/** Runs the Pascanu et al. (2013) gradient-clipping experiment; see the file comment. */
export function pascanu2013(options?: Pascanu2013Options): Pascanu2013Result {
  const t0 = performance.now();
  const steps = options?.steps ?? 4000;
  const length = options?.length ?? 50;
  const first = options?.seed ?? 0;
  const count = options?.seeds ?? 3;
  const out = options?.out;
  checkInt('steps', steps, 1);
  checkInt('length', length, 2);
  checkInt('seed', first, 0);
  checkInt('seeds', count, 1);
  if (options?.threads !== undefined) checkInt('threads', options.threads, 1);
  const jobs: Job[] = [];
  for (let k = 0; k < count; k++) for (const clip of [CLIP, null]) jobs.push({ seed: first + k, clip, steps, length });
  const threads = Math.min(options?.threads ?? cores(), jobs.length);
  out?.write(
    `pascanu2013: addition problem T=${length}, RNN(2, ${HIDDEN}) tanh with orthogonal W_hh → Linear(${HIDDEN}, 1), MSE, ` +
      `SGD lr ${LR} momentum ${MOMENTUM}, batch ${BATCH}, ${steps} steps, clipGradNorm_ ${CLIP.toFixed(1)} vs none, ` +
      `seeds ${first}–${first + count - 1} (${jobs.length} runs on ${threads} thread${threads === 1 ? '' : 's'})\n`,
  );
  const label = (clip: number | null): string => (clip === null ? 'none' : clip.toFixed(1));
  const { runs, threadsUsed } = runJobs(jobs, threads, (r) =>
    out?.write(
      `  seed ${r.seed} clip ${label(r.clip).padEnd(4)}: test MSE ${fmt(r.testMse)}, max grad norm ${fmt(r.maxGradNorm)}  (${since(t0).toFixed(1)} s)\n`,
    ),
  );
  const meanPredictorMse = tidy(() => {
    const y = additionBatch(TEST, length, testGenerator(first)).y.toTypedArray();
    return Array.from(y, (v) => (v - 1) ** 2).reduce((a, b) => a + b, 0) / TEST;
  });
  const check = recurrenceCheck(first, length);
  const clipped = runs.filter((r) => r.clip !== null);
  const unclipped = runs.filter((r) => r.clip === null);
  if (out !== undefined) {
    out.write(`\ntest MSE on ${TEST} held-out sequences (predicting the mean gives ${fmt(meanPredictorMse)}) and gradient norm before clipping:\n`);
    out.write(
      table(
        ['seed', 'clip', 'test MSE', 'train MSE (last 100)', 'max grad norm', 'p99 grad norm'],
        runs.map((r) => {
          const tail = r.losses.slice(-Math.min(100, r.losses.length));
          return [
            String(r.seed),
            label(r.clip),
            fmt(r.testMse),
            fmt(tail.reduce((a, b) => a + b, 0) / tail.length),
            fmt(r.maxGradNorm),
            fmt(r.p99GradNorm),
          ];
        }),
      ),
    );
  }
  const need = Math.floor(count / 2) + 1;
  const of = `on ≥ ${need} of ${count} seeds`;
  const learned = clipped.filter((r) => r.testMse < THRESHOLD).length;
  const failed = unclipped.filter((r) => !(r.testMse < THRESHOLD)).length;
  // Same seed, same initial weights and batches: clipping is the only difference.
  const better = clipped.filter((r, k) => r.testMse < unclipped[k].testMse || Number.isNaN(unclipped[k].testMse)).length;
  const claims = [
    claim(`clip ${CLIP.toFixed(1)}: test MSE < ${THRESHOLD} (learns) ${of}`, learned, learned >= need),
    claim(`no clipping: test MSE ≥ ${THRESHOLD} (does not learn) ${of}`, failed, failed >= need),
    claim(`clip ${CLIP.toFixed(1)} ends with a lower test MSE than no clipping from the same start ${of}`, better, better >= need),
  ];
  out?.write('\n');
  writeClaims(out, claims);
  return { name: 'pascanu2013', claims, ok: claims.every((c) => c.ok), seconds: since(t0), runs, meanPredictorMse, recurrenceCheck: check, threadsUsed };
}
