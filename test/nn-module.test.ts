import { describe, expect, it } from 'vitest';
import { ConfigError, Generator, ShapeError, type Tensor, manualSeed, mul, ones, randn, sum, tensor, zeros } from '../src/index.js';
import { ReLU } from '../src/nn/activation.js';
import { Dropout } from '../src/nn/dropout.js';
import { Linear } from '../src/nn/linear.js';
import { Module } from '../src/nn/module.js';
import { BatchNorm1d } from '../src/nn/normalization.js';

// The Module base class (src/nn/module.ts) as a PyTorch user writes models: submodules in fields,
// discovered in declaration order, no registration calls.

class SimpleModel extends Module {
  fc1 = new Linear(32, 64);
  relu = new ReLU();
  fc2 = new Linear(64, 10);

  forward(x: Tensor): Tensor {
    return this.fc2.call(this.relu.call(this.fc1.call(x)));
  }
}

class WithNorm extends Module {
  fc = new Linear(4, 3);
  bn = new BatchNorm1d(3);
  drop = new Dropout(0.5);
  head = new SimpleModel();

  forward(x: Tensor): Tensor {
    return this.drop.call(this.bn.call(this.fc.call(x)));
  }
}

describe('Module: discovery of parameters and submodules', () => {
  it('names parameters by field, in declaration order, and counts them (2,762)', () => {
    const m = new SimpleModel();
    expect([...m.namedParameters()].map(([n]) => n)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect([...m.namedParameters()].map(([, p]) => p.shape)).toEqual([[64, 32], [64], [10, 64], [10]]);
    expect(m.parameters().reduce((n, p) => n + p.size, 0)).toBe(32 * 64 + 64 + 64 * 10 + 10);
    expect(m.parameters().reduce((n, p) => n + p.size, 0)).toBe(2762);
    expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect([...m.namedChildren()].map(([n]) => n)).toEqual(['fc1', 'relu', 'fc2']);
    expect([...m.namedModules()].map(([n]) => n)).toEqual(['', 'fc1', 'relu', 'fc2']);
  });

  it('lists a shared parameter once', () => {
    class Tied extends Module {
      a = new Linear(3, 3);
      b = new Linear(3, 3);
      constructor() {
        super();
        this.b.weight = this.a.weight;
      }
      forward(x: Tensor): Tensor {
        return this.b.call(this.a.call(x));
      }
    }
    expect([...new Tied().namedParameters()].map(([n]) => n)).toEqual(['a.weight', 'a.bias', 'b.bias']);
  });

  it('prints the tree as PyTorch does', () => {
    expect(String(new SimpleModel())).toBe('SimpleModel(\n  (fc1): Linear(in=32, out=64)\n  (relu): ReLU()\n  (fc2): Linear(in=64, out=10)\n)');
  });
});

describe('Module.apply, train/eval, zeroGrad', () => {
  it('apply visits every module, children first, then the parent', () => {
    const m = new WithNorm();
    const order: string[] = [];
    const names = new Map([...m.namedModules()].map(([n, mod]) => [mod, n === '' ? '<root>' : n]));
    m.apply((mod) => void order.push(names.get(mod)!));
    expect(order).toEqual(['fc', 'bn', 'drop', 'head.fc1', 'head.relu', 'head.fc2', 'head', '<root>']);
    expect(new Set(order).size).toBe([...m.modules()].length);
    expect(m.apply(() => undefined)).toBe(m);
  });

  it('train()/eval() reach every descendant, and change what dropout and batch norm do', () => {
    const m = new WithNorm();
    expect([...m.modules()].every((mod) => mod.training)).toBe(true);
    expect(m.eval()).toBe(m);
    expect([...m.modules()].every((mod) => !mod.training)).toBe(true);
    const x = randn([6, 4]);
    const a = m.call(x).toArray();
    expect(m.call(x).toArray()).toEqual(a); // deterministic: no dropout, running statistics
    expect(m.bn.num_batches_tracked!.item()).toBe(0);
    m.train();
    expect([...m.modules()].every((mod) => mod.training)).toBe(true);
    m.call(x);
    expect(m.bn.num_batches_tracked!.item()).toBe(1);
    m.train(false);
    expect(m.head.fc1.training).toBe(false);
  });

  it('zeroGrad clears every gradient', () => {
    const m = new SimpleModel();
    sum(m.call(randn([5, 32]))).backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
    // Gradients start afresh (not accumulated onto the old ones).
    const x = randn([5, 32]);
    sum(m.call(x)).backward();
    const g1 = m.fc2.bias!.grad!.toArray();
    m.zeroGrad();
    sum(m.call(x)).backward();
    expect(m.fc2.bias!.grad!.toArray()).toEqual(g1);
    expect(g1).toEqual(new Array(10).fill(5)); // d(Σ out)/d bias = batch size
  });
});

describe('Module.stateDict / loadStateDict', () => {
  it('round trip into a differently seeded model gives identical outputs', () => {
    manualSeed(1);
    const a = new SimpleModel();
    manualSeed(2);
    const b = new SimpleModel();
    const x = randn([3, 32], { generator: new Generator(5) });
    expect(b.call(x).toArray()).not.toEqual(a.call(x).toArray());
    expect([...a.stateDict().keys()]).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    b.loadStateDict(a.stateDict());
    expect(b.call(x).toArray()).toEqual(a.call(x).toArray());
    // A copy, not an alias: later changes to a do not reach b.
    const before = b.fc1.weight.toArray();
    a.fc1.weight.detach().fill_(0);
    expect(b.fc1.weight.toArray()).toEqual(before);
    // Loading keeps b's own parameter tensors (an optimizer holding them still sees them).
    expect(b.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  it('round trip includes BatchNorm buffers, under PyTorch names', () => {
    const a = new WithNorm();
    a.call(randn([8, 4]));
    a.call(randn([8, 4]));
    const keys = [...a.stateDict().keys()];
    for (const k of ['bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked']) expect(keys).toContain(k);
    expect([...a.namedBuffers()].map(([n]) => n)).toEqual(['bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked']);
    expect(keys).toHaveLength(2 + 5 + 4);
    const b = new WithNorm();
    b.loadStateDict(a.stateDict());
    expect(b.bn.num_batches_tracked!.item()).toBe(2);
    expect(b.bn.running_mean!.toArray()).toEqual(a.bn.running_mean!.toArray());
    a.eval();
    b.eval();
    const x = randn([4, 4]);
    expect(b.call(x).toArray()).toEqual(a.call(x).toArray());
  });

  it('a missing, an extra or a mis-shaped key is an error naming it', () => {
    const m = new SimpleModel();
    const state = m.stateDict();
    const missing = new Map(state);
    missing.delete('fc2.bias');
    expect(() => m.loadStateDict(missing)).toThrow(ConfigError);
    expect(() => m.loadStateDict(missing)).toThrow(/missing: fc2\.bias/);
    const extra = new Map(state);
    extra.set('fc3.weight', zeros([2, 2]));
    expect(() => m.loadStateDict(extra)).toThrow(/unexpected: fc3\.weight/);
    const misShaped = new Map(state);
    misShaped.set('fc1.weight', zeros([32, 64]));
    expect(() => m.loadStateDict(misShaped)).toThrow(ShapeError);
    expect(() => m.loadStateDict(misShaped)).toThrow(/'fc1\.weight' has shape \[32, 64\] in the state dict but \[64, 32\] in the model/);
    // Even with strict: false, a shape mismatch is an error (as PyTorch).
    expect(() => m.loadStateDict(misShaped, { strict: false })).toThrow(/fc1\.weight/);
  });

  it('strict: false loads what matches and reports the rest', () => {
    manualSeed(3);
    const a = new SimpleModel();
    const b = new SimpleModel();
    const partial = new Map([...a.stateDict()].filter(([k]) => k.startsWith('fc1.')));
    partial.set('extra.bias', zeros([3]));
    const oldFc2 = b.fc2.weight.toArray();
    const r = b.loadStateDict(partial, { strict: false });
    expect(r.missingKeys).toEqual(['fc2.weight', 'fc2.bias']);
    expect(r.unexpectedKeys).toEqual(['extra.bias']);
    expect(b.fc1.weight.toArray()).toEqual(a.fc1.weight.toArray());
    expect(b.fc2.weight.toArray()).toEqual(oldFc2);
  });

  it('accepts a plain object as well as a Map', () => {
    const a = new SimpleModel();
    const b = new SimpleModel();
    b.loadStateDict(Object.fromEntries(a.stateDict()));
    expect(b.fc2.bias!.toArray()).toEqual(a.fc2.bias!.toArray());
  });
});

describe('Module hooks', () => {
  it('pre-hooks and forward hooks run around forward, may replace inputs and outputs, and can be removed', () => {
    const m = new SimpleModel();
    const x = randn([2, 32]);
    const base = m.call(x).toArray() as number[][];
    const seen: string[] = [];
    const removePre = m.registerForwardPreHook((mod, inputs) => {
      seen.push(`pre ${mod.name} ${(inputs[0] as Tensor).shape.join('x')}`);
    });
    const removePost = m.registerForwardHook((_mod, _inputs, out) => {
      seen.push(`post ${(out as Tensor).shape.join('x')}`);
    });
    m.call(x);
    expect(seen).toEqual(['pre SimpleModel 2x32', 'post 2x10']);

    // Replacing the output: the caller sees the hook's value.
    const removeDouble = m.registerForwardHook((_mod, _inputs, out) => mul(out as Tensor, 2));
    const doubled = m.call(x).toArray() as number[][];
    expect(doubled[0][0]).toBeCloseTo(2 * base[0][0], 5);
    removeDouble();
    expect(m.call(x).toArray()).toEqual(base);

    // Replacing the inputs.
    const removeZero = m.registerForwardPreHook(() => [zeros([2, 32])]);
    const fromZeros = m.call(x).toArray() as number[][];
    const expected = m.forward(zeros([2, 32])).toArray();
    expect(fromZeros).toEqual(expected);
    removeZero();

    removePre();
    removePost();
    removePost(); // harmless
    seen.length = 0;
    m.call(x);
    expect(seen).toEqual([]);
  });

  it('hooks on a submodule see its inputs and outputs (activation capture)', () => {
    const m = new SimpleModel();
    const captured: Tensor[] = [];
    const remove = m.relu.registerForwardHook((_mod, _inputs, out) => void captured.push(out as Tensor));
    m.call(randn([4, 32]));
    expect(captured).toHaveLength(1);
    expect(captured[0].shape).toEqual([4, 64]);
    expect(Array.from(captured[0].toTypedArray()).every((v) => v >= 0)).toBe(true);
    remove();
    m.call(randn([4, 32]));
    expect(captured).toHaveLength(1);
  });

  it('gradients flow through a hook-replaced output', () => {
    const m = new SimpleModel();
    m.registerForwardHook((_mod, _inputs, out) => mul(out as Tensor, 3));
    sum(m.call(tensor(new Float32Array(32).fill(1), [1, 32]))).backward();
    expect(m.fc2.bias!.grad!.toArray()).toEqual(new Array(10).fill(3));
  });
});

describe('Module: PyTorch details', () => {
  it('stateDict lists each module’s parameters then its buffers, as detached views', () => {
    class M extends Module {
      fc = new Linear(2, 3);
      bn = new BatchNorm1d(3);
      out = new Linear(3, 1);
      forward(x: Tensor): Tensor {
        return this.out.call(this.bn.call(this.fc.call(x)));
      }
    }
    const m = new M();
    const sd = m.stateDict();
    expect([...sd.keys()]).toEqual([
      'fc.weight', 'fc.bias', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked', 'out.weight', 'out.bias',
    ]);
    expect(sd.get('fc.weight')!.requiresGrad).toBe(false);
    expect(sd.get('fc.weight')).not.toBe(m.fc.weight);
  });

  it('a module held in two fields is visited once; zeroGrad releases the gradients', () => {
    class S extends Module {
      a = new Linear(2, 2);
      b = this.a;
      forward(x: Tensor): Tensor {
        return this.b.call(this.a.call(x));
      }
    }
    const s = new S();
    expect([...s.namedModules()].map(([n]) => n)).toEqual(['', 'a']);
    let calls = 0;
    s.apply(() => calls++);
    expect(calls).toBe(2);
    s.call(ones([1, 2])).sum().backward();
    const g = s.a.weight.grad!;
    s.zeroGrad();
    expect(s.a.weight.grad).toBeNull();
    expect(g.isDisposed).toBe(true); // its memory is back: clone() a gradient to keep it
  });
});
