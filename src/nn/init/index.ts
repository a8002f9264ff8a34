/**
 * Weight initialization: PyTorch-style in-place functions (`kaimingNormal_(w)`, `orthogonal_(w)`,
 * sharing `computeFans` and `calculateGain`) and Keras-style initializers chosen by name or built
 * with options (`getInitializer('heNormal')`, `varianceScaling({ scale: 2 })`). Weights are in
 * Keel's layout, PyTorch's: Linear `[out, in]`, Conv `[out, in/groups, ...kernel]`.
 */
export { type InitOptions, uniform_, normal_, constant_, zeros_, ones_, fillWith_ } from './basic.js';
export { type Fans, type Nonlinearity, type FanMode, computeFans, layerFans, calculateGain } from './fans.js';
export type { RandomInitOptions } from './sampling.js';
export {
  type TruncNormalOptions,
  type XavierOptions,
  type KaimingOptions,
  type OrthogonalOptions,
  type SparseOptions,
  truncNormal_,
  eye_,
  dirac_,
  xavierUniform_,
  xavierNormal_,
  kaimingUniform_,
  kaimingNormal_,
  orthogonal_,
  sparse_,
} from './pytorch.js';
export {
  type Initializer,
  type InitializerConfig,
  type InitializerName,
  type InitializerSpec,
  type SeedOptions,
  type ConstantOptions,
  type RandomNormalOptions,
  type RandomUniformOptions,
  type VarianceScalingMode,
  type VarianceScalingDistribution,
  type VarianceScalingOptions,
  type OrthogonalInitOptions,
  type IdentityOptions,
  type InitializeOptions,
  zeros,
  ones,
  constant,
  randomNormal,
  randomUniform,
  truncatedNormal,
  varianceScaling,
  glorotUniform,
  glorotNormal,
  heUniform,
  heNormal,
  lecunUniform,
  lecunNormal,
  orthogonal,
  identity,
  getInitializer,
  initialize_,
} from './keras.js';
export { type LsuvOptions, type LsuvLayerReport, type WeightLayer, lsuv } from './lsuv.js';
export {
  type CheckOptions,
  type CheckReport,
  type CheckRow,
  type CheckFlag,
  type ActivationKind,
  type InitSuggestion,
  check,
} from './check.js';
