import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Generator, type Tensor, zeros } from '../src/index.js';
import * as init from '../src/nn/init/index.js';

// Every random initializer, drawn on a [512, 256] tensor (131,072 values; a Keel Linear(256 →
// 512) weight: fanIn 256, fanOut 512), is compared with the distribution its formula promises:
// the sample mean and variance lie within 4 standard errors of the exact moments, and a
// Kolmogorov–Smirnov test against the exact CDF (uniform bounds, normal std, truncation points)
// gives p > 0.001. The helpers below (normal CDF, truncated-normal CDF and moments, KS statistic
// and p-value) are written here independently of Keel's samplers and checked against PyTorch
// (Python's erfc, torch.special.log_ndtr and numerically integrated moments, from tools/fixtures/init_fixtures.py).

// ---------------------------------------------------------------------------------------------
// Helpers: normal CDF in float64, exact in the tails through log Φ.

const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);

/** erf(x) for 0 ≤ x ≤ 2 by the series of positive terms (2/√π)·e^{−x²}·Σ 2ⁿx^{2n+1}/(1·3···(2n+1)) (A&S 7.1.6). */
function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 500; n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

/**
 * log erfc(y) for y > 2 by the continued fraction (A&S 7.1.14), evaluated bottom-up; it converges
 * faster for larger y (the depth below is ample: checked against the C library's erfc below).
 */
function logErfcTail(y: number): number {
  if (y === Infinity) return -Infinity;
  let f = y;
  for (let k = Math.ceil(20 + 1000 / (y * y)); k >= 1; k--) f = y + k / 2 / f;
  return -y * y - LOG_SQRT_PI - Math.log(f);
}

/** log Φ(x), the standard normal CDF. */
function logPhi(x: number): number {
  if (x === -Infinity) return -Infinity;
  if (x <= 0) {
    const y = -x / Math.SQRT2;
    return y > 2 ? Math.log(0.5) + logErfcTail(y) : Math.log(0.5 * (1 - erfSeries(y)));
  }
  return Math.log1p(-Math.exp(logPhi(-x)));
}

/** Φ(x). */
function phiCdf(x: number): number {
  return x <= 0 ? Math.exp(logPhi(x)) : 1 - Math.exp(logPhi(-x));
}

/** log φ(x), the standard normal density. */
function logPdf(x: number): number {
  return -0.5 * x * x - 0.5 * Math.log(2 * Math.PI);
}

/** A distribution to test against: its CDF and its exact mean, variance and 4th central moment. */
interface Dist {
  label: string;
  cdf: (x: number) => number;
  mean: number;
  variance: number;
  mu4: number;
}

function uniformDist(lo: number, hi: number): Dist {
  const w = hi - lo;
  return {
    label: `U(${lo.toPrecision(4)}, ${hi.toPrecision(4)})`,
    cdf: (x) => Math.min(1, Math.max(0, (x - lo) / w)),
    mean: (lo + hi) / 2,
    variance: (w * w) / 12,
    mu4: w ** 4 / 80,
  };
}

function normalDist(mean: number, std: number): Dist {
  const label = `N(${mean}, ${std.toPrecision(4)}²)`;
  return { label, cdf: (x) => phiCdf((x - mean) / std), mean, variance: std * std, mu4: 3 * std ** 4 };
}

/** Standard normal restricted to [alpha, beta]: CDF (through logs in the tails) and moments. */
function truncatedStandard(alpha: number, beta: number): { cdf: (z: number) => number; m: [number, number, number, number] } {
  if (alpha >= 0) {
    const mirror = truncatedStandard(-beta, -alpha);
    const [m1, m2, m3, m4] = mirror.m;
    return { cdf: (z) => 1 - mirror.cdf(-z), m: [-m1, m2, -m3, m4] };
  }
  let logZ: number;
  let cdf: (z: number) => number;
  if (beta <= 0) {
    const la = logPhi(alpha);
    const lb = logPhi(beta);
    logZ = lb + Math.log(-Math.expm1(la - lb));
    cdf = (z) => (z <= alpha ? 0 : z >= beta ? 1 : (Math.exp(logPhi(z) - lb) * -Math.expm1(la - logPhi(z))) / -Math.expm1(la - lb));
  } else {
    const pa = phiCdf(alpha);
    const z0 = phiCdf(beta) - pa;
    logZ = Math.log(z0);
    cdf = (z) => (z <= alpha ? 0 : z >= beta ? 1 : (phiCdf(z) - pa) / z0);
  }
  // Raw moments by m_k = (k−1)·m_{k−2} + (α^{k−1}φ(α) − β^{k−1}φ(β))/Z (integration by parts).
  const edge = (x: number, k: number): number => (Number.isFinite(x) ? x ** (k - 1) * Math.exp(logPdf(x) - logZ) : 0);
  const raw = [1];
  raw[1] = edge(alpha, 1) - edge(beta, 1);
  for (let k = 2; k <= 4; k++) raw[k] = (k - 1) * raw[k - 2] + edge(alpha, k) - edge(beta, k);
  return { cdf, m: [raw[1], raw[2], raw[3], raw[4]] };
}

/** N(mean, std²) restricted to the absolute interval [a, b]. */
function truncDist(mean: number, std: number, a: number, b: number): Dist {
  const t = truncatedStandard((a - mean) / std, (b - mean) / std);
  const [m1, m2, m3, m4] = t.m;
  const variance = m2 - m1 * m1;
  const mu4 = m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1 ** 4;
  return {
    label: `N(${mean}, ${std.toPrecision(4)}²) on [${a.toPrecision(4)}, ${b.toPrecision(4)}]`,
    cdf: (x) => t.cdf((x - mean) / std),
    mean: mean + std * m1,
    variance: std * std * variance,
    mu4: std ** 4 * mu4,
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers: the Kolmogorov–Smirnov test.

/** The KS statistic D = sup |F_n(x) − F(x)| of `samples` against the continuous CDF `cdf`. */
function ksStatistic(samples: ArrayLike<number>, cdf: (x: number) => number): number {
  const xs = Float64Array.from(samples).sort();
  const n = xs.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(xs[i]);
    d = Math.max(d, f - i / n, (i + 1) / n - f);
  }
  return d;
}

/**
 * The asymptotic p-value P(D > d) for n samples: the Kolmogorov distribution's tail
 * Q(λ) = 2·Σ_{k≥1} (−1)^{k−1}·e^{−2k²λ²} at λ = (√n + 0.12 + 0.11/√n)·d (Stephens' small-n
 * correction, as in Numerical Recipes' `probks`).
 */
function ksPValue(d: number, n: number): number {
  const sn = Math.sqrt(n);
  return kolmogorovQ((sn + 0.12 + 0.11 / sn) * d);
}

function kolmogorovQ(lambda: number): number {
  if (lambda < 0.2) return 1; // the series converges slowly there, and Q is 1 to 15 digits
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-18) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

function ksTest(samples: ArrayLike<number>, cdf: (x: number) => number): { d: number; p: number } {
  const d = ksStatistic(samples, cdf);
  return { d, p: ksPValue(d, samples.length) };
}

/** Sample mean and (biased) variance in float64. */
function moments(xs: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  const mean = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i] - mean) ** 2;
  return { mean, variance: v / xs.length };
}

/** Mean and variance within 4 standard errors of the distribution's, and KS p > 0.001. */
function expectDistribution(samples: ArrayLike<number>, dist: Dist): void {
  const n = samples.length;
  const m = moments(samples);
  const seMean = Math.sqrt(dist.variance / n);
  const seVar = Math.sqrt((dist.mu4 - dist.variance ** 2) / n);
  expect(Math.abs(m.mean - dist.mean), `mean ${m.mean} vs ${dist.mean} (${dist.label})`).toBeLessThanOrEqual(4 * seMean);
  expect(Math.abs(m.variance - dist.variance), `variance ${m.variance} vs ${dist.variance} (${dist.label})`).toBeLessThanOrEqual(4 * seVar);
  const { d, p } = ksTest(samples, dist.cdf);
  expect(p, `KS D=${d.toExponential(3)} against ${dist.label}`).toBeGreaterThan(0.001);
}

// ---------------------------------------------------------------------------------------------

interface NormalFixtures {
  normal: {
    cdf: { x: number[]; ndtr: number[]; logNdtr: number[] };
    truncatedMoments: { alpha: number; beta: number; mass: number; mean: number; var: number; m4: number }[];
  };
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/init.json', import.meta.url), 'utf8')) as NormalFixtures;

describe('test helpers', () => {
  it('Φ and log Φ equal 0.5·erfc(−x/√2) (C library) and torch.special.log_ndtr from −40 to 8', () => {
    const { x, ndtr, logNdtr } = fx.normal.cdf;
    for (let i = 0; i < x.length; i++) {
      if (ndtr[i] > 0) expect(Math.abs(phiCdf(x[i]) - ndtr[i]) / ndtr[i], `Φ(${x[i]})`).toBeLessThan(1e-12);
      expect(Math.abs(logPhi(x[i]) - logNdtr[i]) / Math.max(1e-300, Math.abs(logNdtr[i])), `log Φ(${x[i]})`).toBeLessThan(1e-11);
    }
  });

  it('truncated-normal moments equal numerical integrals computed by PyTorch', () => {
    for (const c of fx.normal.truncatedMoments) {
      const d = truncDist(0, 1, c.alpha, c.beta);
      expect(d.mean, `mean [${c.alpha}, ${c.beta}]`).toBeCloseTo(c.mean, 10);
      expect(d.variance / c.var, `variance [${c.alpha}, ${c.beta}]`).toBeCloseTo(1, 9);
      expect(d.mu4 / c.m4, `4th moment [${c.alpha}, ${c.beta}]`).toBeCloseTo(1, 8);
    }
    // Keras' constant is the std of N(0, 1) on [−2, 2].
    expect(Math.sqrt(truncDist(0, 1, -2, 2).variance)).toBeCloseTo(0.87962566103423978, 14);
  });

  it('the KS p-value matches the Kolmogorov table and rejects wrong distributions', () => {
    expect(kolmogorovQ(1.3581)).toBeCloseTo(0.05, 4);
    expect(kolmogorovQ(1.6276)).toBeCloseTo(0.01, 4);
    expect(kolmogorovQ(1.9495)).toBeCloseTo(0.001, 5);
    const g = new Generator(1);
    const xs = Float64Array.from({ length: 131072 }, () => g.nextNormal());
    expect(ksTest(xs, normalDist(0, 1).cdf).p).toBeGreaterThan(0.001);
    expect(ksTest(xs, normalDist(0, 1.03).cdf).p).toBeLessThan(0.001); // a 3% wrong std is caught
    expect(ksTest(xs, normalDist(0.01, 1).cdf).p).toBeLessThan(0.001);
    expect(ksTest(xs, uniformDist(-Math.sqrt(3), Math.sqrt(3)).cdf).p).toBeLessThan(1e-10);
    // Interior CDF of a right-tail interval, through the mirror: continuous and in [0, 1].
    const tail = truncDist(0, 1, 40, 41);
    expect(tail.cdf(40)).toBe(0);
    expect(tail.cdf(40.025)).toBeGreaterThan(0.5); // almost all mass within ~1/40 of the edge
    expect(tail.cdf(41)).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------

const SHAPE = [512, 256];
const FAN_IN = 256;
const FAN_OUT = 512;
const TRUNC = 0.87962566103423978;

const rel = (mean: number, std: number): Dist => truncDist(mean, std, mean - 2 * std, mean + 2 * std);
const sym = (limit: number): Dist => uniformDist(-limit, limit);
/**
 * A column of a Haar-random 512 × 256 matrix with orthonormal columns is uniform on the unit
 * sphere of R^512: mean 0, variance 1/512, E[x⁴] = 3/(512·514); nearly N(0, 1/512) for the KS test.
 */
const sphere = (gain: number): Dist => ({ ...normalDist(0, gain / Math.sqrt(512)), mu4: (gain ** 4 * 3) / (512 * 514) });

type Draw = (g: Generator) => Tensor;
type Float = 'float32' | 'float64';
/** An in-place initializer applied to a new [512, 256] tensor. */
const pt =
  (fill: (t: Tensor, g: Generator) => Tensor, dtype: Float = 'float32'): Draw =>
  (g) =>
    fill(zeros(SHAPE, { dtype }), g);
/** A Keras-style initializer called for [512, 256]. */
const keras = (initializer: init.Initializer): Draw => (g) => initializer(SHAPE, 'float32', g);
/** truncNormal_ with options `o`. */
const tn = (o: init.TruncNormalOptions, dtype: Float = 'float32'): Draw => pt((t, g) => init.truncNormal_(t, { ...o, generator: g }), dtype);

/** [label, draw with a generator, intended distribution]. */
const CASES: [string, Draw, Dist][] = [
  // PyTorch-style
  ['uniform_(−0.3, 0.7)', pt((t, g) => init.uniform_(t, -0.3, 0.7, { generator: g })), uniformDist(-0.3, 0.7)],
  ['normal_(0.5, 2)', pt((t, g) => init.normal_(t, 0.5, 2, { generator: g })), normalDist(0.5, 2)],
  ['truncNormal_()', tn({}), truncDist(0, 1, -2, 2)],
  ['truncNormal_(mean 0.5, std 2, a −1, b 4)', tn({ mean: 0.5, std: 2, a: -1, b: 4 }), truncDist(0.5, 2, -1, 4)],
  ['truncNormal_(std 0.02): absolute ±2 cuts nothing', tn({ std: 0.02 }), normalDist(0, 0.02)],
  ['truncNormal_(a −0.3, b 0.4): narrow, uniform proposal', tn({ a: -0.3, b: 0.4 }), truncDist(0, 1, -0.3, 0.4)],
  ['truncNormal_(a 0.5, b 1): one side, uniform proposal', tn({ a: 0.5, b: 1 }), truncDist(0, 1, 0.5, 1)],
  ['truncNormal_(a 0.5, b 1.2): one side, exponential proposal', tn({ a: 0.5, b: 1.2 }), truncDist(0, 1, 0.5, 1.2)],
  ['truncNormal_(a 5, b 6): tail', tn({ a: 5, b: 6 }), truncDist(0, 1, 5, 6)],
  ['truncNormal_(a −41, b −40): far tail, below 0', tn({ a: -41, b: -40 }, 'float64'), truncDist(0, 1, -41, -40)],
  ['truncNormal_(a 3, b ∞)', tn({ a: 3, b: Infinity }), truncDist(0, 1, 3, Infinity)],
  ['truncNormal_(mean 1, std 0.1, a 1.15, b 1.4)', tn({ mean: 1, std: 0.1, a: 1.15, b: 1.4 }), truncDist(1, 0.1, 1.15, 1.4)],
  ['xavierUniform_', pt((t, g) => init.xavierUniform_(t, { generator: g })), sym(Math.sqrt(6 / 768))],
  ['xavierUniform_(gain 5/3)', pt((t, g) => init.xavierUniform_(t, { gain: 5 / 3, generator: g })), sym((5 / 3) * Math.sqrt(6 / 768))],
  ['xavierNormal_ (not truncated)', pt((t, g) => init.xavierNormal_(t, { generator: g })), normalDist(0, Math.sqrt(2 / 768))],
  ['kaimingUniform_()', pt((t, g) => init.kaimingUniform_(t, { generator: g })), sym(Math.sqrt(6 / FAN_IN))],
  ['kaimingUniform_(a √5): PyTorch default', pt((t, g) => init.kaimingUniform_(t, { a: Math.sqrt(5), generator: g })), sym(1 / 16)],
  [
    'kaimingUniform_(fanOut, relu)',
    pt((t, g) => init.kaimingUniform_(t, { mode: 'fanOut', nonlinearity: 'relu', generator: g })),
    sym(Math.sqrt(6 / FAN_OUT)),
  ],
  [
    'kaimingNormal_(relu) (not truncated)',
    pt((t, g) => init.kaimingNormal_(t, { nonlinearity: 'relu', generator: g })),
    normalDist(0, Math.sqrt(2 / FAN_IN)),
  ],
  [
    'kaimingNormal_(fan_out, tanh)',
    pt((t, g) => init.kaimingNormal_(t, { mode: 'fan_out', nonlinearity: 'tanh', generator: g })),
    normalDist(0, 5 / 3 / Math.sqrt(FAN_OUT)),
  ],
  ['orthogonal_', pt((t, g) => init.orthogonal_(t, { generator: g })), sphere(1)],
  ['orthogonal_(gain 2)', pt((t, g) => init.orthogonal_(t, { gain: 2, generator: g })), sphere(2)],
  // Keras-style (fans from Keel's layout: fanIn 256, fanOut 512)
  ['randomNormal()', keras(init.randomNormal()), normalDist(0, 0.05)],
  ['randomNormal(mean 1, stddev 0.2)', keras(init.randomNormal({ mean: 1, stddev: 0.2 })), normalDist(1, 0.2)],
  ['randomUniform()', keras(init.randomUniform()), uniformDist(-0.05, 0.05)],
  ['randomUniform(minval 0, maxval 3)', keras(init.randomUniform({ minval: 0, maxval: 3 })), uniformDist(0, 3)],
  ['truncatedNormal() (±2 stddev, relative)', keras(init.truncatedNormal()), rel(0, 0.05)],
  ['truncatedNormal(mean −1, stddev 0.3)', keras(init.truncatedNormal({ mean: -1, stddev: 0.3 })), rel(-1, 0.3)],
  ['glorotUniform', keras(init.glorotUniform()), sym(Math.sqrt(6 / 768))],
  ['glorotNormal (truncated)', keras(init.glorotNormal()), rel(0, Math.sqrt(1 / 384) / TRUNC)],
  ['heUniform', keras(init.heUniform()), sym(Math.sqrt(6 / FAN_IN))],
  ['heNormal (truncated)', keras(init.heNormal()), rel(0, Math.sqrt(2 / FAN_IN) / TRUNC)],
  ['lecunUniform', keras(init.lecunUniform()), sym(Math.sqrt(3 / FAN_IN))],
  ['lecunNormal (truncated)', keras(init.lecunNormal()), rel(0, Math.sqrt(1 / FAN_IN) / TRUNC)],
  [
    'varianceScaling(0.5, fanOut, untruncatedNormal)',
    keras(init.varianceScaling({ scale: 0.5, mode: 'fanOut', distribution: 'untruncatedNormal' })),
    normalDist(0, Math.sqrt(0.5 / FAN_OUT)),
  ],
  [
    'varianceScaling(fanGeoAvg, uniform)',
    keras(init.varianceScaling({ mode: 'fanGeoAvg', distribution: 'uniform' })),
    sym(Math.sqrt(3 / Math.sqrt(FAN_IN * FAN_OUT))),
  ],
  [
    'varianceScaling(2, fan_avg, normal = truncated)',
    keras(init.varianceScaling({ scale: 2, mode: 'fan_avg', distribution: 'normal' })),
    rel(0, Math.sqrt(2 / 384) / TRUNC),
  ],
  ['orthogonal(gain 1.5)', keras(init.orthogonal({ gain: 1.5 })), sphere(1.5)],
];

describe('every random initializer has its intended distribution on a [512, 256] tensor', () => {
  it.each(CASES.map(([label, draw, dist], i) => ({ label, draw, dist, seed: 100 + i })))('$label', ({ draw, dist, seed }) => {
    const t = draw(new Generator(seed));
    expect(t.shape).toEqual(SHAPE);
    expectDistribution(t.toTypedArray(), dist);
  });

  it('sparse_: the non-zero entries are N(0, std²), exactly ceil(0.1·512) = 52 zeros per column', () => {
    const v = init.sparse_(zeros(SHAPE), 0.1, { std: 0.01, generator: new Generator(7) }).toTypedArray();
    const nonzero = v.filter((x) => x !== 0);
    expect(v.length - nonzero.length).toBe(52 * 256);
    expectDistribution(nonzero, normalDist(0, 0.01));
  });

  it('truncated Keras initializers keep the exact target variance (the 0.8796 correction TF.js lacks)', () => {
    // The intended distributions above are built from the formula; their variance is scale/n.
    expect(rel(0, Math.sqrt(2 / FAN_IN) / TRUNC).variance).toBeCloseTo(2 / FAN_IN, 12);
    // Against the uncorrected stddev (variance 0.774× the target, tfjs#8594) the KS test rejects heNormal.
    const he = init.heNormal()(SHAPE, 'float32', new Generator(3)).toTypedArray();
    expect(ksTest(he, rel(0, Math.sqrt(2 / FAN_IN)).cdf).p).toBeLessThan(1e-6);
    // And PyTorch's untruncated kaimingNormal_ is not what heNormal draws.
    expect(ksTest(he, normalDist(0, Math.sqrt(2 / FAN_IN)).cdf).p).toBeLessThan(1e-6);
  });
});
