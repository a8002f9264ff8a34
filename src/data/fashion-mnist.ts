import { tensor } from '../tensor/create.js';
import { DataFormatError, DatasetNotFoundError } from './errors.js';
import { type IdxArray, readIdxFile } from './idx.js';
import type { LabeledTensors, TrainTestData } from './mnist.js';
import { fileExists } from './node-files.js';

/** Options of {@link fashionMnist}. */
export interface FashionMnistOptions {
  /**
   * The folder holding the four IDX files, plain or gzip-compressed. Default
   * `/usr/share/datasets/fashion-mnist`, where Debian's `dataset-fashion-mnist` package puts them.
   */
  dir?: string;
}

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Class names, indexed by label (as torchvision's `FashionMNIST.classes`). */
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

const INSTALL_HINT =
  'install it with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or download ' +
  'train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and ' +
  't10k-labels-idx1-ubyte.gz from https://github.com/zalandoresearch/fashion-mnist and pass their folder as { dir }';

/**
 * Fashion-MNIST (Xiao et al. 2017, Zalando): 70,000 28×28 grayscale images of clothing in ten
 * classes, read from the original IDX files (Node only): 60,000 train and 10,000 test, `x`
 * float32 `[N, 784]` in [0, 1] (byte / 255, as torchvision's `ToTensor`), `y` int32 `[N]`, in the
 * files' order. Each file may be plain or `.gz`. When a file is missing the error says how to
 * install the dataset (`apt-get install dataset-fashion-mnist`).
 *
 * @example const { train, test, classes } = await datasets.fashionMnist();
 */
export async function fashionMnist(options?: FashionMnistOptions): Promise<TrainTestData> {
  const dir = (options?.dir ?? FASHION_MNIST_DIR).replace(/\/+$/, '');
  const [train, test] = await Promise.all([readSplit(dir, 'train'), readSplit(dir, 't10k')]);
  return { train, test, classes: CLASSES };
}

async function readSplit(dir: string, prefix: 'train' | 't10k'): Promise<LabeledTensors> {
  const [images, labels] = await Promise.all([
    readIdxFile(await locate(dir, `${prefix}-images-idx3-ubyte`)),
    readIdxFile(await locate(dir, `${prefix}-labels-idx1-ubyte`)),
  ]);
  const n = images.shape[0];
  check(images.dtype === 'uint8' && images.shape.length === 3 && images.shape[1] === 28 && images.shape[2] === 28, dir, prefix, 'images', images, 'uint8 [N, 28, 28]');
  check(labels.dtype === 'uint8' && labels.shape.length === 1 && labels.shape[0] === n, dir, prefix, 'labels', labels, `uint8 [${n}] (one per image)`);
  const pixels = images.data as Uint8Array;
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) x[i] = pixels[i] / 255;
  const y = Int32Array.from(labels.data as Uint8Array);
  const bad = y.findIndex((v) => v > 9);
  if (bad !== -1)
    throw new DataFormatError(`datasets.fashionMnist: ${prefix} label ${bad} is ${y[bad]} (expected a class index in [0, 9])`);
  return { x: tensor(x, [n, 28 * 28]), y: tensor(y, [n]) };
}

function check(ok: boolean, dir: string, prefix: string, what: string, a: IdxArray, expected: string): void {
  if (!ok)
    throw new DataFormatError(
      `datasets.fashionMnist: the ${prefix} ${what} in '${dir}' are ${a.dtype} [${a.shape.join(', ')}] (expected ${expected})`,
    );
}

/** The path of `name` or `name.gz` in `dir`, whichever exists (the plain file first). */
async function locate(dir: string, name: string): Promise<string> {
  for (const candidate of [`${dir}/${name}`, `${dir}/${name}.gz`])
    if (await fileExists(candidate, 'datasets.fashionMnist')) return candidate;
  throw new DatasetNotFoundError(`datasets.fashionMnist: Fashion-MNIST not found: no ${name} or ${name}.gz in '${dir}'; ${INSTALL_HINT}`);
}
