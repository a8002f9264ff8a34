import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, Generator, gather, getBackend, listBackends, logSoftmax, matmul, memory, noGrad, randint, randn, setBackend, tidy } from '../src/index.js';
import type { WasmBackend } from '../src/backend/wasm/wasm-backend.js';

const hasWasm = listBackends().includes('wasm');

describe.runIf(hasWasm)('wasm backend memory', () => {
  let previous: Backend;
  let wasm: WasmBackend;
  beforeAll(() => {
    previous = getBackend();
    wasm = setBackend('wasm') as WasmBackend;
  });
  afterAll(() => {
    setBackend(previous.name);
  });

  it('a 10,000-step forward+backward+update loop keeps the WebAssembly memory in use flat', () => {
    const g = new Generator(1);
    const w1 = randn([16, 12], { generator: g }).mul(0.3).requiresGrad_();
    const w2 = randn([12, 4], { generator: g }).mul(0.3).requiresGrad_();
    const x = randn([8, 16], { generator: g });
    const y = randint(0, 4, [8, 1], { generator: g });
    const inUse: number[] = [];
    const memoryBytes: number[] = [];
    const buffers: number[] = [];
    for (let step = 0; step < 10_000; step++) {
      tidy(() => {
        const loss = gather(logSoftmax(matmul(matmul(x, w1).tanh(), w2)), 1, y).mean().neg();
        w1.grad?.zero_();
        w2.grad?.zero_();
        loss.backward();
        noGrad(() => {
          w1.sub_(w1.grad!, 0.05);
          w2.sub_(w2.grad!, 0.05);
        });
      });
      if (step % 1000 === 999) {
        inUse.push(wasm.memoryInfo().inUseBytes);
        memoryBytes.push(wasm.memoryInfo().memoryBytes);
        buffers.push(memory().numBuffers);
      }
    }
    expect(new Set(inUse).size).toBe(1);
    expect(new Set(memoryBytes).size).toBe(1);
    expect(new Set(buffers).size).toBe(1);
  });

  it('tensors made before the memory grows read back correctly after it', () => {
    const before = randn([1000], { generator: new Generator(2) });
    const expected = Array.from(before.toTypedArray());
    const startBytes = wasm.memoryInfo().memoryBytes;
    // Allocate until the memory has grown at least three times.
    const big = [];
    while (wasm.memoryInfo().memoryBytes < startBytes * 8 + (64 << 20)) big.push(randn([1 << 20]));
    expect(Array.from(before.toTypedArray())).toEqual(expected);
    expect(before.add(1).sub(1).toArray()).toEqual(expected.map((v) => Math.fround(v + 1) - 1).map(Math.fround));
    for (const t of big) t.dispose();
  });
});
