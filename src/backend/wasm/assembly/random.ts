// Uniform random numbers for weight initialization, drawn exactly as Generator.fillUniform
// (src/core/random.ts) draws them in JavaScript: xoshiro128** on 32-bit words, the top 24 bits
// of each output as a float in [0, 1), then a + width·u in float64, rounded once to float32. A
// kernel because initializing a layer is most of a small model's start-up, and JavaScript runs
// the loop in its interpreter before it is compiled; the engine compiles this one at once.

// @ts-ignore: decorator
@inline function rotl(x: u32, k: u32): u32 {
  return (x << k) | (x >>> (32 - k));
}

/** Fills `n` float32 at `out` and advances the generator state (four u32 at `state`). */
export function uniformF32(out: usize, n: i32, state: usize, a: f64, width: f64): void {
  let s0 = load<u32>(state);
  let s1 = load<u32>(state, 4);
  let s2 = load<u32>(state, 8);
  let s3 = load<u32>(state, 12);
  for (let i = 0; i < n; i++) {
    const r = rotl(s1 * 5, 7) * 9;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    store<f32>(out + (<usize>i << 2), <f32>(a + width * (<f64>(r >>> 8) * 5.960464477539063e-8)));
  }
  store<u32>(state, s0);
  store<u32>(state, s1, 4);
  store<u32>(state, s2, 8);
  store<u32>(state, s3, 12);
}
