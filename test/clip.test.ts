import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../src/ops/methods.js';
import { getBackend } from '../src/backend/registry.js';
import { ConfigError, NonFiniteError } from '../src/core/errors.js';
import { Linear } from '../src/nn/linear.js';
import type { GradientTransformation, UpdateInfo } from '../src/optim/transform.js';
import { tensor, zeros } from '../src/tensor/create.js';
import type { Tensor } from '../src/tensor/tensor.js';
import {
  adaptiveGradClip,
  clipByBlockRms,
  clipByGlobalNorm,
  clipByNorm,
  clipByValue,
  clipGradNorm_,
  clipGradValue_,
  clipGradsWithNorm_,
  getTotalNorm,
  kerasClipTransform,
  kerasGlobalClipnorm,
} from '../src/clip/index.js';

// Reference values from tools/fixtures/clip_fixtures.py: torch 1.13's clip_grad_norm_ and
// clip_grad_value_ run on the stored gradients, Keras 3's clipnorm / global_clipnorm / clipvalue
// formulas and Optax's clip_by_global_norm / clip_by_block_rms / adaptive_grad_clip in float64.
// Every suite runs on the backend KEEL_BACKEND selects (the check runs js and wasm).

interface Arr {
  shape: number[];
  dtype: 'float32' | 'float64';
  values: (number | string)[];
}

interface TorchCase {
  name: string;
  fn: 'clipGradNorm_' | 'clipGradValue_';
  grads: (Arr | null)[];
  single: boolean;
  maxNorm?: number | string;
  normType?: number | string;
  errorIfNonfinite?: boolean;
  clipValue?: number | string;
  total?: number | string | null;
  totalDtype?: 'float32' | 'float64';
  error: string | null;
  after: (Arr | null)[];
}

interface KerasCase {
  name: string;
  option: 'clipnorm' | 'globalClipnorm' | 'clipvalue';
  value: number;
  grads: Arr[];
  expected: Arr[];
}

interface OptaxCase {
  name: string;
  transform: 'clipByGlobalNorm' | 'clipByBlockRms' | 'adaptiveGradClip';
  value: number;
  eps?: number;
  grads: Arr[];
  params: Arr[] | null;
  expected: Arr[];
}

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/clip.json', import.meta.url), 'utf8')) as {
  torch: string;
  torchCases: TorchCase[];
  kerasCases: KerasCase[];
  optaxCases: OptaxCase[];
};

const decode = (v: number | string): number => (typeof v === 'number' ? v : Number(v)); // "NaN", "Infinity", "-Infinity"
const values = (a: Arr): number[] => a.values.map(decode);
const make = (a: Arr): Tensor => tensor(values(a), a.shape, { dtype: a.dtype });

/** A parameter of the gradient's shape with `.grad` set (or none, for a null entry). */
function param(g: Arr | null): Tensor {
  if (g === null) return zeros([1]).requiresGrad_();
  const p = zeros(g.shape, { dtype: g.dtype }).requiresGrad_();
  p.grad = make(g);
  return p;
}

/** Same value: both NaN, equal infinities, or within `rel` relative (and `abs` absolute) error. */
function close(actual: number, expected: number, rel: number, abs = 0): boolean {
  if (Number.isNaN(expected) || Number.isNaN(actual)) return Number.isNaN(expected) && Number.isNaN(actual);
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return actual === expected;
  return Math.abs(actual - expected) <= rel * Math.abs(expected) + abs;
}

/** Asserts elementwise closeness, reporting the first mismatch by index. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, abs = 0, label = ''): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!close(actual[i], expected[i], rel, abs))
      expect.fail(`${label}: element ${i} is ${actual[i]}, expected ${expected[i]} (rel ${rel}, abs ${abs})`);
  }
}

const flat = (t: Tensor): number[] => Array.from(t.toTypedArray());

// PyTorch sums float32 squares in float32 (pairwise, vectorized); Keel sums them in float64 and
// rounds once. The totals can differ by an ulp or two, and so can the coefficient and the
// clipped values: 4e-7 is about 3 float32 ulps.
const F32_REL = 4e-7;

describe('clipGradNorm_ and clipGradValue_ against PyTorch (torch ' + fixtures.torch + ')', () => {
  it.each(fixtures.torchCases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const params = c.grads.map(param);
    const arg = c.single ? params[0] : params;
    if (c.fn === 'clipGradValue_') {
      clipGradValue_(arg, decode(c.clipValue!));
    } else {
      const run = (): number =>
        clipGradNorm_(arg, decode(c.maxNorm!), { normType: decode(c.normType!), errorIfNonfinite: c.errorIfNonfinite });
      if (c.error !== null) {
        expect(run).toThrow(NonFiniteError);
        // PyTorch's message with Keel's option name.
        const message = c.error.replace('`error_if_nonfinite=False`', '`errorIfNonfinite: false`');
        expect(run).toThrow(message);
      } else {
        const total = run();
        expect(close(total, decode(c.total!), F32_REL), `total ${total}, PyTorch ${c.total}`).toBe(true);
      }
    }
    params.forEach((p, i) => {
      const want = c.after[i];
      if (want === null) {
        expect(p.grad).toBeNull();
        return;
      }
      expect(p.grad!.dtype).toBe(want.dtype);
      expectClose(flat(p.grad!), values(want), F32_REL, 0, `${c.name}: grad ${i}`);
    });
  });

  it('scales at total == maxNorm (no branch): the gradients shrink by maxNorm/(maxNorm + 1e-6)', () => {
    // Float64 gradients make the 1e-6 visible: PyTorch's values for this case differ from the
    // inputs, and Keel's must equal PyTorch's, not the inputs.
    const grads = [tensor([3, 4], [2], { dtype: 'float64' })];
    const p = zeros([2], { dtype: 'float64' }).requiresGrad_();
    p.grad = grads[0];
    const total = clipGradNorm_([p], 5);
    expect(total).toBe(5);
    const coef = (1 / (5 + 1e-6)) * 5; // PyTorch: (total + 1e-6).reciprocal() * maxNorm
    expect(flat(p.grad)).toEqual([3 * coef, 4 * coef]);
    expect(coef).toBeLessThan(1);
  });

  it('follows the float32 rounding of the coefficient bit for bit where PyTorch gives exact values', () => {
    // "maxNorm equal to the norm" for p = 1: 65.255 + 1e-6 rounds to 65.255 in float32, so the
    // coefficient is exactly 1 and PyTorch returns the inputs; with p = 2 it does not.
    for (const name of ['p=1.0, maxNorm equal to the norm', 'p=2.0, maxNorm equal to the norm', 'p=inf, clips']) {
      const c = fixtures.torchCases.find((k) => k.name === name)!;
      const params = c.grads.map(param);
      clipGradNorm_(params, decode(c.maxNorm!), { normType: decode(c.normType!) });
      params.forEach((p, i) => expect(flat(p.grad!), `${name} grad ${i}`).toEqual(values(c.after[i]!).map((v) => v + 0)));
    }
  });

  it('returns 0 and changes nothing without gradients', () => {
    expect(clipGradNorm_([], 1)).toBe(0);
    const p = zeros([3]).requiresGrad_();
    expect(clipGradNorm_(p, 1)).toBe(0);
    expect(p.grad).toBeNull();
  });

  it('takes a Module’s parameters()', () => {
    const fc = new Linear(4, 3);
    const loss = fc.call(tensor([[1, 2, 3, 4]]).mul(100)).sum();
    loss.backward();
    const before = fc.parameters().map((q) => flat(q.grad!));
    const norm = Math.sqrt(before.flat().reduce((s, v) => s + v * v, 0));
    const total = clipGradNorm_(fc.parameters(), 1);
    expect(close(total, norm, 1e-6)).toBe(true);
    const coef = Math.fround(Math.fround(1 / Math.fround(total + Math.fround(1e-6))) * 1);
    fc.parameters().forEach((q, i) => expectClose(flat(q.grad!), before[i].map((v) => v * coef), 1e-6));
  });

  it('clips gradients that are strided views', () => {
    const p = zeros([2, 3]).requiresGrad_();
    p.grad = tensor([
      [3, 0, 0],
      [4, 0, 0],
    ]).T; // a transposed (non-contiguous) view
    clipGradNorm_(p, 1);
    expectClose(flat(p.grad), [0.6, 0.8, 0, 0, 0, 0], 1e-6);
    clipGradValue_(p, 0.7);
    expectClose(flat(p.grad), [0.6, 0.7, 0, 0, 0, 0], 1e-6);
  });

  it('rejects invalid arguments with ConfigErrors naming the argument and value', () => {
    const p = zeros([2]).requiresGrad_();
    p.grad = tensor([1, 2]);
    expect(() => clipGradNorm_(p, -1)).toThrow(ConfigError);
    expect(() => clipGradNorm_(p, -1)).toThrow(/clipGradNorm_: maxNorm must be a number ≥ 0 \(got -1\)/);
    expect(() => clipGradNorm_(p, NaN)).toThrow(/maxNorm .*got NaN/);
    expect(() => clipGradNorm_(p, 1, { normType: -2 })).toThrow(/normType must be 0, a positive number or Infinity \(got -2\)/);
    expect(() => clipGradNorm_(p, 1, { normType: NaN })).toThrow(ConfigError);
    expect(() => clipGradNorm_(p, 1, { norm_type: 2 } as never)).toThrow(/unknown option 'norm_type'/);
    expect(() => clipGradNorm_(42 as never, 1)).toThrow(/params must be a Tensor or an iterable of Tensors.*got 42/);
    expect(() => clipGradNorm_([p, 3] as never, 1)).toThrow(/params\[1\] is not a Tensor/);
    expect(() => clipGradValue_(p, -0.5)).toThrow(/clipGradValue_: clipValue must be a number ≥ 0 \(got -0.5\)/);
    expect(() => clipGradValue_(p, NaN)).toThrow(ConfigError);
    expect(() => clipGradsWithNorm_(p, -1, 2)).toThrow(/clipGradsWithNorm_: maxNorm/);
    expect(flat(p.grad)).toEqual([1, 2]); // nothing was touched
  });

  it('accepts Infinity as maxNorm (measure only) and ignores foreach', () => {
    const p = zeros([2]).requiresGrad_();
    p.grad = tensor([3, 4]);
    expect(clipGradNorm_(p, Infinity, { foreach: true })).toBe(5);
    expect(flat(p.grad)).toEqual([3, 4]);
  });
});

describe('getTotalNorm and clipGradsWithNorm_ (current PyTorch’s split of clip_grad_norm_)', () => {
  const c = fixtures.torchCases.find((k) => k.name === 'p=3.0, clips')!;

  it('getTotalNorm gives the 0-d total of clipGradNorm_ without touching the tensors', () => {
    const grads = c.grads.map((g) => make(g!));
    const total = getTotalNorm(grads, 3);
    expect(total.shape).toEqual([]);
    expect(total.dtype).toBe('float32');
    expect(close(total.item(), decode(c.total!), F32_REL)).toBe(true);
    grads.forEach((g, i) => expect(flat(g)).toEqual(values(c.grads[i]!)));
    expect(getTotalNorm([]).item()).toBe(0);
    expect(getTotalNorm(tensor([3, 4])).item()).toBe(5);
    expect(getTotalNorm([tensor([1, 2], [2], { dtype: 'float64' })]).dtype).toBe('float64');
  });

  it('clipGradsWithNorm_ with that total equals clipGradNorm_', () => {
    const params = c.grads.map(param);
    const total = getTotalNorm(params.map((p) => p.grad!), 3);
    clipGradsWithNorm_(params, decode(c.maxNorm!), total);
    params.forEach((p, i) => expectClose(flat(p.grad!), values(c.after[i]!), F32_REL, 0, `grad ${i}`));
  });

  it('getTotalNorm raises on a non-finite total when asked, naming the order', () => {
    expect(() => getTotalNorm([tensor([1, NaN])], Infinity, true)).toThrow(/getTotalNorm: The total norm of order inf .* is non-finite/);
    expect(() => getTotalNorm([tensor([1, Infinity])], 0.5, true)).toThrow(/order 0.5/);
    expect(getTotalNorm([tensor([1, Infinity])], 2, false).item()).toBe(Infinity);
  });
});

/** Runs a transform once on `grads` (with `params` when given). */
function apply<S>(t: GradientTransformation<S>, grads: Tensor[], params?: Tensor[]): { out: (Tensor | null)[]; info: UpdateInfo[] } {
  const ps = params ?? grads.map((g) => zeros(g.shape));
  const info: UpdateInfo[] = [];
  const [out] = t.update(grads, t.init(ps), ps, info);
  return { out, info };
}

describe('Keras option semantics against a float64 reference', () => {
  const transformFor = (c: KerasCase): GradientTransformation<unknown> => kerasClipTransform({ [c.option]: c.value })!;

  it.each(fixtures.kerasCases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const grads = c.grads.map(make);
    const { out, info } = apply(transformFor(c), grads);
    out.forEach((o, i) => expectClose(flat(o!), values(c.expected[i]), 1e-6, 1e-7, `${c.name}: tensor ${i}`));
    expect(info).toHaveLength(1);
    grads.forEach((g, i) => expect(flat(g)).toEqual(values(c.grads[i]))); // inputs untouched
  });

  it('per-tensor clipnorm and globalClipnorm differ on the same gradients', () => {
    const grads = [tensor([3, 4]), tensor([0.3, 0.4])]; // norms 5 and 0.5, global √25.25
    const perTensor = apply(clipByNorm(1), grads).out.map((t) => flat(t!));
    const global = apply(kerasGlobalClipnorm(1), grads).out.map((t) => flat(t!));
    // clipnorm: the first tensor to norm 1, the second (0.5 ≤ 1) untouched.
    expectClose(perTensor[0], [0.6, 0.8], 1e-6);
    expectClose(perTensor[1], [0.3, 0.4], 1e-6);
    // global_clipnorm: both scaled by 1/√25.25, so the second shrinks too.
    const s = 1 / Math.sqrt(25.25);
    expectClose(global[0], [3 * s, 4 * s], 1e-6);
    expectClose(global[1], [0.3 * s, 0.4 * s], 1e-6);
    expect(Math.abs(perTensor[1][0] - global[1][0])).toBeGreaterThan(0.2);
  });

  it('Keras options: exactly one, and positive (Keras silently disables clipping for ≤ 0)', () => {
    expect(kerasClipTransform({})).toBeNull();
    expect(kerasClipTransform({ clipnorm: null, clipvalue: undefined })).toBeNull();
    expect(kerasClipTransform({ clipnorm: 1 })!.name).toBe('clipByNorm');
    expect(kerasClipTransform({ clipvalue: 1 })!.name).toBe('clipByValue');
    expect(kerasClipTransform({ globalClipnorm: 1 })!.name).toBe('kerasGlobalClipnorm');
    expect(() => kerasClipTransform({ clipnorm: 1, globalClipnorm: 1 })).toThrow(
      'Only one of `clipnorm`, `clipvalue` and `globalClipnorm` can be set',
    );
    expect(() => kerasClipTransform({ clipnorm: 0 })).toThrow(/clipnorm must be a positive number \(got 0\).*omit the option to disable clipping/);
    expect(() => kerasClipTransform({ clipvalue: -1 })).toThrow(ConfigError);
    expect(() => kerasClipTransform({ globalClipnorm: NaN })).toThrow(ConfigError);
    expect(() => kerasClipTransform({ clip_norm: 1 } as never)).toThrow(/unknown option 'clip_norm'/);
  });
});

describe('Optax transforms against a float64 reference', () => {
  const transformFor = (c: OptaxCase): GradientTransformation<unknown> => {
    if (c.transform === 'clipByGlobalNorm') return clipByGlobalNorm(c.value);
    if (c.transform === 'clipByBlockRms') return clipByBlockRms(c.value);
    return adaptiveGradClip(c.value, { eps: c.eps });
  };

  it.each(fixtures.optaxCases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const grads = c.grads.map(make);
    const params = c.params?.map(make);
    const { out, info } = apply(transformFor(c), grads, params);
    out.forEach((o, i) => expectClose(flat(o!), values(c.expected[i]), 1e-6, 1e-9, `${c.name}: tensor ${i}`));
    expect(info[0].transform).toBe(c.transform);
    const changed = out.some((o, i) => o !== grads[i]);
    expect(info[0].clipped).toBe(changed);
  });

  it('AGC golden case (SEMANTICS §4, transposed to Keel’s [out, in] layout)', () => {
    // Optax layout W = [[1,0],[0,0]] with unit columns; in Keel's layout the units are rows.
    const w = tensor([
      [1, 0],
      [0, 0],
    ]);
    const g = tensor([
      [1, 1],
      [1, 1],
    ]);
    const { out } = apply(adaptiveGradClip(0.01), [g], [w]);
    // SEMANTICS quotes 0.0070711 and 7.07e-6: λ/√2 and λ·eps/√2.
    const [a, b, c, d] = flat(out[0]!);
    expect([a, b, c, d].map((v) => Number(v.toPrecision(5)))).toEqual([0.0070711, 0.0070711, 7.0711e-6, 7.0711e-6]);
    expectClose([a, b, c, d], [0.01 / Math.SQRT2, 0.01 / Math.SQRT2, 1e-5 / Math.SQRT2, 1e-5 / Math.SQRT2], 1e-6);
  });
});

describe('transforms: reports, inputs and validation', () => {
  it('each pushes one UpdateInfo with the norms before and after', () => {
    const grads = [tensor([3, 4]), tensor([12])]; // global norm 13
    const { out, info } = apply(clipByGlobalNorm(6.5), grads);
    expect(info).toEqual([{ transform: 'clipByGlobalNorm', normBefore: 13, normAfter: expect.closeTo(6.5, 5), clipped: true }]);
    expectClose(flat(out[0]!), [1.5, 2], 1e-7);
    expect(flat(grads[0])).toEqual([3, 4]);
    const kept = apply(clipByGlobalNorm(20), grads);
    expect(kept.out[0]).toBe(grads[0]); // passed through, not copied
    expect(kept.info[0]).toMatchObject({ normBefore: 13, normAfter: 13, clipped: false });
    const v = apply(clipByValue(3.5), grads);
    expect(v.info[0]).toMatchObject({ transform: 'clipByValue', clipped: true });
    expect(flat(v.out[1]!)).toEqual([3.5]);
  });

  it('pass null updates (parameters without gradients) through', () => {
    for (const t of [clipByValue(1), clipByNorm(1), clipByGlobalNorm(1), kerasGlobalClipnorm(1), clipByBlockRms(1)]) {
      const info: UpdateInfo[] = [];
      const [out] = t.update([null, tensor([30, 40])], t.init([]), [], info);
      expect(out[0], t.name).toBeNull();
      expect(out[1]!.size).toBe(2);
    }
  });

  it('non-finite norms: Optax keeps finite entries of an Inf-norm step at 0, Keras makes every update NaN', () => {
    const grads = [tensor([1, Infinity]), tensor([2])];
    const optax = apply(clipByGlobalNorm(1), grads).out.map((t) => flat(t!));
    expect(optax[0][0]).toBe(0);
    expect(optax[0][1]).toBeNaN();
    expect(optax[1]).toEqual([0]);
    const keras = apply(kerasGlobalClipnorm(1), grads).out.map((t) => flat(t!));
    expect(keras.flat().every(Number.isNaN)).toBe(true);
  });

  it('validate their thresholds', () => {
    expect(() => clipByValue(0)).toThrow(/clipByValue: maxDelta must be a positive number \(got 0\)/);
    expect(() => clipByNorm(-1)).toThrow(/clipByNorm: maxNorm .*got -1/);
    expect(() => clipByGlobalNorm(NaN)).toThrow(/clipByGlobalNorm: maxNorm .*got NaN/);
    expect(() => kerasGlobalClipnorm(0)).toThrow(ConfigError);
    expect(() => clipByBlockRms(-0.1)).toThrow(/clipByBlockRms: threshold/);
    expect(() => adaptiveGradClip(0)).toThrow(/adaptiveGradClip: clipping/);
    expect(() => adaptiveGradClip(0.01, { eps: -1 })).toThrow(/eps must be a finite number ≥ 0 \(got -1\)/);
    expect(() => adaptiveGradClip(0.01, { exclude: 3 as never })).toThrow(/exclude must be/);
    expect(() => adaptiveGradClip(0.01, { epsilon: 1 } as never)).toThrow(/unknown option 'epsilon'/);
  });

  it('AGC needs the parameters and leaves excluded ones alone', () => {
    const w = tensor([[1, 0]]);
    const g = tensor([[10, 10]]);
    const t = adaptiveGradClip(0.01);
    expect(() => t.update([g], {}, [], [])).toThrow(/needs the parameters, one per update/);
    const byTensor = apply(adaptiveGradClip(0.01, { exclude: [w] }), [g], [w]);
    expect(byTensor.out[0]).toBe(g);
    const byFn = apply(adaptiveGradClip(0.01, { exclude: (_p, i) => i === 0 }), [g], [w]);
    expect(byFn.out[0]).toBe(g);
  });

  it('run on the default backend', () => {
    expect(['js', 'wasm']).toContain(getBackend().name);
  });
});
