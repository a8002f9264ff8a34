import { describe, expect, it } from 'vitest';
import { ConfigError, Generator, ShapeError, noGrad, randn, tensor, zeros } from '../src/index.js';
import { Dense, KerasRecurrent, KerasSequential, layers } from '../src/nn/keras.js';
import { Linear } from '../src/nn/linear.js';
import type { Module } from '../src/nn/module.js';
import { LSTM } from '../src/nn/recurrent.js';

describe('Keras-style Sequential', () => {
  it('builds the source’s 32→64→10 model with Keras’ parameter count and summary', () => {
    const model = new KerasSequential(
      [layers.dense({ units: 64, activation: 'relu', inputShape: [32] }), layers.dense({ units: 10, activation: 'softmax' })],
      { generator: new Generator(0) },
    );
    expect(model.countParams()).toBe(2762);
    const text = model.summary({ print: false });
    expect(text).toContain('│ dense (Dense)                   │ (None, 64)             │         2,112 │');
    expect(text).toContain('│ dense_1 (Dense)                 │ (None, 10)             │           650 │');
    expect(text).toContain(' Total params: 2,762 (10.79 KB)');
    expect(text).toContain(' Trainable params: 2,762 (10.79 KB)');
    expect(text).toContain(' Non-trainable params: 0 (0.00 B)');
    const y = model.call(randn([5, 32]));
    expect(y.shape).toEqual([5, 10]);
    // softmax rows sum to 1
    for (const s of y.sum({ axis: 1 }).toArray() as number[]) expect(s).toBeCloseTo(1, 6);
  });

  it('builds the 784→128→10 model (101,770 parameters); apply visits every module, children first', () => {
    const model = new KerasSequential([
      layers.flatten({ inputShape: [28, 28] }),
      layers.dense({ units: 128, activation: 'relu' }),
      layers.dense({ units: 10, activation: 'softmax' }),
    ]);
    expect(model.countParams()).toBe(101_770);
    expect(model.summaryRows().map((r) => [r.name, r.outputShape])).toEqual([
      ['flatten', [null, 784]],
      ['dense', [null, 128]],
      ['dense_1', [null, 10]],
    ]);
    const visited: Module[] = [];
    model.apply((m) => visited.push(m));
    expect(visited.map((m) => m.name)).toEqual(['KerasFlatten', 'Dense', 'Dense', 'KerasSequential']);
    // The source's idiom: re-initialize every Linear (Dense is one).
    expect(visited.filter((m) => m instanceof Linear)).toHaveLength(2);
    expect([...model.namedParameters()].map(([n]) => n)).toEqual(['dense.weight', 'dense.bias', 'dense_1.weight', 'dense_1.bias']);
  });

  it('initializes as Keras: glorotUniform kernel within ±√(6/(in+out)), zero bias', () => {
    const d = new Dense(784, { units: 128 }, new Generator(3));
    const limit = Math.sqrt(6 / (784 + 128));
    const w = d.weight.toTypedArray();
    let maxAbs = 0;
    let sumSq = 0;
    for (const v of w) {
      maxAbs = Math.max(maxAbs, Math.abs(v));
      sumSq += v * v;
    }
    expect(maxAbs).toBeLessThanOrEqual(limit);
    expect(sumSq / w.length).toBeCloseTo((limit * limit) / 3, 3);
    expect(d.bias!.toArray()).toEqual(new Array(128).fill(0));
  });

  it('Keras-style recurrent layers hold Keras’ parameter counts and unit forget bias', () => {
    const u = 16;
    const inp = 8;
    const model = new KerasSequential([
      layers.lstm({ units: u, inputShape: [12, inp], returnSequences: true }),
      layers.gru({ units: u }),
    ]);
    const [lstmRow, gruRow] = model.summaryRows();
    expect(lstmRow.params).toBe(4 * u * (inp + u + 1));
    expect(lstmRow.outputShape).toEqual([null, 12, u]);
    expect(gruRow.params).toBe(3 * u * (u + u + 2));
    expect(gruRow.outputShape).toEqual([null, u]);
    const lstm = model.layer('lstm') as KerasRecurrent;
    const b = lstm.bias!.toArray() as number[];
    expect(b.slice(u, 2 * u)).toEqual(new Array(u).fill(1));
    expect(b.slice(0, u).concat(b.slice(2 * u))).toEqual(new Array(3 * u).fill(0));
    // recurrent kernel [4u, u] has orthonormal columns
    const whh = lstm.weight_hh;
    const gram = whh.T.matmul(whh).toArray() as number[][];
    gram.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(i === j ? 1 : 0, 4)));
    const simple = new KerasSequential([layers.simpleRnn({ units: 4, inputShape: [5, 3] })]);
    expect(simple.countParams()).toBe(4 * (3 + 4 + 1));
  });

  it('a Keras-style LSTM equals a PyTorch LSTM whose two biases sum to its one bias', () => {
    const g = new Generator(9);
    const k = new KerasRecurrent('LSTM', 3, { units: 5, returnSequences: true }, g);
    noGrad(() => k.bias!.copy_(randn([20], { generator: g })));
    const torchStyle = new LSTM(3, 5, { batchFirst: true });
    torchStyle.loadStateDict({
      weight_ih_l0: k.weight_ih,
      weight_hh_l0: k.weight_hh,
      bias_ih_l0: k.bias!,
      bias_hh_l0: zeros([20]),
    });
    const x = randn([2, 7, 3], { generator: g });
    const a = k.call(x).toArray() as number[][][];
    const [out] = torchStyle.call(x) as [ReturnType<typeof tensor>, unknown];
    const b = out.toArray() as number[][][];
    a.flat(2).forEach((v, i) => expect(v).toBeCloseTo(b.flat(2)[i], 6));
  });

  it('explains bad configurations and inputs', () => {
    expect(() => new KerasSequential([layers.dense({ units: 4 })])).toThrow(ConfigError);
    expect(() => new KerasSequential([layers.dense({ units: 4 })])).toThrow(/first layer needs an inputShape/);
    expect(() => layers.dense({ units: 4, activation: 'swishy' as 'relu', inputShape: [3] }).build([3], undefined)).toThrow(
      /Dense: unknown activation 'swishy'/,
    );
    const model = new KerasSequential([layers.dense({ units: 4, inputShape: [3] })]);
    expect(() => model.call(randn([2, 5]))).toThrow(ShapeError);
    expect(() => model.call(randn([2, 5]))).toThrow("Sequential 'sequential': input has shape [2, 5]; expected [batch, 3]");
  });
});
