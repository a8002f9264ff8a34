/**
 * Keel: deep learning in TypeScript for training that does not blow up.
 * This file only re-exports: it is the public surface.
 */
import './ops/methods.js';

export type { DType, TypedArray } from './core/dtype.js';
export {
  KeelError,
  ShapeError,
  DTypeError,
  ConfigError,
  NonFiniteError,
  GraphError,
  DisposedError,
} from './core/errors.js';
export { Generator, type GeneratorState, manualSeed, defaultGenerator } from './core/random.js';
export type { Shape } from './core/shape.js';
export type { Backend } from './backend/backend.js';
export { getBackend, setBackend, listBackends, registerBackend } from './backend/registry.js';
export { Tensor, type NestedArray, type GradFn } from './tensor/tensor.js';
export { tidy, keep } from './tensor/scope.js';
export { memory, type MemoryInfo } from './tensor/storage.js';
export {
  tensor,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  fullLike,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randint,
  type CreateOptions,
  type RandomOptions,
} from './tensor/create.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd/grad-mode.js';
export { backward, type BackwardOptions } from './autograd/backward.js';
export { gradcheck, type GradcheckOptions } from './autograd/gradcheck.js';
export { registerHook } from './autograd/hooks.js';
export type { GradHook } from './autograd/node.js';
export * from './ops/elementwise.js';
export * from './ops/reduce.js';
export * from './ops/shape.js';
export { matmul } from './ops/linalg.js';
export * from './ops/inplace.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export type { TensorLike } from './ops/scalar.js';
export * as nn from './nn/index.js';
export * as keras from './nn/keras-namespace.js';
export * as init from './nn/init/index.js';
export * from './data/index.js';
import './train/methods.js';
export {
  compile,
  fit,
  evaluate,
  predict,
  type CompileOptions,
  type FitOptions,
  type History,
  type EvaluateOptions,
  type LossName,
  type LossFn,
  type TrainableOptimizer,
} from './train/fit.js';
export {
  Callback,
  EarlyStopping,
  TerminateOnNaN,
  LearningRateScheduler,
  ReduceLROnPlateau,
  ModelCheckpoint,
  MetricsLogger,
  type TrainContext,
  type EarlyStoppingOptions,
  type ReduceLROnPlateauOptions,
  type ModelCheckpointOptions,
} from './train/callbacks.js';
export {
  serializeSafetensors,
  parseSafetensors,
  decodeSafetensors,
  parseSafetensorsHeader,
  SafetensorsError,
  type SafetensorsDType,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SafetensorsContents,
  type NamedTensors,
} from './train/safetensors.js';
export {
  saveModel,
  loadModel,
  saveCheckpoint,
  loadCheckpoint,
  serializeCheckpoint,
  restoreCheckpoint,
  type Stateful,
  type SaveModelOptions,
  type LoadModelOptions,
  type CheckpointState,
  type CheckpointTargets,
  type CheckpointInfo,
} from './train/checkpoint.js';
export * from './clip/index.js';
export * as optim from './optim/index.js';
export { Optimizer, SGD, Adam, AdamW, RMSprop, Adagrad, StepLR, ExponentialLR, CosineAnnealingLR, LinearLR, LinearWarmup, LambdaLR } from './optim/index.js';
export { chain, type GradientTransformation, type UpdateInfo } from './optim/transform.js';
export * from './diagnostics/index.js';
