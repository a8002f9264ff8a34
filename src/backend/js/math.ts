import type { BinaryOp, UnaryOp, UnaryParams } from '../backend.js';

/**
 * Scalar definitions of the elementwise ops, in float64. These are the reference semantics that
 * every backend is tested against, so edge cases (NaN, ±0, overflow) follow PyTorch on purpose.
 */

/** √(2/π), the constant of the tanh approximation of GELU. */
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
/** SELU's constants, 1.0507009873554804934… and 1.6732632423543772848…, rounded to float64. */
const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

/** The function `x ↦ op(x)`; parameters default as in PyTorch. */
export function unaryFn(op: UnaryOp, params: UnaryParams = {}): (x: number) => number {
  switch (op) {
    case 'neg':
      return (x) => -x;
    case 'exp':
      return Math.exp;
    case 'log':
      return Math.log;
    case 'sqrt':
      return Math.sqrt;
    case 'abs':
      return Math.abs;
    case 'sign':
      return Math.sign; // sign(0) = 0, sign(NaN) = NaN
    case 'tanh':
      return Math.tanh;
    case 'sigmoid':
      return sigmoid;
    case 'relu':
      // `x > 0 || NaN`: NaN passes through (PyTorch) and -0 becomes +0.
      return (x) => (x > 0 || x !== x ? x : 0);
    case 'erf':
      return erf;
    case 'leakyRelu': {
      const alpha = params.alpha ?? 0.01;
      return (x) => (x > 0 ? x : alpha * x);
    }
    case 'elu': {
      const alpha = params.alpha ?? 1;
      // expm1 keeps the relative precision of exp(x) - 1 for x near 0.
      return (x) => (x > 0 ? x : alpha * Math.expm1(x));
    }
    case 'selu':
      return (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x));
    case 'gelu':
      return (x) => 0.5 * x * (1 + erf(x * Math.SQRT1_2));
    case 'geluTanh':
      return (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case 'softplus': {
      const beta = params.beta ?? 1;
      const threshold = params.threshold ?? 20;
      // Above the threshold log1p(exp(βx))/β equals x to float precision, and exp would overflow.
      return (x) => (x * beta > threshold ? x : Math.log1p(Math.exp(beta * x)) / beta);
    }
    default:
      return op satisfies never;
  }
}

/**
 * The function `(a, b) ↦ op(a, b)`. Comparisons give 1 or 0. `maximum`/`minimum` propagate NaN
 * (as PyTorch does), which `Math.max`/`Math.min` already do. For int32 outputs `div` is true
 * division followed by the Int32Array store, i.e. truncation toward zero (-7/2 → -3), and x/0
 * (±Infinity or NaN) stores as 0.
 */
export function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add':
      return (a, b) => a + b;
    case 'sub':
      return (a, b) => a - b;
    case 'mul':
      return (a, b) => a * b;
    case 'div':
      return (a, b) => a / b;
    case 'pow':
      return Math.pow;
    case 'maximum':
      return Math.max;
    case 'minimum':
      return Math.min;
    case 'gt':
      return (a, b) => (a > b ? 1 : 0);
    case 'ge':
      return (a, b) => (a >= b ? 1 : 0);
    case 'lt':
      return (a, b) => (a < b ? 1 : 0);
    case 'le':
      return (a, b) => (a <= b ? 1 : 0);
    case 'eq':
      return (a, b) => (a === b ? 1 : 0);
    case 'ne':
      return (a, b) => (a !== b ? 1 : 0);
    default:
      return op satisfies never;
  }
}

/** Logistic function that never evaluates exp of a large positive number (no overflow to ∞/∞). */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

// Coefficients of the rational approximations in Sun's fdlibm s_erf.c (FreeBSD msun), see erf().
const ERX = 8.45062911510467529297e-1; // 0.84506291151 rounded to float32
const EFX = 1.28379167095512586316e-1; // 2/√π - 1
const EFX8 = 1.02703333676410069053e0;
const PP = [
  1.28379167095512558561e-1, -3.25042107247001499370e-1, -2.84817495755985104766e-2,
  -5.77027029648944159157e-3, -2.37630166566501626084e-5,
];
const QQ = [
  1, 3.97917223959155352819e-1, 6.50222499887672944485e-2,
  5.08130628187576562776e-3, 1.32494738004321644526e-4, -3.96022827877536812320e-6,
];
const PA = [
  -2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1,
  3.18346619901161753674e-1, -1.10894694282396677476e-1, 3.54783043256182359371e-2,
  -2.16637559486879084300e-3,
];
const QA = [
  1, 1.06420880400844228286e-1, 5.40397917702171048937e-1,
  7.18286544141962662868e-2, 1.26171219808761642112e-1, 1.36370839120290507362e-2,
  1.19844998467991074170e-2,
];
const RA = [
  -9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1,
  -6.23753324503260060396e1, -1.62396669462573470355e2, -1.84605092906711035994e2,
  -8.12874355063065934246e1, -9.81432934416914548592e0,
];
const SA = [
  1, 1.96512716674392571292e1, 1.37657754143519042600e2,
  4.34565877475229228821e2, 6.45387271733267880336e2, 4.29008140027567833386e2,
  1.08635005541779435134e2, 6.57024977031928170135e0, -6.04244152148580987438e-2,
];
const RB = [
  -9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1,
  -1.60636384855821916062e2, -6.37566443368389627722e2, -1.02509513161107724954e3,
  -4.83519191608651397019e2,
];
const SB = [
  1, 3.03380607434824582924e1, 3.25792512996573918826e2,
  1.53672958608443695994e3, 3.19985821950859553908e3, 2.55305040643316442583e3,
  4.74528541206955367215e2, -2.24409524465858183362e1,
];
/** fdlibm compares the high word with 0x4006DB6E; this is that double (≈ 1/0.35). */
const ERF_RB_FROM = 2.8571434020996094;

/** Σ c[i]·x^i by Horner's rule. */
function poly(c: readonly number[], x: number): number {
  let r = c[c.length - 1];
  for (let i = c.length - 2; i >= 0; i--) r = r * x + c[i];
  return r;
}

/**
 * The error function, accurate to about 1 ulp: a port of fdlibm's s_erf.c. Simple formulas
 * (Abramowitz–Stegun 7.1.26, ~1e-7) are far from float64 precision, and this is the reference
 * that exact GELU is checked against.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax !== ax) return x; // NaN
  if (ax < 0.84375) {
    // erf(x) = x + x·R(x²): the leading term is exact and R is small. Below 2^-28 R is a constant;
    // near the subnormals it is applied to 8x so that EFX·x keeps its bits.
    if (ax < 2 ** -28) return ax < 2 ** -1015 ? (8 * x + EFX8 * x) / 8 : x + EFX * x;
    const z = x * x;
    return x + (x * poly(PP, z)) / poly(QQ, z);
  }
  if (ax < 1.25) {
    // Around 1: erf(1 + s) = c + P(s)/Q(s) with c ≈ 0.845 a float32, so the sum loses no bits of P/Q.
    const s = ax - 1;
    const r = ERX + poly(PA, s) / poly(QA, s);
    return x >= 0 ? r : -r;
  }
  if (ax >= 6) return x >= 0 ? 1 : -1; // 1 - erfc(6) rounds to 1
  // erfc(x) = exp(-x² - 0.5625 + R(1/x²)/S(1/x²)) / x. Splitting x = z + (x - z) with z a float32
  // makes z² exact, so -x² = -z² + (z - x)(z + x) loses nothing to cancellation.
  const s = 1 / (ax * ax);
  const rs = ax < ERF_RB_FROM ? poly(RA, s) / poly(SA, s) : poly(RB, s) / poly(SB, s);
  const z = Math.fround(ax);
  const r = Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + rs);
  return x >= 0 ? 1 - r / ax : r / ax - 1;
}
