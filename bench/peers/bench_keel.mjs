// Keel training-throughput benchmark for the peer suite (../shared/peers): same data generators,
// same protocol (timeTraining / gflopsLoop) and same JSON fields as bench_tfjs.mjs.
// usage, from a copy of the peers folder (so that ./lib/common.mjs resolves):
//   KEEL_DIST=/abs/path/to/keel/dist/keel.js [KEEL_BACKEND=js|wasm] [KEEL_THREADS=n] \
//     node bench_keel.mjs --workload w1|w2|w3|w4 [--init glorot|torch]
// bench/peers/compare.sh sets all of this up and runs Keel interleaved with the peers.
// Prints one JSON line.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, WORKLOADS, T, F, H, synthMnist, synthSeq, timeTraining, gflopsLoop, emit, sinceT0 } from './lib/common.mjs';

const args = parseArgs({ workload: 'w1', init: 'glorot' });
if (!process.env.KEEL_DIST) {
  console.error('bench_keel.mjs: set KEEL_DIST to the absolute path of Keel\'s dist/keel.js (run `npm run build` in the Keel repo first)');
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
  // wasm: which build of the kernels loaded ('relaxed-simd' fuses matmul's multiply-adds).
  keel_kernels: typeof K.getBackend().relaxedSimd === 'boolean' ? (K.getBackend().relaxedSimd ? 'relaxed-simd' : 'simd128') : undefined,
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
if (!['w1', 'w2', 'w3'].includes(wl)) {
  console.error(`bench_keel.mjs: --workload must be w1, w2, w3 or w4 (got '${wl}')`);
  process.exit(2);
}

// ---- model: w1, w2 ---------------------------------------------------------------------------
// nn.Linear layers (weight [out, in], one linear primitive x·Wᵀ + b) with ReLU between them.
// Init: 'glorot' (default) is what the suite gives every peer (bench_torch.py re-initializes
// with xavier_uniform_ + zeros_, tfjs uses its glorotUniform/zeros defaults), so losses start
// alike; 'torch' keeps nn.Linear's own default, U(±1/√fan_in) for weight and bias.
function linear(fanIn, fanOut) {
  const layer = new K.nn.Linear(fanIn, fanOut, { generator: gen });
  if (args.init === 'glorot') {
    K.init.xavierUniform_(layer.weight, { generator: gen });
    K.init.zeros_(layer.bias);
  } else if (args.init !== 'torch') throw new Error(`bench_keel.mjs: --init must be glorot or torch (got '${args.init}')`);
  return layer;
}
/** The w1/w2 MLP: its parameters and forward (logits). */
function mlp(dims) {
  const layers = dims.slice(1).map((out, i) => linear(dims[i], out));
  const forward = (x) => {
    let h = x;
    layers.forEach((l, i) => {
      h = l.call(h);
      if (i < layers.length - 1) h = K.relu(h);
    });
    return h;
  };
  return { params: layers.flatMap((l) => l.parameters()), forward };
}

// ---- model: w3 --------------------------------------------------------------------------------
// bench_torch.py's LSTMNet: nn.LSTM(32, 128, batch_first=True), then nn.Linear(128, 10) on the
// final hidden state of the last layer (h_n[-1]). PyTorch's default inits, which bench_torch.py
// keeps for w3: every LSTM parameter U(±1/√hidden), the Linear weight and bias U(±1/√fan_in).
// Public API only: nn.LSTM, nn.Linear, nn.crossEntropy, Adam, clipGradNorm_.
function lstmNet() {
  const lstm = new K.nn.LSTM(F, H, { batchFirst: true, generator: gen });
  const fc = new K.nn.Linear(H, 10, { generator: gen });
  const forward = (x) => {
    const [, [hn]] = lstm.call(x); // hn: [numLayers, B, H]
    return fc.call(K.select(hn, 0, hn.shape[0] - 1));
  };
  return { params: [...lstm.parameters(), ...fc.parameters()], forward };
}


const W = WORKLOADS[wl];
const B = W.batch;
const d0 = Date.now();
const data = wl === 'w3' ? synthSeq() : synthMnist();
const dataMs = Date.now() - d0;
const nBatches = Math.floor(data.n / B);
const xShape = wl === 'w3' ? [B, T, F] : [B, 784];
const rowLen = wl === 'w3' ? T * F : 784;

/** The setup of one workload: parameters, loss, optimizer step and clip, and their descriptions. */
function setup() {
  if (wl === 'w3') {
    const net = lstmNet();
    const opt = new K.Adam(net.params, { lr: 1e-3 }); // PyTorch style: β 0.9/0.999, ε 1e-8
    return {
      ...net,
      // Cross-entropy on logits, as F.cross_entropy: labels [B] int32.
      loss: (xb, yb) => K.nn.crossEntropy(net.forward(xb), yb),
      yShape: [B],
      zeroGrad: () => opt.zeroGrad(), // set to none, as zero_grad(set_to_none=True)
      clip: () => K.clipGradNorm_(net.params, 1.0), // PyTorch's formula; returns the pre-clip norm
      step: () => opt.step(),
      init: 'PyTorch defaults: LSTM U(±1/√128), Linear U(±1/√fan_in) (as bench_torch.py for w3)',
      optimizer: 'Adam lr 1e-3 β 0.9/0.999 ε 1e-8 (keel Adam, PyTorch style)',
      clipping: 'global norm 1.0 (keel clipGradNorm_)',
    };
  }
  const net = mlp(wl === 'w1' ? [784, 128, 10] : [784, 512, 512, 10]);
  // PyTorch style, as bench_torch.py: Adam (β 0.9/0.999, ε 1e-8) or SGD with momentum.
  const opt = wl === 'w1' ? new K.Adam(net.params, { lr: 1e-3 }) : new K.SGD(net.params, { lr: 0.01, momentum: 0.9 });
  return {
    ...net,
    // Cross-entropy on logits, as F.cross_entropy: labels [B] int32.
    loss: (xb, yb) => K.nn.crossEntropy(net.forward(xb), yb),
    yShape: [B],
    zeroGrad: () => opt.zeroGrad(), // set to none, as zero_grad(set_to_none=True)
    clip: wl === 'w1' ? () => K.clipGradNorm_(net.params, 1.0) : () => void K.clipGradValue_(net.params, 0.5),
    step: () => opt.step(),
    init: args.init === 'torch' ? 'nn.Linear default U(±1/√fan_in)' : 'glorot-uniform W, zero b (as the suite)',
    optimizer: wl === 'w1' ? 'Adam lr 1e-3 β 0.9/0.999 ε 1e-8 (keel Adam, PyTorch style)' : 'SGD lr 0.01 momentum 0.9 (keel SGD, PyTorch style)',
    clipping: wl === 'w1' ? 'global norm 1.0 (keel clipGradNorm_)' : 'value 0.5 (keel clipGradValue_)',
  };
}
const S = setup();
const clipsByNorm = wl !== 'w2';
let gradNormLast = NaN;
let buffersAfterFirst = NaN;

function step(i) {
  const off = (i % nBatches) * B;
  const loss = K.tidy(() => {
    // A new tensor per batch from typed-array views (a data loader), as bench_tfjs.mjs.
    const xb = K.tensor(data.x.subarray(off * rowLen, (off + B) * rowLen), xShape);
    const yb = K.tensor(data.y.subarray(off, off + B), S.yShape); // int32
    S.zeroGrad();
    const lossT = S.loss(xb, yb);
    lossT.backward();
    const norm = S.clip();
    if (clipsByNorm) gradNormLast = norm;
    S.step();
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
  init: S.init,
  optimizer: S.optimizer,
  clipping: S.clipping,
  ...r,
  time_to_first_step_ms: r.time_to_first_step_ms - dataMs,
  grad_norm_last: clipsByNorm ? gradNormLast : undefined,
  threads: threadsNow(), // at the end (training does not wait for the workers to start)
  keel_live_buffers_first_step: buffersAfterFirst,
  keel_live_buffers_end: K.memory().numBuffers,
  keel_fallbacks: fallbacks(),
});
