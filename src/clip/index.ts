/**
 * Gradient clipping: PyTorch's in-place utilities (`clipGradNorm_`, `clipGradValue_`,
 * `getTotalNorm`, `clipGradsWithNorm_`) and clipping as gradient transformations to `chain()`
 * with optimizers (Optax's `clipByValue`, `clipByGlobalNorm`, `clipByBlockRms`,
 * `adaptiveGradClip`, `applyIfFinite`; Keras' `clipnorm`/`global_clipnorm` as `clipByNorm` and
 * `kerasGlobalClipnorm`; the adaptive thresholds `autoClip` and `zClip`).
 */
export type { TensorOrTensors } from './common.js';
export {
  clipGradNorm_,
  clipGradValue_,
  clipGradsWithNorm_,
  getTotalNorm,
  type ClipGradNormOptions,
  type ForeachOptions,
} from './grad-utils.js';
export {
  clipByValue,
  clipByNorm,
  clipByGlobalNorm,
  kerasGlobalClipnorm,
  clipByBlockRms,
  kerasClipTransform,
  type EmptyState,
  type KerasClipOptions,
} from './transforms.js';
export {
  adaptiveGradClip,
  autoClip,
  zClip,
  type AdaptiveGradClipOptions,
  type AutoClipOptions,
  type AutoClipState,
  type ZClipOptions,
  type ZClipState,
} from './adaptive.js';
export { applyIfFinite, skipNonfinite, type ApplyIfFiniteOptions, type ApplyIfFiniteState } from './finite.js';
