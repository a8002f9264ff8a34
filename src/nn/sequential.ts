import { ConfigError } from '../core/errors.js';
import { Module } from './module.js';

/**
 * Modules applied one after another, as PyTorch's `nn.Sequential`: children are named `0`, `1`,
 * ... so state-dict keys read `0.weight`, `2.bias` as in PyTorch. For Keras-style models built
 * from layer specs (`layers.dense({...})`) use {@link keras.Sequential}.
 *
 * @example const model = new Sequential(new Linear(784, 128), new ReLU(), new Linear(128, 10));
 */
export class Sequential extends Module {
  /** Number of modules (a module passed twice counts, and runs, twice). */
  readonly length: number;

  constructor(...modules: Module[]) {
    super();
    this.length = modules.length;
    modules.forEach((m, i) => {
      if (!(m instanceof Module))
        throw new ConfigError(`Sequential: argument ${i} is not a Module (got ${typeof m}); Keras-style layer specs go to keras.Sequential`);
      (this as unknown as Record<string, Module>)[String(i)] = m;
    });
  }

  /** Module `i` (negative counts from the end). */
  at(i: number): Module {
    const k = i < 0 ? i + this.length : i;
    const m = (this as unknown as Record<string, Module | undefined>)[String(k)];
    if (m === undefined) throw new ConfigError(`Sequential.at: index ${i} is out of range for ${this.length} modules`);
    return m;
  }

  /** The modules in order. */
  get layers(): Module[] {
    return Array.from({ length: this.length }, (_, i) => this.at(i));
  }

  /** Passes the input through every module in order. */
  forward(x: unknown): unknown {
    let out = x;
    for (let i = 0; i < this.length; i++) out = this.at(i).call(out);
    return out;
  }
}
