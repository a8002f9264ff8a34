import { ConfigError } from '../core/errors.js';
import { Generator, manualSeed } from '../core/random.js';
import { setBackend } from '../backend/registry.js';
import { clipByGlobalNorm, clipByValue } from '../clip/transforms.js';
import { datasets } from '../data/index.js';
import { Linear } from '../nn/linear.js';
import { ReLU } from '../nn/activation.js';
import { Sequential } from '../nn/sequential.js';
import { crossEntropy } from '../nn/losses.js';
import { kaimingNormal_, xavierUniform_ } from '../nn/init/pytorch.js';
import { zeros_ } from '../nn/init/basic.js';
import { Adagrad, Adam, AdamW, RMSprop, SGD } from '../optim/optimizers.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { GradientTransformation } from '../optim/transform.js';
import { GradientMonitor } from '../diagnostics/monitor.js';
import { type Callback, MetricsLogger } from '../train/callbacks.js';
import { saveModel } from '../train/checkpoint.js';
import { compile, evaluate, fit } from '../train/fit.js';
import type { ProgressSink } from '../train/progress.js';
import type { FlagSpec } from './args.js';

/** The flags of `keel train`. */
export const TRAIN_FLAGS: readonly FlagSpec[] = [
  { name: 'dataset', kind: 'string', choices: ['mnist', 'fashion-mnist'], default: 'mnist', help: 'mnist: 10,000 digits shipped by the mnist package; fashion-mnist: Debian’s dataset-fashion-mnist' },
  { name: 'init', kind: 'string', choices: ['he', 'xavier', 'default'], default: 'he', help: 'weight init: He (kaimingNormal_, ReLU), Xavier (xavierUniform_) or PyTorch’s default' },
  { name: 'optimizer', kind: 'string', choices: ['adam', 'sgd', 'adamw', 'rmsprop', 'adagrad'], default: 'adam', help: 'optimizer' },
  { name: 'lr', kind: 'number', help: 'learning rate (default 1e-3 for adam/adamw/rmsprop, 0.01 otherwise)' },
  { name: 'momentum', kind: 'number', default: 0.9, help: 'SGD momentum' },
  { name: 'clip-norm', kind: 'number', default: 1, help: 'clip the global gradient norm to this (clipByGlobalNorm: clip_grad_norm_ without its 1e-6 epsilon); 0 turns it off' },
  { name: 'clip-value', kind: 'number', help: 'clamp every gradient entry to [−v, v] instead' },
  { name: 'global-clipnorm', kind: 'number', help: 'Keras’ global_clipnorm instead' },
  { name: 'epochs', kind: 'number', default: 5, help: 'epochs' },
  { name: 'batch-size', kind: 'number', default: 32, help: 'samples per step' },
  { name: 'hidden', kind: 'number', default: 128, help: 'hidden units' },
  { name: 'seed', kind: 'number', default: 0, help: 'seed of the weights, the shuffling and the data split' },
  { name: 'backend', kind: 'string', choices: ['wasm', 'js'], help: 'compute backend (default: wasm where available)' },
  { name: 'log', kind: 'string', help: 'append one line per epoch to this file (.jsonl or .csv)' },
  { name: 'save', kind: 'string', help: 'write the trained weights here (safetensors, PyTorch names)' },
  { name: 'monitor', kind: 'string', help: 'write a run log here (JSONL: gradient norms, clipping, activations, epochs, findings) for keel report' },
  { name: 'monitor-every', kind: 'number', default: 10, help: 'with --monitor: sample every this many steps' },
  { name: 'quiet', kind: 'boolean', default: false, help: 'one line per epoch instead of a progress bar' },
];

/** The result of `keel train`. */
export interface TrainResult {
  testAccuracy: number;
  testLoss: number;
  epochs: number;
}

function clipTransform(flags: Record<string, unknown>): { clip?: GradientTransformation<unknown>; globalClipnorm?: number } {
  const chosen = ['clip-value', 'global-clipnorm'].filter((k) => flags[k] !== undefined);
  if (chosen.length > 1) throw new ConfigError('keel train: give at most one of --clip-value and --global-clipnorm');
  if (flags['clip-value'] !== undefined) return { clip: clipByValue(flags['clip-value'] as number) };
  if (flags['global-clipnorm'] !== undefined) return { globalClipnorm: flags['global-clipnorm'] as number };
  const c = flags['clip-norm'] as number;
  if (c < 0) throw new ConfigError(`keel train: --clip-norm must be ≥ 0 (got ${c}; 0 turns clipping off)`);
  return c > 0 ? { clip: clipByGlobalNorm(c) } : {};
}

/**
 * The main job: the source's 784→128→10 ReLU network, He-initialized, trained with Adam and
 * gradient clipping on MNIST digits; prints a progress bar and the final test accuracy.
 */
export async function train(flags: Record<string, number | string | boolean | undefined>, out: ProgressSink): Promise<TrainResult> {
  if (flags.backend !== undefined) setBackend(flags.backend as string);
  const seed = flags.seed as number;
  const epochs = flags.epochs as number;
  const batchSize = flags['batch-size'] as number;
  const hidden = flags.hidden as number;
  for (const [k, v] of [['epochs', epochs], ['batch-size', batchSize], ['hidden', hidden]] as const)
    if (!Number.isInteger(v) || v < 1) throw new ConfigError(`keel train: --${k} must be a positive integer (got ${v})`);
  manualSeed(seed);
  const data = flags.dataset === 'fashion-mnist' ? await datasets.fashionMnist() : await datasets.mnist({ seed });
  const model = new Sequential(new Linear(784, hidden), new ReLU(), new Linear(hidden, 10));
  model.apply((m) => {
    if (!(m instanceof Linear)) return;
    if (flags.init === 'he') kaimingNormal_(m.weight, { nonlinearity: 'relu' });
    else if (flags.init === 'xavier') xavierUniform_(m.weight);
    if (flags.init !== 'default' && m.bias !== null) zeros_(m.bias);
  });
  const name = flags.optimizer as string;
  const lr = (flags.lr as number | undefined) ?? (['adam', 'adamw', 'rmsprop'].includes(name) ? 1e-3 : 0.01);
  const params = model.parameters();
  const clip = clipTransform(flags);
  const optimizers: Record<string, () => Optimizer> = {
    adam: () => new Adam(params, { lr, ...clip }),
    adamw: () => new AdamW(params, { lr, ...clip }),
    sgd: () => new SGD(params, { lr, momentum: flags.momentum as number, ...clip }),
    rmsprop: () => new RMSprop(params, { lr, ...clip }),
    adagrad: () => new Adagrad(params, { lr, ...clip }),
  };
  const optimizer = optimizers[name]();
  const clipText = clip.clip !== undefined ? `, ${clip.clip.name}` : clip.globalClipnorm !== undefined ? `, globalClipnorm ${clip.globalClipnorm}` : ', no clipping';
  out.write(
    `keel train: ${flags.dataset} (${data.train.x.shape[0]} train / ${data.test.x.shape[0]} test), 784→${hidden}→10 ReLU, ` +
      `${flags.init} init, ${name} lr ${lr}${clipText}, batch ${batchSize}, seed ${seed}\n`,
  );
  compile(model, { optimizer, loss: (y, logits) => crossEntropy(logits, y), metrics: ['accuracy'] });
  const callbacks: Callback[] = flags.log !== undefined ? [new MetricsLogger(flags.log as string)] : [];
  let monitor: GradientMonitor | undefined;
  if (flags.monitor !== undefined) {
    const every = flags['monitor-every'] as number;
    if (!Number.isInteger(every) || every < 1) throw new ConfigError(`keel train: --monitor-every must be a positive integer (got ${every})`);
    const threshold = clip.globalClipnorm ?? (flags['clip-value'] === undefined && (flags['clip-norm'] as number) > 0 ? (flags['clip-norm'] as number) : undefined);
    const runInfo: Record<string, string | number | boolean> = { dataset: flags.dataset as string, model: `784→${hidden}→10 ReLU`, init: flags.init as string, optimizer: name, lr, batch: batchSize, seed };
    runInfo.clipping =
      flags['clip-value'] !== undefined ? `clipByValue ${String(flags['clip-value'])}` : threshold === undefined ? 'none' : `${clip.globalClipnorm !== undefined ? 'globalClipnorm' : 'clipByGlobalNorm'} ${threshold}`;
    monitor = new GradientMonitor({ logFile: flags.monitor as string, every, optimizer, clipThreshold: threshold, runInfo });
  }
  fit(model, data.train.x, data.train.y, {
    epochs,
    batchSize,
    verbose: flags.quiet === true ? 2 : 1,
    generator: new Generator(seed),
    callbacks,
    output: out,
    monitor,
  });
  const test = evaluate(model, data.test.x, data.test.y, { batchSize: 256 });
  const stats = optimizer.stats;
  out.write(`steps: ${stats.steps}, clipped: ${stats.stepsClipped} (${((100 * stats.stepsClipped) / Math.max(1, stats.steps)).toFixed(1)}%), skipped: ${stats.stepsSkipped}\n`);
  out.write(`test loss: ${test.loss.toFixed(4)}\ntest accuracy: ${test.accuracy!.toFixed(4)}\n`);
  if (monitor !== undefined) out.write(`run log: ${String(flags.monitor)} (draw it with keel report ${String(flags.monitor)} -o report.html)\n`);
  if (flags.save !== undefined) {
    saveModel(model, flags.save as string);
    out.write(`saved weights to ${String(flags.save)}\n`);
  }
  return { testAccuracy: test.accuracy!, testLoss: test.loss, epochs };
}
