/**
 * Neural-network building blocks: the Module base class, layers, activations, losses and
 * Sequential. Exposed as the `nn` namespace (`nn.Linear`, `nn.functional.relu`).
 */
export { Module, parameter, isParameter, type ForwardHook, type ForwardPreHook, type HookRemover, type LoadOptions, type LoadResult } from './module.js';
export { Linear, type LinearOptions } from './linear.js';
export { ReLU, LeakyReLU, ELU, SELU, GELU, Tanh, Sigmoid, Softplus, Softmax, LogSoftmax, Identity } from './activation.js';
export { Dropout, type DropoutLayerOptions } from './dropout.js';
export { Flatten } from './flatten.js';
export { Embedding, type EmbeddingLayerOptions } from './embedding.js';
export { LayerNorm, BatchNorm, BatchNorm1d, BatchNorm2d, type LayerNormLayerOptions, type BatchNormLayerOptions } from './normalization.js';
export { Conv1d, Conv2d, type ConvOptions, type Conv1dLayerOptions, type Conv2dLayerOptions } from './conv.js';
export { MaxPool2d, AvgPool2d, type MaxPool2dLayerOptions, type AvgPool2dLayerOptions } from './pooling.js';
export { Sequential } from './sequential.js';
export { enableFiniteChecks } from './checks.js';
export { RNN, LSTM, GRU, RNNBase, type RNNOptions, type RecurrentOptions } from './recurrent.js';
export {
  RNNCell,
  LSTMCell,
  GRUCell,
  RNNCellBase,
  type RNNCellOptions,
  type CellOptions,
  type RecurrentBaseOptions,
  type RNNNonlinearity,
  type RecurrentMode,
} from './recurrent-cell.js';
export {
  Loss,
  CrossEntropyLoss,
  NLLLoss,
  MSELoss,
  L1Loss,
  HuberLoss,
  SmoothL1Loss,
  BCELoss,
  BCEWithLogitsLoss,
  SparseCategoricalCrossentropy,
  CategoricalCrossentropy,
  BinaryCrossentropy,
} from './loss-modules.js';
export {
  crossEntropy,
  nllLoss,
  mse,
  l1,
  huber,
  smoothL1,
  bce,
  bceWithLogits,
  sparseCategoricalCrossentropy,
  categoricalCrossentropy,
  binaryCrossentropy,
  KERAS_EPSILON,
  type Reduction,
  type ReductionOptions,
  type NLLLossOptions,
  type CrossEntropyOptions,
  type HuberOptions,
  type SmoothL1Options,
  type BCEOptions,
  type BCEWithLogitsOptions,
  type SparseCategoricalCrossentropyOptions,
  type KerasCrossentropyOptions,
} from './losses.js';
export * as functional from './functional-all.js';
