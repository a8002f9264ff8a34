// Example 3 (Keras style): Glorot (Xavier) initialization for a tanh layer, on MNIST digits.
//
//   npm run build && node examples/03-keras-glorot-tanh.mjs
//
// The Keras original, for comparison:
//
//   model = keras.Sequential([
//       layers.Dense(128, activation="tanh", kernel_initializer="glorot_uniform", input_shape=(784,)),
//       layers.Dense(10, activation="softmax"),
//   ])
//   model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
//   model.fit(x_train, y_train, epochs=5, batch_size=32)
//   loss, accuracy = model.evaluate(x_test, y_test)
//
// glorotUniform draws U(−l, l) with l = √(6 / (fanIn + fanOut)): it keeps the variance of the
// activations and of the gradients about constant through a tanh layer (Glorot & Bengio, 2010).
// It is also Keras' default kernel initializer; 'glorotNormal' is the truncated-normal variant.
import { Adam, datasets, keras, manualSeed } from 'keel';

manualSeed(0); // weights and the shuffling in fit()

const { train, test } = await datasets.mnist(); // 8,000 train / 2,000 test; x [N, 784] in [0, 1]

const model = new keras.Sequential([
  keras.layers.dense({ units: 128, activation: 'tanh', kernelInitializer: 'glorotUniform', inputShape: [784] }),
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
