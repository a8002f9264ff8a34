// Example 2 (Keras style): Adam with element-wise gradient clipping, `clipvalue=0.5`.
//
//   npm run build && node examples/02-keras-adam-clipvalue.mjs
//
// The Keras original, for comparison:
//
//   model = keras.Sequential([
//       layers.Dense(64, activation="relu", input_shape=(32,)),
//       layers.Dense(10, activation="softmax"),
//   ])
//   model.compile(optimizer=keras.optimizers.Adam(clipvalue=0.5),
//                 loss="sparse_categorical_crossentropy", metrics=["accuracy"])
//   model.fit(x_train, y_train, epochs=10, batch_size=32)
//   loss, accuracy = model.evaluate(x_test, y_test)
//
// Keras' Adam defaults: learning rate 0.001, betas 0.9 / 0.999, epsilon 1e-7 (PyTorch's is 1e-8).
import { Adam, keras, manualSeed } from 'keel';
import { syntheticData } from './synthetic.mjs';

manualSeed(0); // weights and the shuffling in fit()

const { train, test } = syntheticData(); // the same data as example 1

const model = new keras.Sequential([
  keras.layers.dense({ units: 64, activation: 'relu', inputShape: [32] }),
  keras.layers.dense({ units: 10, activation: 'softmax' }),
]);
model.compile({
  optimizer: new Adam({ clipvalue: 0.5 }), // every gradient entry into [-0.5, 0.5]
  loss: 'sparseCategoricalCrossentropy',
  metrics: ['accuracy'],
});
model.fit(train.x, train.y, { epochs: 10, batchSize: 32 });

const { accuracy } = model.evaluate(test.x, test.y);
console.log(`test accuracy: ${accuracy.toFixed(4)}`);
