// Example 4 (Keras style): He (Kaiming) initialization for a ReLU layer, on MNIST digits.
//
//   npm run build && node examples/04-keras-he-relu.mjs
//
// The Keras original, for comparison:
//
//   model = keras.Sequential([
//       layers.Dense(128, activation="relu", kernel_initializer="he_normal", input_shape=(784,)),
//       layers.Dense(10, activation="softmax"),
//   ])
//   model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
//   model.fit(x_train, y_train, epochs=5, batch_size=32)
//   loss, accuracy = model.evaluate(x_test, y_test)
//
// heNormal draws from a normal truncated at two standard deviations, with the variance 2 / fanIn
// that keeps the activations' scale constant through ReLU layers (He et al., 2015).
import { Adam, datasets, keras, manualSeed } from 'keel';

manualSeed(0); // weights and the shuffling in fit()

const { train, test } = await datasets.mnist(); // 8,000 train / 2,000 test; x [N, 784] in [0, 1]

const model = new keras.Sequential([
  keras.layers.dense({ units: 128, activation: 'relu', kernelInitializer: 'heNormal', inputShape: [784] }),
  keras.layers.dense({ units: 10, activation: 'softmax' }),
]);
model.compile({
  optimizer: new Adam({ learningRate: 0.001 }), // Keras' optimizer="adam"
  loss: 'sparseCategoricalCrossentropy',
  metrics: ['accuracy'],
});
model.fit(train.x, train.y, { epochs: 5, batchSize: 32 });

const { accuracy } = model.evaluate(test.x, test.y);
console.log(`test accuracy: ${accuracy.toFixed(4)}`);
