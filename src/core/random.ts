import { ConfigError } from './errors.js';

/**
 * Seeded pseudo-random numbers.
 *
 * The generator is xoshiro128** (Blackman & Vigna, 2018): 128 bits of state, period 2^128 − 1,
 * 32-bit outputs that JavaScript computes exactly with `Math.imul`. The state is filled from the
 * seed by SplitMix32 so that nearby seeds give unrelated streams. Uniform floats take the top 24
 * bits (float32) or 53 bits from two draws (float64); normals use the Box–Muller transform in
 * float64 with both outputs used in turn, which is exact up to float64 rounding (no tables and no
 * tail approximation). The same seed gives bit-identical numbers on every platform.
 */
export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** Second Box–Muller output waiting to be used, or NaN when none is cached. */
  private spareNormal = Number.NaN;
  private seedValue = 0;

  /** Creates a generator seeded with `seed` (an integer in [0, 2^53)). */
  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Re-seeds the generator, as `torch.Generator.manual_seed`. Returns `this`. */
  manualSeed(seed: number): this {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new ConfigError(`Generator.manualSeed: seed ${seed} is invalid (expected an integer in [0, 2^53))`);
    this.seedValue = seed;
    // SplitMix32 over both halves of the seed, so seeds above 2^32 differ too.
    let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) | 0, 0x9e3779b9);
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
    this.spareNormal = Number.NaN;
    return this;
  }

  /** The seed last given to `manualSeed` (or the constructor). */
  initialSeed(): number {
    return this.seedValue;
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 24 random bits: every value is exactly representable in float32. */
  nextFloat32(): number {
    return (this.nextUint32() >>> 8) * 5.960464477539063e-8; // 2^-24
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextFloat64(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) * 1.1102230246251565e-16; // 2^-53
  }

  /**
   * Fills `out` with `a + width·u` for uniforms u drawn exactly as {@link nextFloat32} draws them
   * (or {@link nextFloat64} with `float64`), in order: the same values as that many calls; float32
   * draws come from one loop over local state that the engine compiles after a few hundred
   * iterations. Weight
   * initialization draws every element of every layer, and as calls it took most of a small
   * model's start-up (100,000 draws: ~10 ms before the calls were compiled).
   */
  fillUniform(out: Float32Array | Float64Array, a: number, width: number, float64 = false): void {
    const n = out.length;
    if (float64) {
      // Two draws per value; float64 parameters are rare enough to take the calls.
      for (let i = 0; i < n; i++) out[i] = a + width * this.nextFloat64();
      return;
    }
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    for (let i = 0; i < n; i++) {
      // One xoshiro128** step, as nextUint32.
      const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
      out[i] = a + width * ((r >>> 8) * 5.960464477539063e-8);
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /** Standard normal N(0, 1) by Box–Muller on float64 uniforms. */
  nextNormal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const z = this.spareNormal;
      this.spareNormal = Number.NaN;
      return z;
    }
    const u1 = 1 - this.nextFloat64(); // (0, 1]: log never sees 0
    const u2 = this.nextFloat64();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spareNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Uniform integer in [0, n) without modulo bias (rejection sampling), for 1 ≤ n ≤ 2^32. */
  nextBelow(n: number): number {
    if (n <= 1) return 0;
    if (n > 4294967296) throw new ConfigError(`Generator.nextBelow: range ${n} exceeds 2^32`);
    const limit = 4294967296 - (4294967296 % n); // largest multiple of n that fits in 32 bits
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** The full state, for checkpoints; restore it with `setState`. */
  getState(): GeneratorState {
    return { seed: this.seedValue, s: [this.s0, this.s1, this.s2, this.s3], spareNormal: this.spareNormal };
  }

  /** Restores a state returned by `getState`. */
  setState(state: GeneratorState): this {
    [this.s0, this.s1, this.s2, this.s3] = state.s.map((v) => v | 0) as [number, number, number, number];
    this.seedValue = state.seed;
    this.spareNormal = state.spareNormal ?? Number.NaN;
    return this;
  }

  /** An independent copy that continues the same stream. */
  clone(): Generator {
    return new Generator().setState(this.getState());
  }
}

/** A serializable snapshot of a {@link Generator}. */
export interface GeneratorState {
  seed: number;
  s: readonly number[];
  spareNormal?: number;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

let globalGenerator = new Generator(0);

/** The global generator that random functions use when no `generator` option is given. */
export function defaultGenerator(): Generator {
  return globalGenerator;
}

/** Seeds the global generator, as `torch.manual_seed`. Returns it. */
export function manualSeed(seed: number): Generator {
  globalGenerator = globalGenerator.manualSeed(seed);
  return globalGenerator;
}
