import { madd } from './matmul';

// The machine's WebAssembly SIMD128 ceiling (no relaxed SIMD). Each iteration is 12·4·2 = 96 flops.

// The ceiling: 12 independent chains, 6 of f32x4 multiplies and 6 of f32x4 adds, that stay in
// registers. Both kinds of floating-point unit stay busy and no chain waits on the other.
export function peakF32(iters: i32, seed: f32): f32 {
  const m = f32x4.splat(0.9999999);
  const d = f32x4.splat(1e-7);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2);
  let a3 = f32x4.splat(seed + 3), a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5);
  let b0 = f32x4.splat(seed), b1 = f32x4.splat(seed + 1), b2 = f32x4.splat(seed + 2);
  let b3 = f32x4.splat(seed + 3), b4 = f32x4.splat(seed + 4), b5 = f32x4.splat(seed + 5);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.mul(a0, m); b0 = f32x4.add(b0, d); a1 = f32x4.mul(a1, m); b1 = f32x4.add(b1, d);
    a2 = f32x4.mul(a2, m); b2 = f32x4.add(b2, d); a3 = f32x4.mul(a3, m); b3 = f32x4.add(b3, d);
    a4 = f32x4.mul(a4, m); b4 = f32x4.add(b4, d); a5 = f32x4.mul(a5, m); b5 = f32x4.add(b5, d);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(a4, a5));
  const t = f32x4.add(f32x4.add(f32x4.add(b0, b1), f32x4.add(b2, b3)), f32x4.add(b4, b5));
  return f32x4.extract_lane(f32x4.add(s, t), 0);
}

// For comparison: 12 chains of dependent multiply→add (acc = acc·m + d), where each add waits for
// its multiply, a latency-bound shape that a matmul's inner loop avoids.
export function peakMaddF32(iters: i32, seed: f32): f32 {
  const m = f32x4.splat(0.9999999);
  const d = f32x4.splat(1e-7);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  let a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5), a6 = f32x4.splat(seed + 6), a7 = f32x4.splat(seed + 7);
  let a8 = f32x4.splat(seed + 8), a9 = f32x4.splat(seed + 9), a10 = f32x4.splat(seed + 10), a11 = f32x4.splat(seed + 11);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.add(f32x4.mul(a0, m), d); a1 = f32x4.add(f32x4.mul(a1, m), d);
    a2 = f32x4.add(f32x4.mul(a2, m), d); a3 = f32x4.add(f32x4.mul(a3, m), d);
    a4 = f32x4.add(f32x4.mul(a4, m), d); a5 = f32x4.add(f32x4.mul(a5, m), d);
    a6 = f32x4.add(f32x4.mul(a6, m), d); a7 = f32x4.add(f32x4.mul(a7, m), d);
    a8 = f32x4.add(f32x4.mul(a8, m), d); a9 = f32x4.add(f32x4.mul(a9, m), d);
    a10 = f32x4.add(f32x4.mul(a10, m), d); a11 = f32x4.add(f32x4.mul(a11, m), d);
  }
  const s0 = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  const s1 = f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11));
  return f32x4.extract_lane(f32x4.add(s0, s1), 0);
}

// The fused multiply-add ceiling of the relaxed-SIMD build: 12 independent chains of
// acc = acc·m + d, each one instruction there (enough chains to cover its latency on both units).
// In the plain build the same chains are a multiply and an add each (peakMaddF32's shape).
export function peakFmaF32(iters: i32, seed: f32): f32 {
  const m = f32x4.splat(0.9999999);
  const d = f32x4.splat(1e-7);
  let a0 = f32x4.splat(seed), a1 = f32x4.splat(seed + 1), a2 = f32x4.splat(seed + 2), a3 = f32x4.splat(seed + 3);
  let a4 = f32x4.splat(seed + 4), a5 = f32x4.splat(seed + 5), a6 = f32x4.splat(seed + 6), a7 = f32x4.splat(seed + 7);
  let a8 = f32x4.splat(seed + 8), a9 = f32x4.splat(seed + 9), a10 = f32x4.splat(seed + 10), a11 = f32x4.splat(seed + 11);
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, m, d); a1 = madd(a1, m, d); a2 = madd(a2, m, d); a3 = madd(a3, m, d);
    a4 = madd(a4, m, d); a5 = madd(a5, m, d); a6 = madd(a6, m, d); a7 = madd(a7, m, d);
    a8 = madd(a8, m, d); a9 = madd(a9, m, d); a10 = madd(a10, m, d); a11 = madd(a11, m, d);
  }
  const s0 = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)));
  const s1 = f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11));
  return f32x4.extract_lane(f32x4.add(s0, s1), 0);
}

/** Whether this build's madd is relaxed SIMD's fused multiply-add. */
export function relaxedSimd(): bool {
  return ASC_FEATURE_RELAXED_SIMD;
}
