/**
 * Ready-made datasets, exported as the `datasets` namespace: `await datasets.mnist()`,
 * `await datasets.fashionMnist()`, and `datasets.asImages(x)` for `[N, 1, 28, 28]`.
 */
export { mnist, asImages, type MnistOptions, type LabeledTensors, type TrainTestData } from './mnist.js';
export { fashionMnist, FASHION_MNIST_DIR, type FashionMnistOptions } from './fashion-mnist.js';
