/**
 * Keras-style method sugar on every Module: `model.compile({...})`, `model.fit(x, y, {...})`,
 * `model.evaluate(x, y)`, `model.predict(x)`. Installed when this module is imported (the package
 * entry point does it).
 */
import { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { type CompileOptions, type EvaluateOptions, type FitOptions, type History, compile, evaluate, fit, predict } from './fit.js';

declare module '../nn/module.js' {
  interface Module {
    /** Configures the model for training (optimizer, loss, metrics), as Keras' `compile`. */
    compile(options: CompileOptions): void;
    /** Trains the model, as Keras' `fit`; returns the History. */
    fit(x: Tensor, y: Tensor, options?: FitOptions): History;
    /** Mean loss (and accuracy) over a dataset, as Keras' `evaluate`. */
    evaluate(x: Tensor, y: Tensor, options?: EvaluateOptions): { loss: number; accuracy?: number };
    /** Outputs for every sample, batch by batch, as Keras' `predict`. */
    predict(x: Tensor, options?: EvaluateOptions): Tensor;
  }
}

const P = Module.prototype;
P.compile = function (this: Module, options: CompileOptions) {
  compile(this, options);
};
P.fit = function (this: Module, x: Tensor, y: Tensor, options?: FitOptions) {
  return fit(this, x, y, options);
};
P.evaluate = function (this: Module, x: Tensor, y: Tensor, options?: EvaluateOptions) {
  return evaluate(this, x, y, options);
};
P.predict = function (this: Module, x: Tensor, options?: EvaluateOptions) {
  return predict(this, x, options);
};
