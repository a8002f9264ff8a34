import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import { datasets } from '../../src/data/index.js';

// The real Fashion-MNIST files from Debian's `dataset-fashion-mnist` package
// (/usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz). Without them
// the test is skipped with a message, except under CI=true, where a missing dataset fails it.

const DIR = datasets.FASHION_MNIST_DIR;
const present = existsSync(join(DIR, 'train-images-idx3-ubyte.gz')) || existsSync(join(DIR, 'train-images-idx3-ubyte'));

/** The raw bytes of a file, gunzipped when it is the .gz one (independent of readIdxFile). */
function raw(name: string): Uint8Array {
  const plain = join(DIR, name);
  return existsSync(plain) ? readFileSync(plain) : gunzipSync(readFileSync(`${plain}.gz`));
}

it('datasets.fashionMnist reads the real 60,000 + 10,000 images', async (ctx) => {
  if (!present) {
    const message = `Fashion-MNIST is not installed in ${DIR} (sudo apt-get install dataset-fashion-mnist)`;
    if (process.env.CI === 'true') throw new Error(`CI=true: ${message}`);
    ctx.skip(message);
  }
  const t0 = performance.now();
  const { train, test, classes } = await datasets.fashionMnist();
  const seconds = (performance.now() - t0) / 1000;
  console.log(`fashionMnist: loaded in ${seconds.toFixed(2)} s`);
  expect(train.x.shape).toEqual([60_000, 784]);
  expect(train.y.shape).toEqual([60_000]);
  expect(test.x.shape).toEqual([10_000, 784]);
  expect(test.y.shape).toEqual([10_000]);
  expect(train.x.dtype).toBe('float32');
  expect(train.y.dtype).toBe('int32');
  expect(classes).toHaveLength(10);

  // Balanced classes: 6,000 of each in train, 1,000 in test (Xiao et al. 2017).
  for (const [split, per] of [[train, 6000], [test, 1000]] as const) {
    const counts = new Array<number>(10).fill(0);
    for (const l of split.y.toTypedArray()) counts[l]++;
    expect(counts).toEqual(new Array<number>(10).fill(per));
  }

  // Pixels in [0, 1]; the training set's mean intensity is 0.2860 (the usual normalization constant).
  const x = train.x.toTypedArray();
  let lo = Infinity;
  let hi = -Infinity;
  let sum = 0;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    sum += v;
  }
  expect(lo).toBe(0);
  expect(hi).toBe(1);
  expect(sum / x.length).toBeGreaterThan(0.28);
  expect(sum / x.length).toBeLessThan(0.29);

  // Against the raw files read here: images start after a 16-byte header, labels after 8 bytes.
  const images = raw('t10k-images-idx3-ubyte');
  const labels = raw('t10k-labels-idx1-ubyte');
  const tx = test.x.toTypedArray();
  const ty = test.y.toTypedArray();
  for (const r of [0, 1, 4999, 9999]) {
    expect(ty[r]).toBe(labels[8 + r]);
    for (let p = 0; p < 784; p++) expect(tx[r * 784 + p]).toBe(Math.fround(images[16 + r * 784 + p] / 255));
  }
});
