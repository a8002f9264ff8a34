// Example 1 (Keras style): SGD with per-weight gradient-norm clipping, `clipnorm=1.0`.
//
//   npm run build && node examples/01-keras-sgd-clipnorm.mjs
//
// The Keras original, for comparison:
//
//   model = keras.Sequential([
//       layers.Dense(64, activation="relu", input_shape=(32,)),
//       layers.Dense(10, activation="softmax"),
//   ])
//   model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, clipnorm=1.0),
//                 loss="sparse_categorical_crossentropy", metrics=["accuracy"])
//   model.fit(x_train, y_train, epochs=10, batch_size=32)
//   loss, accuracy = model.evaluate(x_test, y_test)
//
// `clipnorm` clips each weight's gradient on its own (g·c / max(‖g‖, c)), as Keras does;
// `globalClipnorm` would clip all of them together, as PyTorch's clip_grad_norm_.
import { SGD, keras, manualSeed } from 'keel';
import { syntheticData } from './synthetic.mjs';

manualSeed(0); // weights and the shuffling in fit()

const { train, test } = syntheticData(); // 8,000 / 2,000 samples: 32 features, 10 classes

const model = new keras.Sequential([
  keras.layers.dense({ units: 64, activation: 'relu', inputShape: [32] }),
  keras.layers.dense({ units: 10, activation: 'softmax' }),
]);
model.compile({
  optimizer: new SGD({ learningRate: 0.01, clipnorm: 1.0 }),
  loss: 'sparseCategoricalCrossentropy',
  metrics: ['accuracy'],
});
model.fit(train.x, train.y, { epochs: 10, batchSize: 32 });

const { accuracy } = model.evaluate(test.x, test.y);
console.log(`test accuracy: ${accuracy.toFixed(4)}`);
