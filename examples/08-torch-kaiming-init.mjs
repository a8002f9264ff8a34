// Example 8 (PyTorch style): Kaiming (He) initialization through `model.apply`, for a ReLU net.
//
//   npm run build && node examples/08-torch-kaiming-init.mjs
//
// The PyTorch original, for comparison (Net as in example 5: Linear(784, 128), ReLU, Linear(128, 10)):
//
//   def init_weights(m):
//       if isinstance(m, nn.Linear):
//           nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
//           nn.init.zeros_(m.bias)
//
//   model = Net()
//   model.apply(init_weights)
//   optimizer = optim.Adam(model.parameters(), lr=1e-3)
//   ... the usual loop: zero_grad, loss.backward(), step, 5 epochs of batches of 32
import { Adam, DataLoader, TensorDataset, datasets, init, manualSeed, nn, noGrad } from 'keel';

/** @typedef {import('keel').Tensor} Tensor */

manualSeed(0); // weights and the loader's shuffling

class Net extends nn.Module {
  constructor() {
    super();
    this.fc1 = new nn.Linear(784, 128);
    this.relu = new nn.ReLU();
    this.fc2 = new nn.Linear(128, 10);
  }

  /** @param {Tensor} x */
  forward(x) {
    return this.fc2.call(this.relu.call(this.fc1.call(x)));
  }
}

const model = new Net();
// apply() visits every submodule (children first, then the model itself), as in PyTorch.
model.apply((m) => {
  if (m instanceof nn.Linear) {
    init.kaimingNormal_(m.weight, { nonlinearity: 'relu' }); // N(0, 2 / fanIn)
    if (m.bias !== null) init.zeros_(m.bias);
  }
});

const { train, test } = await datasets.mnist(); // 8,000 train / 2,000 test; x [N, 784] in [0, 1]
const trainLoader = new DataLoader(new TensorDataset(train.x, train.y), { batchSize: 32, shuffle: true });
const criterion = new nn.CrossEntropyLoss();
const optimizer = new Adam(model.parameters(), { lr: 1e-3 });

for (let epoch = 1; epoch <= 5; epoch++) {
  model.train();
  let lossSum = 0;
  // forEach runs each step in its own tidy(): the batch and every temporary are freed after it.
  trainLoader.forEach(([x, y]) => {
    optimizer.zeroGrad();
    const loss = criterion.call(model.call(x), y);
    loss.backward();
    optimizer.step();
    lossSum += loss.item();
  });
  console.log(`epoch ${epoch}: loss ${(lossSum / trainLoader.length).toFixed(4)}`);
}

/** Fraction of `x`'s samples whose predicted class (the largest logit) is `y`. @param {Tensor} x @param {Tensor} y */
function accuracy(x, y) {
  model.eval();
  return noGrad(() => model.call(x).argmax({ axis: 1 }).eq(y).cast('float32').mean().item());
}
console.log(`test accuracy: ${accuracy(test.x, test.y).toFixed(4)}`);
