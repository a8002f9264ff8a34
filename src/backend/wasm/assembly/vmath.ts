// Elementwise math for the kernels: f32x4 versions of every op but softplus and pow (exp, log and
// erf are Cephes/fdlibm fits in float32, within 2 ulp of the reference), and float64 scalar
// definitions of every op that follow the reference in src/backend/js/math.ts line by line. The
// scalar ones serve int32 and float64 inputs, softplus (its threshold test and log1p(exp) are kept
// exactly as the reference has them) and pow (its special cases are JavaScript's).

// Op codes: the order of UNARY_CODES and BINARY_CODES in wasm-backend.ts.
export const NEG = 0;
export const EXP = 1;
export const LOG = 2;
export const SQRT = 3;
export const ABS = 4;
export const SIGN = 5;
export const TANH = 6;
export const SIGMOID = 7;
export const RELU = 8;
export const ERF = 9;
export const LEAKY_RELU = 10;
export const ELU = 11;
export const SELU = 12;
export const GELU = 13;
export const GELU_TANH = 14;
export const SOFTPLUS = 15;

export const ADD = 0;
export const SUB = 1;
export const MUL = 2;
export const DIV = 3;
export const POW = 4;
export const MAXIMUM = 5;
export const MINIMUM = 6;
export const GT = 7;
export const GE = 8;
export const LT = 9;
export const LE = 10;
export const EQ = 11;
export const NE = 12;

const SQRT_2_OVER_PI: f64 = 0.7978845608028654; // Math.sqrt(2 / Math.PI)
const SQRT1_2: f64 = 0.7071067811865476;
const SELU_SCALE: f64 = 1.0507009873554805;
const SELU_ALPHA: f64 = 1.6732632423543772;
// erf (fdlibm s_erf.c): erf(1) to float32 precision; 2/√π − 1; 8·(2/√π); where the second fit for
// erfc starts (≈ 1/0.35).
const ERX: f64 = 8.45062911510467529297e-1;
const EFX: f64 = 1.28379167095512586316e-1;
const EFX8: f64 = 1.02703333676410069053e0;
const ERF_RB_FROM: f64 = 2.8571434020996094;

// ---------------------------------------------------------------------------------------------
// f32x4 exp and friends. Cephes' expf: n = round(x·log2 e), r = x − n·ln 2 in two parts (the first
// has few bits, so n·C1 is exact), exp(r) by a degree-7 polynomial on |r| ≤ ln2/2 (about 1 ulp),
// then ·2ⁿ applied as two halves so that overflow gives +Infinity and underflow goes gradually
// through the subnormals to 0, with no lane-wise branches. NaN stays NaN (min/max propagate it).

const EXP_HI: f32 = 88.8; // exp(88.8) > f32 max: +Infinity
const EXP_LO: f32 = -104.0; // exp(-104) < half the least subnormal: 0
const LOG2E: f32 = 1.44269504088896341;
const C1: f32 = 0.693359375;
const C2: f32 = -2.12194440e-4;

// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  x = f32x4.max(f32x4.min(x, f32x4.splat(EXP_HI)), f32x4.splat(EXP_LO));
  const fn = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(fn, f32x4.splat(C1))), f32x4.mul(fn, f32x4.splat(C2)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  // 2ⁿ = 2^h · 2^(n−h) with h = n >> 1: both factors are normal floats for n in [−150, 128].
  const n = i32x4.trunc_sat_f32x4_s(fn);
  const h = i32x4.shr_s(n, 1);
  const bias = i32x4.splat(127);
  const s1 = i32x4.shl(i32x4.add(h, bias), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(n, h), bias), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/**
 * expm1 without the cancellation of exp(x) − 1 near 0: below ln2/2 in magnitude its Taylor series
 * to x⁷ (the next term is under 2e-8 relative), elsewhere exp(x) − 1, which is then at least 0.29
 * in magnitude so the subtraction loses nothing that matters.
 */
// @ts-ignore: decorator
@inline export function vexpm1(x: v128): v128 {
  let p = f32x4.splat(<f32>(1.0 / 5040.0));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(<f32>(1.0 / 720.0)));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(<f32>(1.0 / 120.0)));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(<f32>(1.0 / 24.0)));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(<f32>(1.0 / 6.0)));
  p = f32x4.add(f32x4.mul(p, x), f32x4.splat(0.5));
  // x·(1 + x·p) rather than x + x²·p: the same value, and −0 stays −0 (as Math.expm1(−0)).
  const small = f32x4.mul(x, f32x4.add(f32x4.splat(1), f32x4.mul(p, x)));
  const large = f32x4.sub(vexp(x), f32x4.splat(1));
  return v128.bitselect(small, large, f32x4.lt(f32x4.abs(x), f32x4.splat(0.34657359)));
}

/**
 * The logistic function as the reference computes it: 1/(1 + e^−x) for x ≥ 0 and e^x/(1 + e^x)
 * below, i.e. (x ≥ 0 ? 1 : e)/(1 + e) with e = exp(−|x|), which never overflows.
 */
// @ts-ignore: decorator
@inline export function vsigmoid(x: v128): v128 {
  const e = vexp(f32x4.neg(f32x4.abs(x)));
  const num = v128.bitselect(f32x4.splat(1), e, f32x4.ge(x, f32x4.splat(0)));
  return f32x4.div(num, f32x4.add(f32x4.splat(1), e));
}

/**
 * Cephes' tanhf: x·(1 + x²·P(x²)) below 0.625 in magnitude, 1 − 2/(e^{2|x|} + 1) with the sign
 * of x above (exp overflowing to +Infinity gives exactly ±1). ±0 and NaN pass through.
 */
// @ts-ignore: decorator
@inline export function vtanh(x: v128): v128 {
  const z = f32x4.abs(x);
  const s = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.mul(x, f32x4.add(f32x4.splat(1), f32x4.mul(p, s))); // keeps −0, as Math.tanh
  const e = vexp(f32x4.add(z, z));
  const big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(signed, small, f32x4.gt(z, f32x4.splat(0.625)));
}

/** `p·x + c`, the step of Horner's rule. */
// @ts-ignore: decorator
@inline function mad(p: v128, x: v128, c: f32): v128 {
  return f32x4.add(f32x4.mul(p, x), f32x4.splat(c));
}

/**
 * Cephes' logf: x = m·2^e with m in [√½, √2), log(1 + (m − 1)) by a degree-9 polynomial, plus
 * e·ln 2 in two parts. Subnormals are scaled by 2²³ first; 0 gives −Infinity, negatives and NaN
 * give NaN, +Infinity stays, as Math.log.
 */
// @ts-ignore: decorator
@inline export function vlog(x: v128): v128 {
  const tiny = f32x4.lt(x, f32x4.splat(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(8388608.0)), x, tiny);
  let e = i32x4.sub(i32x4.shr_u(xs, 23), i32x4.splat(126));
  e = i32x4.sub(e, v128.and(tiny, i32x4.splat(23)));
  let m = v128.or(v128.and(xs, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000)); // in [0.5, 1)
  const low = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  e = i32x4.add(e, low); // −1 where m is doubled
  m = f32x4.sub(f32x4.add(m, v128.and(m, low)), f32x4.splat(1));
  const fe = f32x4.convert_i32x4_s(e);
  const z = f32x4.mul(m, m);
  let y = f32x4.splat(7.0376836292e-2);
  y = mad(y, m, -1.1514610310e-1);
  y = mad(y, m, 1.1676998740e-1);
  y = mad(y, m, -1.2420140846e-1);
  y = mad(y, m, 1.4249322787e-1);
  y = mad(y, m, -1.6668057665e-1);
  y = mad(y, m, 2.0000714765e-1);
  y = mad(y, m, -2.4999993993e-1);
  y = mad(y, m, 3.3333331174e-1);
  y = f32x4.mul(f32x4.mul(y, m), z);
  y = f32x4.add(y, f32x4.mul(fe, f32x4.splat(-2.12194440e-4)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  let r = f32x4.add(f32x4.add(m, y), f32x4.mul(fe, f32x4.splat(0.693359375)));
  r = v128.bitselect(f32x4.splat(-Infinity), r, f32x4.eq(x, f32x4.splat(0)));
  r = v128.bitselect(f32x4.splat(Infinity), r, f32x4.eq(x, f32x4.splat(Infinity)));
  return v128.bitselect(f32x4.splat(NaN), r, v128.or(f32x4.lt(x, f32x4.splat(0)), f32x4.ne(x, x)));
}

// erf in float32, lane-wise, by fdlibm's regions (the float version, musl's erff, uses the same
// rational fits with the coefficients rounded to float32). Split in two so that both erf and
// erfc keep their relative precision: verfSmall is erf(a) for 0 ≤ a < 0.84375, verfcLarge is
// erfc(a) for a ≥ 0.84375 (0 from 6 on, where the reference's erf is exactly ±1).

// @ts-ignore: decorator
@inline function verfSmall(a: v128): v128 {
  const z = f32x4.mul(a, a);
  let p = f32x4.splat(-2.37630166566501626084e-5);
  p = mad(p, z, -5.77027029648944159157e-3);
  p = mad(p, z, -2.84817495755985104766e-2);
  p = mad(p, z, -3.25042107247001499370e-1);
  p = mad(p, z, 1.28379167095512558561e-1);
  let q = f32x4.splat(-3.96022827877536812320e-6);
  q = mad(q, z, 1.32494738004321644526e-4);
  q = mad(q, z, 5.08130628187576562776e-3);
  q = mad(q, z, 6.50222499887672944485e-2);
  q = mad(q, z, 3.97917223959155352819e-1);
  q = mad(q, z, 1);
  return f32x4.add(a, f32x4.div(f32x4.mul(a, p), q));
}

// @ts-ignore: decorator
@inline function verfcLarge(a: v128): v128 {
  // 0.84375 ≤ a < 1.25: erfc(1 + s) = (1 − erx) − P(s)/Q(s).
  const s = f32x4.sub(a, f32x4.splat(1));
  let p = f32x4.splat(-2.16637559486879084300e-3);
  p = mad(p, s, 3.54783043256182359371e-2);
  p = mad(p, s, -1.10894694282396677476e-1);
  p = mad(p, s, 3.18346619901161753674e-1);
  p = mad(p, s, -3.72207876035701323847e-1);
  p = mad(p, s, 4.14856118683748331666e-1);
  p = mad(p, s, -2.36211856075265944077e-3);
  let q = f32x4.splat(1.19844998467991074170e-2);
  q = mad(q, s, 1.36370839120290507362e-2);
  q = mad(q, s, 1.26171219808761642112e-1);
  q = mad(q, s, 7.18286544141962662868e-2);
  q = mad(q, s, 5.40397917702171048937e-1);
  q = mad(q, s, 1.06420880400844228286e-1);
  q = mad(q, s, 1);
  const near1 = f32x4.sub(f32x4.splat(<f32>(1 - ERX)), f32x4.div(p, q));
  const far = f32x4.ge(a, f32x4.splat(1.25));
  let tail = f32x4.splat(0);
  const within = v128.and(far, f32x4.lt(a, f32x4.splat(6)));
  if (v128.any_true(within)) {
    // 1.25 ≤ a < 6: erfc(a) = exp(−a² − 0.5625 + R(1/a²)/S(1/a²))/a, with R/S fitted on two ranges
    // (each evaluated only when some lane needs it) and −a² split as −z² + (z − a)(z + a), z = a
    // cut to 11 bits so z² is exact.
    const t = f32x4.div(f32x4.splat(1), f32x4.mul(a, a));
    const first = f32x4.lt(a, f32x4.splat(<f32>ERF_RB_FROM));
    let rs = f32x4.splat(0);
    if (v128.any_true(v128.and(within, first))) {
      let rc = f32x4.splat(-9.81432934416914548592e0);
      rc = mad(rc, t, -8.12874355063065934246e1);
      rc = mad(rc, t, -1.84605092906711035994e2);
      rc = mad(rc, t, -1.62396669462573470355e2);
      rc = mad(rc, t, -6.23753324503260060396e1);
      rc = mad(rc, t, -1.05586262253232909814e1);
      rc = mad(rc, t, -6.93858572707181764372e-1);
      rc = mad(rc, t, -9.86494403484714822705e-3);
      let sc = f32x4.splat(-6.04244152148580987438e-2);
      sc = mad(sc, t, 6.57024977031928170135e0);
      sc = mad(sc, t, 1.08635005541779435134e2);
      sc = mad(sc, t, 4.29008140027567833386e2);
      sc = mad(sc, t, 6.45387271733267880336e2);
      sc = mad(sc, t, 4.34565877475229228821e2);
      sc = mad(sc, t, 1.37657754143519042600e2);
      sc = mad(sc, t, 1.96512716674392571292e1);
      sc = mad(sc, t, 1);
      rs = f32x4.div(rc, sc);
    }
    if (v128.any_true(v128.andnot(within, first))) {
      let rd = f32x4.splat(-4.83519191608651397019e2);
      rd = mad(rd, t, -1.02509513161107724954e3);
      rd = mad(rd, t, -6.37566443368389627722e2);
      rd = mad(rd, t, -1.60636384855821916062e2);
      rd = mad(rd, t, -1.77579549177547519889e1);
      rd = mad(rd, t, -7.99283237680523006574e-1);
      rd = mad(rd, t, -9.86494292470009928597e-3);
      let sd = f32x4.splat(-2.24409524465858183362e1);
      sd = mad(sd, t, 4.74528541206955367215e2);
      sd = mad(sd, t, 2.55305040643316442583e3);
      sd = mad(sd, t, 3.19985821950859553908e3);
      sd = mad(sd, t, 1.53672958608443695994e3);
      sd = mad(sd, t, 3.25792512996573918826e2);
      sd = mad(sd, t, 3.03380607434824582924e1);
      sd = mad(sd, t, 1);
      rs = v128.bitselect(rs, f32x4.div(rd, sd), first);
    }
    const z = v128.and(a, i32x4.splat(0xffffe000));
    const e1 = vexp(f32x4.sub(f32x4.neg(f32x4.mul(z, z)), f32x4.splat(0.5625)));
    const e2 = vexp(f32x4.add(f32x4.mul(f32x4.sub(z, a), f32x4.add(z, a)), rs));
    tail = f32x4.div(f32x4.mul(e1, e2), a);
  }
  const r = v128.bitselect(tail, near1, far);
  return v128.bitselect(r, f32x4.splat(0), f32x4.lt(a, f32x4.splat(6)));
}

/** erf(x): odd, so computed on |x| and given x's sign back; NaN stays NaN. */
// @ts-ignore: decorator
@inline export function verf(x: v128): v128 {
  const a = f32x4.abs(x);
  const r = v128.bitselect(verfSmall(a), f32x4.sub(f32x4.splat(1), verfcLarge(a)), f32x4.lt(a, f32x4.splat(0.84375)));
  return v128.bitselect(x, v128.or(r, v128.and(x, i32x4.splat(0x80000000))), f32x4.ne(x, x));
}

/**
 * Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)). For negative x, 1 + erf(u) is computed as erfc(|u|),
 * which keeps float32's relative precision where 1 + erf(u) would cancel.
 */
// @ts-ignore: decorator
@inline export function vgelu(x: v128): v128 {
  const a = f32x4.abs(f32x4.mul(x, f32x4.splat(<f32>SQRT1_2)));
  const small = verfSmall(a);
  const large = verfcLarge(a);
  const isSmall = f32x4.lt(a, f32x4.splat(0.84375));
  const one = f32x4.splat(1);
  const upper = f32x4.add(one, v128.bitselect(small, f32x4.sub(one, large), isSmall)); // 1 + erf(a)
  const lower = v128.bitselect(f32x4.sub(one, small), large, isSmall); // erfc(a) = 1 + erf(−a)
  const phi2 = v128.bitselect(upper, lower, f32x4.ge(x, f32x4.splat(0)));
  return f32x4.mul(f32x4.mul(f32x4.splat(0.5), x), phi2);
}

// ---------------------------------------------------------------------------------------------
// float64 scalar definitions (the reference's formulas).

// @ts-ignore: decorator
@inline function sigmoid64(x: f64): f64 {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Whether the float32 unary kernel computes `op` through the float64 scalar definition. */
// @ts-ignore: decorator
@inline export function unaryIsScalar(op: i32): bool {
  return op == SOFTPLUS;
}

/** `op(x)` in float64, as unaryFn in src/backend/js/math.ts. */
export function unary64(op: i32, x: f64, alpha: f64, beta: f64, threshold: f64): f64 {
  switch (op) {
    case NEG: return -x;
    case EXP: return Math.exp(x);
    case LOG: return Math.log(x);
    case SQRT: return Math.sqrt(x);
    case ABS: return Math.abs(x);
    case SIGN: return x > 0 ? 1 : x < 0 ? -1 : x; // keeps ±0 and NaN, as Math.sign
    case TANH: return Math.tanh(x);
    case SIGMOID: return sigmoid64(x);
    case RELU: return x > 0 || x != x ? x : 0;
    case ERF: return erf(x);
    case LEAKY_RELU: return x > 0 ? x : alpha * x;
    case ELU: return x > 0 ? x : alpha * Math.expm1(x);
    case SELU: return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x));
    case GELU: return 0.5 * x * (1 + erf(x * SQRT1_2));
    case GELU_TANH: return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case SOFTPLUS: return x * beta > threshold ? x : Math.log1p(Math.exp(beta * x)) / beta;
    default: return NaN;
  }
}

/**
 * `op(x)` on four float32 lanes, for the ops that are not scalar (see unaryIsScalar). `alpha` is
 * the op's parameter rounded to float32. Every lane is computed the same way wherever it sits in
 * a row, so contiguous, strided and tail elements agree bit for bit.
 */
// @ts-ignore: decorator
@inline export function unaryVec(op: i32, x: v128, alpha: v128): v128 {
  const zero = f32x4.splat(0);
  switch (op) {
    case NEG: return f32x4.neg(x);
    case EXP: return vexp(x);
    case LOG: return vlog(x);
    case SQRT: return f32x4.sqrt(x);
    case ABS: return f32x4.abs(x);
    case SIGN: {
      const pos = v128.bitselect(f32x4.splat(1), x, f32x4.gt(x, zero));
      return v128.bitselect(f32x4.splat(-1), pos, f32x4.lt(x, zero));
    }
    case TANH: return vtanh(x);
    case SIGMOID: return vsigmoid(x);
    case RELU: return v128.bitselect(x, zero, v128.or(f32x4.gt(x, zero), f32x4.ne(x, x)));
    case ERF: return verf(x);
    case GELU: return vgelu(x);
    case ERF: return verf(x);
    case GELU: return vgelu(x);
    case LEAKY_RELU: return v128.bitselect(x, f32x4.mul(alpha, x), f32x4.gt(x, zero));
    case ELU: return v128.bitselect(x, f32x4.mul(alpha, vexpm1(x)), f32x4.gt(x, zero));
    case SELU: {
      const neg = f32x4.mul(f32x4.splat(<f32>SELU_ALPHA), vexpm1(x));
      return f32x4.mul(f32x4.splat(<f32>SELU_SCALE), v128.bitselect(x, neg, f32x4.gt(x, zero)));
    }
    case GELU_TANH: {
      // 0.5·(1 + tanh(u)) = sigmoid(2u): the same function without the cancellation of 1 + tanh(u)
      // for negative x, so float32 keeps its relative precision there.
      const x3 = f32x4.mul(f32x4.mul(x, x), x);
      const u = f32x4.mul(f32x4.splat(<f32>(2 * SQRT_2_OVER_PI)), f32x4.add(x, f32x4.mul(f32x4.splat(0.044715), x3)));
      return f32x4.mul(x, vsigmoid(u));
    }
    default: return f32x4.splat(NaN);
  }
}

/** `op(a, b)` in float64, as binaryFn in src/backend/js/math.ts (comparisons give 1 or 0). */
export function binary64(op: i32, a: f64, b: f64): f64 {
  switch (op) {
    case ADD: return a + b;
    case SUB: return a - b;
    case MUL: return a * b;
    case DIV: return a / b;
    // AssemblyScript's pow follows JavaScript, not C: 1^NaN and (±1)^±Infinity are NaN.
    case POW: return Math.pow(a, b);
    case MAXIMUM: return max(a, b); // f64.max: NaN propagates and +0 > −0, as Math.max
    case MINIMUM: return min(a, b);
    case GT: return a > b ? 1 : 0;
    case GE: return a >= b ? 1 : 0;
    case LT: return a < b ? 1 : 0;
    case LE: return a <= b ? 1 : 0;
    case EQ: return a == b ? 1 : 0;
    case NE: return a != b ? 1 : 0;
    default: return NaN;
  }
}

/**
 * `op(a, b)` on four float32 lanes. Add, sub, mul, div, max and min are correctly rounded in
 * float32, which equals the reference's float64 result rounded to float32; comparisons are exact.
 * pow goes lane by lane through the float64 definition.
 */
// @ts-ignore: decorator
@inline export function binaryVec(op: i32, a: v128, b: v128): v128 {
  const one = f32x4.splat(1);
  switch (op) {
    case ADD: return f32x4.add(a, b);
    case SUB: return f32x4.sub(a, b);
    case MUL: return f32x4.mul(a, b);
    case DIV: return f32x4.div(a, b);
    case POW: return f32x4(
      <f32>Math.pow(<f64>f32x4.extract_lane(a, 0), <f64>f32x4.extract_lane(b, 0)),
      <f32>Math.pow(<f64>f32x4.extract_lane(a, 1), <f64>f32x4.extract_lane(b, 1)),
      <f32>Math.pow(<f64>f32x4.extract_lane(a, 2), <f64>f32x4.extract_lane(b, 2)),
      <f32>Math.pow(<f64>f32x4.extract_lane(a, 3), <f64>f32x4.extract_lane(b, 3)),
    );
    case MAXIMUM: return f32x4.max(a, b);
    case MINIMUM: return f32x4.min(a, b);
    case GT: return v128.and(f32x4.gt(a, b), one);
    case GE: return v128.and(f32x4.ge(a, b), one);
    case LT: return v128.and(f32x4.lt(a, b), one);
    case LE: return v128.and(f32x4.le(a, b), one);
    case EQ: return v128.and(f32x4.eq(a, b), one);
    case NE: return v128.and(f32x4.ne(a, b), one);
    default: return f32x4.splat(NaN);
  }
}

// ---------------------------------------------------------------------------------------------
// erf: fdlibm's s_erf.c, the same port as erf() in src/backend/js/math.ts (see the comments there).


export function erf(x: f64): f64 {
  const ax = abs(x);
  if (ax != ax) return x;
  if (ax < 0.84375) {
    if (ax < 3.725290298461914e-9) return ax < 2.848094538889218e-306 ? (8 * x + EFX8 * x) / 8 : x + EFX * x;
    const z = x * x;
    const p = 1.28379167095512558561e-1 + z * (-3.25042107247001499370e-1 + z * (-2.84817495755985104766e-2 +
      z * (-5.77027029648944159157e-3 + z * -2.37630166566501626084e-5)));
    const q = 1 + z * (3.97917223959155352819e-1 + z * (6.50222499887672944485e-2 + z * (5.08130628187576562776e-3 +
      z * (1.32494738004321644526e-4 + z * -3.96022827877536812320e-6))));
    return x + (x * p) / q;
  }
  if (ax < 1.25) {
    const s = ax - 1;
    const p = -2.36211856075265944077e-3 + s * (4.14856118683748331666e-1 + s * (-3.72207876035701323847e-1 +
      s * (3.18346619901161753674e-1 + s * (-1.10894694282396677476e-1 + s * (3.54783043256182359371e-2 +
      s * -2.16637559486879084300e-3)))));
    const q = 1 + s * (1.06420880400844228286e-1 + s * (5.40397917702171048937e-1 + s * (7.18286544141962662868e-2 +
      s * (1.26171219808761642112e-1 + s * (1.36370839120290507362e-2 + s * 1.19844998467991074170e-2)))));
    const r = ERX + p / q;
    return x >= 0 ? r : -r;
  }
  if (ax >= 6) return x >= 0 ? 1 : -1;
  const s = 1 / (ax * ax);
  let rs: f64;
  if (ax < ERF_RB_FROM) {
    const r = -9.86494403484714822705e-3 + s * (-6.93858572707181764372e-1 + s * (-1.05586262253232909814e1 +
      s * (-6.23753324503260060396e1 + s * (-1.62396669462573470355e2 + s * (-1.84605092906711035994e2 +
      s * (-8.12874355063065934246e1 + s * -9.81432934416914548592e0))))));
    const q = 1 + s * (1.96512716674392571292e1 + s * (1.37657754143519042600e2 + s * (4.34565877475229228821e2 +
      s * (6.45387271733267880336e2 + s * (4.29008140027567833386e2 + s * (1.08635005541779435134e2 +
      s * (6.57024977031928170135e0 + s * -6.04244152148580987438e-2)))))));
    rs = r / q;
  } else {
    const r = -9.86494292470009928597e-3 + s * (-7.99283237680523006574e-1 + s * (-1.77579549177547519889e1 +
      s * (-1.60636384855821916062e2 + s * (-6.37566443368389627722e2 + s * (-1.02509513161107724954e3 +
      s * -4.83519191608651397019e2)))));
    const q = 1 + s * (3.03380607434824582924e1 + s * (3.25792512996573918826e2 + s * (1.53672958608443695994e3 +
      s * (3.19985821950859553908e3 + s * (2.55305040643316442583e3 + s * (4.74528541206955367215e2 +
      s * -2.24409524465858183362e1))))));
    rs = r / q;
  }
  const z = <f64><f32>ax;
  const r = Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + rs);
  return x >= 0 ? 1 - r / ax : r / ax - 1;
}
