import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, Generator, ShapeError, type Tensor, arange, manualSeed, memory, stack, tensor, tidy } from '../src/index.js';
import {
  DataFormatError,
  DataLoader,
  type Dataset,
  DatasetNotFoundError,
  TensorDataset,
  datasets,
  randomPermutation,
  readIdx,
  readIdxFile,
} from '../src/data/index.js';

/** test/fixtures/data.json, written by tools/fixtures/data_fixtures.py (torch 1.13). */
interface Fixtures {
  torch: string;
  loaders: { n: number; batchSize: number; dropLast: boolean; length: number; batches: number[][]; labels: number[][] }[];
  shuffled: {
    n: number;
    batchSize: number;
    dropLast: boolean;
    length: number;
    sizes: number[][];
    everyIndexOnce: boolean[];
    noRepeats: boolean[];
    epochsDiffer: boolean;
  }[];
  errors: { call: string; error: boolean; message?: string; batchSize?: number; shuffle?: boolean; shapes?: number[][] }[];
}
const fixtures = JSON.parse(readFileSync(new URL('./fixtures/data.json', import.meta.url), 'utf8')) as Fixtures;

// -------------------------------------------------------------------------------------------
// Helpers

/** A dataset over 0..n-1: x = [i, -i] (float32), y = 10·i (int32), so rows can be told apart. */
function indexDataset(n: number): TensorDataset {
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = -i;
  }
  const y = Int32Array.from({ length: n }, (_, i) => 10 * i);
  return new TensorDataset(tensor(x, [n, 2]), tensor(y, [n]));
}

/** The sample indices of every batch of one epoch (read from the first column of x). */
function epoch(loader: DataLoader): number[][] {
  const out: number[][] = [];
  for (const [x] of loader) out.push(Array.from(x.toTypedArray().filter((_, k) => k % 2 === 0)));
  return out;
}

const flat = (e: number[][]): number[] => e.flat();

/** Element-wise equality of two tensors' data (a plain loop: toEqual on millions of elements is slow). */
function sameData(a: Tensor, b: Tensor): boolean {
  const u = a.toTypedArray();
  const v = b.toTypedArray();
  if (u.length !== v.length) return false;
  for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return false;
  return true;
}

// -------------------------------------------------------------------------------------------

describe('TensorDataset', () => {
  it('length and get(i): views of row i of every tensor, negative indices from the end', () => {
    const ds = indexDataset(5);
    expect(ds.length).toBe(5);
    const [x, y] = ds.get(3);
    expect(x.shape).toEqual([2]);
    expect(Array.from(x.toTypedArray())).toEqual([3, -3]);
    expect(y.shape).toEqual([]);
    expect(y.dtype).toBe('int32');
    expect(y.item()).toBe(30);
    expect(ds.get(-1)[1].item()).toBe(40);
  });

  it('rejects tensors with different first dimensions, scalars, no tensors, and bad indices', () => {
    const mismatch = fixtures.errors.find((e) => e.shapes !== undefined)!;
    expect(mismatch.error).toBe(true); // PyTorch: "Size mismatch between tensors"
    const [a, b] = mismatch.shapes!;
    expect(() => new TensorDataset(tensor(new Float32Array(6), a), tensor(new Float32Array(4), b))).toThrow(ShapeError);
    expect(() => new TensorDataset(tensor(new Float32Array(6), a), tensor(new Float32Array(4), b))).toThrow(
      /same first dimension \(got shapes \[3, 2\], \[4\]\)/,
    );
    expect(() => new TensorDataset(tensor(1))).toThrow(/scalar/);
    expect(() => new TensorDataset()).toThrow(ConfigError);
    const ds = indexDataset(3);
    expect(() => ds.get(3)).toThrow(/index 3 is out of range for a dataset of 3 samples/);
    expect(() => ds.get(-4)).toThrow(ConfigError);
    expect(() => ds.get(1.5)).toThrow(ConfigError);
    expect(() => ds.getBatch(Int32Array.of(0, 3))).toThrow(/index 3 is out of range/);
  });

  it('getBatch gathers rows with indexSelect, in the order given', () => {
    const ds = indexDataset(6);
    const [x, y] = ds.getBatch(Int32Array.of(4, 0, 4, 2));
    expect(x.shape).toEqual([4, 2]);
    expect(x.toArray()).toEqual([[4, -4], [0, -0], [4, -4], [2, -2]]);
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.toTypedArray())).toEqual([40, 0, 40, 20]);
  });
});

describe('DataLoader against PyTorch (torch.utils.data, test/fixtures/data.json)', () => {
  it.each(fixtures.loaders)('unshuffled n=$n batchSize=$batchSize dropLast=$dropLast', (c) => {
    const loader = new DataLoader(indexDataset(c.n), { batchSize: c.batchSize, dropLast: c.dropLast });
    expect(loader.length).toBe(c.length);
    const xs: number[][] = [];
    const ys: number[][] = [];
    for (const [x, y] of loader) {
      expect(x.shape).toEqual([y.shape[0], 2]);
      xs.push(Array.from(x.toTypedArray().filter((_, k) => k % 2 === 0)));
      ys.push(Array.from(y.toTypedArray()));
    }
    expect(xs).toEqual(c.batches);
    expect(ys).toEqual(c.labels);
  });

  it.each(fixtures.shuffled)('shuffled n=$n batchSize=$batchSize dropLast=$dropLast', (c) => {
    const loader = new DataLoader(indexDataset(c.n), {
      batchSize: c.batchSize,
      dropLast: c.dropLast,
      shuffle: true,
      generator: new Generator(c.n * 100 + c.batchSize),
    });
    expect(loader.length).toBe(c.length);
    const epochs = [epoch(loader), epoch(loader)];
    expect(epochs.map((e) => e.map((b) => b.length))).toEqual(c.sizes);
    const range = Array.from({ length: c.n }, (_, i) => i);
    expect(epochs.map((e) => [...flat(e)].sort((p, q) => p - q).join() === range.join())).toEqual(c.everyIndexOnce);
    expect(epochs.map((e) => new Set(flat(e)).size === flat(e).length)).toEqual(c.noRepeats);
    expect(flat(epochs[0]).join() !== flat(epochs[1]).join()).toBe(c.epochsDiffer);
  });

  it('rejects what PyTorch rejects: batch sizes that are not positive integers, shuffling nothing', () => {
    for (const e of fixtures.errors.filter((f) => f.batchSize !== undefined)) {
      expect(e.error).toBe(true);
      expect(() => new DataLoader(indexDataset(4), { batchSize: e.batchSize })).toThrow(
        new RegExp(`batchSize must be a positive integer \\(got ${e.batchSize}\\)`),
      );
    }
    const empty = fixtures.errors.find((f) => f.shuffle === true)!;
    expect(empty.error).toBe(true);
    expect(() => new DataLoader(new TensorDataset(tensor(new Float32Array(0), [0, 2])), { shuffle: true })).toThrow(
      /cannot shuffle an empty dataset/,
    );
  });
});

describe('DataLoader', () => {
  it('defaults: batchSize 1, in order, last batch kept', () => {
    const loader = new DataLoader(indexDataset(3));
    expect(loader.length).toBe(3);
    expect(epoch(loader)).toEqual([[0], [1], [2]]);
  });

  it('every index exactly once per epoch; rows of x and y stay together', () => {
    const n = 103;
    const loader = new DataLoader(indexDataset(n), { batchSize: 10, shuffle: true, generator: new Generator(7) });
    for (let e = 0; e < 3; e++) {
      const seen: number[] = [];
      for (const [x, y] of loader) {
        const xv = x.toTypedArray();
        const yv = y.toTypedArray();
        for (let r = 0; r < yv.length; r++) {
          expect(xv[2 * r + 1]).toBe(-xv[2 * r]);
          expect(yv[r]).toBe(10 * xv[2 * r]);
          seen.push(xv[2 * r]);
        }
      }
      expect(seen.length).toBe(n);
      expect([...seen].sort((p, q) => p - q)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });

  it('the same seed gives the same sequence of epoch orders; epochs and seeds differ', () => {
    const make = (seed: number): DataLoader =>
      new DataLoader(indexDataset(50), { batchSize: 8, shuffle: true, generator: new Generator(seed) });
    const a = make(3);
    const b = make(3);
    const c = make(4);
    const ea = [flat(epoch(a)), flat(epoch(a)), flat(epoch(a))];
    const eb = [flat(epoch(b)), flat(epoch(b)), flat(epoch(b))];
    expect(ea).toEqual(eb);
    expect(ea[0]).not.toEqual(ea[1]);
    expect(ea[1]).not.toEqual(ea[2]);
    expect(flat(epoch(c))).not.toEqual(ea[0]);
    expect(ea[0]).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('without a generator, shuffling draws from the global generator (manualSeed)', () => {
    const loader = new DataLoader(indexDataset(40), { batchSize: 5, shuffle: true });
    manualSeed(11);
    const first = [flat(epoch(loader)), flat(epoch(loader))];
    manualSeed(11);
    const again = [flat(epoch(loader)), flat(epoch(loader))];
    expect(again).toEqual(first);
    expect(first[0]).not.toEqual(first[1]);
  });

  it('fetches batches with getBatch, never row by row', () => {
    const ds = indexDataset(20);
    const get = vi.spyOn(ds, 'get');
    const getBatch = vi.spyOn(ds, 'getBatch');
    const loader = new DataLoader(ds, { batchSize: 6, shuffle: true, generator: new Generator(1) });
    expect(epoch(loader).length).toBe(4);
    expect(get).not.toHaveBeenCalled();
    expect(getBatch).toHaveBeenCalledTimes(4);
  });

  it('a Dataset without getBatch is collated by stacking its samples (same batches)', () => {
    const inner = indexDataset(11);
    const plain: Dataset = { length: inner.length, get: (i) => inner.get(i) };
    const opts = { batchSize: 4, shuffle: true };
    const viaGet = new DataLoader(plain, { ...opts, generator: new Generator(5) });
    const viaBatch = new DataLoader(inner, { ...opts, generator: new Generator(5) });
    const batches = [...viaGet];
    const expected = [...viaBatch];
    expect(batches.length).toBe(3);
    batches.forEach((bt, k) => {
      expect(bt.map((t) => t.shape)).toEqual(expected[k].map((t) => t.shape));
      expect(bt.map((t) => t.toArray())).toEqual(expected[k].map((t) => t.toArray()));
      expect(bt[1].dtype).toBe('int32');
    });
    const ragged: Dataset = { length: 2, get: (i) => (i === 0 ? [tensor([1])] : [tensor([1]), tensor([2])]) };
    expect(() => [...new DataLoader(ragged, { batchSize: 2 })]).toThrow(/same number of tensors/);
  });

  it('forEach runs each step in tidy: the live-buffer count stays flat', () => {
    const ds = indexDataset(64);
    const w = tensor([[0.5], [0.25]]);
    const loader = new DataLoader(ds, { batchSize: 8, shuffle: true, generator: new Generator(2) });
    const counts: number[] = [];
    let steps = 0;
    let total = 0;
    for (let e = 0; e < 3; e++) {
      loader.forEach(([x, y], i) => {
        expect(i).toBe(steps % 8);
        const loss = x.matmul(w).sum().add(y.sum()); // temporaries, freed with the batch
        total += loss.item();
        steps++;
        counts.push(memory().numBuffers);
      });
      counts.push(memory().numBuffers);
    }
    expect(steps).toBe(24);
    // Sum over one epoch of x·w = Σ(0.5i − 0.25i) and of y = Σ10i, three epochs.
    expect(total).toBeCloseTo(3 * (0.25 * 2016 + 10 * 2016), 3);
    const afterEpochs = counts.filter((_, k) => k % 9 === 8);
    expect(new Set(afterEpochs).size).toBe(1);
    const inSteps = counts.filter((_, k) => k % 9 !== 8);
    expect(new Set(inSteps).size).toBe(1);
  });

  it('for...of inside a per-epoch tidy frees every batch of the epoch; the loader holds none', () => {
    const loader = new DataLoader(indexDataset(30), { batchSize: 4, shuffle: true, generator: new Generator(9) });
    const before = memory().numBuffers;
    const after: number[] = [];
    for (let e = 0; e < 4; e++) {
      tidy(() => {
        for (const batch of loader) tidy(() => batch[0].mul(2).sum());
      });
      after.push(memory().numBuffers);
    }
    expect(after).toEqual([before, before, before, before]);
    // Outside any scope, a batch is the caller's: two buffers per batch until disposed.
    const it = loader[Symbol.iterator]();
    const batch = it.next().value as Tensor[];
    expect(memory().numBuffers).toBe(before + 2);
    for (const t of batch) t.dispose();
    expect(memory().numBuffers).toBe(before);
  });
});

describe('randomPermutation', () => {
  it('is uniform over the 120 permutations of 5 elements (chi-square)', () => {
    const g = new Generator(123);
    const counts = new Map<string, number>();
    const trials = 24_000;
    for (let t = 0; t < trials; t++) {
      const key = randomPermutation(5, g).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(120);
    const expected = trials / 120;
    let chi2 = 0;
    for (const c of counts.values()) chi2 += (c - expected) ** 2 / expected;
    // 119 degrees of freedom: mean 119, sd 15.4; P(chi2 > 200) ≈ 1e-5.
    expect(chi2).toBeLessThan(200);
  });

  it('handles 0 and 1 and rejects bad sizes', () => {
    expect(Array.from(randomPermutation(0, new Generator(0)))).toEqual([]);
    expect(Array.from(randomPermutation(1, new Generator(0)))).toEqual([0]);
    expect(() => randomPermutation(-1, new Generator(0))).toThrow(ConfigError);
    expect(() => randomPermutation(2.5, new Generator(0))).toThrow(ConfigError);
  });
});

// -------------------------------------------------------------------------------------------

/** An IDX file: magic 00 00 type ndim, big-endian uint32 dims, then the data bytes as given. */
function idx(type: number, dims: number[], data: number[]): Uint8Array {
  const head = [0, 0, type, dims.length];
  for (const d of dims) head.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return Uint8Array.from([...head, ...data]);
}

describe('readIdx', () => {
  it('0x08 unsigned bytes', () => {
    const r = readIdx(idx(0x08, [2, 3], [0, 1, 2, 253, 254, 255]));
    expect(r.dtype).toBe('uint8');
    expect(r.shape).toEqual([2, 3]);
    expect(r.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(r.data)).toEqual([0, 1, 2, 253, 254, 255]);
  });

  it('0x09 signed bytes', () => {
    const r = readIdx(idx(0x09, [4], [0x80, 0xff, 0x00, 0x7f]));
    expect(r.dtype).toBe('int8');
    expect(r.data).toBeInstanceOf(Int8Array);
    expect(Array.from(r.data)).toEqual([-128, -1, 0, 127]);
  });

  it('0x0B big-endian int16', () => {
    const r = readIdx(idx(0x0b, [3], [0xff, 0xfe, 0x01, 0x02, 0x80, 0x00]));
    expect(r.dtype).toBe('int16');
    expect(r.data).toBeInstanceOf(Int16Array);
    expect(Array.from(r.data)).toEqual([-2, 258, -32768]);
  });

  it('0x0C big-endian int32', () => {
    const r = readIdx(idx(0x0c, [1, 2], [0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xfe]));
    expect(r.dtype).toBe('int32');
    expect(r.shape).toEqual([1, 2]);
    expect(r.data).toBeInstanceOf(Int32Array);
    expect(Array.from(r.data)).toEqual([0x01020304, -2]);
  });

  it('0x0D big-endian float32', () => {
    const r = readIdx(idx(0x0d, [2], [0x3f, 0xc0, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00]));
    expect(r.dtype).toBe('float32');
    expect(r.data).toBeInstanceOf(Float32Array);
    expect(Array.from(r.data)).toEqual([1.5, -2]);
  });

  it('0x0E big-endian float64', () => {
    const r = readIdx(idx(0x0e, [2], [0xc0, 0x04, 0, 0, 0, 0, 0, 0, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]));
    expect(r.dtype).toBe('float64');
    expect(r.data).toBeInstanceOf(Float64Array);
    expect(Array.from(r.data)).toEqual([-2.5, 0.1]);
  });

  it('big-endian dimensions above 255, zero dimensions, empty dimensions', () => {
    const r = readIdx(idx(0x08, [1, 256, 1], Array.from({ length: 256 }, (_, i) => i)));
    expect(r.shape).toEqual([1, 256, 1]);
    expect(r.data[255]).toBe(255);
    expect(readIdx(idx(0x08, [], [42]))).toEqual({ dtype: 'uint8', shape: [], data: Uint8Array.of(42) });
    expect(readIdx(idx(0x0c, [0, 5], [])).data.length).toBe(0);
  });

  it('reads from a view at an offset and returns data with a buffer of its own', () => {
    const file = idx(0x08, [3], [7, 8, 9]);
    const big = new Uint8Array(file.length + 5);
    big.set(file, 5);
    const view = big.subarray(5);
    const r = readIdx(view);
    expect(Array.from(r.data)).toEqual([7, 8, 9]);
    view[file.length - 1] = 0;
    expect(r.data[2]).toBe(9);
    const f = readIdx(big.subarray(5).slice()); // also the odd-offset path for wider types
    expect(f.shape).toEqual([3]);
    const odd = new Uint8Array(idx(0x0b, [1], [0x01, 0x00]).length + 1);
    odd.set(idx(0x0b, [1], [0x01, 0x00]), 1);
    expect(Array.from(readIdx(odd.subarray(1)).data)).toEqual([256]);
  });

  it('errors: bad magic, unknown type, gzip, truncated header, truncated data, trailing bytes', () => {
    expect(() => readIdx(Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0))).toThrow(DataFormatError);
    expect(() => readIdx(Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0))).toThrow(/bad magic number 0x01000801/);
    expect(() => readIdx(idx(0x0a, [1], [0]))).toThrow(/unknown IDX type code 0x0A/);
    expect(() => readIdx(Uint8Array.of(0x1f, 0x8b, 8, 0))).toThrow(/gzip-compressed.*readIdxFile/);
    expect(() => readIdx(Uint8Array.of(0, 0))).toThrow(/expected at least 4 bytes \(the magic number\), got 2/);
    expect(() => readIdx(Uint8Array.of(0, 0, 8, 2, 0, 0, 0, 3, 0))).toThrow(/2 dimensions need 12 header bytes, got 9/);
    const short = idx(0x0c, [2, 3], Array.from({ length: 20 }, () => 0));
    expect(() => readIdx(short)).toThrow(/truncated IDX data: int32 \[2, 3\] needs 36 bytes \(12-byte header \+ 24 data bytes\), got 32/);
    expect(() => readIdx(idx(0x08, [2], [1, 2, 3]))).toThrow(/1 trailing bytes.*needs 10 bytes.*got 11/);
  });
});

describe('readIdxFile', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keel-idx-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads plain and gzip-compressed files alike', async () => {
    const bytes = idx(0x0d, [2], [0x3f, 0xc0, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00]);
    writeFileSync(join(dir, 'a-idx1-float'), bytes);
    writeFileSync(join(dir, 'a-idx1-float.gz'), gzipSync(bytes));
    writeFileSync(join(dir, 'gz-without-suffix'), gzipSync(bytes));
    for (const name of ['a-idx1-float', 'a-idx1-float.gz', 'gz-without-suffix']) {
      const r = await readIdxFile(join(dir, name));
      expect(r.dtype).toBe('float32');
      expect(Array.from(r.data)).toEqual([1.5, -2]);
    }
  });

  it('names the file in its errors: missing, corrupt gzip, bad IDX', async () => {
    const missing = join(dir, 'nope');
    await expect(readIdxFile(missing)).rejects.toThrow(DatasetNotFoundError);
    await expect(readIdxFile(missing)).rejects.toThrow(`readIdxFile('${missing}'): no such file`);
    const gz = gzipSync(idx(0x08, [4], [1, 2, 3, 4]));
    writeFileSync(join(dir, 'cut.gz'), gz.subarray(0, gz.length - 6));
    await expect(readIdxFile(join(dir, 'cut.gz'))).rejects.toThrow(/cut\.gz'\): the file starts like gzip but does not decompress/);
    writeFileSync(join(dir, 'short'), idx(0x08, [4], [1, 2]));
    await expect(readIdxFile(join(dir, 'short'))).rejects.toThrow(/short'\): truncated IDX data: uint8 \[4\] needs 12 bytes/);
  });
});

// -------------------------------------------------------------------------------------------

describe('datasets.fashionMnist (small fake files)', () => {
  let dir = '';
  const img = (n: number, seed: number): number[] => Array.from({ length: n * 784 }, (_, i) => (i * 7 + seed) % 256);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keel-fashion-'));
    // Mixed: some files plain, some gzipped, as either may be installed.
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(idx(0x08, [3, 28, 28], img(3, 1))));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idx(0x08, [3], [9, 0, 3]));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idx(0x08, [2, 28, 28], img(2, 5)));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx(0x08, [2], [1, 8])));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the four files, scales the pixels to byte/255, and keeps the order', async () => {
    const { train, test, classes } = await datasets.fashionMnist({ dir: `${dir}/` });
    expect(train.x.shape).toEqual([3, 784]);
    expect(train.x.dtype).toBe('float32');
    expect(train.y.dtype).toBe('int32');
    expect(Array.from(train.y.toTypedArray())).toEqual([9, 0, 3]);
    expect(Array.from(test.y.toTypedArray())).toEqual([1, 8]);
    expect(Array.from(train.x.toTypedArray())).toEqual(img(3, 1).map((b) => Math.fround(b / 255)));
    expect(Array.from(test.x.toTypedArray())).toEqual(img(2, 5).map((b) => Math.fround(b / 255)));
    expect(classes[9]).toBe('Ankle boot');
  });

  it('a missing dataset is an error that says how to install it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'keel-none-'));
    try {
      await expect(datasets.fashionMnist({ dir: empty })).rejects.toThrow(DatasetNotFoundError);
      await expect(datasets.fashionMnist({ dir: empty })).rejects.toThrow(/apt-get install dataset-fashion-mnist/);
      await expect(datasets.fashionMnist({ dir: empty })).rejects.toThrow(/idx\d-ubyte or .*\.gz in/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('files of the wrong kind are a DataFormatError', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'keel-bad-'));
    try {
      writeFileSync(join(bad, 'train-images-idx3-ubyte'), idx(0x08, [1, 2, 2], [1, 2, 3, 4]));
      writeFileSync(join(bad, 'train-labels-idx1-ubyte'), idx(0x08, [1], [0]));
      writeFileSync(join(bad, 't10k-images-idx3-ubyte'), idx(0x08, [1, 28, 28], img(1, 0)));
      writeFileSync(join(bad, 't10k-labels-idx1-ubyte'), idx(0x08, [1], [12]));
      await expect(datasets.fashionMnist({ dir: bad })).rejects.toThrow(/uint8 \[1, 2, 2\] \(expected uint8 \[N, 28, 28\]\)|label 0 is 12/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});

// -------------------------------------------------------------------------------------------

// The package itself, read directly: the independent reference for the loader.
const mnistPackage = createRequire(import.meta.url)('mnist') as { length: number; get(i: number): number[] }[];

describe('datasets.mnist', () => {
  it('8,000 train / 2,000 test: float32 [N, 784] in [0, 1] (byte / 255), int32 labels', async () => {
    const { train, test, classes } = await datasets.mnist();
    expect(train.x.shape).toEqual([8000, 784]);
    expect(train.x.dtype).toBe('float32');
    expect(train.y.shape).toEqual([8000]);
    expect(train.y.dtype).toBe('int32');
    expect(test.x.shape).toEqual([2000, 784]);
    expect(test.y.shape).toEqual([2000]);
    expect(classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    for (const x of [train.x, test.x]) {
      const v = x.toTypedArray();
      let lo = Infinity;
      let hi = -Infinity;
      let offGrid = 0;
      for (const p of v) {
        lo = Math.min(lo, p);
        hi = Math.max(hi, p);
        if (p !== Math.fround(Math.round(p * 255) / 255)) offGrid++;
      }
      expect(lo).toBe(0);
      expect(hi).toBe(1);
      expect(offGrid).toBe(0); // exactly k/255 in float32, as torchvision's ToTensor gives
    }
  });

  it('every one of the package\'s 10,000 samples once, with its digit, within 0.0005 of get(i)', async () => {
    const { train, test } = await datasets.mnist();
    // Index the package's samples by content (its 3-decimal values).
    const where = new Map<string, number[]>();
    for (let d = 0; d < 10; d++)
      for (let i = 0; i < mnistPackage[d].length; i++) {
        const key = mnistPackage[d].get(i).join(',');
        where.set(key, [...(where.get(key) ?? []), d]);
      }
    const counts = new Array<number>(10).fill(0);
    let found = 0;
    for (const split of [train, test]) {
      const x = split.x.toTypedArray();
      const y = split.y.toTypedArray();
      for (let r = 0; r < y.length; r++) {
        counts[y[r]]++;
        const row = Array.from(x.subarray(r * 784, (r + 1) * 784), (v) => Math.round(v * 1000) / 1000);
        const digits = where.get(row.join(','));
        if (digits?.includes(y[r])) found++;
      }
    }
    expect(found).toBe(10_000);
    expect(counts).toEqual(mnistPackage.map((d) => d.length));
    for (const c of counts) expect(c).toBeGreaterThanOrEqual(800);
  });

  it('is deterministic: same seed, same split; another seed or generator state, another split', async () => {
    const a = await datasets.mnist();
    const b = await datasets.mnist({ seed: 0 });
    const c = await datasets.mnist({ generator: new Generator(0) });
    const d = await datasets.mnist({ seed: 1 });
    expect(sameData(b.train.y, a.train.y)).toBe(true);
    expect(sameData(b.train.x, a.train.x)).toBe(true);
    expect(sameData(b.test.x, a.test.x)).toBe(true);
    expect(sameData(b.test.y, a.test.y)).toBe(true);
    expect(sameData(c.train.x, a.train.x)).toBe(true);
    expect(sameData(d.train.y, a.train.y)).toBe(false);
    expect(sameData(d.train.x, a.train.x)).toBe(false);
    // Not in the package's order (all 0s, then all 1s, ...): shuffled.
    expect(Array.from(a.train.y.toTypedArray().subarray(0, 50)).every((v) => v === 0)).toBe(false);
    await expect(datasets.mnist({ seed: 0, generator: new Generator(0) })).rejects.toThrow(ConfigError);
    await expect(datasets.mnist({ seed: -1 })).rejects.toThrow(/seed -1 is invalid/);
  });

  it('digits look like digits', async () => {
    const { train, test } = await datasets.mnist();
    const x = new Float32Array(10_000 * 784);
    x.set(train.x.toTypedArray());
    x.set(test.x.toTypedArray(), 8000 * 784);
    const y = new Int32Array(10_000);
    y.set(train.y.toTypedArray());
    y.set(test.y.toTypedArray(), 8000);
    let total = 0;
    for (const v of x) total += v;
    const mean = total / x.length;
    expect(mean).toBeGreaterThan(0.1); // MNIST's mean intensity is 0.1307
    expect(mean).toBeLessThan(0.15);
    const meanImage = (digit: number): Float64Array => {
      const m = new Float64Array(784);
      let n = 0;
      y.forEach((l, r) => {
        if (l !== digit) return;
        n++;
        for (let p = 0; p < 784; p++) m[p] += x[r * 784 + p];
      });
      return m.map((v) => v / n);
    };
    const at = (m: Float64Array, row: number, col: number): number => m[row * 28 + col];
    const zero = meanImage(0);
    // A 0 is a ring: dark in the middle, bright 7–8 pixels out in every direction.
    expect(at(zero, 14, 14)).toBeLessThan(0.1);
    for (const [r, c] of [[14, 6], [14, 21], [6, 14], [22, 14]]) expect(at(zero, r, c)).toBeGreaterThan(0.3);
    // A 1 is a vertical stroke: the middle column has far more ink than columns near the edges.
    const one = meanImage(1);
    let middle = 0;
    let edges = 0;
    for (let r = 0; r < 28; r++) {
      middle += at(one, r, 14);
      edges += at(one, r, 4) + at(one, r, 23);
    }
    expect(middle).toBeGreaterThan(20 * edges);
    // Digits are centred in the 28×28 frame: the border is almost empty.
    const all = meanImage(8);
    for (let i = 0; i < 28; i++) expect(Math.max(at(all, 0, i), at(all, 27, i), at(all, i, 0), at(all, i, 27))).toBeLessThan(0.05);
  });

  it('asImages reshapes [N, 784] to [N, 1, 28, 28]', async () => {
    const { test } = await datasets.mnist();
    const images = datasets.asImages(test.x);
    expect(images.shape).toEqual([2000, 1, 28, 28]);
    const row = test.x.toTypedArray().subarray(784 * 5, 784 * 6);
    expect(images.toTypedArray().subarray(784 * 5, 784 * 6)).toEqual(row);
    expect(() => datasets.asImages(arange(10))).toThrow(/expected flattened 28×28 images of shape \[N, 784\] \(got \[10\]\)/);
    expect(() => datasets.asImages(stack([arange(10)]))).toThrow(ShapeError);
  });
});
