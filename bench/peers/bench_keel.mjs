// Keel training-throughput benchmark for the peer suite (../shared/peers): same data generators,
// same protocol (timeTraining / gflopsLoop) and same JSON fields as bench_tfjs.mjs.
// usage, from a copy of the peers folder (so that ./lib/common.mjs resolves):
//   KEEL_DIST=/abs/path/to/keel/dist/index.js [KEEL_BACKEND=js|wasm] [KEEL_THREADS=n] \
//     node bench_keel.mjs --workload w1|w2|w4 [--init glorot|torch]
// bench/peers/compare.sh sets all of this up and runs Keel interleaved with the peers.
// Prints one JSON line.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, WORKLOADS, synthMnist, timeTraining, gflopsLoop, emit, sinceT0 } from './lib/common.mjs';

const args = parseArgs({ workload: 'w1', init: 'glorot' });
if (!process.env.KEEL_DIST) {
  console.error('bench_keel.mjs: set KEEL_DIST to the absolute path of Keel\'s dist/index.js (run `npm run build` in the Keel repo first)');
  process.exit(2);
}
const distUrl = pathToFileURL(resolve(process.env.KEEL_DIST));
const K = await import(distUrl.href);
const importMs = sinceT0();
const keelVersion = JSON.parse(readFileSync(new URL('../package.json', distUrl), 'utf8')).version;
// The backend is the registry's default unless KEEL_BACKEND (js|wasm) names one.
const info = {
  peer: process.env.KEEL_PEER ?? 'keel',
  keel_version: keelVersion,
  backend: K.getBackend().name,
  backends_available: K.listBackends(),
  keel_dist: distUrl.pathname,
  import_ms: importMs,
};
// Kernels the backend ran in JavaScript instead of its own code (wasm), by kernel:dtype.
const fallbacks = () => (K.getBackend().fallbacks instanceof Map ? Object.fromEntries(K.getBackend().fallbacks) : undefined);
const wl = args.workload;
const gen = new K.Generator(0);

// Threads the kernels may use now (a threaded backend, wasm, starts its workers in the background).
const threadsNow = () => (typeof K.getBackend().threads === 'number' ? K.getBackend().threads : 1);

if (wl === 'w4') {
  // Wait for the workers (at most 5 s), as bench/threads.mjs does, so n = 128 is not measured on
  // one thread. KEEL_THREADS=1 turns threading off.
  const want = Number(process.env.KEEL_THREADS) >= 1 ? Number(process.env.KEEL_THREADS) : os.availableParallelism();
  for (let i = 0; i < 100 && threadsNow() < want; i++) await new Promise((r) => setTimeout(r, 50));
  // A·B only, as every peer; bench/engine.mjs measures the transposed combinations too.
  const res = [];
  for (const n of [128, 512, 1024]) {
    const a = K.rand([n, n], { generator: gen });
    const b = K.rand([n, n], { generator: gen });
    // Read the product back (as tfjs's dataSync) and free it at once.
    res.push(await gflopsLoop(() => K.tidy(() => void K.matmul(a, b).toTypedArray()), n));
    a.dispose();
    b.dispose();
  }
  emit({ ...info, workload: 'w4', matmul: res, threads: threadsNow(), keel_live_buffers: K.memory().numBuffers, keel_fallbacks: fallbacks() });
  process.exit(0);
}
if (wl !== 'w1' && wl !== 'w2') {
  emit({ ...info, workload: wl, skipped: `${wl} needs layers Keel does not have yet (LSTM)` });
  process.exit(0);
}

// ---- model ----------------------------------------------------------------------------------
// Linear layers as nn.Linear: weight [out, in], y = x·Wᵀ + b with `W.T` a view (the matmul reads
// it in place; measured ~15% faster per w1 step than storing W as [in, out]).
// Init: 'glorot' (default) is what the suite gives every peer (bench_torch.py re-initializes
// with xavier_uniform_ + zeros_, tfjs uses its glorotUniform/zeros defaults), so losses start
// alike; 'torch' is nn.Linear's own default, U(±1/√fan_in) for weight and bias.
function linear(fanIn, fanOut) {
  return K.noGrad(() => {
    const uniform = (shape, bound) => K.rand(shape, { generator: gen }).mul(2 * bound).sub(bound);
    if (args.init === 'torch') {
      const bound = 1 / Math.sqrt(fanIn);
      return { w: uniform([fanOut, fanIn], bound).requiresGrad_(), b: uniform([fanOut], bound).requiresGrad_() };
    }
    if (args.init !== 'glorot') throw new Error(`bench_keel.mjs: --init must be glorot or torch (got '${args.init}')`);
    return { w: uniform([fanOut, fanIn], Math.sqrt(6 / (fanIn + fanOut))).requiresGrad_(), b: K.zeros([fanOut]).requiresGrad_() };
  });
}
const dims = wl === 'w1' ? [784, 128, 10] : [784, 512, 512, 10];
const layers = dims.slice(1).map((out, i) => linear(dims[i], out));
const params = layers.flatMap((l) => [l.w, l.b]);
function forward(x) {
  let h = x;
  layers.forEach((l, i) => {
    h = K.matmul(h, l.w.T).add(l.b);
    if (i < layers.length - 1) h = K.relu(h);
  });
  return h; // logits
}

// ==== INLINE OPTIMIZERS AND CLIPPING ==========================================================
// Keel has no optim/ or clip/ modules yet: these follow PyTorch's math with Keel's in-place ops
// under noGrad. Replace this section with keel's Adam/SGD and clipGradNorm_/clipGradValue_
// when they land.

/** optimizer.zero_grad(set_to_none=True), as bench_torch.py. */
function zeroGrad(ps) {
  for (const p of ps) {
    p.grad?.dispose();
    p.grad = null;
  }
}

/** torch.nn.utils.clip_grad_norm_: total = √Σ g², g *= min(1, maxNorm / (total + 1e-6)); no branch. */
function clipGradNorm_(ps, maxNorm) {
  return K.noGrad(() => {
    const grads = ps.map((p) => p.grad).filter((g) => g !== null);
    const total = K.sqrt(grads.map((g) => K.sum(K.square(g))).reduce((acc, s) => K.add(acc, s)));
    const coef = K.clamp(K.div(maxNorm, K.add(total, 1e-6)), null, 1);
    for (const g of grads) g.mul_(coef);
    return total.item(); // the pre-clip norm, for the log
  });
}

/** torch.nn.utils.clip_grad_value_: clamps every gradient element into [-clip, clip]. */
function clipGradValue_(ps, clip) {
  K.noGrad(() => {
    for (const p of ps) p.grad?.clamp_(-clip, clip);
  });
}

/** torch.optim.Adam (no weight decay, no amsgrad), bias-corrected as PyTorch's single-tensor path. */
function adam(ps, { lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = {}) {
  const m = ps.map((p) => K.zerosLike(p));
  const v = ps.map((p) => K.zerosLike(p));
  let t = 0;
  return {
    step() {
      t++;
      const bc1 = 1 - beta1 ** t;
      const bc2 = 1 - beta2 ** t;
      K.noGrad(() =>
        ps.forEach((p, i) => {
          const g = p.grad;
          if (g === null) return;
          m[i].mul_(beta1).add_(g, 1 - beta1); // m = β1·m + (1−β1)·g
          v[i].mul_(beta2).add_(K.square(g), 1 - beta2); // v = β2·v + (1−β2)·g²
          const denom = K.sqrt(v[i]).div(Math.sqrt(bc2)).add(eps); // √v / √(1−β2ᵗ) + ε
          p.sub_(m[i].div(denom), lr / bc1); // p −= lr/(1−β1ᵗ) · m / denom
        }),
      );
    },
  };
}

/** torch.optim.SGD with momentum (dampening 0, no Nesterov): buf = μ·buf + g; p −= lr·buf. */
function sgdMomentum(ps, { lr, momentum }) {
  // PyTorch starts buf as a copy of the first gradient: μ·0 + g gives the same thing.
  const buf = ps.map((p) => K.zerosLike(p));
  return {
    step() {
      K.noGrad(() =>
        ps.forEach((p, i) => {
          if (p.grad === null) return;
          buf[i].mul_(momentum).add_(p.grad);
          p.sub_(buf[i], lr);
        }),
      );
    },
  };
}
// ==== END INLINE OPTIMIZERS AND CLIPPING ======================================================

const opt = wl === 'w1' ? adam(params, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 }) : sgdMomentum(params, { lr: 0.01, momentum: 0.9 });
const clip = wl === 'w1' ? 'norm' : 'value';

const W = WORKLOADS[wl];
const B = W.batch;
const d0 = Date.now();
const data = synthMnist();
const dataMs = Date.now() - d0;
const nBatches = Math.floor(data.n / B);
let gradNormLast = NaN;
let buffersAfterFirst = NaN;

function step(i) {
  const off = (i % nBatches) * B;
  const loss = K.tidy(() => {
    // A new tensor per batch from typed-array views (a data loader), as bench_tfjs.mjs.
    const xb = K.tensor(data.x.subarray(off * 784, (off + B) * 784), [B, 784]);
    const yb = K.tensor(data.y.subarray(off, off + B), [B, 1]); // int32
    zeroGrad(params);
    // Cross-entropy on logits: −mean(log-softmax(logits)[target]).
    const lossT = K.mean(K.gather(K.logSoftmax(forward(xb)), 1, yb)).neg();
    lossT.backward();
    if (clip === 'norm') gradNormLast = clipGradNorm_(params, 1.0);
    else clipGradValue_(params, 0.5);
    opt.step();
    return lossT.item(); // read back every step, as every peer
  });
  if (i === 0) buffersAfterFirst = K.memory().numBuffers;
  return loss;
}

const r = await timeTraining({ step, batch: B, targetSamples: W.targetSamples, maxS: args.maxS, warmS: args.warmS });
emit({
  ...info,
  workload: wl,
  workload_desc: W.name,
  batch: B,
  data_gen_ms: dataMs,
  feed: 'tensor-per-batch',
  init: args.init === 'torch' ? 'nn.Linear default U(±1/√fan_in)' : 'glorot-uniform W, zero b (as the suite)',
  optimizer: wl === 'w1' ? 'Adam lr 1e-3 β 0.9/0.999 ε 1e-8 (inline, bench_keel.mjs)' : 'SGD lr 0.01 momentum 0.9 (inline, bench_keel.mjs)',
  clipping: clip === 'norm' ? 'global norm 1.0 (inline, PyTorch formula)' : 'value 0.5 (inline)',
  ...r,
  time_to_first_step_ms: r.time_to_first_step_ms - dataMs,
  grad_norm_last: clip === 'norm' ? gradNormLast : undefined,
  threads: threadsNow(), // at the end (training does not wait for the workers to start)
  keel_live_buffers_first_step: buffersAfterFirst,
  keel_live_buffers_end: K.memory().numBuffers,
  keel_fallbacks: fallbacks(),
});
