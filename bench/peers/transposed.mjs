// Keel's wasm matmul against TF.js-wasm's at n = 1024 in the layouts a backward pass needs, A·B,
// Aᵀ·B and A·Bᵀ, interleaved in one process: prints ONE JSON line. TF.js takes the transposes as
// matMul(a, b, transposeA, transposeB); Keel as .T views. Both read the product back (dataSync /
// toTypedArray) and free it, as the peer suite's W4. Needs a set-up copy of the peer suite for
// TF.js: `npm run build && PEERS_DIR=/tmp/peers node bench/peers/transposed.mjs` (~1 min: TF.js's
// transposed products take seconds each). KEEL_WASM_RELAXED=0: Keel's plain SIMD128 kernels.
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { matmul, rand, setBackend, tidy } from '../../dist/index.js';

const peers = process.env.PEERS_DIR ?? '/tmp/peers';
const require = createRequire(path.join(path.resolve(peers), 'package.json'));
const tf = await import(require.resolve('@tensorflow/tfjs'));
await import(require.resolve('@tensorflow/tfjs-backend-wasm'));
if (!(await tf.setBackend('wasm'))) throw new Error('TF.js wasm backend failed to start');
await tf.ready();

const keel = setBackend('wasm');
for (let i = 0; i < 100 && keel.threads < os.availableParallelism(); i++) await new Promise((r) => setTimeout(r, 50));

const N = 1024;
const ROUNDS = 2;
const a = rand([N, N]);
const b = rand([N, N]);
const ta = tf.randomUniform([N, N]);
const tb = tf.randomUniform([N, N]);
const layouts = {
  'A·B': [() => matmul(a, b), [false, false]],
  'Aᵀ·B': [() => matmul(a.T, b), [true, false]],
  'A·Bᵀ': [() => matmul(a, b.T), [false, true]],
};

/** Best GFLOP/s of `fn` over `rounds`, each at least `minS` seconds and one product. */
function gflops(fn, minS) {
  const t0 = performance.now();
  let reps = 0;
  do {
    fn();
    reps++;
  } while (performance.now() - t0 < minS * 1000);
  return (2 * N ** 3 * reps) / ((performance.now() - t0) / 1000) / 1e9;
}

const best = {};
for (const [name, [keelFn, [transposeA, transposeB]]] of Object.entries(layouts)) {
  const tfFn = () => {
    const c = tf.matMul(ta, tb, transposeA, transposeB);
    c.dataSync();
    c.dispose();
  };
  const keelRun = () => tidy(() => void keelFn().toTypedArray());
  // Warm-ups: both compile lazily.
  for (let i = 0; i < 2; i++) {
    keelRun();
    tfFn();
  }
  best[name] = { keel: 0, tfjs: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    best[name].keel = Math.max(best[name].keel, gflops(keelRun, 0.5));
    best[name].tfjs = Math.max(best[name].tfjs, gflops(tfFn, 0.5));
  }
}
const round = (v) => Number(v.toPrecision(3));
console.log(
  JSON.stringify({
    bench: 'keel-vs-tfjs-wasm-transposed',
    n: N,
    rounds: ROUNDS,
    keel_threads: keel.threads,
    keel_kernels: keel.relaxedSimd ? 'relaxed-simd' : 'simd128',
    tfjs_version: tf.version.tfjs,
    gflops: Object.fromEntries(Object.entries(best).map(([k, v]) => [k, { keel: round(v.keel), tfjs: round(v.tfjs) }])),
    keel_over_tfjs: Object.fromEntries(Object.entries(best).map(([k, v]) => [k, round(v.keel / v.tfjs)])),
    node: process.version,
    cpu_model: os.cpus()[0]?.model,
  }),
);
process.exit(0);
