import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Adam, Callback, Generator, type Tensor, argmax, loadCheckpoint, manualSeed, matmul, nn, randn, saveCheckpoint } from '../src/index.js';

/** Learnable synthetic data: label = argmax of 10 fixed random projections. */
function data(): [Tensor, Tensor] {
  const g = new Generator(11);
  const x = randn([512, 32], { generator: g });
  return [x, argmax(matmul(x, randn([32, 10], { generator: g })), { axis: 1 })];
}

function setup(): { model: nn.Sequential; optimizer: Adam } {
  manualSeed(5);
  const model = new nn.Sequential(new nn.Linear(32, 64), new nn.ReLU(), new nn.Dropout(0.2), new nn.Linear(64, 10));
  const optimizer = new Adam(model.parameters(), { lr: 1e-3, globalClipnorm: 1 });
  model.compile({ optimizer, loss: (y, logits) => nn.crossEntropy(logits, y), metrics: ['accuracy'] });
  return { model, optimizer };
}

const weights = (m: nn.Module): number[][] => m.parameters().map((p) => Array.from(p.toTypedArray()));
const quiet = { write: () => true };

describe('reproducible training', () => {
  it('same seeds, two runs: bit-identical final weights', () => {
    const [x, y] = data();
    const a = setup();
    a.model.fit(x, y, { epochs: 3, batchSize: 32, verbose: 0, generator: new Generator(1), output: quiet });
    const b = setup();
    b.model.fit(x, y, { epochs: 3, batchSize: 32, verbose: 0, generator: new Generator(1), output: quiet });
    expect(weights(a.model)).toEqual(weights(b.model));
  });

  it('a checkpoint taken mid-training (weights, optimizer, RNGs, epoch) resumes bit-identically', () => {
    const [x, y] = data();
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'keel-resume-')), 'ckpt.safetensors');
    const shuffle = new Generator(2);
    const dropoutRng = manualSeed(7); // the global generator also drives Dropout
    const full = setup();
    manualSeed(7);
    class SaveAfterFirst extends Callback {
      override onEpochEnd(epoch: number): void {
        if (epoch === 0)
          saveCheckpoint(file, { model: this.context.model, optimizer: full.optimizer, generator: shuffle, epoch: epoch + 1, extra: { dropout: dropoutRng.getState() } });
      }
    }
    full.model.fit(x, y, { epochs: 3, batchSize: 32, verbose: 0, generator: shuffle, callbacks: [new SaveAfterFirst()], output: quiet });

    const resumed = setup();
    const shuffle2 = new Generator(999);
    const info = loadCheckpoint(file, { model: resumed.model, optimizer: resumed.optimizer, generator: shuffle2 });
    expect(info.epoch).toBe(1);
    manualSeed(0).setState((info.extra as { dropout: ReturnType<Generator['getState']> }).dropout);
    resumed.model.fit(x, y, { epochs: 3, initialEpoch: info.epoch, batchSize: 32, verbose: 0, generator: shuffle2, output: quiet });
    expect(weights(resumed.model)).toEqual(weights(full.model));
    expect(resumed.optimizer.stats.steps).toBe(full.optimizer.stats.steps);
  });
});
