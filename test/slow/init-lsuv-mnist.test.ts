import { describe, expect, it } from 'vitest';
import { Generator, type Tensor, datasets, narrow, noGrad, reshape, tidy } from '../../src/index.js';
import { ReLU, Tanh } from '../../src/nn/activation.js';
import { Conv2d } from '../../src/nn/conv.js';
import { Flatten } from '../../src/nn/flatten.js';
import { lsuv } from '../../src/nn/init/index.js';
import { Linear } from '../../src/nn/linear.js';
import type { Module } from '../../src/nn/module.js';
import { Sequential } from '../../src/nn/sequential.js';

// The acceptance test for LSUV (Mishkin & Matas 2015) on real MNIST digits: after
// init.lsuv with a 256-image training batch, every Linear/Conv layer's output variance is
// 1 ± 0.1 on that batch and 1 ± 0.2 on 256 held-out test images. Variances are recomputed here
// layer by layer through Sequential.layers, in float64 on the host (Bessel-corrected, as
// torch.var), independently of the hooks lsuv uses.

const BATCH = 256;
const SEEDS = [0, 1, 2];

function hostVar(t: Tensor): number {
  const v = t.toTypedArray();
  let m = 0;
  for (const x of v) m += x;
  m /= v.length;
  let s = 0;
  for (const x of v) s += (x - m) ** 2;
  return s / (v.length - 1);
}

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

function mlp(act: () => Module, g: Generator): Sequential {
  const widths = [784, 256, 256, 128, 128, 64, 64, 10];
  const mods: Module[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    mods.push(new Linear(widths[i], widths[i + 1], { generator: g }));
    if (i + 2 < widths.length) mods.push(act());
  }
  return new Sequential(...mods);
}

function convNet(g: Generator): Sequential {
  return new Sequential(
    new Conv2d(1, 8, 3, { stride: 2, generator: g }), // 28 → 13
    new ReLU(),
    new Conv2d(8, 16, 3, { stride: 2, generator: g }), // 13 → 6
    new ReLU(),
    new Flatten(),
    new Linear(16 * 6 * 6, 64, { generator: g }),
    new ReLU(),
    new Linear(64, 10, { generator: g }),
  );
}

const breathe = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('LSUV on MNIST digits: unit variance on the batch it used and on held-out digits', async () => {
  const { train, test } = await datasets.mnist();
  const cases: [string, (g: Generator) => Sequential, boolean][] = [
    ['7-layer ReLU MLP', (g) => mlp(() => new ReLU(), g), false],
    ['7-layer tanh MLP', (g) => mlp(() => new Tanh(), g), false],
    ['conv net', convNet, true],
  ];
  for (const [label, make, images] of cases)
    for (const seed of SEEDS)
      it(`${label}, seed ${seed}`, async () => {
        await breathe();
        const g = new Generator(seed);
        const model = make(g);
        const shape = (x: Tensor): Tensor => (images ? reshape(x, [BATCH, 1, 28, 28]) : x);
        // training batch and held-out batch: different digits (the splits are disjoint)
        const batch = shape(narrow(train.x, 0, seed * BATCH, BATCH));
        const heldOut = shape(narrow(test.x, 0, seed * BATCH, BATCH));
        const report = lsuv(model, batch, { generator: g });
        const onBatch = layerVariances(model, batch);
        const onHeldOut = layerVariances(model, heldOut);
        console.log(
          `${label}, seed ${seed}: ` +
            report.map((r, i) => `${r.name}: ${r.varianceBefore.toPrecision(3)}→${onBatch[i].toFixed(3)} (held-out ${onHeldOut[i].toFixed(3)}, ${r.iterations} it)`).join('; '),
        );
        expect(onBatch).toHaveLength(report.length);
        for (const v of onBatch) expect(Math.abs(v - 1)).toBeLessThan(0.1);
        for (const v of onHeldOut) expect(Math.abs(v - 1)).toBeLessThan(0.2);
      });
});
