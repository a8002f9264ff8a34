import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  Generator,
  NonFiniteError,
  SGD,
  type Tensor,
  backward,
  matmul,
  memory,
  noGrad,
  randint,
  randn,
  relu,
  tidy,
  transpose,
  zeros,
} from '../src/index.js';
import { Conv2d } from '../src/nn/conv.js';
import { Dropout } from '../src/nn/dropout.js';
import { Flatten } from '../src/nn/flatten.js';
import * as init from '../src/nn/init/index.js';
import { Dense } from '../src/nn/keras.js';
import { Linear } from '../src/nn/linear.js';
import { crossEntropy } from '../src/nn/losses.js';
import { Module } from '../src/nn/module.js';
import { Sequential } from '../src/nn/sequential.js';
import { LeakyReLU, ReLU, SELU, Tanh } from '../src/nn/activation.js';

// LSUV (Mishkin & Matas 2015), init.check, and the symmetry claim of zero initialization. The
// variances here are recomputed independently of the code under test: layer by layer through
// Sequential.layers, in float64 on the host, with Bessel's correction (torch.var).

afterEach(() => vi.restoreAllMocks());

/** Unbiased variance of all elements, in float64 on the host. */
function hostVar(t: Tensor): number {
  const v = t.toTypedArray();
  let m = 0;
  for (const x of v) m += x;
  m /= v.length;
  let s = 0;
  for (const x of v) s += (x - m) ** 2;
  return s / (v.length - 1);
}

/** The output variance of every Linear/Conv layer of a Sequential, running its layers one by one. */
function layerVariances(model: Sequential, x: Tensor): number[] {
  return noGrad(() =>
    tidy(() => {
      const out: number[] = [];
      let h = x;
      for (const m of model.layers) {
        h = m.call(h) as Tensor;
        if (m instanceof Linear || m instanceof Conv2d) out.push(hostVar(h));
      }
      return out;
    }),
  );
}

function mlp(depth: number, width: number, inFeatures: number, act: () => Module, g: Generator): Sequential {
  const mods: Module[] = [];
  for (let i = 0; i < depth; i++) {
    mods.push(new Linear(i === 0 ? inFeatures : width, width, { generator: g }));
    if (i < depth - 1) mods.push(act());
  }
  return new Sequential(...mods);
}

describe('init.lsuv', () => {
  for (const [actName, act] of [
    ['tanh', () => new Tanh()],
    ['relu', () => new ReLU()],
  ] as const) {
    it(`brings every layer of an 8-layer width-64 ${actName} MLP to variance 1 ± tolVar on its batch`, () => {
      const g = new Generator(1);
      const model = mlp(8, 64, 32, act, g);
      const x = randn([128, 32], { generator: g });
      const before = layerVariances(model, x);
      const report = init.lsuv(model, x, { generator: g });
      expect(report.map((r) => r.name)).toEqual(['0', '2', '4', '6', '8', '10', '12', '14']);
      const after = layerVariances(model, x);
      for (const v of after) expect(Math.abs(v - 1)).toBeLessThan(0.1);
      // the report's varianceAfter is the variance the layer now has
      report.forEach((r, i) => {
        expect(r.varianceAfter).toBeCloseTo(after[i], 4);
        expect(r.converged).toBe(true);
        expect(r.iterations).toBeGreaterThanOrEqual(1);
        expect(r.type).toBe('Linear');
      });
      // PyTorch's default init shrinks the variance through the stack; LSUV does not
      expect(before[7]).toBeLessThan(0.5);
      // biases are zero; the weights are orthogonal up to scale: W·Wᵀ = c²·I
      for (const m of model.layers) {
        if (!(m instanceof Linear)) continue;
        expect(Array.from(m.bias!.toTypedArray()).every((b) => b === 0)).toBe(true);
        // the shorter side is orthonormal up to scale: rows when out ≤ in, columns otherwise
        const w = m.weight.toTypedArray();
        const [out, inn] = [m.outFeatures, m.inFeatures];
        const byRows = out <= inn;
        const dot = (i: number, j: number): number => {
          let s = 0;
          if (byRows) for (let k = 0; k < inn; k++) s += w[i * inn + k] * w[j * inn + k];
          else for (let k = 0; k < out; k++) s += w[k * inn + i] * w[k * inn + j];
          return s;
        };
        const n = Math.min(out, inn);
        const c2 = dot(0, 0);
        for (const i of [1, 5, n - 1]) expect(dot(i, i) / c2).toBeCloseTo(1, 4);
        for (const [i, j] of [
          [0, 1],
          [3, 17],
          [n - 2, n - 1],
        ])
          expect(Math.abs(dot(i, j)) / c2).toBeLessThan(1e-4);
      }
    });
  }

  it('varianceBefore is the variance after the orthogonal pre-init, before any rescaling', () => {
    const model = new Sequential(new Linear(16, 24), new Tanh(), new Linear(24, 8));
    const x = randn([64, 16], { generator: new Generator(3) });
    const report = init.lsuv(model, x, { generator: new Generator(7) });
    // redo the pre-init by hand with the same generator: orthogonal_ in forward order, zero bias
    const ref = new Sequential(new Linear(16, 24), new Tanh(), new Linear(24, 8));
    const g = new Generator(7);
    for (const m of ref.layers)
      if (m instanceof Linear) {
        init.orthogonal_(m.weight, { generator: g });
        init.zeros_(m.bias!);
      }
    expect(report[0].varianceBefore).toBeCloseTo(layerVariances(ref, x)[0], 5);
    // a linear layer with zero bias reaches variance 1 in exactly one rescaling
    expect(report[0].iterations).toBe(1);
    expect(report[0].varianceAfter).toBeCloseTo(1, 4);
    // layer 2's "before" already sees layer 1 rescaled
    noGrad(() => (ref.at(0) as Linear).weight.copy_((model.at(0) as Linear).weight));
    expect(report[1].varianceBefore).toBeCloseTo(layerVariances(ref, x)[1], 4);
  });

  it('orders layers by the forward pass, not by declaration, and measures a reused layer at its first call', () => {
    class Reversed extends Module {
      second = new Linear(10, 10);
      first = new Linear(6, 10);
      forward(x: Tensor): Tensor {
        return this.second.call(relu(this.first.call(x)));
      }
    }
    const model = new Reversed();
    const report = init.lsuv(model, randn([50, 6], { generator: new Generator(0) }));
    expect(report.map((r) => r.name)).toEqual(['first', 'second']);
  });

  it('rescales convolutions, and Keras Dense layers by their pre-activation', () => {
    const g = new Generator(5);
    const conv = new Sequential(
      new Conv2d(1, 4, 3, { generator: g }),
      new ReLU(),
      new Conv2d(4, 4, 3, { generator: g }),
      new ReLU(),
      new Flatten(),
      new Linear(4 * 4 * 4, 5, { generator: g }),
    );
    const x = randn([16, 1, 8, 8], { generator: g });
    const r = init.lsuv(conv, x, { generator: g });
    expect(r.map((l) => l.type)).toEqual(['Conv2d', 'Conv2d', 'Linear']);
    for (const v of layerVariances(conv, x)) expect(Math.abs(v - 1)).toBeLessThan(0.1);

    // tanh and softmax outputs can never have variance 1; their inputs x·Wᵀ + b can
    const d0 = new Dense(12, { units: 20, activation: 'tanh' }, g);
    const d1 = new Dense(20, { units: 3, activation: 'softmax' }, g);
    const dense = new Sequential(d0, d1);
    const xd = randn([100, 12], { generator: g });
    const rd = init.lsuv(dense, xd, { generator: g });
    expect(rd.map((l) => [l.type, l.iterations, l.converged])).toEqual([
      ['Dense', 1, true],
      ['Dense', 1, true],
    ]);
    noGrad(() => {
      const z0 = matmul(xd, transpose(d0.weight)); // biases are zero
      expect(Math.abs(hostVar(z0) - 1)).toBeLessThan(0.1);
      const z1 = matmul(d0.call(xd), transpose(d1.weight));
      expect(Math.abs(hostVar(z1) - 1)).toBeLessThan(0.1);
    });
  });

  it('is deterministic with a generator, runs in eval mode and restores the modes', () => {
    const make = (): Sequential => new Sequential(new Linear(8, 16), new Dropout(0.5), new ReLU(), new Linear(16, 4));
    const x = randn([40, 8], { generator: new Generator(2) });
    const a = make();
    const b = make();
    b.at(1).training = true;
    const ra = init.lsuv(a, x, { generator: new Generator(9) });
    const rb = init.lsuv(b, x, { generator: new Generator(9) });
    expect(rb).toEqual(ra);
    expect(Array.from((a.at(3) as Linear).weight.toTypedArray())).toEqual(Array.from((b.at(3) as Linear).weight.toTypedArray()));
    expect([...a.modules()].every((m) => m.training)).toBe(true);
    b.eval();
    init.lsuv(b, x);
    expect([...b.modules()].every((m) => !m.training)).toBe(true);
  });

  it('errors on layers the batch never reaches, before changing anything; skips them with a warning on request', () => {
    class WithHead extends Module {
      body = new Linear(4, 8);
      unusedHead = new Linear(8, 2);
      forward(x: Tensor): Tensor {
        return this.body.call(x);
      }
    }
    const model = new WithHead();
    const w = Array.from(model.body.weight.toTypedArray());
    const x = randn([20, 4], { generator: new Generator(0) });
    expect(() => init.lsuv(model, x)).toThrow(ConfigError);
    expect(() => init.lsuv(model, x)).toThrow(/never reaches 'unusedHead' \(Linear\).*unreached: 'skip'/);
    expect(Array.from(model.body.weight.toTypedArray())).toEqual(w);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const head = Array.from(model.unusedHead.weight.toTypedArray());
    const report = init.lsuv(model, x, { unreached: 'skip' });
    expect(report.map((r) => r.name)).toEqual(['body']);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/skipping 'unusedHead'/));
    expect(Array.from(model.unusedHead.weight.toTypedArray())).toEqual(head);
  });

  it('rejects bad options, constant batches and models without layers', () => {
    const model = new Sequential(new Linear(3, 3));
    const x = randn([5, 3], { generator: new Generator(0) });
    expect(() => init.lsuv(model, x, { tolVar: 0 })).toThrow(/lsuv: tolVar must be a finite number > 0 \(got 0\)/);
    expect(() => init.lsuv(model, x, { maxIter: 1.5 })).toThrow(/maxIter must be an integer ≥ 0/);
    expect(() => init.lsuv(model, x, { unreached: 'warn' as 'skip' })).toThrow(/unreached must be 'error' or 'skip'/);
    expect(() => init.lsuv(new Sequential(new ReLU()), x)).toThrow(/has no Linear or Conv layers/);
    expect(() => init.lsuv(model, zeros([5, 3]))).toThrow(/layer '0' \(Linear\) has output variance 0/);
    const nan = randn([5, 3]).mul(Number.NaN);
    expect(() => init.lsuv(model, nan)).toThrow(NonFiniteError);
  });

  it('maxIter 0 only measures, and warns when a layer does not converge', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const model = new Sequential(new Linear(30, 30));
    const x = randn([40, 30], { generator: new Generator(0) }).mul(5);
    const [r] = init.lsuv(model, x, { maxIter: 0 });
    expect(r.iterations).toBe(0);
    expect(r.varianceAfter).toBe(r.varianceBefore);
    expect(r.converged).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/layer '0' \(Linear\) has output variance .* after 0 rescalings/));
  });

  it('leaves no live buffers behind', () => {
    const model = mlp(4, 16, 8, () => new ReLU(), new Generator(0));
    const x = randn([32, 8], { generator: new Generator(1) });
    init.lsuv(model, x);
    const before = memory().numBuffers;
    init.lsuv(model, x);
    init.check(model, x);
    expect(memory().numBuffers).toBe(before);
  });
});

describe('init.check', () => {
  const reluMlp = (weightInit: (w: Tensor, g: Generator) => void, seed: number): Sequential => {
    const g = new Generator(seed);
    const model = mlp(10, 64, 64, () => new ReLU(), g);
    for (const m of model.layers)
      if (m instanceof Linear) {
        weightInit(m.weight, g);
        init.zeros_(m.bias!);
      }
    return model;
  };

  it('flags the vanishing layers of a normal(std 0.01) ReLU MLP and suggests Kaiming for them', () => {
    const model = reluMlp((w, g) => init.normal_(w, 0, 0.01, { generator: g }), 0);
    const x = randn([128, 64], { generator: new Generator(1) });
    const report = init.check(model, x);
    expect(report.rows).toHaveLength(10);
    const vars = layerVariances(model, x);
    report.rows.forEach((r, i) => expect(r.variance / vars[i]).toBeCloseTo(1, 3));
    expect(report.rows.every((r) => r.flag === 'vanishing')).toBe(true);
    for (const r of report.rows.slice(0, 9)) {
      expect(r.activation).toBe('relu');
      expect(r.suggestion).toEqual({ pytorch: "kaimingNormal_(weight, { nonlinearity: 'relu' })", keras: 'heNormal' });
    }
    const last = report.rows[9];
    expect(last.activation).toBe('none');
    expect(last.suggestion).toEqual({ pytorch: 'xavierUniform_(weight)', keras: 'glorotUniform' });
    expect(report.flagged).toHaveLength(10);
  });

  it('flags nothing in a Kaiming-initialized ReLU MLP', () => {
    for (const seed of [0, 1, 2]) {
      const model = reluMlp((w, g) => init.kaimingNormal_(w, { nonlinearity: 'relu', generator: g }), seed);
      const x = randn([128, 64], { generator: new Generator(10 + seed) });
      const report = init.check(model, x);
      expect(report.flagged).toEqual([]);
      for (const r of report.rows) expect(r.ratio).toBeGreaterThan(0.25);
      expect(report.toString()).toContain('no layer flagged');
    }
  });

  it('flags only the layer whose own scale is wrong, not the healthy layers after it', () => {
    const model = reluMlp((w, g) => init.kaimingNormal_(w, { nonlinearity: 'relu', generator: g }), 5);
    noGrad(() => {
      (model.at(8) as Linear).weight.mul_(0.1); // layer 5 of 10: variance ×0.01
      (model.at(0) as Linear).weight.mul_(10); // layer 1: variance ×100 over the batch's
    });
    const report = init.check(model, randn([128, 64], { generator: new Generator(6) }));
    expect(report.rows.map((r) => r.flag)).toEqual(['exploding', null, null, null, 'vanishing', null, null, null, null, null]);
    expect(report.flagged.map((r) => r.name)).toEqual(['0', '8']);
    expect(report.rows[4].ratio).toBeCloseTo(0.01, 2);
  });

  it('prints an aligned table with a line per flagged layer', () => {
    const model = reluMlp((w, g) => init.normal_(w, 0, 0.01, { generator: g }), 3);
    const text = init.check(model, randn([32, 64], { generator: new Generator(4) })).toString();
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^init\.check: loss sum\(y²\)\/2 = /);
    const header = lines[1];
    expect(header).toMatch(/^layer\s+type\s+output shape\s+mean\s+var\s+var ratio\s+grad var dL\/dy\s+grad var dL\/dW\s+activation\s+flag$/);
    const rows = lines.slice(3, 13);
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(['0', '2', '4', '6', '8', '10', '12', '14', '16', '18']);
    // numeric columns are right-aligned under their header
    for (const col of ['var', 'grad var dL/dW']) {
      const end = header.indexOf(col === 'var' ? ' var ' : col) + (col === 'var' ? 4 : col.length);
      for (const row of rows) {
        expect(row[end - 1]).toMatch(/[0-9]/);
        expect(row[end]).toBe(' ');
      }
    }
    expect(lines.slice(13)).toHaveLength(10);
    expect(lines[13]).toMatch(/^0 \(Linear\): vanishing, output variance ×.* of its neighbour's; followed by relu: try kaimingNormal_\(weight, \{ nonlinearity: 'relu' \}\) \(Keras 'heNormal'\)$/);
  });

  it('reports dL/dy and dL/dW variances from one backward pass, leaving .grad as it was', () => {
    const g = new Generator(8);
    const model = new Sequential(new Linear(5, 7, { generator: g }), new Tanh(), new Linear(7, 3, { generator: g }));
    const x = randn([20, 5], { generator: g });
    const w0 = (model.at(0) as Linear).weight;
    const kept = zeros([7, 5]).add(1);
    w0.grad = kept;
    const report = init.check(model, x);
    expect(w0.grad).toBe(kept);
    expect((model.at(2) as Linear).weight.grad).toBeNull();
    // loss sum(y²)/2: dL/dy of the last layer is y itself
    expect(report.rows[1].outputGradVariance! / report.rows[1].variance).toBeCloseTo(1, 4);
    // dL/dW against a plain backward pass
    w0.grad = null;
    const y = model.call(x) as Tensor;
    backward(y.mul(y).sum().div(2));
    expect(report.rows[0].weightGradVariance! / hostVar(w0.grad!)).toBeCloseTo(1, 4);
    expect(report.rows[1].weightGradVariance! / hostVar((model.at(2) as Linear).weight.grad!)).toBeCloseTo(1, 4);
    model.zeroGrad();
  });

  it('describes a Keras Dense by its pre-activation, and its output gradient by what its call returns', () => {
    const g = new Generator(4);
    const d = new Dense(6, { units: 5, activation: 'softmax' }, g);
    init.normal_(d.bias!, 0, 1, { generator: g });
    const x = randn([30, 6], { generator: g });
    const [row] = init.check(new Sequential(d), x).rows;
    const z = noGrad(() => matmul(x, transpose(d.weight)).add(d.bias!));
    expect(row.variance / hostVar(z)).toBeCloseTo(1, 4);
    expect(row.activation).toBe('softmax');
    const y = noGrad(() => d.call(x));
    expect(row.outputGradVariance! / hostVar(y)).toBeCloseTo(1, 4); // loss sum(y²)/2 → dL/dy = y
  });

  it('uses cross-entropy when given a target, or a custom loss', () => {
    const g = new Generator(2);
    const model = new Sequential(new Linear(6, 4, { generator: g }));
    const x = randn([12, 6], { generator: g });
    const t = randint(0, 4, [12], { generator: g });
    const report = init.check(model, x, { target: t });
    expect(report.lossName).toBe('crossEntropy');
    expect(report.loss).toBeCloseTo(noGrad(() => crossEntropy(model.call(x) as Tensor, t).item()), 6);
    const custom = init.check(model, x, { loss: (y) => y.sum() });
    expect(custom.lossName).toBe('custom');
    expect(custom.rows[0].outputGradVariance).toBe(0); // dL/dy = 1 everywhere
    expect(() => init.check(model, x, { loss: (y) => y })).toThrow(/the loss must be a one-element Tensor \(got shape \[12, 4\]\)/);
    expect(() => init.check(model, x, { threshold: 1 })).toThrow(/threshold must be a finite number > 1/);
  });

  it('detects the activation after each layer from the modules that run next', () => {
    const g = new Generator(0);
    class Functional extends Module {
      fc = new Linear(8, 8, { generator: g });
      forward(x: Tensor): Tensor {
        return relu(this.fc.call(x)); // a functional activation: invisible to hooks
      }
    }
    const model = new Sequential(
      new Linear(8, 8, { generator: g }),
      new Tanh(),
      new Linear(8, 8, { generator: g }),
      new Dropout(0.2),
      new ReLU(),
      new Linear(8, 8, { generator: g }),
      new SELU(),
      new Linear(8, 8, { generator: g }),
      new LeakyReLU(0.1),
      new Functional(),
      new Linear(8, 8, { generator: g }),
      new Dense(8, { units: 8, activation: 'sigmoid' }, g),
      new Linear(8, 8, { generator: g }),
    );
    // small weights and zero biases: every layer's variance falls ×0.02, so every row is flagged
    for (const [name, p] of model.namedParameters()) {
      if (name.endsWith('bias')) init.zeros_(p);
      else init.normal_(p, 0, 0.05, { generator: g });
    }
    const report = init.check(model, randn([30, 8], { generator: g }));
    expect(report.rows.map((r) => [r.name, r.activation])).toEqual([
      ['0', 'tanh'],
      ['2', 'relu'],
      ['5', 'selu'],
      ['7', 'leaky_relu'],
      ['9.fc', 'unknown'],
      ['10', 'none'],
      ['11', 'sigmoid'],
      ['12', 'none'],
    ]);
    const s = report.rows.map((r) => r.suggestion?.keras);
    expect(s).toEqual(['glorotUniform', 'heNormal', 'lecunNormal', 'heNormal', 'lsuv(model, batch)', 'glorotUniform', 'glorotUniform', 'glorotUniform']);
    expect(report.rows[0].suggestion!.pytorch).toBe("xavierUniform_(weight, { gain: calculateGain('tanh') })");
    expect(report.rows[3].suggestion!.pytorch).toBe("kaimingNormal_(weight, { a: 0.1, nonlinearity: 'leaky_relu' })");
    expect(report.toString()).toContain('leaky_relu(0.1)');
  });
});

describe('symmetry: a zero-initialized MLP never breaks it', () => {
  /** Largest |W[i, k] − W[j, k]| over all pairs of rows (hidden units) i, j. */
  function maxPairwiseRowDiff(w: Tensor): number {
    const [rows, cols] = w.shape;
    const v = w.toTypedArray();
    let d = 0;
    for (let i = 0; i < rows; i++)
      for (let j = i + 1; j < rows; j++) for (let k = 0; k < cols; k++) d = Math.max(d, Math.abs(v[i * cols + k] - v[j * cols + k]));
    return d;
  }

  function train(initialize: (m: Sequential, g: Generator) => void): { hidden: Tensor; before: number; losses: number[] } {
    const g = new Generator(42);
    const x = randn([64, 10], { generator: g });
    const y = randint(0, 3, [64], { generator: g });
    const model = new Sequential(new Linear(10, 8, { generator: g }), new ReLU(), new Linear(8, 3, { generator: g }));
    initialize(model, g);
    const hidden = (model.at(0) as Linear).weight;
    const before = maxPairwiseRowDiff(hidden);
    const opt = new SGD(model.parameters(), { lr: 0.5 });
    const losses: number[] = [];
    for (let step = 0; step < 150; step++)
      tidy(() => {
        opt.zeroGrad();
        const loss = crossEntropy(model.call(x) as Tensor, y);
        backward(loss);
        opt.step();
        losses.push(loss.item());
      });
    return { hidden, before, losses };
  }

  it('zero init: hidden weights stay identical (and zero) while the output bias learns', () => {
    const { hidden, before, losses } = train((m) => {
      for (const p of m.parameters()) init.zeros_(p);
    });
    expect(before).toBe(0);
    expect(maxPairwiseRowDiff(hidden)).toBe(0);
    expect(Array.from(hidden.toTypedArray()).every((w) => w === 0)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]); // the bias still learns the class prior
  });

  it('constant init: hidden units move but stay identical to each other', () => {
    const { hidden, losses } = train((m) => {
      for (const p of m.parameters()) init.constant_(p, 0.1);
    });
    expect(maxPairwiseRowDiff(hidden)).toBe(0);
    expect(Array.from(hidden.toTypedArray()).some((w) => Math.abs(w - 0.1) > 1e-3)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
  });

  it('Xavier and He init break the symmetry and train further', () => {
    const zero = train((m) => m.parameters().forEach((p) => init.zeros_(p)));
    for (const weightInit of [
      (w: Tensor, g: Generator) => init.xavierUniform_(w, { generator: g }),
      (w: Tensor, g: Generator) => init.kaimingNormal_(w, { nonlinearity: 'relu', generator: g }),
    ]) {
      const { hidden, losses } = train((m, g) => {
        for (const l of m.layers)
          if (l instanceof Linear) {
            weightInit(l.weight, g);
            init.zeros_(l.bias!);
          }
      });
      expect(maxPairwiseRowDiff(hidden)).toBeGreaterThan(0.1);
      expect(losses[losses.length - 1]).toBeLessThan(zero.losses[zero.losses.length - 1]);
    }
  });
});
