import { describe, expect, it } from 'vitest';
import { Generator, type Tensor, argmax, keras, matmul, memory, noGrad, randn } from '../src/index.js';
import { Callback, EarlyStopping, TerminateOnNaN } from '../src/train/callbacks.js';
import type { TrainableOptimizer } from '../src/train/fit.js';
import '../src/train/methods.js';

/** Plain SGD, enough to exercise the loop (the real optimizers have their own tests). */
class PlainSgd implements TrainableOptimizer {
  params: Tensor[] = [];
  paramGroups = [{ lr: 0 }];
  stats = { steps: 0, stepsClipped: 0, stepsSkipped: 0 };
  constructor(lr: number) {
    this.paramGroups[0].lr = lr;
  }
  bind(params: Tensor[]): void {
    this.params = params;
  }
  zeroGrad(options?: { setToNone?: boolean }): void {
    for (const p of this.params) {
      if (options?.setToNone === false) p.grad?.zero_();
      else p.grad = null;
    }
  }
  step(): void {
    noGrad(() => this.params.forEach((p) => p.grad && p.sub_(p.grad, this.paramGroups[0].lr)));
    this.stats.steps++;
  }
}

/** Learnable synthetic data: 32 features, label = argmax of 10 fixed random projections. */
function data(n: number, seed: number): [Tensor, Tensor] {
  const g = new Generator(seed);
  const proj = randn([32, 10], { generator: new Generator(1234) });
  const x = randn([n, 32], { generator: g });
  return [x, argmax(matmul(x, proj), { axis: 1 })];
}

function model(): ReturnType<typeof build> {
  return build();
}
function build() {
  return new keras.Sequential(
    [keras.layers.dense({ units: 64, activation: 'relu', inputShape: [32] }), keras.layers.dense({ units: 10, activation: 'softmax' })],
    { generator: new Generator(0) },
  );
}

const quiet = { write: () => true };

describe('compile / fit / evaluate / predict', () => {
  it('trains the source’s 32→64→10 model: loss falls, accuracy rises, memory stays flat', () => {
    const [x, y] = data(1024, 1);
    const m = model();
    m.compile({ optimizer: new PlainSgd(0.1), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const live: number[] = [];
    class CountBuffers extends Callback {
      override onEpochEnd(): void {
        live.push(memory().numBuffers);
      }
    }
    const h = m.fit(x, y, { epochs: 5, batchSize: 32, verbose: 0, generator: new Generator(3), validationSplit: 0.25, callbacks: [new CountBuffers()] });
    expect(new Set(live).size).toBe(1);
    expect(h.epoch).toEqual([0, 1, 2, 3, 4]);
    const { loss, accuracy, val_loss: valLoss, val_accuracy: valAcc } = h.history;
    expect(loss[4]).toBeLessThan(loss[0] * 0.7);
    expect(accuracy[4]).toBeGreaterThan(0.6);
    expect(valLoss).toHaveLength(5);
    expect(valAcc[4]).toBeGreaterThan(0.5);
    const ev = m.evaluate(x, y);
    expect(ev.accuracy).toBeGreaterThan(0.6);
    const p = m.predict(x, { batchSize: 100 });
    expect(p.shape).toEqual([1024, 10]);
  });

  it('is reproducible: same seeds, same weights bit for bit', () => {
    const run = () => {
      const [x, y] = data(256, 2);
      const m = model();
      m.compile({ optimizer: new PlainSgd(0.05), loss: 'sparseCategoricalCrossentropy' });
      m.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, generator: new Generator(7) });
      return m.parameters().map((t) => Array.from(t.toTypedArray()));
    };
    expect(run()).toEqual(run());
  });

  it('prints Keras-style epoch lines and runs callbacks; EarlyStopping and TerminateOnNaN stop training', () => {
    const [x, y] = data(256, 4);
    const m = model();
    m.compile({ optimizer: new PlainSgd(0.05), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    let text = '';
    const seen: number[] = [];
    class Record extends Callback {
      override onEpochEnd(epoch: number): void {
        seen.push(epoch);
      }
    }
    m.fit(x, y, { epochs: 2, verbose: 2, output: { write: (s: string) => (text += s) }, callbacks: [new Record()] });
    expect(text).toMatch(/^Epoch 1\/2\n8\/8 ━+ \d+s \d+(ms|us)\/step - accuracy: 0\.\d{4} - loss: \d\.\d{4}\n/);
    expect(seen).toEqual([0, 1]);

    const stop = new EarlyStopping({ monitor: 'loss', patience: 0, minDelta: 10 });
    const h = m.fit(x, y, { epochs: 10, verbose: 0, callbacks: [stop], output: quiet });
    expect(h.epoch).toEqual([0, 1]);
    expect(stop.stoppedEpoch).toBe(1);

    const blowUp = model();
    blowUp.compile({ optimizer: new PlainSgd(1e6), loss: 'mse' });
    const yOneHot = randn([256, 10]).mul(1e20);
    const h2 = blowUp.fit(x, yOneHot, { epochs: 3, verbose: 0, callbacks: [new TerminateOnNaN()], output: quiet });
    expect(h2.epoch.length).toBeLessThanOrEqual(1);
  });

  it('explains misuse', () => {
    const [x, y] = data(64, 5);
    const m = model();
    expect(() => m.fit(x, y)).toThrow(/fit: call model.compile\(\{ optimizer, loss \}\) first/);
    m.compile({ optimizer: new PlainSgd(0.1), loss: 'sparseCategoricalCrossentropy' });
    expect(() => m.fit(x, y.slice([[0, 10]]))).toThrow('fit: x and y must have the same number of samples along axis 0 (x is [64, 32], y is [10])');
    expect(() => m.compile({ optimizer: new PlainSgd(0.1), loss: 'hinge' as 'mse' })).toThrow(/compile: unknown loss 'hinge'/);
    expect(() => m.fit(x, y, { validationSplit: 1.5 })).toThrow(/validationSplit must be in \[0, 1\)/);
  });
});
