import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  DTypeError,
  Generator,
  GraphError,
  ShapeError,
  type Tensor,
  manualSeed,
  matmul,
  mul,
  noGrad,
  sum,
  tensor,
  transpose,
  zeros,
} from '../src/index.js';
import { Linear } from '../src/nn/linear.js';
import { Module, parameter } from '../src/nn/module.js';
import * as init from '../src/nn/init/index.js';
import type { KaimingOptions, Nonlinearity } from '../src/nn/init/index.js';
import { orthogonalFromGaussian, truncatedStandardNormal } from '../src/nn/init/sampling.js';

// PyTorch 1.13 reference values from tools/fixtures/init_fixtures.py (regenerate with
// `/usr/bin/python3 tools/fixtures/init_fixtures.py`): calculate_gain, fans, the distribution
// parameters every xavier_*/kaiming_* call asks for, eye_/dirac_ outputs, and orthogonal_ with
// the Gaussian matrix it drew. Distributions of the random draws: nn-init-distributions.test.ts.

interface GainCase {
  nonlinearity: string;
  param: number | string | boolean | null;
  gain?: number;
  error?: boolean;
}
interface FanCase {
  shape: number[];
  fanIn?: number;
  fanOut?: number;
  error?: boolean;
}
interface ParamCase {
  fn: 'xavierUniform_' | 'xavierNormal_' | 'kaimingUniform_' | 'kaimingNormal_';
  shape: number[];
  options: Record<string, number | string>;
  dist: 'uniform' | 'normal';
  a?: number;
  b?: number;
  mean?: number;
  std?: number;
}
interface DeterministicCase {
  fn: 'eye_' | 'dirac_';
  shape: number[];
  groups?: number;
  values: number[];
}
interface OrthogonalCase {
  shape: number[];
  gain: number;
  gaussian: number[];
  values: number[];
}
interface Fixtures {
  gains: GainCase[];
  fans: FanCase[];
  params: ParamCase[];
  deterministic: DeterministicCase[];
  orthogonal: OrthogonalCase[];
}

const fx = JSON.parse(readFileSync(new URL('./fixtures/init.json', import.meta.url), 'utf8')) as Fixtures;

/** Largest `|a − e| / (atol + rtol·|e|)`: ≤ 1 means allclose. */
function closeness(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const r = Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i]));
    worst = Math.max(worst, Number.isNaN(r) ? Infinity : r);
  }
  return worst;
}

function bitsEqual(a: Tensor, b: Tensor): boolean {
  const x = a.toTypedArray();
  const y = b.toTypedArray();
  return x.length === y.length && Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('calculateGain', () => {
  it('equals torch.nn.init.calculate_gain for every nonlinearity, slope and rejected name', () => {
    expect(fx.gains.length).toBeGreaterThan(20);
    for (const c of fx.gains) {
      const call = (): number => init.calculateGain(c.nonlinearity as Nonlinearity, (c.param ?? undefined) as number | undefined);
      if (c.error) expect(call, c.nonlinearity).toThrow(ConfigError);
      else expect(call(), `${c.nonlinearity}(${String(c.param)})`).toBeCloseTo(c.gain!, 14);
    }
  });

  it('accepts the camelCase spellings and names the unsupported nonlinearity', () => {
    for (const d of [1, 2, 3]) expect(init.calculateGain(`convTranspose${d}d` as Nonlinearity)).toBe(1);
    expect(init.calculateGain('leakyRelu', 0.2)).toBe(init.calculateGain('leaky_relu', 0.2));
    expect(init.calculateGain('leakyRelu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.0001)), 15);
    expect(() => init.calculateGain('gelu' as Nonlinearity)).toThrow("calculateGain: unsupported nonlinearity 'gelu'");
    expect(() => init.calculateGain('leaky_relu', 'a' as unknown as number)).toThrow(/not a valid number/);
    expect(() => init.calculateGain('leaky_relu', Number.NaN)).toThrow(ConfigError);
    expect(init.calculateGain('relu', 123)).toBe(Math.SQRT2); // param ignored, as PyTorch
  });
});

describe('computeFans and layerFans', () => {
  it('equal PyTorch fans on every fixture shape, and refuse fewer than 2 dims with its message', () => {
    for (const c of fx.fans) {
      if (c.error) {
        expect(() => init.computeFans(c.shape)).toThrow(ShapeError);
        expect(() => init.computeFans(c.shape)).toThrow(/fan in and fan out can not be computed for a tensor with fewer than 2 dimensions/);
      } else expect(init.computeFans(c.shape), JSON.stringify(c.shape)).toEqual({ fanIn: c.fanIn, fanOut: c.fanOut });
    }
    for (const s of [[5, 3], [8, 4, 3], [16, 8, 3, 3], [4, 2, 2, 2, 2]]) expect(fx.fans.some((c) => c.shape.join() === s.join())).toBe(true);
    expect(init.computeFans(zeros([32, 16, 3, 5]))).toEqual({ fanIn: 240, fanOut: 480 });
  });

  it('layerFans reads Keel\'s layout: a Linear(32 → 64) weight [64, 32] has fanIn 32 and fanOut 64, as the Keras Dense kernel', () => {
    expect(init.layerFans([64, 32])).toEqual({ fanIn: 32, fanOut: 64 });
    expect(init.layerFans([16, 8, 3, 3])).toEqual({ fanIn: 72, fanOut: 144 }); // Keras kernel (3, 3, 8, 16): same
    expect(init.layerFans([])).toEqual({ fanIn: 1, fanOut: 1 }); // Keras' rank 0 and 1 rules
    expect(init.layerFans([7])).toEqual({ fanIn: 7, fanOut: 7 });
  });
});

describe('xavier and kaiming ask for the distribution PyTorch asks for', () => {
  // Each fixture case holds (a, b) or (mean, std) recorded from PyTorch's own call. Keel's
  // initializer with { seed } must equal uniform_/normal_ with those parameters on Generator(seed).
  it('on every shape, gain, mode (any case) and nonlinearity in the fixtures', () => {
    expect(fx.params.length).toBe(120);
    for (const [i, c] of fx.params.entries()) {
      const seed = 7 * i;
      const got = init[c.fn](zeros(c.shape), { ...(c.options as KaimingOptions), seed });
      const g = new Generator(seed);
      const want =
        c.dist === 'uniform'
          ? init.uniform_(zeros(c.shape), c.a!, c.b!, { generator: g })
          : init.normal_(zeros(c.shape), c.mean!, c.std!, { generator: g });
      const label = `${c.fn} ${JSON.stringify(c.shape)} ${JSON.stringify(c.options)}`;
      expect(closeness(got.toTypedArray(), want.toTypedArray()), label).toBeLessThanOrEqual(1);
    }
  });

  it('PyTorch\'s default Linear init is kaimingUniform_(w, { a: √5 }) = U(±1/√in)', () => {
    const lin = new Linear(48, 20, { generator: new Generator(5), bias: false });
    const w = init.kaimingUniform_(zeros([20, 48]), { a: Math.sqrt(5), seed: 5 });
    expect(closeness(lin.weight.toTypedArray(), w.toTypedArray())).toBeLessThanOrEqual(1);
  });

  it('rejects unknown modes and shapes below 2 dims', () => {
    expect(() => init.kaimingNormal_(zeros([4, 4]), { mode: 'fan_avg' as 'fanIn' })).toThrow("kaimingNormal_: mode 'fan_avg' is not supported");
    expect(() => init.kaimingUniform_(zeros([4]))).toThrow(ShapeError);
    expect(() => init.xavierUniform_(zeros([4]))).toThrow(/xavierUniform_: fan in and fan out/);
  });
});

describe('eye_ and dirac_', () => {
  it('equal torch.nn.init.eye_ / dirac_ (any groups, odd and even kernels)', () => {
    for (const c of fx.deterministic) {
      const t = zeros(c.shape).add(7);
      const out = c.fn === 'eye_' ? init.eye_(t) : init.dirac_(t, c.groups);
      expect(out).toBe(t);
      expect(Array.from(t.toTypedArray()), `${c.fn} ${JSON.stringify(c.shape)} groups=${c.groups}`).toEqual(c.values);
    }
  });

  it('check rank and groups', () => {
    expect(() => init.eye_(zeros([2, 2, 2]))).toThrow(ShapeError);
    expect(() => init.dirac_(zeros([4, 4]))).toThrow(/3, 4, or 5 dimensions/);
    expect(() => init.dirac_(zeros([6, 2, 3]), 4)).toThrow(/divisible by groups=4/);
    expect(() => init.dirac_(zeros([6, 2, 3]), 0)).toThrow(ConfigError);
  });
});

describe('orthogonal_', () => {
  it('turns PyTorch\'s Gaussian matrix into PyTorch\'s result (QR, sign of diag(R), transposes)', () => {
    for (const c of fx.orthogonal) {
      const rows = c.shape[0];
      const cols = c.gaussian.length / rows;
      const q = orthogonalFromGaussian(Float64Array.from(c.gaussian), rows, cols).map((v) => v * c.gain);
      expect(closeness(q, c.values, 0, 1e-12), JSON.stringify(c.shape)).toBeLessThanOrEqual(1);
    }
  });

  it('draws its Gaussian matrix row-major from the generator, as PyTorch, then scales by gain', () => {
    const g = new Generator(11);
    const gauss = Float64Array.from({ length: 6 * 10 }, () => g.nextNormal());
    const want = orthogonalFromGaussian(gauss, 6, 10).map((v) => v * 1.5);
    const got = init.orthogonal_(zeros([6, 2, 5], { dtype: 'float64' }), { gain: 1.5, seed: 11 });
    expect(closeness(got.toTypedArray(), want, 0, 1e-15)).toBeLessThanOrEqual(1);
  });

  it.each([
    { shape: [64, 128], gain: 1 },
    { shape: [128, 64], gain: 1 },
    { shape: [16, 4, 3, 3], gain: 1 },
    { shape: [64, 128], gain: Math.SQRT2 },
  ])('gives W·Wᵀ = gain²·I (or Wᵀ·W) to 1e-4 for $shape, gain $gain', ({ shape, gain }) => {
    const w = init.orthogonal_(zeros(shape), { gain, seed: 3 });
    const rows = shape[0];
    const m = w.reshape([rows, w.size / rows]);
    const gram = rows <= m.shape[1] ? matmul(m, transpose(m)) : matmul(transpose(m), m);
    const n = gram.shape[0];
    const v = gram.toTypedArray();
    let worst = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(v[i * n + j] - (i === j ? gain * gain : 0)));
    expect(worst).toBeLessThan(1e-4);
  });

  it('rejects fewer than 2 dims', () => {
    expect(() => init.orthogonal_(zeros([5]))).toThrow('orthogonal_: only tensors with 2 or more dimensions are supported');
  });
});

describe('sparse_', () => {
  it.each([0, 0.1, 0.25, 0.5, 1])('zeroes exactly ceil(sparsity·rows) entries of every column (sparsity %s)', (sparsity) => {
    const [rows, cols] = [20, 30];
    const v = init.sparse_(zeros([rows, cols]), sparsity, { seed: 4, std: 1 }).toTypedArray();
    for (let c = 0; c < cols; c++) {
      let z = 0;
      for (let r = 0; r < rows; r++) if (v[r * cols + c] === 0) z++;
      expect(z).toBe(Math.ceil(sparsity * rows));
    }
  });

  it('picks different rows in different columns, and checks its arguments', () => {
    const v = init.sparse_(zeros([10, 40]), 0.5, { seed: 9 }).toTypedArray();
    const patterns = new Set<string>();
    for (let c = 0; c < 40; c++) patterns.add(Array.from({ length: 10 }, (_, r) => (v[r * 40 + c] === 0 ? 0 : 1)).join(''));
    expect(patterns.size).toBeGreaterThan(30); // C(10, 5) = 252 patterns
    expect(() => init.sparse_(zeros([2, 2, 2]), 0.1)).toThrow(ShapeError);
    expect(() => init.sparse_(zeros([4, 4]), 1.5)).toThrow(/sparsity must be in \[0, 1\]/);
    expect(() => init.sparse_(zeros([4, 4]), 0.5, { std: -1 })).toThrow(ConfigError);
  });
});

describe('truncNormal_', () => {
  it('uses absolute bounds: std 0.02 with the default ±2 truncates nothing, and explicit bounds hold', () => {
    const wide = init.truncNormal_(zeros([200, 100]), { std: 0.02, seed: 1 }).toTypedArray();
    const maxAbs = Math.max(...Array.from(wide, Math.abs));
    expect(maxAbs).toBeGreaterThan(0.06); // beyond ±2σ = 0.04: not a relative cutoff
    expect(maxAbs).toBeLessThan(0.2);
    const tight = init.truncNormal_(zeros([200, 100]), { mean: 1, std: 3, a: 0.5, b: 1.25, seed: 2 }).toTypedArray();
    expect(Math.min(...tight)).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...tight)).toBeLessThanOrEqual(1.25);
  });

  it('samples far in a tail without hanging, and every branch stays inside its interval', () => {
    const cases: [number, number][] = [[-2, 2], [-0.3, 0.4], [0.5, 1], [0.5, 1.2], [5, 6], [40, 41], [-41, -40], [3, Infinity], [-Infinity, Infinity], [0, 1e-9]];
    const g = new Generator(8);
    for (const [alpha, beta] of cases) {
      const z = truncatedStandardNormal(alpha, beta);
      const xs = Array.from({ length: 2000 }, () => z(g));
      expect(Math.min(...xs), `[${alpha}, ${beta}]`).toBeGreaterThanOrEqual(alpha);
      expect(Math.max(...xs), `[${alpha}, ${beta}]`).toBeLessThanOrEqual(beta);
    }
  });

  it('checks its arguments', () => {
    expect(() => init.truncNormal_(zeros([3]), { a: 1, b: 1 })).toThrow(/expected a < b/);
    expect(() => init.truncNormal_(zeros([3]), { std: 0 })).toThrow(/std must be a finite number > 0/);
    expect(() => init.truncNormal_(zeros([3], { dtype: 'int32' }))).toThrow(DTypeError);
  });
});

describe('all PyTorch-style initializers', () => {
  const random: [string, (t: Tensor, o: init.RandomInitOptions) => Tensor][] = [
    ['truncNormal_', (t, o) => init.truncNormal_(t, o)],
    ['xavierUniform_', (t, o) => init.xavierUniform_(t, o)],
    ['xavierNormal_', (t, o) => init.xavierNormal_(t, o)],
    ['kaimingUniform_', (t, o) => init.kaimingUniform_(t, o)],
    ['kaimingNormal_', (t, o) => init.kaimingNormal_(t, o)],
    ['orthogonal_', (t, o) => init.orthogonal_(t, o)],
    ['sparse_', (t, o) => init.sparse_(t, 0.3, o)],
  ];

  it.each(random)('%s: same seed → bit-identical, seed 0 is a seed, generator advances, returns its tensor', (_name, fn) => {
    const a = zeros([12, 10]);
    expect(fn(a, { seed: 0 })).toBe(a);
    const b = fn(zeros([12, 10]), { seed: 0 });
    expect(bitsEqual(a, b)).toBe(true);
    manualSeed(12345);
    const unseeded = fn(zeros([12, 10]), {});
    expect(bitsEqual(a, unseeded)).toBe(false); // seed 0 is not "unseeded" (the TF.js defect)
    const g = new Generator(0);
    const viaGenerator = fn(zeros([12, 10]), { generator: g });
    expect(bitsEqual(a, viaGenerator)).toBe(true);
    expect(bitsEqual(a, fn(zeros([12, 10]), { generator: g }))).toBe(false); // the stream moved on
    manualSeed(7);
    const x = fn(zeros([12, 10]), {});
    manualSeed(7);
    expect(bitsEqual(x, fn(zeros([12, 10]), {}))).toBe(true); // the global generator is seeded
    expect(() => fn(zeros([12, 10]), { seed: 1, generator: new Generator(1) })).toThrow(/either generator or seed/);
    expect(() => fn(zeros([12, 10]), { seed: -1 })).toThrow(ConfigError);
  });

  it.each(random)('%s: a zero-element tensor is a no-op with a warning', (name, fn) => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const t = zeros([0, 4]);
    expect(fn(t, { seed: 1 })).toBe(t);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toContain(`${name}: initializing a zero-element tensor (shape [0, 4]) is a no-op`);
  });

  it.each(random)('%s: writes into a parameter under noGrad, leaving it a leaf that requires grad, and refuses int32', (_name, fn) => {
    const p = parameter(zeros([6, 5]));
    fn(p, { seed: 2 });
    expect(p.requiresGrad).toBe(true);
    expect(p.isLeaf).toBe(true);
    expect(Array.from(p.toTypedArray()).some((v) => v !== 0)).toBe(true);
    expect(() => fn(zeros([6, 5], { dtype: 'int32' }), { seed: 2 })).toThrow(DTypeError);
  });

  it('work on float64 tensors (values drawn in float64)', () => {
    const t = init.kaimingNormal_(zeros([30, 20], { dtype: 'float64' }), { seed: 1 });
    expect(t.dtype).toBe('float64');
    const want = init.normal_(zeros([30, 20], { dtype: 'float64' }), 0, Math.SQRT2 / Math.sqrt(20), { generator: new Generator(1) });
    expect(closeness(t.toTypedArray(), want.toTypedArray(), 1e-14, 0)).toBeLessThanOrEqual(1);
  });

  it('the idiom model.apply(m => { if (m instanceof Linear) xavierUniform_(m.weight) }) works', () => {
    // Linear is src/nn/linear.ts; the model nests Linears in a field and in an array.
    class Net extends Module {
      fc1 = new Linear(8, 16);
      blocks = [new Linear(16, 16), new Linear(16, 4)];
      forward(x: Tensor): Tensor {
        let h = this.fc1.call(x);
        for (const b of this.blocks) h = b.call(h);
        return h;
      }
    }
    const net = new Net();
    const g = new Generator(21);
    const seen: Linear[] = [];
    net.apply((m) => {
      if (m instanceof Linear) {
        seen.push(m);
        init.xavierUniform_(m.weight, { generator: g });
        if (m.bias) init.zeros_(m.bias);
      }
    });
    expect(seen.length).toBe(3);
    // Children first: blocks.0, blocks.1 come after fc1 in field order, and each draws in turn.
    const g2 = new Generator(21);
    for (const m of [net.fc1, ...net.blocks]) {
      const { fanIn, fanOut } = init.computeFans(m.weight);
      const bound = Math.sqrt(6 / (fanIn + fanOut));
      const want = init.uniform_(zeros(m.weight.shape), -bound, bound, { generator: g2 });
      expect(bitsEqual(m.weight, want)).toBe(true);
      expect(Array.from(m.bias!.toTypedArray()).every((v) => v === 0)).toBe(true);
    }
    // The parameters still train: a backward pass reaches the re-initialized weights.
    const loss = sum(mul(net.call(tensor([[1, 2, 3, 4, 5, 6, 7, 8]])), 1));
    loss.backward();
    expect(net.fc1.weight.grad).not.toBeNull();
  });

  it('an in-place init outside noGrad on a parameter is fine (it runs under noGrad itself)', () => {
    const p = parameter(zeros([4, 4]));
    expect(() => init.kaimingUniform_(p)).not.toThrow();
    expect(() => noGrad(() => init.eye_(p))).not.toThrow();
    expect(() => p.add_(1)).toThrow(GraphError); // whereas a plain in-place op would be recorded
  });
});

describe('Keras-style initializers', () => {
  const SHAPE = [64, 32]; // a Keel Linear(32 → 64) weight: fanIn 32, fanOut 64
  const TRUNC = 0.87962566103423978;

  it('resolve by Keel, snake_case and PascalCase names', () => {
    const names: [string, string][] = [
      ['heNormal', 'heNormal'],
      ['he_normal', 'heNormal'],
      ['HeNormal', 'heNormal'],
      ['glorot_uniform', 'glorotUniform'],
      ['GlorotNormal', 'glorotNormal'],
      ['lecun_uniform', 'lecunUniform'],
      ['LecunNormal', 'lecunNormal'],
      ['he_uniform', 'heUniform'],
      ['random_normal', 'randomNormal'],
      ['RandomUniform', 'randomUniform'],
      ['truncated_normal', 'truncatedNormal'],
      ['variance_scaling', 'varianceScaling'],
      ['Zeros', 'zeros'],
      ['ones', 'ones'],
      ['Constant', 'constant'],
      ['OrthogonalInitializer', 'orthogonal'],
      ['identity', 'identity'],
    ];
    for (const [spec, name] of names) expect(init.getInitializer(spec as init.InitializerName).name, spec).toBe(name);
    const he = init.heNormal({ seed: 1 });
    expect(init.getInitializer(he)).toBe(he);
    expect(() => init.getInitializer('gelu' as init.InitializerName)).toThrow(/getInitializer: unknown initializer 'gelu'/);
    expect(() => init.getInitializer({ name: 'heNormal', config: { scale: 2 } })).toThrow(/'heNormal' has no option 'scale'/);
  });

  it('round-trip through { name, config }', () => {
    const specs = [
      init.varianceScaling({ scale: 0.5, mode: 'fan_avg', distribution: 'normal', seed: 4 }),
      init.randomUniform({ minval: 0, maxval: 2, seed: 0 }),
      init.heNormal({ seed: 9 }),
      init.orthogonal({ gain: 2, seed: 3 }),
      init.constant({ value: 0.25 }),
    ];
    for (const a of specs) {
      const b = init.getInitializer({ name: a.name, config: a.config });
      expect(b.config).toEqual(a.config);
      expect(bitsEqual(a([16, 8]), b([16, 8]))).toBe(true);
    }
    expect(specs[0].config).toEqual({ scale: 0.5, mode: 'fanAvg', distribution: 'truncatedNormal', seed: 4 });
  });

  it('a seeded initializer returns the same values on every call and ignores the generator; unseeded ones draw from it', () => {
    const seeded = init.glorotNormal({ seed: 0 });
    const a = seeded(SHAPE);
    expect(bitsEqual(a, seeded(SHAPE))).toBe(true);
    expect(bitsEqual(a, seeded(SHAPE, 'float32', new Generator(99)))).toBe(true);
    expect(bitsEqual(a, init.glorotNormal({ seed: 1 })(SHAPE))).toBe(false);
    const unseeded = init.glorotNormal();
    const g = new Generator(0);
    const u1 = unseeded(SHAPE, 'float32', g);
    expect(bitsEqual(u1, a)).toBe(true); // seed 0 means Generator(0), not "no seed"
    expect(bitsEqual(unseeded(SHAPE, 'float32', g), u1)).toBe(false);
    manualSeed(5);
    const x = unseeded(SHAPE);
    manualSeed(5);
    expect(bitsEqual(unseeded(SHAPE), x)).toBe(true);
  });

  // The parameters below are SEMANTICS.md's formulas, written out here: Keel's Keras-named
  // initializer must equal the plain distribution with those parameters on the same generator.
  const fanIn = 32;
  const fanOut = 64;
  const cases: [string, init.Initializer, (g: Generator) => Tensor][] = [
    ['glorotUniform', init.glorotUniform(), (g) => uniformT(Math.sqrt(6 / (fanIn + fanOut)), g)],
    ['heUniform', init.heUniform(), (g) => uniformT(Math.sqrt(6 / fanIn), g)],
    ['lecunUniform', init.lecunUniform(), (g) => uniformT(Math.sqrt(3 / fanIn), g)],
    ['glorotNormal (truncated)', init.glorotNormal(), (g) => truncT(Math.sqrt(2 / (fanIn + fanOut)) / TRUNC, g)],
    ['heNormal (truncated)', init.heNormal(), (g) => truncT(Math.sqrt(2 / fanIn) / TRUNC, g)],
    ['lecunNormal (truncated)', init.lecunNormal(), (g) => truncT(Math.sqrt(1 / fanIn) / TRUNC, g)],
    [
      'VS fanOut untruncated',
      init.varianceScaling({ scale: 3, mode: 'fanOut', distribution: 'untruncatedNormal' }),
      (g) => init.normal_(zeros(SHAPE), 0, Math.sqrt(3 / fanOut), { generator: g }),
    ],
    [
      'VS fanGeoAvg uniform',
      init.varianceScaling({ mode: 'fanGeoAvg', distribution: 'uniform' }),
      (g) => uniformT(Math.sqrt(3 / Math.sqrt(fanIn * fanOut)), g),
    ],
    [
      'VS FAN_AVG normal',
      init.varianceScaling({ mode: 'FAN_AVG' as 'fanAvg', distribution: 'normal' }),
      (g) => truncT(Math.sqrt(1 / 48) / TRUNC, g),
    ],
    ['truncatedNormal', init.truncatedNormal({ mean: 1, stddev: 0.5 }), (g) => truncT(0.5, g, 1)],
    ['randomNormal', init.randomNormal(), (g) => init.normal_(zeros(SHAPE), 0, 0.05, { generator: g })],
    ['randomUniform', init.randomUniform(), (g) => init.uniform_(zeros(SHAPE), -0.05, 0.05, { generator: g })],
    ['orthogonal', init.orthogonal({ gain: 3 }), (g) => init.orthogonal_(zeros(SHAPE), { gain: 3, generator: g })],
  ];
  function uniformT(limit: number, g: Generator): Tensor {
    return init.uniform_(zeros(SHAPE), -limit, limit, { generator: g });
  }
  function truncT(std: number, g: Generator, mean = 0): Tensor {
    return init.truncNormal_(zeros(SHAPE), { mean, std, a: mean - 2 * std, b: mean + 2 * std, generator: g });
  }

  it.each(cases)('%s on a Linear weight [64, 32] uses fans from Keel\'s layout and the Keras formula', (_name, initializer, reference) => {
    const got = initializer(SHAPE, 'float32', new Generator(17));
    const want = reference(new Generator(17));
    expect(got.shape).toEqual(SHAPE);
    expect(closeness(got.toTypedArray(), want.toTypedArray())).toBeLessThanOrEqual(1);
  });

  it('on a Keel Linear, glorotUniform gives the Keras Dense bound √(6/(in+out)), not PyTorch\'s default', () => {
    const lin = new Linear(32, 64);
    init.initialize_(lin.weight, 'glorot_uniform', { generator: new Generator(2) });
    const v = lin.weight.toTypedArray();
    const bound = Math.sqrt(6 / 96);
    expect(v.every((x) => Math.abs(x) <= bound)).toBe(true);
    expect(v.some((x) => Math.abs(x) > 0.95 * bound)).toBe(true); // > 1/√32 = 0.177 < 0.95·0.25
    expect(lin.weight.requiresGrad).toBe(true);
  });

  it('randomUniform keeps minval 0 (no `||` default) and checks its bounds', () => {
    const u = init.randomUniform({ minval: 0, maxval: 1, seed: 3 });
    expect(u.config).toEqual({ minval: 0, maxval: 1, seed: 3 });
    const v = u([100, 100]).toTypedArray();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeGreaterThan(0.99);
    expect(() => init.randomUniform({ minval: 1, maxval: 0 })).toThrow(/minval ≤ maxval/);
  });

  it('varianceScaling validates scale, mode, distribution and seed', () => {
    expect(() => init.varianceScaling({ scale: 0 })).toThrow(/scale must be a positive number/);
    expect(() => init.varianceScaling({ scale: -1 })).toThrow(ConfigError);
    expect(() => init.varianceScaling({ mode: 'fan_sum' as 'fanIn' })).toThrow(/mode 'fan_sum' is not supported/);
    expect(() => init.varianceScaling({ distribution: 'laplace' as 'uniform' })).toThrow(/distribution 'laplace'/);
    expect(() => init.heNormal({ seed: 1.5 })).toThrow(/seed 1.5 is invalid/);
    expect(init.varianceScaling().config).toEqual({ scale: 1, mode: 'fanIn', distribution: 'truncatedNormal', seed: null });
  });

  it('varianceScaling uses max(1, fan) and Keras\' rank-0/1 fans', () => {
    const w = init.varianceScaling({ scale: 1, distribution: 'uniform', seed: 2 })([0, 5]);
    expect(w.shape).toEqual([0, 5]);
    const v = init.varianceScaling({ scale: 1, distribution: 'uniform', seed: 2 })([]); // fan 1 → limit √3
    const want = init.uniform_(zeros([]), -Math.sqrt(3), Math.sqrt(3), { generator: new Generator(2) });
    expect(v.item()).toBeCloseTo(want.item(), 6);
    const b = init.heUniform({ seed: 1 })([10]); // fanIn 10
    const wantB = init.uniform_(zeros([10]), -Math.sqrt(0.6), Math.sqrt(0.6), { generator: new Generator(1) });
    expect(closeness(b.toTypedArray(), wantB.toTypedArray())).toBeLessThanOrEqual(1);
  });

  it('zeros, ones, constant and identity, in any dtype; identity is 2-D only', () => {
    expect(Array.from(init.zeros()([2, 3], 'int32').toTypedArray())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(init.ones()([2, 2], 'int32').dtype).toBe('int32');
    expect(Array.from(init.ones()([2, 2]).toTypedArray())).toEqual([1, 1, 1, 1]);
    expect(Array.from(init.constant({ value: -2 })([3], 'float64').toTypedArray())).toEqual([-2, -2, -2]);
    expect(init.constant().config).toEqual({ value: 0 });
    expect(init.identity({ gain: 2 })([2, 3]).toArray()).toEqual([
      [2, 0, 0],
      [0, 2, 0],
    ]);
    expect(() => init.identity()([2, 2, 2])).toThrow(/2-D matrices/);
    expect(() => init.orthogonal()([5])).toThrow(/at least two-dimensional/);
    expect(() => init.heNormal()([4, 4], 'int32')).toThrow(DTypeError);
  });
});
