// Example 6 (PyTorch style): a training loop that clamps every gradient entry into [-0.5, 0.5].
//
//   npm run build && node examples/06-torch-clip-grad-value.mjs
//
// The PyTorch original, for comparison (Net as in example 5):
//
//   model = Net()
//   criterion = nn.CrossEntropyLoss()
//   optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
//   for epoch in range(5):
//       for x, y in train_loader:                     # batch_size=32, shuffle=True
//           optimizer.zero_grad()
//           loss = criterion(model(x), y)
//           loss.backward()
//           torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
//           optimizer.step()
import { DataLoader, SGD, TensorDataset, clipGradValue_, datasets, manualSeed, nn, noGrad } from 'keel';

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

const { train, test } = await datasets.mnist(); // 8,000 train / 2,000 test; x [N, 784] in [0, 1]
const trainLoader = new DataLoader(new TensorDataset(train.x, train.y), { batchSize: 32, shuffle: true });

const model = new Net();
const criterion = new nn.CrossEntropyLoss();
const optimizer = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });

for (let epoch = 1; epoch <= 5; epoch++) {
  model.train();
  let lossSum = 0;
  // forEach runs each step in its own tidy(): the batch and every temporary are freed after it.
  trainLoader.forEach(([x, y]) => {
    optimizer.zeroGrad();
    const loss = criterion.call(model.call(x), y);
    loss.backward();
    clipGradValue_(model.parameters(), 0.5);
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
