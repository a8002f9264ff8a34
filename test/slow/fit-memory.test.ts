import { describe, expect, it } from 'vitest';
import { Adam, Generator, argmax, clipByGlobalNorm, getBackend, keras, matmul, memory, randn } from '../../src/index.js';
import { Callback } from '../../src/train/callbacks.js';
import '../../src/train/methods.js';

// A long fit: 10,000 steps of the W1 recipe's kind (Adam with global-norm clipping folded into the
// fused step, a gradient monitor sampling every 10 steps), checking at every epoch's end that the
// live tensor buffers and, on wasm, the bytes in use stay where they were after the first epoch.

describe('fit over 10,000 steps', () => {
  it('keeps the live buffers and the memory in use flat', () => {
    const g = new Generator(9);
    const x = randn([320, 64], { generator: g });
    const y = argmax(matmul(x, randn([64, 10], { generator: g })), { axis: 1 });
    const model = new keras.Sequential([keras.layers.dense({ units: 32, activation: 'relu', inputShape: [64] }), keras.layers.dense({ units: 10, activation: 'softmax' })]);
    // PyTorch style (params given): the fused Adam step with the clipping coefficient folded in.
    const optimizer = new Adam(model.parameters(), { lr: 1e-3, clip: clipByGlobalNorm(1) });
    model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const buffers: number[] = [];
    const bytes: number[] = [];
    const backend = getBackend() as { memoryInfo?: () => { inUseBytes: number } };
    class Count extends Callback {
      override onEpochEnd(): void {
        buffers.push(memory().numBuffers);
        if (backend.memoryInfo) bytes.push(backend.memoryInfo().inUseBytes);
      }
    }
    const history = model.fit(x, y, { epochs: 1000, batchSize: 32, verbose: 0, generator: new Generator(1), monitor: true, callbacks: [new Count()] });
    expect(history.epoch).toHaveLength(1000); // 10 steps an epoch: 10,000 steps
    expect(new Set(buffers.slice(1)).size).toBe(1);
    expect(buffers[999]).toBeLessThanOrEqual(buffers[0]);
    if (bytes.length > 0) expect(new Set(bytes.slice(1)).size).toBe(1);
    expect(history.history.accuracy[999]).toBeGreaterThan(history.history.accuracy[0]);
    expect(optimizer.stats.steps).toBe(10_000);
  }, 300_000);
});
