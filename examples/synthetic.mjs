// The synthetic data of examples 01 and 02: learnable, deterministic, shared with the PyTorch
// reference (tools/reference/examples_torch.py reads it through `node`).
import { Generator, randn } from 'keel';

/**
 * 32 standard-normal features per sample; the label is the index of the largest of 10 fixed random
 * projections of the features (`argmax(x · W)`, W a seeded 32×10 Gaussian matrix), so the classes
 * are separated by hyperplanes through the origin and a linear model could reach 100 %.
 *
 * @param {{ trainSize?: number, testSize?: number, seed?: number }} [options]
 * @returns {{ train: { x: import('keel').Tensor, y: import('keel').Tensor }, test: { x: import('keel').Tensor, y: import('keel').Tensor } }}
 */
export function syntheticData(options = {}) {
  const { trainSize = 8000, testSize = 2000, seed = 1234 } = options;
  const generator = new Generator(seed); // its own generator: the data does not depend on manualSeed
  const projection = randn([32, 10], { generator });
  /** @param {number} n */
  const split = (n) => {
    const x = randn([n, 32], { generator });
    return { x, y: x.matmul(projection).argmax({ axis: -1 }) };
  };
  return { train: split(trainSize), test: split(testSize) };
}
