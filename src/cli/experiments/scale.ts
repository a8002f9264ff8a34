/**
 * `keel experiment scale` — why the scale of the initial weights matters (Glorot & Bengio 2010;
 * He et al. 2015; SEMANTICS §7). A 20-layer MLP of width 256 with zero biases is run forward at
 * init on 512 inputs x ~ N(0, I), and the std of every layer's output is recorded, for ReLU and
 * for tanh, from four initializations: N(0, 0.01²), N(0, 1), He (`kaimingNormal_`, ReLU gain) and
 * Xavier (`xavierNormal_`, tanh gain 5/3 as PyTorch's `calculate_gain('tanh')`).
 *
 * Claims: with N(0, 0.01²) the activations vanish (std at layer 20 < 1e-6 with ReLU and tanh);
 * with N(0, 1) they explode with ReLU (std at layer 20 > 1e6) and saturate with tanh (> 75% of
 * the units at |tanh| > 0.99 at layer 20; measured 86%); with He (ReLU) and Xavier·5/3 (tanh) every layer's std
 * stays within a factor of 2 of layer 1's.
 */
import { Generator } from '../../core/random.js';
import { noGrad } from '../../autograd/grad-mode.js';
import { Linear } from '../../nn/linear.js';
import { calculateGain } from '../../nn/init/fans.js';
import { kaimingNormal_, xavierNormal_ } from '../../nn/init/pytorch.js';
import { normal_, zeros_ } from '../../nn/init/basic.js';
import { randn } from '../../tensor/create.js';
import { tidy } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import { relu, tanh } from '../../ops/elementwise.js';
import { type ExperimentOptions, type ExperimentResult, claim, fmt, meanStd, since, table, writeClaims } from './report.js';

/** Options of {@link scale}. */
export interface ScaleOptions extends ExperimentOptions {
  /** Layers (default 20). */
  depth?: number;
  /** Width (default 256). */
  width?: number;
}

/** One (activation, initialization) pair's measurements in {@link scale}, layer 1 first. */
export interface ScaleRun {
  activation: 'relu' | 'tanh';
  init: 'N(0,0.01²)' | 'N(0,1)' | 'he' | 'xavier';
  /** Std of each layer's output (after the activation). */
  activationStd: number[];
  /** Fraction of each layer's outputs with |value| > 0.99 (saturated, for tanh). */
  saturated: number[];
}

/** The result of {@link scale}. */
export interface ScaleResult extends ExperimentResult {
  runs: ScaleRun[];
}

function measure(activation: ScaleRun['activation'], init: ScaleRun['init'], depth: number, width: number, seed: number): ScaleRun {
  const g = new Generator(seed);
  return noGrad(() =>
    tidy(() => {
      let h: Tensor = randn([512, width], { generator: new Generator(seed + 1000) });
      const activationStd: number[] = [];
      const saturated: number[] = [];
      for (let i = 0; i < depth; i++) {
        const fc = new Linear(width, width, { generator: g });
        if (init === 'N(0,0.01²)') normal_(fc.weight, 0, 0.01, { generator: g });
        else if (init === 'N(0,1)') normal_(fc.weight, 0, 1, { generator: g });
        else if (init === 'he') kaimingNormal_(fc.weight, { nonlinearity: 'relu', generator: g });
        else xavierNormal_(fc.weight, { gain: calculateGain(activation), generator: g });
        zeros_(fc.bias!);
        h = activation === 'relu' ? relu(fc.call(h) as Tensor) : tanh(fc.call(h) as Tensor);
        const v = h.toTypedArray();
        activationStd.push(meanStd(v).std);
        let sat = 0;
        for (let k = 0; k < v.length; k++) sat += Math.abs(v[k]) > 0.99 ? 1 : 0;
        saturated.push(sat / v.length);
        for (const p of fc.parameters()) p.dispose();
      }
      return { activation, init, activationStd, saturated };
    }),
  );
}

/** Runs the initialization-scale experiment; see the file comment. */
export function scale(options?: ScaleOptions): ScaleResult {
  const t0 = performance.now();
  const depth = options?.depth ?? 20;
  const width = options?.width ?? 256;
  const seed = options?.seed ?? 0;
  const out = options?.out;
  const runs: ScaleRun[] = [];
  for (const activation of ['relu', 'tanh'] as const)
    for (const init of ['N(0,0.01²)', 'N(0,1)', activation === 'relu' ? 'he' : 'xavier'] as const) runs.push(measure(activation, init, depth, width, seed));
  if (out !== undefined) {
    out.write(`scale: ${depth} × Linear ${width} (zero biases) + ReLU or tanh, at init, 512 inputs x ~ N(0, I); std of each layer's output\n\n`);
    const shown = [...new Set([1, 2, 5, 10, 15, depth].filter((l) => l <= depth))];
    out.write(
      table(
        ['layer', ...runs.map((r) => `${r.activation} ${r.init}`)],
        shown.map((l) => [String(l), ...runs.map((r) => fmt(r.activationStd[l - 1]))]),
      ),
    );
    out.write('\n');
  }
  const find = (a: ScaleRun['activation'], i: ScaleRun['init']): ScaleRun => runs.find((r) => r.activation === a && r.init === i)!;
  const last = (r: ScaleRun): number => r.activationStd[depth - 1];
  const spread = (r: ScaleRun): number => Math.max(...r.activationStd.map((s) => Math.max(s / r.activationStd[0], r.activationStd[0] / s)));
  const claims = [
    claim(`ReLU, N(0, 0.01²): std at layer ${depth} < 1e-6 (vanishes)`, last(find('relu', 'N(0,0.01²)')), last(find('relu', 'N(0,0.01²)')) < 1e-6),
    claim(`tanh, N(0, 0.01²): std at layer ${depth} < 1e-6 (vanishes)`, last(find('tanh', 'N(0,0.01²)')), last(find('tanh', 'N(0,0.01²)')) < 1e-6),
    claim(`ReLU, N(0, 1): std at layer ${depth} > 1e6 (explodes)`, last(find('relu', 'N(0,1)')), last(find('relu', 'N(0,1)')) > 1e6),
    claim(
      `tanh, N(0, 1): > 75% of units saturated (|tanh| > 0.99) at layer ${depth}`,
      find('tanh', 'N(0,1)').saturated[depth - 1],
      find('tanh', 'N(0,1)').saturated[depth - 1] > 0.75,
    ),
    claim('ReLU, He: every layer’s std within 2× of layer 1’s', spread(find('relu', 'he')), spread(find('relu', 'he')) < 2),
    claim('tanh, Xavier (gain 5/3): every layer’s std within 2× of layer 1’s', spread(find('tanh', 'xavier')), spread(find('tanh', 'xavier')) < 2),
  ];
  writeClaims(out, claims);
  return { name: 'scale', claims, ok: claims.every((c) => c.ok), seconds: since(t0), runs };
}
