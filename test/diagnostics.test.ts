import { describe, expect, it } from 'vitest';
import { GradientMonitor, sparkline } from '../src/diagnostics/index.js';
import { Adam, Generator, type Optimizer, SGD, type Tensor, argmax, clone, fill_, init, keras, matmul, memory, mul, narrow, nn, noGrad, randn, sqrt, sum, sub, tensor, tidy } from '../src/index.js';
import { mse } from '../src/nn/losses.js';
import { clipByGlobalNorm, skipNonfinite } from '../src/clip/index.js';
import '../src/train/methods.js';

/** A synthetic regression/classification batch. */
function batch(n: number, d: number, seed: number): Tensor {
  return randn([n, d], { generator: new Generator(seed) });
}

/** Runs `steps` SGD steps of mean((model(x) − target)²), calling monitor.step after optimizer.step. */
function train(model: nn.Module, x: Tensor, target: Tensor, opt: Optimizer, monitor: GradientMonitor, steps: number): number[] {
  const counts: number[] = [];
  for (let s = 0; s < steps; s++) {
    tidy(() => {
      opt.zeroGrad();
      const loss = mse(model.call(x) as Tensor, target);
      loss.backward();
      opt.step();
      monitor.step(loss.item());
    });
    counts.push(memory().numBuffers);
  }
  return counts;
}

function kaimingMlp(seed: number, sizes: number[]): nn.Sequential {
  const mods: nn.Module[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const l = new nn.Linear(sizes[i], sizes[i + 1]);
    init.kaimingNormal_(l.weight, { nonlinearity: 'relu', seed: seed + i });
    noGrad(() => l.bias!.zero_());
    mods.push(l);
    if (i + 2 < sizes.length) mods.push(new nn.ReLU());
  }
  return new nn.Sequential(...mods);
}

const kinds = (m: GradientMonitor): string[] => m.findings().map((f) => `${f.kind}:${f.layer}`);

describe('GradientMonitor', () => {
  it('stays silent on a healthy kaiming ReLU MLP with a small learning rate, and records what it should', () => {
    const model = kaimingMlp(1, [16, 32, 32, 4]);
    const x = batch(64, 16, 2);
    const y = batch(64, 4, 3);
    const opt = new SGD(model.parameters(), { lr: 0.01 });
    const monitor = new GradientMonitor();
    monitor.attach(model, { every: 5, optimizer: opt });
    train(model, x, y, opt, monitor, 50);
    expect(monitor.findings()).toEqual([]);
    expect(monitor.records.map((r) => r.step)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45]);
    const r = monitor.records[0];
    expect(Object.keys(r.layers)).toEqual(['0', '1', '2', '3', '4']);
    expect(r.layers['1'].dead).toBeDefined();
    expect(r.layers['1'].after).toBe('0');
    // Per-parameter numbers against a direct computation.
    const g = model.parameters()[0];
    expect(r.params['0.weight'].paramNorm).toBeGreaterThan(0);
    // Update ratio of plain SGD is lr·‖g‖/‖p‖: check on a fresh sampled step.
    const m2 = new GradientMonitor({ every: 1 });
    m2.attach(model, { optimizer: opt });
    let expected = 0;
    tidy(() => {
      opt.zeroGrad();
      const loss = mse(model.call(x) as Tensor, y);
      loss.backward();
      const gn = Math.sqrt(sum(mul(g.grad!, g.grad!)).item());
      opt.step();
      expected = (0.01 * gn) / Math.sqrt(sum(mul(g, g)).item());
      m2.step(loss);
    });
    const p = m2.records[0].params['0.weight'];
    expect(p.updateRatio).toBeCloseTo(expected, 4);
    expect(m2.records[0].gradNorm).toBeGreaterThan(0);
    expect(m2.records[0].clipped).toBeNull(); // no clipping configured
    // Global norm = sqrt(Σ per-parameter grad norm²).
    const total = Math.sqrt(Object.values(m2.records[0].params).reduce((a, q) => a + (q.gradNorm ?? 0) ** 2, 0));
    expect(m2.records[0].gradNorm).toBeCloseTo(total, 4);
  });

  it('detects exploding gradients (lr past the stability limit on ×10 inputs, no clipping) and derives a clip threshold', () => {
    const run = (lr: number): GradientMonitor => {
      const layer = new nn.Linear(8, 1);
      init.kaimingNormal_(layer.weight, { seed: 5 });
      const model = new nn.Sequential(layer);
      const opt = new SGD(model.parameters(), { lr });
      const monitor = new GradientMonitor();
      monitor.attach(model, { every: 1, optimizer: opt });
      train(model, mul(batch(32, 8, 6), 10), batch(32, 1, 7), opt, monitor, 20);
      return monitor;
    };
    expect(run(0.005).findings()).toEqual([]); // converges: silent
    const monitor = run(0.009); // diverges geometrically (about ×1.4 per step)
    const f = monitor.findings().find((q) => q.kind === 'exploding');
    expect(f).toBeDefined();
    expect(f!.layer).toBe('global');
    const first = monitor.records.slice(0, 5).map((r) => r.gradNorm).sort((a, b) => a - b);
    const threshold = 2 * first[2];
    expect(f!.suggestedClipnorm).toBeCloseTo(threshold, 6);
    expect(f!.message).toContain(`clip the global norm at about ${threshold.toPrecision(3)}`);
    expect(f!.message).toMatch(/\(2 × the median of the first 5 sampled global gradient norms/);
    expect(f!.step).toBeGreaterThanOrEqual(9);
  });

  it('reports the clip rate and the norms before/after clipping from the optimizer', () => {
    const model = kaimingMlp(5, [8, 16, 1]);
    const x = mul(batch(32, 8, 6), 10);
    const y = batch(32, 1, 7);
    const opt = new SGD(model.parameters(), { lr: 0.001, globalClipnorm: 0.1 });
    const monitor = new GradientMonitor({ every: 2 });
    monitor.attach(model, { optimizer: opt });
    train(model, x, y, opt, monitor, 20);
    const r = monitor.records[0];
    expect(r.clipped).toBe(true);
    expect(r.gradNormAfter).toBeCloseTo(0.1, 4);
    expect(r.gradNorm).toBeGreaterThan(0.1);
    expect(kinds(monitor)).toContain('clipRate:global');
  });

  it('detects vanishing gradients in a 12-layer sigmoid MLP with small init, naming the layer and suggesting Xavier', () => {
    const mods: nn.Module[] = [];
    for (let i = 0; i < 12; i++) {
      const l = new nn.Linear(16, 16);
      init.normal_(l.weight, 0, 0.01, { seed: 100 + i });
      mods.push(l, new nn.Sigmoid());
    }
    const model = new nn.Sequential(...mods);
    const opt = new SGD(model.parameters(), { lr: 0.01 });
    const monitor = new GradientMonitor();
    monitor.attach(model, { every: 1, optimizer: opt });
    train(model, batch(16, 16, 8), batch(16, 16, 9), opt, monitor, 2);
    const v = monitor.findings().filter((f) => f.kind === 'vanishing');
    expect(v.length).toBeGreaterThan(0);
    expect(v.map((f) => f.layer)).toContain('0'); // the first layer is the farthest from the loss
    expect(v.map((f) => f.layer)).not.toContain('22'); // the last layer is not
    expect(v[0].message).toMatch(/^0 \(Linear\): gradient norm .* below 1e-7 × the largest layer's \(22: .*xavierUniform_/);
  });

  it('detects dead ReLUs (large negative biases) and suggests He init', () => {
    const model = kaimingMlp(11, [8, 32, 4]);
    noGrad(() => (model.at(0) as nn.Linear).bias!.fill_(-100));
    const opt = new SGD(model.parameters(), { lr: 0.01 });
    const monitor = new GradientMonitor();
    monitor.attach(model, { every: 1, optimizer: opt });
    train(model, batch(16, 8, 12), batch(16, 4, 13), opt, monitor, 3);
    const d = monitor.findings().filter((f) => f.kind === 'deadRelu');
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ layer: '1', step: 0, count: 3 });
    expect(d[0].message).toMatch(/^1 \(ReLU\) after 0: 100% of ReLU units never active.*kaimingNormal_/);
  });

  it('detects tanh saturation (huge weights) and suggests Xavier with the tanh gain', () => {
    const model = new nn.Sequential(new nn.Linear(8, 16), new nn.Tanh(), new nn.Linear(16, 1));
    noGrad(() => (model.at(0) as nn.Linear).weight.mul_(1000));
    const opt = new SGD(model.parameters(), { lr: 0.001 });
    const monitor = new GradientMonitor();
    monitor.attach(model, { every: 1, optimizer: opt });
    train(model, batch(16, 8, 14), batch(16, 1, 15), opt, monitor, 2);
    const s = monitor.findings().filter((f) => f.kind === 'saturation');
    expect(s).toHaveLength(1);
    expect(s[0].layer).toBe('1');
    expect(s[0].message).toMatch(/^1 \(Tanh\) after 0: \d+% of tanh outputs saturated; try Xavier init: xavierUniform_\(weight, \{ gain: calculateGain\('tanh'\) \}\)/);
    expect(monitor.records[0].layers['1'].saturated).toBeGreaterThan(0.9);
  });

  it('locates a forward Inf to the layer that produced it from finite inputs', () => {
    const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 8), new nn.ReLU(), new nn.Linear(8, 2));
    noGrad(() => (model.at(2) as nn.Linear).weight.fill_(3e38));
    const monitor = new GradientMonitor({ every: 1 });
    monitor.attach(model);
    tidy(() => {
      model.call(mul(batch(4, 4, 16), 10));
      monitor.step();
    });
    expect(monitor.records[0].nonfinite.forward).toBe('2 (Linear)');
    expect(kinds(monitor)).toContain('nonfiniteForward:2 (Linear)');
  });

  it('locates a backward NaN to the custom module whose sqrt at 0 makes it', () => {
    class SqrtNorm extends nn.Module {
      forward(x: Tensor): Tensor {
        return sqrt(sum(mul(x, x), { axis: 1, keepDims: true })); // d/dx at x = 0 is 0/0
      }
    }
    const model = new nn.Sequential(new nn.Linear(4, 4), new nn.ReLU(), new SqrtNorm(), new nn.Linear(1, 1));
    noGrad(() => (model.at(0) as nn.Linear).bias!.fill_(-100)); // every ReLU output is 0
    const opt = new SGD(model.parameters(), { lr: 0.01 });
    const monitor = new GradientMonitor();
    monitor.attach(model, { every: 1, optimizer: opt });
    train(model, batch(4, 4, 17), batch(4, 1, 18), opt, monitor, 1);
    const r = monitor.records[0];
    expect(r.nonfinite.forward).toBeNull(); // the forward is finite
    expect(r.nonfinite.backward).toBe('2 (SqrtNorm)');
    expect(monitor.findings().find((f) => f.kind === 'nonfiniteBackward')?.message).toMatch(/^backward: 2 \(SqrtNorm\) turned a finite output gradient/);
  });

  it('names the loss when the NaN comes from outside the model', () => {
    const model = new nn.Sequential(new nn.Linear(2, 1));
    const monitor = new GradientMonitor({ every: 1 });
    monitor.attach(model);
    tidy(() => {
      const out = model.call(batch(3, 2, 19)) as Tensor;
      sum(sqrt(sub(out, out))).backward(); // sqrt(0): NaN gradient into the model's output
      monitor.step();
    });
    expect(monitor.records[0].nonfinite.backward).toBe('the loss (outside the model)');
  });

  it('costs nothing on non-sampled steps, keeps memory flat, and detaches', () => {
    const model = kaimingMlp(21, [16, 32, 4]);
    const opt = new SGD(model.parameters(), { lr: 0.01 });
    const monitor = new GradientMonitor();
    const detach = monitor.attach(model, { every: 10, optimizer: opt });
    const counts = train(model, batch(16, 16, 22), batch(16, 4, 23), opt, monitor, 60);
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(monitor.records).toHaveLength(6);
    expect(monitor.stepCount).toBe(60);
    detach();
    expect(monitor.model).toBeNull();
    train(model, batch(16, 16, 22), batch(16, 4, 23), opt, monitor, 1);
    expect(monitor.records).toHaveLength(6); // step 60 would be sampled, but nothing is attached
    expect(() => new GradientMonitor({ every: 0 })).toThrow(/every must be a positive integer \(got 0\)/);
  });

  // The update ratio three ways: a fused Adam step measures itself in its kernel pass, an SGD
  // chain copies the parameters inside its step, and without the optimizer the monitor keeps one
  // copy per parameter between the sampled forward and step(), freed on detach.
  for (const [what, makeOpt, giveOptimizer, copies] of [
    ['a fused Adam step, measured in its own kernel pass (no copy kept)', (m: nn.Module) => new Adam(m.parameters(), { lr: 0.01 }), true, 0],
    ['an SGD momentum chain, measured by the optimizer (no copy kept)', (m: nn.Module) => new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 }), true, 0],
    ['Adam without the optimizer given: one parameter copy, freed on detach', (m: nn.Module) => new Adam(m.parameters(), { lr: 0.01 }), false, 4],
  ] as const)
    it(`measures the update ratio of ${what}, on later sampled steps too`, () => {
      const model = kaimingMlp(61, [12, 24, 3]);
      const x = batch(16, 12, 62);
      const y = batch(16, 3, 63);
      const opt = makeOpt(model);
      tidy(() => {
        // A plain step first: the optimizer's state and the gradients exist from then on.
        opt.zeroGrad();
        mse(model.call(x) as Tensor, y).backward();
        opt.step();
      });
      const base = memory().numBuffers;
      const monitor = new GradientMonitor({ every: 2 });
      const detach = monitor.attach(model, giveOptimizer ? { optimizer: opt } : {});
      const counts = train(model, x, y, opt, monitor, 4);
      // Step 4 (the third sample) by hand: copy the weights before, take the difference after.
      const params = model.parameters();
      const before = noGrad(() => params.map((p) => clone(p)));
      train(model, x, y, opt, monitor, 1);
      const expected = tidy(() =>
        noGrad(() =>
          params.map((w, i) => {
            const d = sub(w, before[i]);
            return Math.sqrt(sum(mul(d, d)).item() / sum(mul(w, w)).item());
          }),
        ),
      );
      for (const b of before) b.dispose();
      counts.push(memory().numBuffers);
      expect(monitor.records.map((r) => r.step)).toEqual([0, 2, 4]);
      const names = Object.keys(monitor.records[2].params);
      expect(names).toHaveLength(params.length);
      names.forEach((name, i) => {
        const ratio = monitor.records[2].params[name].updateRatio!;
        expect(ratio, name).toBeGreaterThan(0);
        expect(Math.abs(ratio / expected[i] - 1), name).toBeLessThan(1e-5);
      });
      expect(opt.measureNextStep).toBe(false);
      // Step 4 was measured for the monitor (when it had the optimizer), and only for it.
      expect(opt.lastUpdateSquares).toHaveLength(giveOptimizer ? params.length : 0);
      // The copies (if any) are made on the first sampled step and reused: the count stays flat.
      expect(counts).toEqual(new Array<number>(5).fill(base + copies));
      detach();
      expect(memory().numBuffers).toBe(base);
    });

  it('a measured step that the optimizer skips (non-finite gradients) reports a zero update', () => {
    const w = randn([3, 4], { generator: new Generator(5) }).requiresGrad_();
    const opt = new SGD([w], { lr: 0.1, clip: skipNonfinite(clipByGlobalNorm(1)) });
    const values = Array.from(randn([3, 4], { generator: new Generator(6) }).toTypedArray());
    values[2] = NaN;
    w.grad = tensor(values).reshape([3, 4]);
    const before = Array.from(w.toTypedArray());
    opt.measureNextStep = true;
    opt.step();
    expect(opt.stats.stepsSkipped).toBe(1);
    expect(Array.from(w.toTypedArray())).toEqual(before);
    const [psq, dsq, gsq] = opt.lastUpdateSquares[0]!;
    expect(psq).toBeCloseTo(before.reduce((a, v) => a + v * v, 0), 4);
    expect(dsq).toBe(0);
    expect(gsq).toBeNaN();
    expect(opt.measureNextStep).toBe(false);
  });

  it('computes each layer statistic as a direct computation over the output does, non-finite values included', () => {
    const layers = [new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 16), new nn.Tanh(), new nn.Linear(16, 8), new nn.Sigmoid()];
    const model = new nn.Sequential(...layers);
    noGrad(() => (layers[0] as nn.Linear).bias!.sub_(0.5)); // some dead ReLU units
    noGrad(() => (layers[2] as nn.Linear).weight.mul_(30)); // some saturated tanh outputs
    const bins = 9;
    const monitor = new GradientMonitor({ every: 1, histogramBins: bins });
    monitor.attach(model);
    // The outputs as the monitor saw them, from hooks registered after its own.
    const seen: number[][] = [];
    for (const l of layers) l.registerForwardHook((_m, _i, out) => void seen.push(Array.from((out as Tensor).toTypedArray())));
    const x = randn([10, 6], { generator: new Generator(64) });
    tidy(() => {
      model.call(x);
      monitor.step();
    });
    const rec = monitor.records[0];
    layers.forEach((l, k) => {
      const v = seen[k];
      const finite = v.filter((a) => Number.isFinite(a));
      const n = v.length;
      const mean = v.reduce((a, b) => a + b, 0) / n;
      const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
      const lo = Math.min(...finite);
      const hi = Math.max(...finite);
      const counts = new Array<number>(bins).fill(0);
      const scale = bins / (hi - lo);
      for (const a of finite) counts[Math.min(bins - 1, Math.floor((a - lo) * scale))]++;
      const r = rec.layers[String(k)];
      expect(r.type).toBe(l.name);
      expect(r.mean).toBeCloseTo(mean, 10);
      expect(r.std).toBeCloseTo(std, 6);
      expect(r.hist!.lo).toBe(lo);
      expect(r.hist!.hi).toBe(hi);
      expect(r.hist!.counts).toEqual(counts);
      if (l instanceof nn.ReLU) {
        let dead = 0;
        for (let u = 0; u < 16; u++) if ([...Array(10).keys()].every((i) => v[i * 16 + u] === 0)) dead++;
        expect(dead).toBeGreaterThan(0);
        expect(r.dead).toBe(dead / 16);
      }
      if (l instanceof nn.Tanh) expect(r.saturated).toBe(v.filter((a) => Math.abs(a) > 0.99).length / n);
      if (l instanceof nn.Sigmoid) expect(r.saturated).toBe(v.filter((a) => a < 0.01 || a > 0.99).length / n);
    });
    expect(rec.layers['3'].saturated).toBeGreaterThan(0);
    // An Inf in a layer's output: counted apart from the histogram, which spans the finite values.
    const lin = new nn.Linear(4, 8);
    noGrad(() => fill_(narrow(lin.weight, 0, 0, 2), 3e38)); // outputs 0 and 1 overflow
    const inf = new GradientMonitor({ every: 1, histogramBins: bins });
    inf.attach(lin);
    let out: number[] = [];
    tidy(() => {
      out = Array.from((lin.call(mul(randn([5, 4], { generator: new Generator(65) }), 10)) as Tensor).toTypedArray());
      inf.step();
    });
    const bad = out.filter((a) => !Number.isFinite(a)).length;
    expect(bad).toBeGreaterThan(0);
    const h = inf.records[0].layers.model.hist!;
    expect(h.nonfinite).toBe(bad);
    expect(h.counts.reduce((a, b) => a + b)).toBe(out.length - bad);
    expect(h.hi).toBe(Math.max(...out.filter((a) => Number.isFinite(a))));
    expect(inf.records[0].nonfinite.forward).toBe('model (Linear)');
  });

  it('watches recurrent layers: output statistics and gradient norm of an LSTM', () => {
    class Net extends nn.Module {
      lstm = new nn.LSTM(3, 5, { batchFirst: true });
      head = new nn.Linear(5, 1);
      forward(x: Tensor): Tensor {
        const [out] = this.lstm.call(x) as [Tensor, unknown];
        return this.head.call(out);
      }
    }
    const model = new Net();
    const opt = new SGD(model.parameters(), { lr: 0.01 });
    const monitor = new GradientMonitor({ every: 1 });
    monitor.attach(model, { optimizer: opt });
    const x = randn([2, 4, 3], { generator: new Generator(51) });
    train(model, x, randn([2, 4, 1], { generator: new Generator(52) }), opt, monitor, 2);
    const l = monitor.records[1].layers.lstm;
    expect(l.type).toBe('LSTM');
    expect(l.gradNorm).toBeGreaterThan(0);
    expect(l.std).toBeGreaterThan(0);
    expect(Object.keys(monitor.records[1].params)).toContain('lstm.weight_ih_l0');
    expect(monitor.findings()).toEqual([]);
  });

  it('writes one JSONL line per sampled step and a summary with a sparkline per layer', () => {
    const model = kaimingMlp(31, [8, 16, 2]);
    const opt = new SGD(model.parameters(), { lr: 0.01 });
    const monitor = new GradientMonitor({ every: 3 });
    monitor.attach(model, { optimizer: opt });
    train(model, batch(8, 8, 32), batch(8, 2, 33), opt, monitor, 9);
    const lines = monitor.toJSONL().trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss: number; layers: Record<string, unknown>; gradNorm: number });
    expect(lines.map((l) => l.step)).toEqual([0, 3, 6]);
    expect(typeof lines[0].loss).toBe('number');
    expect(Object.keys(lines[0].layers)).toEqual(['0', '1', '2']);
    const text = monitor.summary();
    expect(text).toMatch(/^GradientMonitor: 3 sampled steps \(every 3\) of 9/);
    expect(text).toMatch(/\n0 +[▁▂▃▄▅▆▇█]{3} /);
    expect(text).toMatch(/\n2 +[▁▂▃▄▅▆▇█]{3} /);
    expect(text).toContain('no problems found');
    expect(sparkline([1, 10, 100, null, Number.NaN], 0, 2)).toBe('▁▅█·!');
  });

  it('fit({ monitor: true }) records samples and prints the summary', () => {
    const g = new Generator(41);
    const proj = randn([8, 3], { generator: g });
    const x = randn([64, 8], { generator: g });
    const y = argmax(matmul(x, proj), { axis: 1 });
    const model = new keras.Sequential([keras.layers.dense({ units: 16, activation: 'relu', inputShape: [8] }), keras.layers.dense({ units: 3 })]);
    model.compile({ optimizer: new SGD({ learningRate: 0.05 }), loss: 'sparseCategoricalCrossentropy' });
    let out = '';
    const lines: string[] = [];
    const monitor = new GradientMonitor({ every: 2, logSink: (line) => lines.push(line) });
    model.fit(x, y, { epochs: 2, batchSize: 16, monitor, verbose: 2, output: { write: (s: string) => void (out += s), isTTY: false } });
    expect(monitor.records.map((r) => r.step)).toEqual([0, 2, 4, 6]);
    // fit writes each epoch's metrics into the run log, after that epoch's sampled steps
    const kinds = lines.map((l) => (JSON.parse(l) as { type: string }).type);
    expect(kinds.filter((k) => k === 'epoch')).toHaveLength(2);
    expect(kinds.indexOf('epoch')).toBeGreaterThan(kinds.indexOf('step'));
    expect(monitor.epochs.map((e) => [e.epoch, e.step])).toEqual([[1, 4], [2, 8]]);
    expect(monitor.model).toBeNull(); // detached after the run
    expect(out).toMatch(/GradientMonitor: 4 sampled steps \(every 2\) of 8/);
    let quiet = '';
    model.fit(x, y, { epochs: 1, batchSize: 16, monitor: true, verbose: 0, output: { write: (s: string) => void (quiet += s), isTTY: false } });
    expect(quiet).toBe('');
  });
});
