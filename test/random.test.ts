import { describe, expect, it } from 'vitest';
import { ConfigError, Generator, init, manualSeed, rand, randint, randn, zeros } from '../src/index.js';

describe('Generator', () => {
  it('is xoshiro128**: matches the reference C implementation from state {1, 2, 3, 4}', () => {
    const g = new Generator().setState({ seed: 0, s: [1, 2, 3, 4] });
    const got = Array.from({ length: 10 }, () => g.nextUint32());
    // Printed by Blackman & Vigna's xoshiro128starstar.c with s = {1, 2, 3, 4}.
    expect(got).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804]);
  });

  it('gives bit-identical tensors for the same seed, different ones for another seed', () => {
    manualSeed(42);
    const a = randn([1000]).toTypedArray();
    manualSeed(42);
    const b = randn([1000]).toTypedArray();
    manualSeed(43);
    const c = randn([1000]).toTypedArray();
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
  });

  it('explicit generators are independent of the global one and of each other', () => {
    const g1 = new Generator(7);
    const g2 = new Generator(7);
    manualSeed(1);
    const x = rand([50], { generator: g1 }).toArray();
    rand([10]); // draws from the global generator only
    const y = rand([50], { generator: g2 }).toArray();
    expect(x).toEqual(y);
  });

  it('state round-trips, including a cached Box–Muller value', () => {
    const g = new Generator(3);
    g.nextNormal();
    const saved = g.getState();
    const a = [g.nextNormal(), g.nextNormal(), g.nextUint32()];
    g.setState(saved);
    expect([g.nextNormal(), g.nextNormal(), g.nextUint32()]).toEqual(a);
    expect(g.clone().nextFloat64()).toBe(g.nextFloat64());
  });

  it('randn has mean 0, variance 1, and normal tails (200k samples)', () => {
    const x = randn([200_000], { generator: new Generator(11), dtype: 'float64' }).toTypedArray();
    let m = 0;
    for (const v of x) m += v;
    m /= x.length;
    let v2 = 0;
    let k4 = 0;
    let beyond2 = 0;
    for (const v of x) {
      v2 += (v - m) ** 2;
      k4 += (v - m) ** 4;
      if (Math.abs(v) > 2) beyond2++;
    }
    v2 /= x.length;
    k4 /= x.length;
    expect(Math.abs(m)).toBeLessThan(0.01); // std error 0.0022
    expect(Math.abs(v2 - 1)).toBeLessThan(0.015);
    expect(Math.abs(k4 / (v2 * v2) - 3)).toBeLessThan(0.08); // kurtosis of a normal is 3
    expect(Math.abs(beyond2 / x.length - 0.0455)).toBeLessThan(0.003); // P(|z| > 2) = 4.55%
  });

  it('rand is uniform in [0, 1) and float32 values are exact', () => {
    const x = rand([100_000], { generator: new Generator(5) }).toTypedArray();
    const bins = new Array(10).fill(0);
    let outside = 0;
    for (const v of x) {
      if (!(v >= 0 && v < 1) || Math.fround(v) !== v) outside++;
      else bins[Math.floor(v * 10)]++;
    }
    expect(outside).toBe(0);
    for (const b of bins) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });

  it('randint covers [low, high) without bias and rejects bad ranges', () => {
    const x = randint(-2, 3, [50_000], { generator: new Generator(9) });
    expect(x.dtype).toBe('int32');
    const counts = new Map<number, number>();
    for (const v of x.toTypedArray()) counts.set(v, (counts.get(v) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2]);
    for (const c of counts.values()) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(() => randint(3, 3, [2])).toThrow(ConfigError);
    expect(() => randint(3, 3, [2])).toThrow(/randint: expected integers low < high/);
  });

  it('rejects invalid seeds with a clear error', () => {
    expect(() => manualSeed(-1)).toThrow(/manualSeed: seed -1 is invalid/);
    expect(() => new Generator(1.5)).toThrow(ConfigError);
  });
});

describe('Generator.fillUniform', () => {
  it('draws the same values as nextFloat32 / nextFloat64 one call at a time, and leaves the same state', () => {
    for (const float64 of [false, true]) {
      const bulk = new Generator(77);
      const single = new Generator(77);
      const out = float64 ? new Float64Array(1001) : new Float32Array(1001);
      bulk.fillUniform(out, -0.25, 0.5, float64);
      const want = Array.from(out, () => -0.25 + 0.5 * (float64 ? single.nextFloat64() : single.nextFloat32()));
      expect(Array.from(out)).toEqual(float64 ? want : want.map(Math.fround));
      expect(bulk.nextUint32()).toBe(single.nextUint32());
    }
  });

  it('uniform_ on the active backend (a wasm kernel there) fills what fillUniform draws, and advances the generator alike', () => {
    for (const n of [1, 1001, 100_352]) {
      const viaInit = new Generator(9);
      const t = init.uniform_(zeros([n]), -0.3, 0.2, { generator: viaInit });
      const direct = new Generator(9);
      const want = new Float32Array(n);
      direct.fillUniform(want, -0.3, 0.5);
      expect(Buffer.from(t.toTypedArray().buffer).equals(Buffer.from(want.buffer))).toBe(true);
      expect(viaInit.nextUint32()).toBe(direct.nextUint32());
    }
  });
});
