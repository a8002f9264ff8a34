/** The data layer: datasets, the IDX reader, TensorDataset and DataLoader. */
export * as datasets from './datasets.js';
export type { MnistOptions, LabeledTensors, TrainTestData, FashionMnistOptions } from './datasets.js';
export { type Dataset, TensorDataset } from './dataset.js';
export { DataLoader, type DataLoaderOptions } from './dataloader.js';
export { readIdx, readIdxFile, type IdxArray, type IdxArrayFor, type IdxDType } from './idx.js';
export { randomPermutation } from './sampler.js';
export { DataFormatError, DatasetNotFoundError } from './errors.js';
