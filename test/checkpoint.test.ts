import fs, { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, KeelError, ShapeError } from '../src/core/errors.js';
import { Generator } from '../src/core/random.js';
import { ReLU } from '../src/nn/activation.js';
import { Linear } from '../src/nn/linear.js';
import { BatchNorm1d } from '../src/nn/normalization.js';
import { Sequential } from '../src/nn/sequential.js';
import { rand, randn, tensor, zeros } from '../src/tensor/create.js';
import { tidy } from '../src/tensor/scope.js';
import { Tensor } from '../src/tensor/tensor.js';
import {
  type Stateful,
  loadCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
  saveModel,
  serializeCheckpoint,
} from '../src/train/checkpoint.js';
import { readFileBytes, writeFileAtomic } from '../src/train/files.js';
import { SafetensorsError, decodeSafetensors, serializeSafetensors } from '../src/train/safetensors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'keel-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

let fileCounter = 0;
const newPath = (): string => path.join(dir, `ckpt-${fileCounter++}.safetensors`);

/** A model with parameters and buffers of every kind: float weights, running statistics, an int32 0-d counter. */
function makeModel(seed: number): Sequential {
  const g = new Generator(seed);
  const model = new Sequential(new Linear(3, 4, { generator: g }), new BatchNorm1d(4), new ReLU(), new Linear(4, 2, { generator: g }));
  // Give the buffers values that differ from their defaults.
  model.train();
  model.call(randn([5, 3], { generator: g }));
  return model;
}

/**
 * An optimizer stand-in with a PyTorch-like state dict: per-parameter tensors in a Map keyed by
 * index, step counts, hyperparameters, plus values JSON cannot hold on its own (NaN, Infinity, −0,
 * undefined, a bigint, a key named `$keel`) and one tensor reached twice.
 */
class FakeOptimizer implements Stateful {
  state: unknown;
  loaded: unknown[] = [];
  constructor(seed: number) {
    const g = new Generator(seed);
    const shared = randn([2], { generator: g });
    this.state = {
      state: new Map<number, unknown>([
        [0, { step: 3, exp_avg: randn([4, 3], { generator: g }), exp_avg_sq: rand([4, 3], { generator: g }) }],
        [1, { step: 3, exp_avg: randn([4], { generator: g, dtype: 'float64' }), momentum_buffer: null }],
      ]),
      param_groups: [{ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, params: [0, 1, 2, 3], maximize: false }],
      odd: { nan: NaN, inf: -Infinity, negZero: -0, missing: undefined, big: 2n ** 70n, $keel: 'user key', nested: [[1, 'two', true]] },
      shared: [shared, shared],
      counts: tensor([1, 2, 3], { dtype: 'int32' }),
    };
  }
  stateDict(): unknown {
    return this.state;
  }
  loadStateDict(s: unknown): void {
    this.loaded.push(s);
    this.state = s;
  }
}

/** Deep equality where tensors compare by dtype, shape and bytes. */
function expectSameState(got: unknown, want: unknown, at = 'state'): void {
  if (want instanceof Tensor) {
    expect(got, at).toBeInstanceOf(Tensor);
    const g = got as Tensor;
    expect([g.dtype, g.shape], at).toEqual([want.dtype, want.shape]);
    expect(Buffer.from(g.toTypedArray().buffer).equals(Buffer.from(want.toTypedArray().buffer)), at).toBe(true);
  } else if (want instanceof Map) {
    expect(got, at).toBeInstanceOf(Map);
    expect([...(got as Map<unknown, unknown>).keys()], at).toEqual([...want.keys()]);
    for (const [k, v] of want) expectSameState((got as Map<unknown, unknown>).get(k), v, `${at}.${String(k)}`);
  } else if (Array.isArray(want)) {
    expect(Array.isArray(got) && got.length === want.length, at).toBe(true);
    want.forEach((v, i) => expectSameState((got as unknown[])[i], v, `${at}.${i}`));
  } else if (want !== null && typeof want === 'object') {
    expect(Object.keys(got as object), at).toEqual(Object.keys(want));
    for (const [k, v] of Object.entries(want)) expectSameState((got as Record<string, unknown>)[k], v, `${at}.${k}`);
  } else {
    expect(Object.is(got, want), `${at}: ${String(got)} vs ${String(want)}`).toBe(true);
  }
}

function modelValues(model: Sequential): Record<string, number[]> {
  return Object.fromEntries([...model.stateDict()].map(([k, t]) => [k, [...t.toTypedArray()]]));
}

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round trip: model (parameters and buffers), optimizer state, generator, epoch and extra', () => {
    const model = makeModel(1);
    const optimizer = new FakeOptimizer(2);
    const generator = new Generator(42);
    generator.nextNormal(); // leaves a cached Box–Muller value in the state
    const file = newPath();
    const extra = { bestLoss: 0.25, history: [1, 0.5, NaN], ema: randn([2, 2]) };
    saveCheckpoint(file, { model, optimizer, generator, epoch: 7, extra });
    const expectedDraws = [generator.nextNormal(), generator.nextNormal(), generator.nextFloat32(), generator.nextUint32()];

    const model2 = makeModel(99);
    const optimizer2 = new FakeOptimizer(98);
    const generator2 = new Generator(5);
    expect(modelValues(model2)).not.toEqual(modelValues(model));
    const info = loadCheckpoint(file, { model: model2, optimizer: optimizer2, generator: generator2 });

    expect(modelValues(model2)).toEqual(modelValues(model));
    expect(model2.stateDict().get('1.num_batches_tracked')!.dtype).toBe('int32');
    expect(optimizer2.loaded).toHaveLength(1);
    expectSameState(optimizer2.loaded[0], optimizer.stateDict());
    const shared = (optimizer2.loaded[0] as { shared: Tensor[] }).shared;
    expect(shared[0]).toBe(shared[1]); // one tensor reached twice is one tensor again
    // Random draws continue exactly where the saved generator was, the cached normal included.
    expect([generator2.nextNormal(), generator2.nextNormal(), generator2.nextFloat32(), generator2.nextUint32()]).toEqual(expectedDraws);
    expect(info.epoch).toBe(7);
    expect(info.missingKeys).toEqual([]);
    expectSameState(info.extra, extra);
  });

  it('writes one plain safetensors file: tensors under model./optimizer./extra., the rest as JSON metadata', () => {
    const model = makeModel(1);
    const file = newPath();
    saveCheckpoint(file, { model, optimizer: new FakeOptimizer(2), generator: new Generator(3), epoch: 2, extra: { w: tensor([1]) } });
    const { tensors, metadata } = decodeSafetensors(readFileSync(file));
    expect([...tensors.keys()].sort()).toEqual(
      [
        ...[...model.stateDict().keys()].map((k) => `model.${k}`),
        'optimizer.state.0.exp_avg',
        'optimizer.state.0.exp_avg_sq',
        'optimizer.state.1.exp_avg',
        'optimizer.shared.0',
        'optimizer.counts',
        'extra.w',
      ].sort(),
    );
    expect(Object.keys(metadata!).sort()).toEqual(['keel.checkpoint', 'keel.epoch', 'keel.extra', 'keel.generator', 'keel.optimizer']);
    expect(metadata!['keel.checkpoint']).toBe('1');
    expect(JSON.parse(metadata!['keel.epoch'])).toBe(2);
    const opt = JSON.parse(metadata!['keel.optimizer']) as { param_groups: unknown[] };
    expect(opt.param_groups).toEqual([{ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, params: [0, 1, 2, 3], maximize: false }]);
    expect(JSON.parse(metadata!['keel.generator'])).toMatchObject({ seed: 3 });
  });

  it('an optimizer state that holds the parameters themselves refers to them by name and gets the new model’s own back', () => {
    const model = makeModel(1);
    const params = model.parameters();
    const state = {
      state: new Map(params.map((p, i) => [p, { step: i, buf: zeros(p.shape) }])),
      param_groups: [{ lr: 0.1, params }],
    };
    const optimizer: Stateful & { loaded?: unknown } = { stateDict: () => state, loadStateDict: (s) => void (optimizer.loaded = s) };
    const bytes = serializeCheckpoint({ model, optimizer });
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect([...tensors.keys()].filter((k) => k.startsWith('optimizer.'))).toHaveLength(params.length); // only the buffers
    expect(metadata!['keel.optimizer']).toContain('{"$keel":"parameter","name":"0.weight"}');
    const model2 = makeModel(2);
    restoreCheckpoint(bytes, { model: model2, optimizer });
    const loaded = optimizer.loaded as typeof state;
    const params2 = model2.parameters();
    expect([...loaded.state.keys()]).toEqual(params2); // the same objects, in order
    expect(loaded.param_groups[0].params).toEqual(params2);
    expect(loaded.param_groups[0].params[0]).toBe(params2[0]);
    expect(() => restoreCheckpoint(bytes, { model: new Sequential(new Linear(3, 4)), optimizer, strict: false })).toThrow(
      /refers to a model parameter "1\.weight" that the model does not have/,
    );
  });

  it('only the model is required; an absent epoch and extra come back undefined', () => {
    const model = makeModel(1);
    const file = newPath();
    saveCheckpoint(file, { model });
    const model2 = makeModel(2);
    expect(loadCheckpoint(file, { model: model2 })).toEqual({ epoch: undefined, extra: undefined, missingKeys: [], unexpectedKeys: [] });
    expect(modelValues(model2)).toEqual(modelValues(model));
  });

  it('a checkpoint with optimizer state loads without an optimizer; the reverse is an error', () => {
    const withOpt = newPath();
    saveCheckpoint(withOpt, { model: makeModel(1), optimizer: new FakeOptimizer(2) });
    expect(() => loadCheckpoint(withOpt, { model: makeModel(3) })).not.toThrow();
    const without = newPath();
    saveCheckpoint(without, { model: makeModel(1) });
    const optimizer = new FakeOptimizer(4);
    expect(() => loadCheckpoint(without, { model: makeModel(3), optimizer })).toThrow(/an optimizer was given but the checkpoint has no optimizer state/);
    expect(() => loadCheckpoint(without, { model: makeModel(3), generator: new Generator() })).toThrow(/a generator was given but the checkpoint has no generator state/);
    expect(optimizer.loaded).toHaveLength(0);
  });

  it('the optimizer state and extra tensors survive an enclosing tidy()', () => {
    const file = newPath();
    saveCheckpoint(file, { model: makeModel(1), optimizer: new FakeOptimizer(2), extra: { t: tensor([4, 5]) } });
    const optimizer = new FakeOptimizer(3);
    const extra = tidy(() => loadCheckpoint(file, { model: makeModel(1), optimizer }).extra) as { t: Tensor };
    const restored = optimizer.loaded[0] as { counts: Tensor };
    expect(restored.counts.toArray()).toEqual([1, 2, 3]);
    expect(extra.t.toArray()).toEqual([4, 5]);
  });

  it('serializeCheckpoint / restoreCheckpoint do the same in memory (browsers)', () => {
    const model = makeModel(1);
    const bytes = serializeCheckpoint({ model, epoch: 1 });
    const model2 = makeModel(2);
    expect(restoreCheckpoint(bytes, { model: model2 }).epoch).toBe(1);
    expect(modelValues(model2)).toEqual(modelValues(model));
  });

  it('argument errors name the function and the problem', () => {
    const model = makeModel(1);
    expect(() => saveCheckpoint(newPath(), { model, epoch: NaN })).toThrow(/saveCheckpoint: epoch must be a finite number \(got NaN\)/);
    expect(() => saveCheckpoint(newPath(), { model: {} as Sequential })).toThrow(/saveCheckpoint: model must be a Module/);
    expect(() => saveCheckpoint(newPath(), { model, optimizer: {} as Stateful })).toThrow(/optimizer must have stateDict\(\) and loadStateDict\(\)/);
    const bad = { stateDict: () => ({ when: new Date(0) }), loadStateDict: () => undefined };
    expect(() => saveCheckpoint(newPath(), { model, optimizer: bad })).toThrow(ConfigError);
    expect(() => saveCheckpoint(newPath(), { model, optimizer: bad })).toThrow(/cannot store a Date at 'optimizer\.when'/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => saveCheckpoint(newPath(), { model, extra: cyclic })).toThrow(/cycle at 'extra\.self'/);
    expect(() => saveCheckpoint(newPath(), { model, extra: { f: () => 1 } })).toThrow(/cannot store function at 'extra\.f'/);
  });
});

describe('loadCheckpoint: a bad file changes nothing', () => {
  const model = makeModel(1);
  const optimizer = new FakeOptimizer(2);
  const generator = new Generator(11);
  const good = serializeCheckpoint({ model, optimizer, generator, epoch: 3, extra: { note: 'x' } });
  const { tensors, metadata } = decodeSafetensors(good);

  /** Targets with known contents, and a check that they still have them. */
  function targets(): { model: Sequential; optimizer: FakeOptimizer; generator: Generator; unchanged: () => void } {
    const t = { model: makeModel(7), optimizer: new FakeOptimizer(8), generator: new Generator(9) };
    const values = modelValues(t.model);
    const genState = t.generator.getState();
    return {
      ...t,
      unchanged: () => {
        expect(modelValues(t.model)).toEqual(values);
        expect(t.optimizer.loaded).toHaveLength(0);
        expect(t.generator.getState()).toEqual(genState);
      },
    };
  }

  function expectRejected(bytes: Uint8Array, message: RegExp, errorClass: typeof KeelError = SafetensorsError): void {
    const file = newPath();
    writeFileSync(file, bytes);
    const t = targets();
    expect(() => loadCheckpoint(file, t)).toThrow(errorClass);
    expect(() => loadCheckpoint(file, t)).toThrow(message);
    t.unchanged();
  }

  const withMeta = (changes: Record<string, string | undefined>): Uint8Array => {
    const meta: Record<string, string> = { ...metadata };
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) delete meta[k];
      else meta[k] = v;
    }
    return serializeSafetensors(tensors, meta);
  };

  it('every truncation of the file', () => {
    const t = targets();
    for (let len = 0; len < good.length; len += len < 64 ? 1 : 37) {
      expect(() => restoreCheckpoint(good.slice(0, len), t)).toThrow(SafetensorsError);
      expect(() => restoreCheckpoint(good.slice(0, len), t)).toThrow(/^restoreCheckpoint: /);
    }
    t.unchanged();
    expectRejected(good.slice(0, good.length - 1), /^loadCheckpoint\('.*'\): .*the file is truncated/);
  });

  it('a corrupt header, corrupt metadata JSON, a wrong version, a plain weights file', () => {
    const flipped = good.slice();
    flipped[20] = 0x7d; // a '}' inside the JSON header
    expectRejected(flipped, /not valid JSON|not a safetensors dtype|data_offsets|shape|overlap|gap/);
    expectRejected(withMeta({ 'keel.optimizer': metadata!['keel.optimizer'].slice(0, -2) }), /the metadata 'keel\.optimizer' is not valid JSON/);
    expectRejected(withMeta({ 'keel.epoch': '"three"' }), /'keel\.epoch' must be a finite number/);
    expectRejected(withMeta({ 'keel.generator': '{"seed":1,"s":[1,2]}' }), /the generator state .* is malformed/);
    expectRejected(withMeta({ 'keel.checkpoint': '2' }), /checkpoint format version '2' is not supported/);
    expectRejected(withMeta({ 'keel.checkpoint': undefined }), /not a Keel checkpoint .* use loadModel/);
    const weights = newPath();
    saveModel(model, weights);
    expectRejected(readFileBytes(weights), /not a Keel checkpoint/);
  });

  it('tensors and references that do not match', () => {
    const missing = new Map(tensors);
    missing.delete('optimizer.state.0.exp_avg');
    expectRejected(serializeSafetensors(missing, metadata), /in 'keel\.optimizer': the state refers to a tensor "optimizer\.state\.0\.exp_avg" that is not in the file/);
    const stray = new Map(tensors).set('optimizer.stray', zeros([1]));
    expectRejected(serializeSafetensors(stray, metadata), /'optimizer\.stray' .*not referenced by the metadata 'keel\.optimizer'/);
    const nowhere = new Map(tensors).set('weights', zeros([1]));
    expectRejected(serializeSafetensors(nowhere, metadata), /'weights' belongs to no section/);
    expectRejected(withMeta({ 'keel.optimizer': '{"$keel":"mystery"}' }), /unknown tag \$keel: "mystery"/);
  });

  it('a model whose names or shapes differ (checked before the optimizer is touched)', () => {
    const wrongShape = new Map(tensors).set('model.0.bias', zeros([5]));
    expectRejected(serializeSafetensors(wrongShape, metadata), /'0\.bias' has shape \[5\] in the file but \[4\] in the model/, ShapeError);
    const extraKey = new Map(tensors).set('model.9.weight', zeros([1]));
    expectRejected(serializeSafetensors(extraKey, metadata), /not in the model: 9\.weight/, ConfigError);
    const t = targets();
    expect(restoreCheckpoint(serializeSafetensors(extraKey, metadata), { ...t, strict: false }).unexpectedKeys).toEqual(['9.weight']);
  });
});

describe('atomic writes', () => {
  it('Node gives src/ the same fs module that the test spies on', () => {
    expect(process.getBuiltinModule('fs')).toBe(fs);
  });

  function setup(): { file: string; old: Uint8Array } {
    const file = newPath();
    saveCheckpoint(file, { model: makeModel(1), epoch: 1 });
    return { file, old: new Uint8Array(readFileSync(file)) };
  }
  const others = (file: string): string[] => readdirSync(path.dirname(file)).filter((f) => f.includes(path.basename(file)) && f !== path.basename(file));

  it('a failure between writing and renaming leaves the old checkpoint intact and no temporary file', () => {
    const { file, old } = setup();
    let tempSeen = '';
    vi.spyOn(fs, 'renameSync').mockImplementation((from) => {
      tempSeen = String(from);
      // At the moment of the "crash" the new content is complete in the temporary file, beside
      // the final one, and the final name still holds the old checkpoint.
      expect(path.dirname(tempSeen)).toBe(path.dirname(file));
      expect(decodeSafetensors(readFileSync(tempSeen)).metadata!['keel.epoch']).toBe('2');
      expect(new Uint8Array(readFileSync(file))).toEqual(old);
      throw new Error('simulated crash before rename');
    });
    expect(() => saveCheckpoint(file, { model: makeModel(2), epoch: 2 })).toThrow('simulated crash before rename');
    expect(tempSeen).not.toBe('');
    expect(new Uint8Array(readFileSync(file))).toEqual(old);
    expect(others(file)).toEqual([]);
    vi.restoreAllMocks();
    expect(loadCheckpoint(file, { model: makeModel(3) }).epoch).toBe(1);
  });

  it('a write that fails halfway (disk full) leaves the old checkpoint intact and no temporary file', () => {
    const { file, old } = setup();
    const realWrite = fs.writeSync.bind(fs) as (fd: number, b: Uint8Array, off: number, len: number) => number;
    let calls = 0;
    vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, b: Uint8Array, off: number, len: number) => {
      if (calls++ === 0) return realWrite(fd, b, off, Math.floor(len / 2)); // a short write, as the OS may do
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    }) as typeof fs.writeSync);
    expect(() => saveCheckpoint(file, { model: makeModel(2), epoch: 2 })).toThrow(/ENOSPC/);
    expect(calls).toBe(2);
    expect(new Uint8Array(readFileSync(file))).toEqual(old);
    expect(others(file)).toEqual([]);
  });

  it('short writes are continued until every byte is written; fsync runs before rename', () => {
    const file = newPath();
    const realWrite = fs.writeSync.bind(fs) as (fd: number, b: Uint8Array, off: number, len: number) => number;
    const order: string[] = [];
    vi.spyOn(fs, 'writeSync').mockImplementation(((fd: number, b: Uint8Array, off: number, len: number) => {
      order.push('write');
      return realWrite(fd, b, off, Math.min(len, 100));
    }) as typeof fs.writeSync);
    const realFsync = fs.fsyncSync.bind(fs);
    vi.spyOn(fs, 'fsyncSync').mockImplementation((fd) => {
      order.push('fsync');
      realFsync(fd);
    });
    const realRename = fs.renameSync.bind(fs);
    vi.spyOn(fs, 'renameSync').mockImplementation((a, b) => {
      order.push('rename');
      realRename(a, b);
    });
    const bytes = new Uint8Array(1000).map((_, i) => i * 7);
    writeFileAtomic(file, bytes);
    expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
    expect(order.filter((o) => o === 'write')).toHaveLength(10);
    expect(order.slice(10, 12)).toEqual(['fsync', 'rename']); // the file, then the rename (then the directory)
    expect(others(file)).toEqual([]);
  });

  it('a failing fsync leaves the old file intact', () => {
    const { file, old } = setup();
    vi.spyOn(fs, 'fsyncSync').mockImplementation(() => {
      throw new Error('EIO');
    });
    expect(() => saveCheckpoint(file, { model: makeModel(2) })).toThrow('EIO');
    expect(new Uint8Array(readFileSync(file))).toEqual(old);
    expect(others(file)).toEqual([]);
  });

  it('a missing directory is the usual ENOENT; without Node file access the error says what to use instead', () => {
    expect(() => writeFileAtomic(path.join(dir, 'no', 'such', 'dir.bin'), new Uint8Array(1))).toThrow(/ENOENT/);
    const proc = process as unknown as { getBuiltinModule?: unknown };
    const real = proc.getBuiltinModule;
    proc.getBuiltinModule = undefined;
    try {
      expect(() => saveCheckpoint(newPath(), { model: makeModel(1) })).toThrow(KeelError);
      expect(() => saveCheckpoint(newPath(), { model: makeModel(1) })).toThrow(/writeFileAtomic: reading and writing files needs Node\.js 20\.16.*serializeSafetensors/);
      expect(() => readFileBytes('x')).toThrow(/readFileBytes: reading and writing files needs Node/);
    } finally {
      proc.getBuiltinModule = real;
    }
  });
});
