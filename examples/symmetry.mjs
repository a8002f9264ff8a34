// Symmetry: why a network must not start with all its weights equal.
//
//   npm run build && node examples/symmetry.mjs
//
// The claim: if every hidden unit starts with the same weights (all zeros, say), every unit
// computes the same output and receives the same gradient, so they stay identical forever; the
// layer behaves as a single unit. Random initializers (Xavier/Glorot, He/Kaiming) break that
// symmetry. Here a 784→32→10 ReLU MLP is trained on MNIST digits for 300 SGD steps from each
// initialization, and we print the largest difference between any two hidden units' weight rows.
// With zeros, the hidden weights never even move: the gradient reaching them is W2ᵀ·δ = 0 and
// ReLU(0) = 0 feeds nothing forward, so only the output bias learns (the class prior). A nonzero
// constant shows the same symmetry with units that do move, in lockstep.
const keel = await import('keel').catch(() => import('../dist/index.js'));
const { Generator, SGD, argmax, datasets, init, narrow, nn, noGrad, tidy } = keel;

const STEPS = 300;
const BATCH = 64;
const HIDDEN = 32;

const { train, test } = await datasets.mnist(); // 8,000 train / 2,000 test digits, x in [0, 1]

/** Largest |W[i, k] − W[j, k]| over every pair of hidden units i < j (rows of the weight). */
function maxPairwiseRowDiff(w) {
  const [rows, cols] = w.shape;
  const v = w.toTypedArray();
  let d = 0;
  for (let i = 0; i < rows; i++)
    for (let j = i + 1; j < rows; j++)
      for (let k = 0; k < cols; k++) d = Math.max(d, Math.abs(v[i * cols + k] - v[j * cols + k]));
  return d;
}

function accuracy(model) {
  return noGrad(() =>
    tidy(() => {
      const pred = argmax(model.call(test.x), { axis: 1 }).toTypedArray();
      const y = test.y.toTypedArray();
      let hits = 0;
      for (let i = 0; i < y.length; i++) hits += pred[i] === y[i] ? 1 : 0;
      return hits / y.length;
    }),
  );
}

/** Builds the MLP, applies `initialize(weight, bias, generator)` to both layers, trains it. */
function run(label, initialize) {
  const g = new Generator(0);
  const fc1 = new nn.Linear(784, HIDDEN, { generator: g });
  const fc2 = new nn.Linear(HIDDEN, 10, { generator: g });
  for (const layer of [fc1, fc2]) initialize(layer.weight, layer.bias, g);
  const model = new nn.Sequential(fc1, new nn.ReLU(), fc2);
  const before = maxPairwiseRowDiff(fc1.weight);
  const opt = new SGD(model.parameters(), { lr: 0.1 });
  const n = train.x.shape[0];
  let loss = Number.NaN;
  for (let step = 0; step < STEPS; step++) {
    const start = (step * BATCH) % (n - BATCH);
    loss = tidy(() => {
      opt.zeroGrad();
      const l = nn.crossEntropy(model.call(narrow(train.x, 0, start, BATCH)), narrow(train.y, 0, start, BATCH));
      l.backward();
      opt.step();
      return l.item();
    });
  }
  const after = maxPairwiseRowDiff(fc1.weight);
  const acc = accuracy(model);
  console.log(
    `${label.padEnd(22)} hidden-unit max pairwise difference: before ${before.toExponential(3)}, after ${after.toExponential(3)}` +
      `   loss ${loss.toFixed(3)}   test accuracy ${(100 * acc).toFixed(1)}%`,
  );
  return { before, after, acc };
}

console.log(`784→${HIDDEN}→10 ReLU MLP, SGD lr 0.1, ${STEPS} steps of ${BATCH} MNIST digits`);
const zero = run('zeros', (w, b) => {
  init.zeros_(w);
  init.zeros_(b);
});
const constant = run('constant 0.01', (w, b) => {
  init.constant_(w, 0.01);
  init.zeros_(b);
});
const xavier = run('xavierUniform_', (w, b, g) => {
  init.xavierUniform_(w, { generator: g });
  init.zeros_(b);
});
const he = run("kaimingNormal_ (He)", (w, b, g) => {
  init.kaimingNormal_(w, { nonlinearity: 'relu', generator: g });
  init.zeros_(b);
});

const holds = zero.after === 0 && constant.after === 0 && xavier.after > 0 && he.after > 0;
console.log(
  holds
    ? `symmetry claim holds: with equal initial weights all ${HIDDEN} hidden units stay identical (max difference exactly 0) ` +
        `and the layer acts as one unit (${(100 * zero.acc).toFixed(1)}% / ${(100 * constant.acc).toFixed(1)}% test accuracy); ` +
        `Xavier and He break the symmetry (${(100 * xavier.acc).toFixed(1)}% / ${(100 * he.acc).toFixed(1)}%)`
    : 'symmetry claim FAILED: see the differences above',
);
if (!holds) process.exitCode = 1;
