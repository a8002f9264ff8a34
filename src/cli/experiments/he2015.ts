/**
 * `keel experiment he2015` — He, Zhang, Ren & Sun (2015), "Delving Deep into Rectifiers", §2.2 and
 * Figure 3: a 30-layer ReLU network trains from He initialization (std √(2/fan_in)) and stalls
 * from Xavier's (std √(2/(fan_in+fan_out)) = √(1/n) at equal widths) or PyTorch's default
 * (U(±1/√fan_in), std √(1/(3n))).
 *
 * Setup: 30 hidden layers Linear+ReLU of width 256 (the first 32→256) and a 256→1 logit, on a
 * binary task with fresh data every step (x ~ N(0, I₃₂), label = [x·w* > 0] for a fixed random
 * w*), binary cross-entropy with logits, SGD momentum 0.9, lr 0.005, batch 128, no clipping,
 * 300 steps. He and Xavier zero the biases; "default" keeps PyTorch's default weights and biases.
 * The step size: at lr 0.01, 1 of 12 He runs (seeds 0–5, matmul with and without fused
 * multiply-adds) had its loss explode near step 250 (to 40) and never recovered, a trajectory
 * that rounding alone decided; at 0.005 all 12 trained (final 0.12–0.16). Without clipping, the
 * experiment isolates the initialization only at a step size where He's run is stable.
 *
 * Claims: He's final loss (mean of the last 20 steps) < 0.3; Xavier's and the default's > 0.65
 * (stalled near ln 2 ≈ 0.693). It also prints the activation std after every ReLU at init: about
 * constant with He, shrinking by √2 a layer with Xavier (≈ 2^-15 at layer 30, SEMANTICS §7).
 */
import { Generator } from '../../core/random.js';
import { noGrad } from '../../autograd/grad-mode.js';
import { Linear } from '../../nn/linear.js';
import { ReLU } from '../../nn/activation.js';
import { Sequential } from '../../nn/sequential.js';
import { bceWithLogits } from '../../nn/losses.js';
import { kaimingNormal_, xavierNormal_ } from '../../nn/init/pytorch.js';
import { zeros_ } from '../../nn/init/basic.js';
import { SGD } from '../../optim/optimizers.js';
import { randn } from '../../tensor/create.js';
import { tidy } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import { gt } from '../../ops/elementwise.js';
import { matmul } from '../../ops/linalg.js';
import { cast } from '../../ops/shape.js';
import { type ExperimentOptions, type ExperimentResult, claim, fmt, meanStd, since, table, writeClaims } from './report.js';

/** The initializations compared by {@link he2015}. */
export type He2015Init = 'he' | 'xavier' | 'default';

/** Options of {@link he2015}. */
export interface He2015Options extends ExperimentOptions {
  /** SGD steps per initialization (default 300). */
  steps?: number;
  /** Hidden layers (default 30). */
  depth?: number;
  /** Hidden width (default 256). */
  width?: number;
}

/** One initialization's run in {@link he2015}. */
export interface He2015Run {
  init: He2015Init;
  /** Activation std after each ReLU at init, layer 1 first. */
  activationStd: number[];
  /** Training loss at every step. */
  losses: number[];
  /** Mean loss over the last 20 steps (or fewer when there are fewer). */
  finalLoss: number;
}

/** The result of {@link he2015}. */
export interface He2015Result extends ExperimentResult {
  runs: He2015Run[];
}

const INPUT = 32;
const BATCH = 128;
const LR = 0.005;

function buildModel(init: He2015Init, depth: number, width: number, seed: number): Sequential {
  const g = new Generator(seed);
  const layers = [];
  for (let i = 0; i < depth; i++) {
    const fc = new Linear(i === 0 ? INPUT : width, width, { generator: g });
    layers.push(fc, new ReLU());
  }
  layers.push(new Linear(width, 1, { generator: g }));
  const model = new Sequential(...layers);
  model.apply((m) => {
    if (!(m instanceof Linear) || init === 'default') return;
    if (init === 'he') kaimingNormal_(m.weight, { mode: 'fan_in', nonlinearity: 'relu', generator: g });
    else xavierNormal_(m.weight, { generator: g });
    if (m.bias !== null) zeros_(m.bias);
  });
  return model;
}

/** Activation std after each ReLU of `model` on `x`. */
function activationStds(model: Sequential, x: Tensor): number[] {
  return noGrad(() =>
    tidy(() => {
      const stds: number[] = [];
      let h = x;
      for (const m of model.children()) {
        h = m.call(h) as Tensor;
        if (m instanceof ReLU) stds.push(meanStd(h.toTypedArray()).std);
      }
      return stds;
    }),
  );
}

function run(init: He2015Init, steps: number, depth: number, width: number, seed: number): He2015Run {
  const model = buildModel(init, depth, width, seed);
  const data = new Generator(seed + 1000);
  const wStar = randn([INPUT, 1], { generator: new Generator(seed + 2000) });
  const probe = randn([512, INPUT], { generator: new Generator(seed + 3000) });
  const activationStd = activationStds(model, probe);
  probe.dispose();
  const opt = new SGD(model.parameters(), { lr: LR, momentum: 0.9 });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    losses.push(
      tidy(() => {
        const x = randn([BATCH, INPUT], { generator: data });
        const y = noGrad(() => cast(gt(matmul(x, wStar), 0), 'float32'));
        opt.zeroGrad();
        const loss = bceWithLogits(model.call(x) as Tensor, y);
        loss.backward();
        opt.step();
        return loss.item();
      }),
    );
  }
  wStar.dispose();
  const tail = losses.slice(-Math.min(20, losses.length));
  return { init, activationStd, losses, finalLoss: tail.reduce((a, b) => a + b, 0) / tail.length };
}

/** Runs the He et al. (2015) 30-layer ReLU experiment; see the file comment. */
export function he2015(options?: He2015Options): He2015Result {
  const t0 = performance.now();
  const steps = options?.steps ?? 300;
  const depth = options?.depth ?? 30;
  const width = options?.width ?? 256;
  const seed = options?.seed ?? 0;
  const out = options?.out;
  out?.write(
    `he2015: ${depth} × (Linear ${width} + ReLU) → 1 logit, sign-of-projection task, BCE, SGD lr ${LR} momentum 0.9, ` +
      `batch ${BATCH}, no clipping, ${steps} steps\n`,
  );
  const runs: He2015Run[] = [];
  for (const init of ['he', 'xavier', 'default'] as const) {
    runs.push(run(init, steps, depth, width, seed));
    const r = runs[runs.length - 1];
    out?.write(`  ${init.padEnd(8)} loss: step 1 ${fmt(r.losses[0])}, final ${fmt(r.finalLoss)}  (${since(t0).toFixed(1)} s)\n`);
  }
  if (out !== undefined) {
    out.write('\nactivation std after each ReLU at init (512 inputs):\n');
    const shown = [...new Set([1, 2, 5, 10, 15, 20, 25, depth].filter((l) => l <= depth))];
    out.write(table(['layer', ...runs.map((r) => r.init)], shown.map((l) => [String(l), ...runs.map((r) => fmt(r.activationStd[l - 1]))])));
    out.write('\nloss during training:\n');
    const at = [...new Set([1, Math.ceil(steps / 4), Math.ceil(steps / 2), Math.ceil((3 * steps) / 4), steps])];
    out.write(table(['step', ...runs.map((r) => r.init)], at.map((s) => [String(s), ...runs.map((r) => fmt(r.losses[s - 1]))])));
  }
  const [he, xavier, dflt] = runs;
  const claims = [
    claim('He: final loss < 0.3 (trains)', he.finalLoss, he.finalLoss < 0.3),
    claim('Xavier: final loss > 0.65 (stalls near ln 2)', xavier.finalLoss, xavier.finalLoss > 0.65),
    claim('PyTorch default: final loss > 0.65 (stalls near ln 2)', dflt.finalLoss, dflt.finalLoss > 0.65),
    claim(
      `He: activation std at layer ${depth} within 4× of layer 1`,
      he.activationStd[depth - 1] / he.activationStd[0],
      he.activationStd[depth - 1] / he.activationStd[0] > 0.25 && he.activationStd[depth - 1] / he.activationStd[0] < 4,
    ),
    claim(
      `Xavier: activation std shrinks > 1000× from layer 1 to ${depth}`,
      xavier.activationStd[depth - 1] / xavier.activationStd[0],
      xavier.activationStd[depth - 1] / xavier.activationStd[0] < 1e-3,
    ),
  ];
  out?.write('\n');
  writeClaims(out, claims);
  return { name: 'he2015', claims, ok: claims.every((c) => c.ok), seconds: since(t0), runs };
}
